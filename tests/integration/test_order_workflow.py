"""The OrderWorkflow on the local cloud: the synthesized state machine running the deployed handlers.

The real Dev stage is deployed once for the module; each test uses SKUs and order ids of
its own (``run_id``), so tests share the cloud without sharing data. Executions are named
after their orders. Retry backoffs are recorded, not slept (``retry_waits``).
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType

from serverless_patterns.lambdas.order_workflow import names
from serverless_patterns.local import LocalCloud
from serverless_patterns.local.invocation import Invocation
from serverless_patterns.scenarios import discover, run_scenario
from serverless_patterns.scenarios.order_workflow import (
    UNIT_PRICE_CENTS,
    OrderApp,
    declined_order,
    history,
    ledger,
    order,
    run_id,
    run_order,
    seed_stock,
    stock,
    stored_order,
)
from serverless_patterns.stacks.stage import ServiceStage

# The double deployed onto ChargePayment (read as a file, never imported here) and its settings.
DOUBLE = Path(__file__).with_name("order_workflow_double.py")
DOUBLE_GATEWAY = "flaky-ledger"  # order_workflow_double.NAME
DOUBLE_FAILURES_ENV = "FLAKY_GATEWAY_FAILURES"  # order_workflow_double.FAILURES_ENV
CONCURRENT_ORDERS = 40  # four times the stock: enough to overlap and oversell if the reservation were not atomic
HOT_STOCK = 10
TRANSIENT_FAILURES = 2


@pytest.fixture(scope="module")
def dev(stages: dict[str, ServiceStage]) -> Iterator[LocalCloud]:
    with LocalCloud.deploy(stages["dev"]) as cloud:
        yield cloud


@pytest.fixture(scope="module")
def app(dev: LocalCloud) -> OrderApp:
    return OrderApp.of(dev)


@pytest.fixture
def rid() -> str:
    return run_id()


def function_name(dev: LocalCloud, step: str) -> str:
    """The deployed function behind a step's ``live`` alias (``ChargePayment``, ``RefundPayment``...)."""
    return dev.resource(f"OrderWorkflow/{step}/LiveAlias", "AWS::Lambda::Alias").physical_id.split(":")[6]


def invocations(dev: LocalCloud, step: str, order_id: str) -> list[Invocation]:
    """A step's invocations for one order (the order is the event, or the event's ``order``)."""
    name = function_name(dev, step)

    def order_of(event: Any) -> Any:
        if not isinstance(event, dict):
            return None
        return event.get("order_id") or (event.get("order") or {}).get("order_id")

    return [i for i in dev.invocations if i.function_name == name and order_of(i.event) == order_id]


def test_the_scenario_passes(dev: LocalCloud) -> None:
    (item,) = [s for s in discover() if s.pattern == "OrderWorkflow"]
    result = run_scenario(dev, item)
    assert result.passed, [(c.name, c.detail) for c in result.checks if not c.passed]
    assert len(result.checks) >= 15


def test_a_valid_order_is_charged_reserved_confirmed_and_announced(dev: LocalCloud, app: OrderApp, rid: str) -> None:
    sku, order_id = f"SKU-{rid}", f"happy-{rid}"
    seed_stock(dev, app, {sku: 3})
    announced = _order_confirmed_listener(dev, app, rid)

    result = run_order(dev, app, order(order_id, {sku: 2}))

    assert (result.status, result.error) == ("SUCCEEDED", None)
    assert result.output["payment"]["amount_cents"] == 2 * UNIT_PRICE_CENTS
    assert (result.output["reservation"]["order_id"], result.output["reservation"]["units"]) == (order_id, 2)
    assert result.output["confirmation"] == {"order_id": order_id, "status": "CONFIRMED", "notified": True}
    stored = stored_order(dev, app, order_id)
    assert history(stored) == ["VALIDATED", "CHARGED", "RESERVED", "CONFIRMED"]
    assert stored is not None
    assert stored["payment_id"] == result.output["payment"]["payment_id"]
    assert stock(dev, app, sku) == 1
    assert dev.retry_waits(result.execution_arn) == []
    dev.drain()
    (event,) = [json.loads(m["Body"]) for m in dev.read_queue(announced, delete=True)]
    assert (event["detail-type"], event["source"]) == (names.ORDER_CONFIRMED, names.EVENT_SOURCE)
    assert event["detail"]["order_id"] == order_id
    assert event["detail"]["total_cents"] == 2 * UNIT_PRICE_CENTS


