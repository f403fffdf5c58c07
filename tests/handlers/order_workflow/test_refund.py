"""RefundPayment (the compensation) under moto."""

from __future__ import annotations

import json
from typing import Any

from serverless_patterns.lambdas.order_workflow import charge, inventory, refund, validate
from serverless_patterns.lambdas.order_workflow.data import Ledger
from serverless_patterns.lambdas.order_workflow.models import LedgerEntry, LedgerEntryKind
from tests.handlers.order_workflow.conftest import PAYMENTS_TABLE, Cloud, LambdaContext, order_request

OUT_OF_STOCK = {
    "Error": "OutOfStock",
    "Cause": json.dumps(
        {
            "errorMessage": "order order-1 cannot be reserved: SKU-A: requested 2, 1 available",
            "errorType": "OutOfStock",
            "stackTrace": ["  File ..."],
        }
    ),
}


def _validated(cloud: Cloud, context: LambdaContext) -> dict[str, Any]:
    cloud.seed_stock(**{"SKU-A": 5, "SKU-B": 5})
    order: dict[str, Any] = validate.handler(order_request(), context)["order"]
    return order


def test_a_charged_order_is_closed_with_its_reason_and_refunded_once(cloud: Cloud, context: LambdaContext) -> None:
    order = _validated(cloud, context)
    payment = charge.handler(order, context)

    result = refund.handler({"order": order, "failure": OUT_OF_STOCK}, context)

    assert result["fulfilled"] is False
    assert result["refunded"] is True
    assert result["error"] == "OutOfStock"
    assert result["reason"].startswith("order order-1 cannot be reserved: SKU-A: requested 2, 1 available")
    assert payment["payment_id"] in result["reason"]
    stored = cloud.order("order-1")
    assert stored["status"] == "FAILED"
    assert stored["failure_error"] == "OutOfStock"
    assert stored["refund_id"] == result["refund_id"]
    assert sorted(entry["entry"] for entry in cloud.ledger("order-1")) == ["CHARGE", "REFUND"]

    assert refund.handler({"order": order, "failure": OUT_OF_STOCK}, context) == result
    assert len(cloud.ledger("order-1")) == 2


def test_an_order_never_charged_is_closed_without_a_refund(cloud: Cloud, context: LambdaContext) -> None:
    order = _validated(cloud, context)
    unavailable = {"Error": "PaymentGatewayUnavailable", "Cause": "not json: the gateway timed out"}

    result = refund.handler({"order": order, "failure": unavailable}, context)

    assert result == {
        "order_id": "order-1",
        "fulfilled": False,
        "refunded": False,
        "refund_id": None,
        "error": "PaymentGatewayUnavailable",
        "reason": "not json: the gateway timed out",
    }
    assert cloud.order("order-1")["status"] == "FAILED"
    assert cloud.ledger("order-1") == []


def test_a_fulfilled_order_is_not_compensated(cloud: Cloud, context: LambdaContext) -> None:
    order = _validated(cloud, context)
    charge.handler(order, context)
    inventory.handler(order, context)

    result = refund.handler({"order": order, "failure": {"Error": "Sandbox.Timedout", "Cause": ""}}, context)

    assert result["fulfilled"] is True
    assert result["refunded"] is False
    assert cloud.order("order-1")["status"] == "RESERVED"
    assert [entry["entry"] for entry in cloud.ledger("order-1")] == ["CHARGE"]
    assert (cloud.stock("SKU-A"), cloud.stock("SKU-B")) == (3, 4)


def test_a_charge_after_the_order_was_closed_is_refunded_by_its_compensation(
    cloud: Cloud, context: LambdaContext
) -> None:
    order = _validated(cloud, context)
    refund.handler({"order": order, "failure": {"Error": "States.Timeout", "Cause": "took too long"}}, context)

    # A duplicate execution that charged in between is compensated by its own refund step.
    Ledger(PAYMENTS_TABLE).record(
        LedgerEntry(
            order_id="order-1",
            entry=LedgerEntryKind.CHARGE,
            reference_id="pay-late",
            amount_cents=3000,
            currency="EUR",
            gateway="ledger",
            gateway_reference="ledger-order-1",
            recorded_at="2026-01-01T00:00:00.000+00:00",
        )
    )
    result = refund.handler({"order": order, "failure": {"Error": "OrderStateError", "Cause": "closed"}}, context)

    assert result["refunded"] is True
    assert sorted(entry["entry"] for entry in cloud.ledger("order-1")) == ["CHARGE", "REFUND"]
