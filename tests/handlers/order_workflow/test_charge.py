"""ChargePayment under moto: exactly-once charges, ledger, declines, an unavailable gateway."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyValidationError

from serverless_patterns.lambdas.order_workflow import charge, gateway, validate
from serverless_patterns.lambdas.order_workflow.errors import OrderStateError, PaymentError, PaymentGatewayUnavailable
from serverless_patterns.lambdas.order_workflow.gateway import ChargeRequest, ProviderReceipt, RefundRequest
from tests.handlers.order_workflow.conftest import (
    IDEMPOTENCY_TABLE,
    MAX_CHARGE_CENTS,
    Cloud,
    LambdaContext,
    order_request,
)


@pytest.fixture
def order(cloud: Cloud, context: LambdaContext) -> dict[str, Any]:
    cloud.seed_stock(**{"SKU-A": 5, "SKU-B": 5})
    validated: dict[str, Any] = validate.handler(order_request(), context)["order"]
    return validated


class FlakyGateway:
    """Unavailable for the first ``outages`` charges, then a ledger gateway."""

    name = "flaky"

    def __init__(self, outages: int) -> None:
        self.outages = outages
        self.charges: list[ChargeRequest] = []

    def charge(self, request: ChargeRequest, idempotency_key: str) -> ProviderReceipt:
        self.charges.append(request)
        if len(self.charges) <= self.outages:
            raise PaymentGatewayUnavailable("payment gateway timed out after 3.0 s")
        return ProviderReceipt(reference=f"flaky-{idempotency_key}")

    def refund(self, request: RefundRequest, idempotency_key: str) -> ProviderReceipt:
        return ProviderReceipt(reference=f"flaky-{idempotency_key}")

    def find_charge(self, request: ChargeRequest, idempotency_key: str) -> ProviderReceipt | None:
        return None


def _use_gateway(monkeypatch: pytest.MonkeyPatch, adapter: Any) -> None:
    monkeypatch.setitem(gateway.GATEWAYS, adapter.name, lambda settings: adapter)
    monkeypatch.setenv("PAYMENT_GATEWAY", adapter.name)


def test_charge_records_one_ledger_entry_and_marks_the_order_charged(
    cloud: Cloud, context: LambdaContext, order: dict[str, Any]
) -> None:
    receipt = charge.handler(order, context)

    assert receipt["order_id"] == "order-1"
    assert receipt["amount_cents"] == 3000
    assert receipt["gateway"] == "ledger"
    assert receipt["gateway_reference"] == "ledger-order-1"
    (entry,) = cloud.ledger("order-1")
    assert entry["entry"] == "CHARGE"
    assert entry["reference_id"] == receipt["payment_id"]
    stored = cloud.order("order-1")
    assert stored["status"] == "CHARGED"
    assert stored["payment_id"] == receipt["payment_id"]
    assert [step["status"] for step in stored["history"]] == ["VALIDATED", "CHARGED"]


def test_a_repeated_charge_returns_the_first_receipt_and_charges_once(
    cloud: Cloud, context: LambdaContext, order: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    counting = FlakyGateway(outages=0)
    _use_gateway(monkeypatch, counting)
    first = charge.handler(order, context)

    assert charge.handler(order, context) == first
    assert len(counting.charges) == 1
    (record,) = cloud.dynamodb.scan(TableName=IDEMPOTENCY_TABLE)["Items"]
    assert record["id"]["S"].startswith("order-workflow.charge#")  # survives function renames
    # After the idempotency record expires the ledger still refuses a second charge.
    for item in cloud.dynamodb.scan(TableName=IDEMPOTENCY_TABLE)["Items"]:
        cloud.dynamodb.delete_item(TableName=IDEMPOTENCY_TABLE, Key={"id": item["id"]})
    assert charge.handler(order, context) == first
    assert len(counting.charges) == 1
    assert len(cloud.ledger("order-1")) == 1


def test_a_reused_order_id_with_another_total_is_refused_by_idempotency(
    context: LambdaContext, order: dict[str, Any]
) -> None:
    charge.handler(order, context)
    changed = {**order, "lines": [{"sku": "SKU-A", "quantity": 1, "unit_price_cents": 10}], "total_cents": 10}

    with pytest.raises(IdempotencyValidationError):
        charge.handler(changed, context)


def test_a_decline_raises_payment_error_and_charges_nothing(
    cloud: Cloud, context: LambdaContext, capsys: pytest.CaptureFixture[str]
) -> None:
    cloud.seed_stock(**{"SKU-A": 5})
    expensive = order_request(lines=[{"sku": "SKU-A", "quantity": 1, "unit_price_cents": MAX_CHARGE_CENTS + 1}])
    order = validate.handler(expensive, context)["order"]

    with pytest.raises(PaymentError, match="exceeds the per-order limit"):
        charge.handler(order, context)

    assert cloud.ledger("order-1") == []
    stored = cloud.order("order-1")
    assert stored["status"] == "PAYMENT_DECLINED"
    assert stored["failure_error"] == "PaymentError"
    assert "per-order limit" in stored["failure_reason"]
    # The metric the construct charts and exposes as metric_payment_declines().
    (emf,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "PaymentsDeclined" in line]
    (directive,) = emf["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "ServerlessPatterns/Test"
    assert directive["Dimensions"] == [["service"]]
    assert (emf["service"], emf["PaymentsDeclined"]) == ("order-workflow", [1.0])


def test_an_unavailable_gateway_is_retryable_and_a_later_attempt_charges(
    cloud: Cloud, context: LambdaContext, order: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    flaky = FlakyGateway(outages=2)
    _use_gateway(monkeypatch, flaky)

    for _ in range(2):
        with pytest.raises(PaymentGatewayUnavailable):
            charge.handler(order, context)
        assert cloud.ledger("order-1") == []
        assert cloud.order("order-1")["status"] == "VALIDATED"
    receipt = charge.handler(order, context)

    assert receipt["gateway_reference"] == "flaky-order-1"
    assert len(cloud.ledger("order-1")) == 1
    assert cloud.order("order-1")["status"] == "CHARGED"


def test_a_closed_order_is_not_charged(cloud: Cloud, context: LambdaContext, order: dict[str, Any]) -> None:
    cloud.dynamodb.update_item(
        TableName="orders",
        Key={"order_id": {"S": "order-1"}},
        UpdateExpression="SET #s = :failed",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":failed": {"S": "FAILED"}},
    )

    with pytest.raises(OrderStateError, match="closed"):
        charge.handler(order, context)
    assert cloud.ledger("order-1") == []


def test_an_unknown_gateway_name_fails_loudly(
    context: LambdaContext, order: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAYMENT_GATEWAY", "nope")
    with pytest.raises(ValueError, match="unknown payment gateway 'nope'"):
        charge.handler(order, context)