def test_an_order_placed_event_starts_the_workflow(dev: LocalCloud, app: OrderApp, rid: str) -> None:
    sku, order_id = f"SKU-{rid}", f"placed-{rid}"
    seed_stock(dev, app, {sku: 1})
    request = order(order_id, {sku: 1})

    response = dev.client("events").put_events(
        Entries=[
            {
                "EventBusName": app.event_bus_name,
                "Source": names.EVENT_SOURCE,
                "DetailType": names.ORDER_PLACED,
                "Detail": json.dumps(request),
            }
        ]
    )

    assert response["FailedEntryCount"] == 0
    assert dev.settle(lambda: (stored_order(dev, app, order_id) or {}).get("status") == "CONFIRMED")
    sfn = dev.client("stepfunctions")
    pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=app.state_machine_arn)
    started = [sfn.describe_execution(executionArn=e["executionArn"]) for page in pages for e in page["executions"]]
    (execution,) = [e for e in started if json.loads(e["input"]).get("order_id") == order_id]
    assert json.loads(execution["input"]) == request  # the rule's InputPath: the event's detail
    assert execution["status"] == "SUCCEEDED"
    assert stock(dev, app, sku) == 0


def test_an_invalid_order_fails_validation_and_nothing_else_runs(dev: LocalCloud, app: OrderApp, rid: str) -> None:
    order_id = f"invalid-{rid}"

    result = run_order(dev, app, order(order_id, {f"SKU-{rid}-UNKNOWN": 1}))

    assert (result.status, result.error) == ("FAILED", "ValidationError")
    assert f"unknown SKU(s) SKU-{rid}-UNKNOWN" in (result.cause or "")
    assert stored_order(dev, app, order_id) is None
    assert invocations(dev, "ChargePayment", order_id) == []
    assert dev.retry_waits(result.execution_arn) == []


@pytest.mark.parametrize(
    "submitted", [[], "an order", 42, None, True], ids=["array", "string", "number", "null", "true"]
)
def test_an_execution_input_that_is_not_an_object_fails_validation(
    dev: LocalCloud, app: OrderApp, submitted: object
) -> None:
    """Was States.Runtime: the Catch's ResultPath could not be merged into a non-object input."""
    sfn = dev.client("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=app.state_machine_arn, name=f"not-an-object-{uuid.uuid4().hex}", input=json.dumps(submitted)
    )["executionArn"]

    result = dev.wait_for_execution(arn)

    assert (result.status, result.error) == ("FAILED", "ValidationError")
    assert "order <unidentified> is invalid" in (result.cause or "")  # (the emulator passes null on as {})


@pytest.mark.parametrize(
    "line",
    [
        {"quantity": True, "unit_price_cents": 1250},
        {"quantity": "2", "unit_price_cents": 1250},
        {"quantity": 2.0, "unit_price_cents": 1250},
        {"quantity": 1, "unit_price_cents": "1250"},
        {"quantity": 1, "unit_price_cents": True},
    ],
    ids=["quantity-true", "quantity-string", "quantity-float", "price-string", "price-true"],
)
def test_coercible_numbers_are_refused_not_charged(
    dev: LocalCloud, app: OrderApp, rid: str, line: dict[str, Any]
) -> None:
    sku, order_id = f"SKU-{rid}", f"coerced-{rid}"
    seed_stock(dev, app, {sku: 5})
    request = {**order(order_id, {sku: 1}), "lines": [{"sku": sku, **line}]}

    result = run_order(dev, app, request)

    assert (result.status, result.error) == ("FAILED", "ValidationError")
    assert stored_order(dev, app, order_id) is None
    assert invocations(dev, "ChargePayment", order_id) == []


def test_a_declined_payment_is_not_retried(dev: LocalCloud, app: OrderApp, rid: str) -> None:
    sku, order_id = f"SKU-{rid}", f"declined-{rid}"
    seed_stock(dev, app, {sku: 5})

    result = run_order(dev, app, declined_order(order_id, sku, app.max_charge_cents))

    assert (result.status, result.error) == ("FAILED", "PaymentError")
    assert "declined" in (result.cause or "")
    (charge,) = invocations(dev, "ChargePayment", order_id)
    assert charge.error_type == "PaymentError"
    assert dev.retry_waits(result.execution_arn) == []
    assert invocations(dev, "RefundPayment", order_id) == []
    assert (stored_order(dev, app, order_id) or {}).get("status") == "PAYMENT_DECLINED"
    assert ledger(dev, app, order_id) == {}
    assert stock(dev, app, sku) == 5


