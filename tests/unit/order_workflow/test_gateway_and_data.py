"""The ledger provider, the registry of built-in providers, and how a cancelled reservation is read."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from serverless_patterns.lambdas.order_workflow import data
from serverless_patterns.lambdas.order_workflow.errors import OutOfStock, TransientError
from serverless_patterns.lambdas.order_workflow.gateway import (
    ChargeRequest,
    LedgerGateway,
    RefundRequest,
    payment_gateway,
)
from serverless_patterns.lambdas.order_workflow.models import Order
from serverless_patterns.lambdas.order_workflow.settings import GatewaySettings


def test_the_ledger_provider_references_each_charge_and_refund_by_its_idempotency_key() -> None:
    provider = LedgerGateway()
    request = ChargeRequest(order_id="o-1", customer_id="c-1", amount_cents=500, currency="EUR")
    assert provider.charge(request, "o-1").reference == "ledger-o-1"
    assert provider.find_charge(request, "o-1") is None  # its ledger entry is the charge itself
    refund = RefundRequest(order_id="o-1", amount_cents=500, currency="EUR", charge_reference="ledger-o-1")
    assert provider.refund(refund, "refund-o-1").reference == "ledger-refund-o-1"


def test_the_gateway_is_chosen_by_name_and_built_once() -> None:
    settings = GatewaySettings.model_validate({"PAYMENT_GATEWAY": "ledger", "MAX_CHARGE_CENTS": "10"})
    assert payment_gateway(settings) is payment_gateway(settings)
    with pytest.raises(ValueError, match="choose one of \\['http', 'ledger'\\]"):
        payment_gateway(GatewaySettings.model_validate({"PAYMENT_GATEWAY": "stripe", "MAX_CHARGE_CENTS": "10"}))


ORDER = Order.model_validate(
    {
        "order_id": "o-1",
        "customer_id": "c-1",
        "currency": "EUR",
        "lines": [
            {"sku": "SKU-A", "quantity": 2, "unit_price_cents": 1},
            {"sku": "SKU-B", "quantity": 3, "unit_price_cents": 1},
        ],
        "total_cents": 5,
    }
)


def _cancelled(*reasons: dict[str, Any]) -> bool:
    error = ClientError(
        {"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"}}, "TransactWriteItems"
    )
    return data.Inventory("inventory", client=object())._cancelled(ORDER, list(reasons), error)  # type: ignore[arg-type]


NONE = {"Code": "None"}


def test_an_order_not_in_charged_state_is_reported_not_raised() -> None:
    failed = {"Code": "ConditionalCheckFailed"}
    assert _cancelled(failed, failed, NONE) is False


def test_every_short_line_is_named() -> None:
    short = {"Code": "ConditionalCheckFailed", "Item": {"sku": {"S": "SKU-A"}, "stock": {"N": "1"}}}
    unknown = {"Code": "ConditionalCheckFailed"}
    with pytest.raises(OutOfStock) as raised:
        _cancelled(NONE, short, unknown)
    assert str(raised.value) == (
        "order o-1 cannot be reserved: SKU-A: requested 2, 1 available; SKU-B: requested 3, unknown SKU"
    )


def test_a_conflict_with_another_transaction_is_transient() -> None:
    with pytest.raises(TransientError, match="TransactionConflict"):
        _cancelled(NONE, {"Code": "TransactionConflict"}, NONE)


def test_an_unexplained_cancellation_propagates() -> None:
    with pytest.raises(ClientError):
        _cancelled(NONE, {"Code": "ValidationError"}, NONE)


def test_throttling_is_transient_and_other_client_errors_are_not() -> None:
    with (
        pytest.raises(TransientError, match="read order: ProvisionedThroughputExceededException"),
        data._transient_errors("read order"),
    ):
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "GetItem")
    with pytest.raises(ClientError), data._transient_errors("read order"):
        raise ClientError({"Error": {"Code": "AccessDeniedException"}}, "GetItem")
