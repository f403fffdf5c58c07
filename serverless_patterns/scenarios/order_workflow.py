"""OrderWorkflow: seed stock, then a happy order, a decline, an out-of-stock order, a duplicated execution.

Every order runs through the deployed state machine (StartExecution, named after the order)
and every check reads what a client or an operator can see on any target: the execution's
status, error and cause, the orders table, the payments ledger and the stock, so the same
scenario runs on the local cloud and on a real stage:

* **seed**: two SKUs of this run (ids carry a run id, so runs never collide) with ``STOCK``
  and ``LOW_STOCK`` units;
* **happy**: an order for two units ends in OrderConfirmed: the order CONFIRMED after
  VALIDATED, CHARGED and RESERVED, one CHARGE in the ledger, the stock taken;
* **decline**: an order above the deployed per-order limit (``MAX_CHARGE_CENTS`` of the
  ChargePayment function) ends in PaymentFailed: PAYMENT_DECLINED, nothing in the ledger,
  no stock taken;
* **out of stock**: more units than the low SKU holds: the payment is taken, the
  reservation fails, the charge is refunded, and the execution fails with OutOfStock and a
  reason naming the SKU and the refund; the stock is untouched;
* **duplicate**: the happy order started again under another execution name: it succeeds
  without a second charge or a second reservation.

The seeded stock items are deleted at the end; orders and ledger entries stay (they are
the audit trail, ids prefixed ``scenario-``). The helpers are public: the integration tests
drive the same orders and add assertions only the local cloud can make.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer

from serverless_patterns.lambdas.order_workflow import names
from serverless_patterns.lambdas.order_workflow.models import MAX_UNIT_PRICE_CENTS
from serverless_patterns.scenarios import ScenarioRun, scenario

if TYPE_CHECKING:
    from serverless_patterns.scenarios.target import ExecutionResult, Target

STOCK = 5
LOW_STOCK = 1
UNIT_PRICE_CENTS = 1_250
EXECUTION_TIMEOUT_SECONDS = 120.0

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class OrderApp:
    """The deployed OrderWorkflow's entry point, tables and limits."""

    state_machine_arn: str
    orders_table: str
    inventory_table: str
    payments_table: str
    event_bus_name: str
    charge_function: str
    max_charge_cents: int

    @classmethod
    def of(cls, cloud: Target) -> OrderApp:
        """Find the pattern through the stack's outputs and construct paths."""
        outputs = cloud.outputs
        charge = cloud.resource("OrderWorkflow/ChargePayment/LiveAlias", "AWS::Lambda::Alias").physical_id
        configuration = cloud.client("lambda").get_function_configuration(FunctionName=charge)
        variables = configuration.get("Environment", {}).get("Variables", {})
        return cls(
            state_machine_arn=outputs["OrderStateMachineArn"],
            orders_table=outputs["OrdersTableName"],
            inventory_table=outputs["InventoryTableName"],
            payments_table=outputs["PaymentsTableName"],
            event_bus_name=outputs["OrderEventBusName"],
            charge_function=charge,
            max_charge_cents=int(variables[names.MAX_CHARGE_ENV]),
        )


def run_id() -> str:
    """A short id that keeps this run's SKUs, orders and execution names apart from any other run's."""
    return uuid.uuid4().hex[:10]


def order(order_id: str, lines: Mapping[str, int], *, unit_price_cents: int = UNIT_PRICE_CENTS) -> JsonObject:
    """An order request: ``lines`` maps SKU -> quantity."""
    return {
        "order_id": order_id,
        "customer_id": f"customer-{order_id}",
        "currency": "EUR",
        "lines": [
            {"sku": sku, "quantity": quantity, "unit_price_cents": unit_price_cents} for sku, quantity in lines.items()
        ],
    }


def declined_order(order_id: str, sku: str, max_charge_cents: int) -> JsonObject:
    """One line costing more than the per-order limit (within the order model's own limits)."""
    unit = min(MAX_UNIT_PRICE_CENTS, max_charge_cents + 1)
    return order(order_id, {sku: math.ceil((max_charge_cents + 1) / unit)}, unit_price_cents=unit)


def seed_stock(cloud: Target, app: OrderApp, levels: Mapping[str, int]) -> None:
    """Put (or reset) the stock of each SKU."""
    dynamodb = cloud.client("dynamodb")
    for sku, stock in levels.items():
        dynamodb.put_item(TableName=app.inventory_table, Item={"sku": {"S": sku}, "stock": {"N": str(stock)}})


def remove_stock(cloud: Target, app: OrderApp, skus: list[str]) -> None:
    """Delete the seeded SKUs."""
    dynamodb = cloud.client("dynamodb")
    for sku in skus:
        dynamodb.delete_item(TableName=app.inventory_table, Key={"sku": {"S": sku}})


def stock(cloud: Target, app: OrderApp, sku: str) -> int | None:
    """The SKU's stock (None when the SKU is unknown)."""
    item = (
        cloud.client("dynamodb")
        .get_item(TableName=app.inventory_table, Key={"sku": {"S": sku}}, ConsistentRead=True)
        .get("Item")
    )
    return int(item["stock"]["N"]) if item else None


def stored_order(cloud: Target, app: OrderApp, order_id: str) -> JsonObject | None:
    """The orders table's item (status, history, failure, payment and refund ids), as plain values."""
    item = (
        cloud.client("dynamodb")
        .get_item(TableName=app.orders_table, Key={"order_id": {"S": order_id}}, ConsistentRead=True)
        .get("Item")
    )
    return _plain(item) if item else None