@pytest.fixture
def flaky_gateway(dev: LocalCloud) -> Iterator[str]:
    """ChargePayment redeployed with a gateway that fails twice per order (see ``order_workflow_double``).

    Through the Lambda API only: the function's own code asset plus the double's module, the
    double as handler, ``PAYMENT_GATEWAY`` naming its adapter; a new version behind ``live``.
    The original version is put back behind ``live`` afterwards.
    """
    name = function_name(dev, "ChargePayment")
    lambda_client = dev.client("lambda")
    original_version = lambda_client.get_alias(FunctionName=name, Name="live")["FunctionVersion"]
    original = lambda_client.get_function_configuration(FunctionName=name, Qualifier=original_version)
    code = dev.resource("OrderWorkflow/ChargePayment/Resource", "AWS::Lambda::Function").properties["Code"]
    asset = dev.client("s3").get_object(Bucket=code["S3Bucket"], Key=code["S3Key"])["Body"].read()
    lambda_client.update_function_code(FunctionName=name, ZipFile=_with_module(asset, DOUBLE))
    variables = {
        **original["Environment"]["Variables"],
        "PAYMENT_GATEWAY": DOUBLE_GATEWAY,
        DOUBLE_FAILURES_ENV: str(TRANSIENT_FAILURES),
    }
    lambda_client.update_function_configuration(
        FunctionName=name, Handler=f"{DOUBLE.stem}.handler", Environment={"Variables": variables}
    )
    version = lambda_client.publish_version(FunctionName=name)["Version"]
    lambda_client.update_alias(FunctionName=name, Name="live", FunctionVersion=version)
    try:
        yield version
    finally:
        lambda_client.update_alias(FunctionName=name, Name="live", FunctionVersion=original_version)
        lambda_client.update_function_code(FunctionName=name, ZipFile=asset)
        lambda_client.update_function_configuration(
            FunctionName=name,
            Handler=original["Handler"],
            Environment={"Variables": original["Environment"]["Variables"]},
        )


def _with_module(asset: bytes, module: Path) -> bytes:
    """The zip ``asset`` with ``module`` added at its root."""
    buffer = io.BytesIO(asset)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr(module.name, module.read_text())
    return buffer.getvalue()


def test_a_transient_gateway_failure_is_retried_after_2_then_4_seconds(
    dev: LocalCloud, app: OrderApp, rid: str, flaky_gateway: str
) -> None:
    sku, order_id = f"SKU-{rid}", f"transient-{rid}"
    seed_stock(dev, app, {sku: 1})

    result = run_order(dev, app, order(order_id, {sku: 1}))

    assert (result.status, result.error) == ("SUCCEEDED", None)
    assert dev.retry_waits(result.execution_arn) == [2.0, 4.0]
    charges = invocations(dev, "ChargePayment", order_id)
    assert [(c.executed_version, c.error_type) for c in charges] == [
        (flaky_gateway, "PaymentGatewayUnavailable"),
        (flaky_gateway, "PaymentGatewayUnavailable"),
        (flaky_gateway, None),
    ]
    entries = ledger(dev, app, order_id)
    assert sorted(entries) == ["CHARGE"]
    assert entries["CHARGE"]["gateway"] == DOUBLE_GATEWAY
    assert history(stored_order(dev, app, order_id))[-1] == "CONFIRMED"


def test_out_of_stock_refunds_the_charge_and_fails_with_the_reason(dev: LocalCloud, app: OrderApp, rid: str) -> None:
    sku, order_id = f"SKU-{rid}", f"short-{rid}"
    seed_stock(dev, app, {sku: 2})

    result = run_order(dev, app, order(order_id, {sku: 3}))

    assert (result.status, result.error) == ("FAILED", "OutOfStock")
    entries = ledger(dev, app, order_id)
    assert sorted(entries) == ["CHARGE", "REFUND"]
    assert entries["REFUND"]["amount_cents"] == entries["CHARGE"]["amount_cents"] == 3 * UNIT_PRICE_CENTS
    assert result.cause == (
        f"order {order_id} cannot be reserved: {sku}: requested 3, 2 available "
        f"(payment {entries['CHARGE']['reference_id']} refunded)"
    )
    stored = stored_order(dev, app, order_id) or {}
    assert history(stored) == ["VALIDATED", "CHARGED", "FAILED"]
    assert (stored["failure_error"], stored["refund_id"]) == ("OutOfStock", entries["REFUND"]["reference_id"])
    (reservation,) = invocations(dev, "UpdateInventory", order_id)
    assert reservation.error_type == "OutOfStock"
    assert stock(dev, app, sku) == 2


