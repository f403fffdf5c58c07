"""The handlers chained as the state machine routes them: every outcome of the saga."""

from __future__ import annotations

from typing import Any

import pytest

from serverless_patterns.lambdas.order_workflow import gateway
from serverless_patterns.lambdas.order_workflow.errors import PaymentGatewayUnavailable
from serverless_patterns.lambdas.order_workflow.gateway import ChargeRequest, ProviderReceipt, RefundRequest
from tests.handlers.order_workflow import saga
from tests.handlers.order_workflow.conftest import MAX_CHARGE_CENTS, Cloud, LambdaContext, order_request


@pytest.fixture
def stocked(cloud: Cloud) -> Cloud:
    cloud.seed_stock(**{"SKU-A": 10, "SKU-B": 10})
    return cloud


def test_happy_path_confirms_charges_once_and_takes_stock(stocked: Cloud, context: LambdaContext) -> None:
    outcome = saga.run(order_request(), context)

    assert outcome.end_state == "OrderConfirmed"
    assert outcome.state["payment"]["amount_cents"] == 3000
    assert outcome.state["reservation"]["units"] == 3
    assert [entry["entry"] for entry in stocked.ledger("order-1")] == ["CHARGE"]
    assert (stocked.stock("SKU-A"), stocked.stock("SKU-B")) == (8, 9)
    assert [step["status"] for step in stocked.order("order-1")["history"]] == [
        "VALIDATED",
        "CHARGED",
        "RESERVED",
        "CONFIRMED",
    ]
    assert [event["detail-type"] for event in stocked.events()] == ["OrderConfirmed"]


def test_invalid_order_ends_in_validation_failed(stocked: Cloud, context: LambdaContext) -> None:
    outcome = saga.run(order_request(currency="eur"), context)

    assert (outcome.end_state, outcome.error) == ("ValidationFailed", "ValidationError")
    assert "currency" in str(outcome.cause)
    assert stocked.all_ledger_entries() == []


def test_decline_ends_in_payment_failed_without_a_charge(stocked: Cloud, context: LambdaContext) -> None:
    lines = [{"sku": "SKU-A", "quantity": 1, "unit_price_cents": MAX_CHARGE_CENTS + 1}]

    outcome = saga.run(order_request(lines=lines), context)

    assert (outcome.end_state, outcome.error) == ("PaymentFailed", "PaymentError")
    assert stocked.ledger("order-1") == []
    assert stocked.order("order-1")["status"] == "PAYMENT_DECLINED"
    assert stocked.stock("SKU-A") == 10


def test_out_of_stock_is_refunded_and_fails_with_the_reason(stocked: Cloud, context: LambdaContext) -> None:
    lines = [{"sku": "SKU-A", "quantity": 11, "unit_price_cents": 100}]

    outcome = saga.run(order_request(lines=lines), context)

    assert (outcome.end_state, outcome.error) == ("OrderFailed", "OutOfStock")
    assert "SKU-A: requested 11, 10 available" in str(outcome.cause)
    assert outcome.state["compensation"]["refunded"] is True
    assert sorted(entry["entry"] for entry in stocked.ledger("order-1")) == ["CHARGE", "REFUND"]
    assert stocked.order("order-1")["status"] == "FAILED"
    assert stocked.stock("SKU-A") == 10


def test_gateway_down_fails_the_order_cleanly_without_a_charge(
    stocked: Cloud, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    class DownGateway:
        name = "down"

        def charge(self, request: ChargeRequest, idempotency_key: str) -> ProviderReceipt:
            raise PaymentGatewayUnavailable("circuit open: payment gateway; retry after 30 s")

        def refund(self, request: RefundRequest, idempotency_key: str) -> ProviderReceipt:
            raise AssertionError("nothing was charged")

        def find_charge(self, request: ChargeRequest, idempotency_key: str) -> ProviderReceipt | None:
            return None

    monkeypatch.setitem(gateway.GATEWAYS, "down", lambda settings: DownGateway())
    monkeypatch.setenv("PAYMENT_GATEWAY", "down")

    outcome = saga.run(order_request(), context)

    assert (outcome.end_state, outcome.error) == ("OrderFailed", "PaymentGatewayUnavailable")
    assert outcome.state["compensation"]["refunded"] is False
    assert stocked.order("order-1")["status"] == "FAILED"
    assert stocked.ledger("order-1") == []


class TimingOutGateway:
    """Takes the money, then the answer is lost: every charge call times out."""

    name = "timing-out"

    def __init__(self) -> None:
        self.taken: dict[str, str] = {}
        self.refunded: list[str] = []

    def charge(self, request: ChargeRequest, idempotency_key: str) -> ProviderReceipt:
        self.taken.setdefault(idempotency_key, f"gw-{idempotency_key}")
        raise PaymentGatewayUnavailable("payment gateway read timed out after 3.0 s")

    def refund(self, request: RefundRequest, idempotency_key: str) -> ProviderReceipt:
        self.refunded.append(request.charge_reference)
        return ProviderReceipt(reference=f"gw-{idempotency_key}")

    def find_charge(self, request: ChargeRequest, idempotency_key: str) -> ProviderReceipt | None:
        reference = self.taken.get(idempotency_key)
        return ProviderReceipt(reference=reference) if reference else None


def test_a_charge_whose_answer_was_lost_is_found_and_refunded(
    stocked: Cloud, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    timing_out = TimingOutGateway()
    monkeypatch.setitem(gateway.GATEWAYS, timing_out.name, lambda settings: timing_out)
    monkeypatch.setenv("PAYMENT_GATEWAY", timing_out.name)

    outcome = saga.run(order_request(), context)

    assert (outcome.end_state, outcome.error) == ("OrderFailed", "PaymentGatewayUnavailable")
    assert outcome.state["compensation"]["refunded"] is True
    assert timing_out.refunded == ["gw-order-1"]
    entries = {entry["entry"]: entry for entry in stocked.ledger("order-1")}
    assert entries.keys() == {"CHARGE", "REFUND"}
    assert entries["CHARGE"]["gateway_reference"] == "gw-order-1"
    assert stocked.order("order-1")["status"] == "FAILED"


def test_a_duplicated_execution_charges_once_and_confirms_once(stocked: Cloud, context: LambdaContext) -> None:
    first = saga.run(order_request(), context)
    second = saga.run(order_request(), context)

    assert first.end_state == second.end_state == "OrderConfirmed"
    assert second.state["payment"] == first.state["payment"]
    assert [entry["entry"] for entry in stocked.ledger("order-1")] == ["CHARGE"]
    assert (stocked.stock("SKU-A"), stocked.stock("SKU-B")) == (8, 9)
    assert len(stocked.events()) == 1


def test_a_duplicate_of_a_failed_order_neither_charges_again_nor_takes_stock(
    stocked: Cloud, context: LambdaContext
) -> None:
    lines: list[dict[str, Any]] = [{"sku": "SKU-A", "quantity": 11, "unit_price_cents": 100}]
    first = saga.run(order_request(lines=lines), context)
    stocked.seed_stock(**{"SKU-A": 20})  # restocked meanwhile: the closed order must stay closed

    second = saga.run(order_request(lines=lines), context)

    assert first.end_state == second.end_state == "OrderFailed"
    assert sorted(entry["entry"] for entry in stocked.ledger("order-1")) == ["CHARGE", "REFUND"]
    assert stocked.stock("SKU-A") == 20
    assert stocked.order("order-1")["status"] == "FAILED"
