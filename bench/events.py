"""One real event per function: traffic driven through the Dev app's entry points on the local cloud.

Each function's event is the first one it served successfully while the traffic ran: an API
Gateway proxy request, the S3 notification and the SQS batch of an upload, the fan-out's
job, chunk and aggregation, an order execution's task inputs, a refund of a charged order,
the sweeper's scheduled event. The bench replays them (a retried delivery, as far as the
handler can tell), so every run of a handler takes the same path against the same data.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from serverless_patterns.local import LocalCloud
from serverless_patterns.local.invocation import Invocation

ORDER_SKUS = {"BENCH-SKU-1": 1_000, "BENCH-SKU-2": 1_000}
SCHEDULED_EVENT = {
    "version": "0",
    "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-11-01T00:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/bench"],
    "detail": {},
}


@dataclass(frozen=True)
class Captured:
    """A function of the deployed app and an event it served."""

    path: str
    function_name: str
    handler: str
    event: Any
    source: str


def construct_path(record_path: str) -> str:
    """``/Dev/Service/Api/Handler/Resource/Resource`` -> ``Api/Handler`` (below the stage and stack)."""
    parts = record_path.strip("/").split("/")
    while parts and parts[-1] == "Resource":
        parts.pop()
    return "/".join(parts[2:])


def functions(cloud: LocalCloud) -> dict[str, tuple[str, str]]:
    """Construct path -> (physical function name, handler) of every Python function deployed from an asset."""
    found = {}
    for record in cloud.find("AWS::Lambda::Function"):
        handler = str(record.properties.get("Handler", ""))
        if handler.startswith("serverless_patterns."):
            found[construct_path(record.path)] = (record.physical_id, handler)
    return found


def served(invocation: Invocation) -> bool:
    """The handler returned a success: no exception, no 5xx, no failed batch item."""
    if invocation.failed:
        return False
    result = invocation.result
    if isinstance(result, dict):
        if int(result.get("statusCode", 200)) >= 500:
            return False
        if result.get("batchItemFailures"):
            return False
    return True


def _drive(cloud: LocalCloud, functions_by_path: dict[str, tuple[str, str]]) -> None:
    outputs = cloud.outputs
    marker = uuid.uuid4().hex[:8]
    # API: create an item (idempotently) and read it back.
    created = cloud.api_request(
        "POST", "/items", body={"name": f"bench-{marker}"}, headers={"Idempotency-Key": f"bench-{marker}"}
    )
    cloud.api_request("GET", f"/items/{created.json()['id']}")
    # Event pipeline: an upload is validated (S3 notification) and processed (SQS batch).
    cloud.put_object(outputs["UploadBucketName"], f"incoming/bench-{marker}/orders.csv", b"id,amount\n1,10.5\n2,20\n")
    cloud.drain()
    # Fan-out: a job of 250 items in chunks, aggregated once the last chunk is done, then polled.
    job_id = f"bench-{marker}"
    cloud.invoke(outputs["FanOutMasterFunction"], {"job_id": job_id, "items": [{"value": i} for i in range(250)]})
    cloud.drain()
    cloud.invoke(outputs["FanOutStatusFunction"], {"job_id": job_id})
    sweeper_name, _ = functions_by_path["FanOut/Sweeper"]
    cloud.invoke(sweeper_name, SCHEDULED_EVENT, qualifier="live")
    # Order workflow: stock two SKUs, run an order through the saga.
    dynamodb = cloud.client("dynamodb")
    for sku, stock in ORDER_SKUS.items():
        item = {"sku": {"S": sku}, "stock": {"N": str(stock)}}
        dynamodb.put_item(TableName=outputs["InventoryTableName"], Item=item)
    order = {
        "order_id": f"bench-{marker}",
        "customer_id": "bench-customer",
        "currency": "EUR",
        "lines": [{"sku": sku, "quantity": 1, "unit_price_cents": 1_250} for sku in ORDER_SKUS],
    }
    cloud.run_execution(outputs["OrderStateMachineArn"], order, name=f"bench-{marker}")
    # Compensation: a second order validated and charged, then refunded as the saga's Catch would.
    refunded = {**order, "order_id": f"bench-refund-{marker}"}
    validate_name, _ = functions_by_path["OrderWorkflow/ValidateOrder"]
    charge_name, _ = functions_by_path["OrderWorkflow/ChargePayment"]
    refund_name, _ = functions_by_path["OrderWorkflow/RefundPayment"]
    state = cloud.invoke(validate_name, refunded, qualifier="live").payload
    cloud.invoke(charge_name, state["order"], qualifier="live")
    failure = {"Error": "OutOfStock", "Cause": '{"errorMessage": "bench: out of stock", "errorType": "OutOfStock"}'}
    cloud.invoke(refund_name, {"order": state["order"], "failure": failure}, qualifier="live")


def capture(cloud: LocalCloud) -> dict[str, Captured]:
    """Drive the traffic; each function's first successfully served event, by construct path."""
    functions_by_path = functions(cloud)
    start = len(cloud.invocations)
    _drive(cloud, functions_by_path)
    by_name = {name: (path, handler) for path, (name, handler) in functions_by_path.items()}
    captured: dict[str, Captured] = {}
    for invocation in cloud.invocations[start:]:
        path, handler = by_name.get(invocation.function_name, ("", ""))
        if path and path not in captured and served(invocation):
            captured[path] = Captured(path, invocation.function_name, handler, invocation.event, invocation.source)
    missing = sorted(set(functions_by_path) - set(captured))
    if missing:
        raise RuntimeError(f"no successful event captured for {missing}: the bench traffic no longer reaches them")
    return dict(sorted(captured.items()))