def test_a_duplicated_execution_charges_once(dev: LocalCloud, app: OrderApp, rid: str) -> None:
    sku, order_id = f"SKU-{rid}", f"twice-{rid}"
    seed_stock(dev, app, {sku: 5})
    request = order(order_id, {sku: 2})

    arns = [dev.start_execution(app.state_machine_arn, request, name=f"{order_id}-{n}") for n in (1, 2)]
    results = [dev.wait_for_execution(arn) for arn in arns]

    assert [(r.status, r.error) for r in results] == [("SUCCEEDED", None), ("SUCCEEDED", None)]
    entries = ledger(dev, app, order_id)
    assert sorted(entries) == ["CHARGE"]
    assert {r.output["payment"]["payment_id"] for r in results} == {entries["CHARGE"]["reference_id"]}
    assert stock(dev, app, sku) == 3
    assert history(stored_order(dev, app, order_id)) == ["VALIDATED", "CHARGED", "RESERVED", "CONFIRMED"]


@pytest.fixture
def stock_seen(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str], list[int]]:
    """``watch(table, sku)``: the SKU's stock after every DynamoDB write of the emulator, in order.

    The local cloud applies DynamoDB requests one at a time, so each reading is a state the
    table really went through: "never below zero" is observed, not inferred.
    """
    watched: list[tuple[str, str, list[int]]] = []

    def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
        def write(backend: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(backend, *args, **kwargs)
            finally:
                for table, sku, seen in watched:
                    if table in backend.tables:
                        item = backend.tables[table].get_item(DynamoType({"S": sku}))
                        if item is not None:
                            seen.append(int(item.attrs["stock"].value))

        return write

    for name in ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item"):
        monkeypatch.setattr(DynamoDBBackend, name, wrap(getattr(DynamoDBBackend, name)))

    def watch(table: str, sku: str) -> list[int]:
        seen: list[int] = []
        watched.append((table, sku, seen))
        return seen

    return watch


def test_concurrent_orders_for_four_times_the_stock_sell_exactly_the_stock(
    dev: LocalCloud, app: OrderApp, rid: str, stock_seen: Callable[[str, str], list[int]]
) -> None:
    sku = f"SKU-{rid}-HOT"
    seed_stock(dev, app, {sku: HOT_STOCK})
    seen = stock_seen(app.inventory_table, sku)
    order_ids = [f"rush-{rid}-{n:03d}" for n in range(CONCURRENT_ORDERS)]

    arns = [
        dev.start_execution(app.state_machine_arn, order(order_id, {sku: 1}), name=order_id) for order_id in order_ids
    ]
    results = dict(zip(order_ids, (dev.wait_for_execution(arn, timeout_seconds=300) for arn in arns), strict=True))

    outcomes = Counter((r.status, r.error) for r in results.values())
    assert outcomes == {("SUCCEEDED", None): HOT_STOCK, ("FAILED", "OutOfStock"): CONCURRENT_ORDERS - HOT_STOCK}
    statuses = {order_id: (stored_order(dev, app, order_id) or {}).get("status") for order_id in order_ids}
    assert Counter(statuses.values()) == {"CONFIRMED": HOT_STOCK, "FAILED": CONCURRENT_ORDERS - HOT_STOCK}
    assert stock(dev, app, sku) == 0
    assert seen
    assert min(seen) >= 0
    assert seen[-1] == 0
    for order_id in order_ids:
        entries = ledger(dev, app, order_id)
        expected = ["CHARGE"] if statuses[order_id] == "CONFIRMED" else ["CHARGE", "REFUND"]
        assert sorted(entries) == expected, order_id
        if "REFUND" in entries:
            assert entries["REFUND"]["amount_cents"] == entries["CHARGE"]["amount_cents"]
    # The executions really overlapped: more than one ChargePayment container was needed at once.
    assert len(dev.runtime.containers(function_name(dev, "ChargePayment"))) > 1


def _order_confirmed_listener(dev: LocalCloud, app: OrderApp, rid: str) -> str:
    """A queue receiving this run's OrderConfirmed events from the bus (a rule of the test's own)."""
    sqs, events = dev.client("sqs"), dev.client("events")
    queue_url = sqs.create_queue(QueueName=f"order-confirmed-{rid}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rule = f"order-confirmed-{rid}"
    pattern = {
        "source": [names.EVENT_SOURCE],
        "detail-type": [names.ORDER_CONFIRMED],
        "detail": {"order_id": [{"prefix": f"happy-{rid}"}]},
    }
    rule_arn = events.put_rule(Name=rule, EventBusName=app.event_bus_name, EventPattern=json.dumps(pattern))["RuleArn"]
    events.put_targets(Rule=rule, EventBusName=app.event_bus_name, Targets=[{"Id": "queue", "Arn": queue_arn}])
    # As on AWS, EventBridge may send to the queue only if its policy lets it, for this rule.
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
    }
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps({"Statement": [statement]})})
    return str(queue_url)