def ledger(cloud: Target, app: OrderApp, order_id: str) -> dict[str, JsonObject]:
    """The order's payments ledger: entry kind (CHARGE, REFUND) -> entry."""
    items = cloud.client("dynamodb").query(
        TableName=app.payments_table,
        KeyConditionExpression="order_id = :order_id",
        ExpressionAttributeValues={":order_id": {"S": order_id}},
        ConsistentRead=True,
    )["Items"]
    return {entry["entry"]: entry for entry in (_plain(item) for item in items)}


def history(stored: JsonObject | None) -> list[str]:
    """The statuses an order went through, in order."""
    return [step["status"] for step in (stored or {}).get("history", [])]


def run_order(cloud: Target, app: OrderApp, request: JsonObject, *, name: str | None = None) -> ExecutionResult:
    """Start an execution named after the order (or ``name``) and wait for its end."""
    return cloud.run_execution(
        app.state_machine_arn,
        request,
        name=name or str(request["order_id"]),
        timeout_seconds=EXECUTION_TIMEOUT_SECONDS,
    )


_deserializer = TypeDeserializer()


def _plain(item: Mapping[str, Any]) -> JsonObject:
    return {name: _numbers(_deserializer.deserialize(value)) for name, value in item.items()}


def _numbers(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_numbers(element) for element in value]
    if isinstance(value, dict):
        return {key: _numbers(element) for key, element in value.items()}
    return value


@scenario(
    "OrderWorkflow: seed stock, a confirmed order, a decline, out of stock with refund, a duplicated execution",
    pattern="OrderWorkflow",
)
def order_workflow(cloud: Target, run: ScenarioRun) -> None:
    """Drive four orders through the deployed saga; check outcomes, the ledger and the stock."""
    app = OrderApp.of(cloud)
    rid = run_id()
    sku, low_sku = f"SKU-{rid}-A", f"SKU-{rid}-LOW"
    seed_stock(cloud, app, {sku: STOCK, low_sku: LOW_STOCK})
    try:
        _happy_and_duplicate(cloud, run, app, rid, sku)
        _decline(cloud, run, app, rid, sku)
        _out_of_stock(cloud, run, app, rid, low_sku)
    finally:
        remove_stock(cloud, app, [sku, low_sku])


def _happy_and_duplicate(cloud: Target, run: ScenarioRun, app: OrderApp, rid: str, sku: str) -> None:
    happy_id = f"scenario-{rid}-happy"
    happy = order(happy_id, {sku: 2})
    result = run_order(cloud, app, happy)
    run.equal("a valid order ends in OrderConfirmed", (result.status, result.error), ("SUCCEEDED", None))
    stored = stored_order(cloud, app, happy_id)
    run.equal(
        "it went VALIDATED, CHARGED, RESERVED, CONFIRMED",
        history(stored),
        ["VALIDATED", "CHARGED", "RESERVED", "CONFIRMED"],
    )
    entries = ledger(cloud, app, happy_id)
    run.equal("it was charged once, for its total", sorted(entries), ["CHARGE"])
    run.equal("the charge is the order's total", entries.get("CHARGE", {}).get("amount_cents"), 2 * UNIT_PRICE_CENTS)
    run.equal("its units left the stock", stock(cloud, app, sku), STOCK - 2, count=2)

    again = run_order(cloud, app, happy, name=f"{happy_id}-again")
    run.equal("the same order executed again also succeeds", again.status, "SUCCEEDED")
    run.equal("... without a second charge", sorted(ledger(cloud, app, happy_id)), ["CHARGE"], count=1)
    run.equal("... without taking stock twice", stock(cloud, app, sku), STOCK - 2)


def _decline(cloud: Target, run: ScenarioRun, app: OrderApp, rid: str, sku: str) -> None:
    declined_id = f"scenario-{rid}-declined"
    result = run_order(cloud, app, declined_order(declined_id, sku, app.max_charge_cents))
    run.equal(
        f"an order above {app.max_charge_cents} cents ends in PaymentFailed",
        (result.status, result.error),
        ("FAILED", "PaymentError"),
    )
    stored = stored_order(cloud, app, declined_id) or {}
    run.equal("the order is PAYMENT_DECLINED", stored.get("status"), "PAYMENT_DECLINED")
    run.equal("nothing was charged", ledger(cloud, app, declined_id), {})
    run.equal("no stock was taken", stock(cloud, app, sku), STOCK - 2)


def _out_of_stock(cloud: Target, run: ScenarioRun, app: OrderApp, rid: str, low_sku: str) -> None:
    short_id = f"scenario-{rid}-short"
    result = run_order(cloud, app, order(short_id, {low_sku: LOW_STOCK + 1}))
    run.equal("an order above the stock fails with OutOfStock", (result.status, result.error), ("FAILED", "OutOfStock"))
    cause = result.cause or ""
    run.check(
        "the reason names the SKU, what is left, and the refund",
        f"{low_sku}: requested {LOW_STOCK + 1}, {LOW_STOCK} available" in cause and "refunded" in cause,
        detail=cause,
    )
    entries = ledger(cloud, app, short_id)
    run.equal("it was charged, then refunded", sorted(entries), ["CHARGE", "REFUND"])
    run.equal(
        "the refund gives the whole charge back",
        entries.get("REFUND", {}).get("amount_cents"),
        entries.get("CHARGE", {}).get("amount_cents"),
    )
    stored = stored_order(cloud, app, short_id) or {}
    run.equal(
        "the order is FAILED with the error",
        (stored.get("status"), stored.get("failure_error")),
        ("FAILED", "OutOfStock"),
    )
    run.equal("the stock is untouched", stock(cloud, app, low_sku), LOW_STOCK)
