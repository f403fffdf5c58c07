"""Your payment provider and confirmation step (``order_workflow.custom``) under moto, in the workflow's saga.

The providers here are in memory and honour the contract (one charge per idempotency key);
each fails the way a real one does: it declines, it is down for a while, its answer is lost
after it took the money, it breaks outside the contract. The workflow keeps exactly-once
charges, the ledger and the compensation whatever they do.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import pytest

from serverless_patterns.constructs.order_workflow_definition import CHARGE_NO_RETRY, CHARGE_TRANSIENT_RETRY
from serverless_patterns.lambdas.order_workflow import inventory, validate
from serverless_patterns.lambdas.order_workflow.custom import (
    ChargeRequest,
    Order,
    PaymentError,
    PaymentGatewayUnavailable,
    ProviderReceipt,
    RefundRequest,
    TransientError,
    build_charge_handler,
    build_confirmation_handler,
    build_refund_handler,
)
from serverless_patterns.lambdas.order_workflow.errors import OrderStateError
from tests.handlers.logs import captured_logs
from tests.handlers.order_workflow import saga
from tests.handlers.order_workflow.conftest import MAX_CHARGE_CENTS, Cloud, LambdaContext, order_request

Fault = Callable[[ChargeRequest, str], None]


class BookProvider:
    """A provider keeping its own books: one charge per idempotency key, one refund per key.

    ``before`` runs before a charge is taken, ``after`` after it was taken (and may lose the
    answer by raising); ``attempts`` lists every charge call's idempotency key.
    """

    name = "book-pay"

    def __init__(self, *, before: Fault | None = None, after: Fault | None = None) -> None:
        self.charges: dict[str, ChargeRequest] = {}
        self.refunds: dict[str, str] = {}
        self.attempts: list[str] = []
        self.lookups: list[str] = []
        self._before, self._after = before, after

    def charge(self, request: ChargeRequest, idempotency_key: str) -> ProviderReceipt:
        self.attempts.append(idempotency_key)
        if self._before:
            self._before(request, idempotency_key)
        self.charges.setdefault(idempotency_key, request)
        if self._after:
            self._after(request, idempotency_key)
        return ProviderReceipt(reference=f"ch-{idempotency_key}")

    def refund(self, request: RefundRequest, idempotency_key: str) -> ProviderReceipt:
        assert request.charge_reference.removeprefix("ch-") in self.charges, "refund of a charge never taken"
        self.refunds.setdefault(idempotency_key, request.charge_reference)
        return ProviderReceipt(reference=f"re-{idempotency_key}")

    def find_charge(self, request: ChargeRequest, idempotency_key: str) -> ProviderReceipt | None:
        self.lookups.append(idempotency_key)
        return ProviderReceipt(reference=f"ch-{idempotency_key}") if idempotency_key in self.charges else None

    def net_cents(self) -> int:
        """What the customers paid in all: charges minus refunds."""
        refunded = {reference.removeprefix("ch-") for reference in self.refunds.values()}
        return sum(charge.amount_cents for key, charge in self.charges.items() if key not in refunded)


def declines(request: ChargeRequest, idempotency_key: str) -> None:
    raise PaymentError(f"payment for order {request.order_id} declined by book-pay (insufficient_funds)")


def down_for(attempts: int) -> Fault:
    calls = iter(range(attempts))

    def fault(request: ChargeRequest, idempotency_key: str) -> None:
        if next(calls, None) is not None:
            raise PaymentGatewayUnavailable("book-pay timed out after 3.0 s")

    return fault


def saga_with(provider: BookProvider, step: Callable[[Order], None] | None = None) -> saga.Handlers:
    """The saga's payment and confirmation tasks built from your code, as the construct deploys it."""
    charge = build_charge_handler(provider)
    return saga.Handlers(
        charge=retried(charge),
        refund=build_refund_handler(provider),
        confirm=build_confirmation_handler(step) if step else saga.BUILT_IN.confirm,
    )


def retried(charge: saga.Handler) -> saga.Handler:
    """ChargePayment with the state machine's retriers (the seed's: no breaker): declines never, the rest 3x."""

    def task(order: Any, context: Any) -> Any:
        for attempt in range(CHARGE_TRANSIENT_RETRY.max_attempts + 1):
            try:
                return charge(order, context)
            except Exception as error:
                if type(error).__name__ in CHARGE_NO_RETRY.errors or attempt == CHARGE_TRANSIENT_RETRY.max_attempts:
                    raise
        raise AssertionError("unreachable")

    return task


@pytest.fixture
def stocked(cloud: Cloud) -> Cloud:
    cloud.seed_stock(**{"SKU-A": 10, "SKU-B": 10})
    return cloud


def test_a_confirmed_order_is_charged_once_through_your_provider_and_recorded_under_its_name(
    stocked: Cloud, context: LambdaContext
) -> None:
    provider = BookProvider()

    outcome = saga.run(order_request(), context, saga_with(provider))

    assert outcome.end_state == "OrderConfirmed"
    assert list(provider.charges) == ["order-1"]  # the order id is the charge's idempotency key
    assert provider.charges["order-1"] == ChargeRequest(
        order_id="order-1", customer_id="customer-7", amount_cents=3000, currency="EUR"
    )
    (entry,) = stocked.ledger("order-1")
    assert (entry["entry"], entry["gateway"], entry["gateway_reference"]) == ("CHARGE", "book-pay", "ch-order-1")
    assert outcome.state["payment"]["gateway"] == "book-pay"
    assert stocked.order("order-1")["status"] == "CONFIRMED"


def test_a_decline_ends_in_payment_failed_without_a_retry_a_charge_or_a_refund(
    stocked: Cloud, context: LambdaContext
) -> None:
    provider = BookProvider(before=declines)

    outcome = saga.run(order_request(), context, saga_with(provider))

    assert (outcome.end_state, outcome.error) == ("PaymentFailed", "PaymentError")
    assert provider.attempts == ["order-1"]  # not retried
    assert (provider.charges, provider.refunds) == ({}, {})
    stored = stocked.order("order-1")
    assert (stored["status"], stored["failure_error"]) == ("PAYMENT_DECLINED", "PaymentError")
    assert stored["failure_reason"] == "payment for order order-1 declined by book-pay (insufficient_funds)"
    assert stocked.ledger("order-1") == []
    assert stocked.stock("SKU-A") == 10


def test_the_per_order_limit_declines_before_your_provider_is_asked(stocked: Cloud, context: LambdaContext) -> None:
    provider = BookProvider()
    expensive = order_request(lines=[{"sku": "SKU-A", "quantity": 1, "unit_price_cents": MAX_CHARGE_CENTS + 1}])

    outcome = saga.run(expensive, context, saga_with(provider))

    assert (outcome.end_state, outcome.error) == ("PaymentFailed", "PaymentError")
    assert "exceeds the per-order limit" in str(outcome.cause)
    assert provider.attempts == []


def test_a_provider_unavailable_then_back_is_retried_and_charged_once(stocked: Cloud, context: LambdaContext) -> None:
    provider = BookProvider(before=down_for(2))

    outcome = saga.run(order_request(), context, saga_with(provider))

    assert outcome.end_state == "OrderConfirmed"
    assert provider.attempts == ["order-1"] * 3  # the same key on every attempt
    assert list(provider.charges) == ["order-1"]
    assert len(stocked.ledger("order-1")) == 1


def test_a_provider_unavailable_past_the_retries_fails_the_order_without_a_charge(
    stocked: Cloud, context: LambdaContext
) -> None:
    provider = BookProvider(before=down_for(99))

    outcome = saga.run(order_request(), context, saga_with(provider))

    assert (outcome.end_state, outcome.error) == ("OrderFailed", "PaymentGatewayUnavailable")
    assert len(provider.attempts) == CHARGE_TRANSIENT_RETRY.max_attempts + 1
    assert provider.lookups == ["order-1"]  # the compensation asked before deciding nothing was taken
    assert outcome.state["compensation"]["refunded"] is False
    assert stocked.ledger("order-1") == []
    assert stocked.order("order-1")["status"] == "FAILED"


def test_a_charge_whose_answer_was_lost_is_taken_once_on_retry(stocked: Cloud, context: LambdaContext) -> None:
    """The provider took the money, then timed out: the retry's same key returns that charge."""
    provider = BookProvider(after=down_for(1))

    outcome = saga.run(order_request(), context, saga_with(provider))

    assert outcome.end_state == "OrderConfirmed"
    assert provider.attempts == ["order-1", "order-1"]
    assert list(provider.charges) == ["order-1"]
    (entry,) = stocked.ledger("order-1")
    assert entry["gateway_reference"] == "ch-order-1"
    assert provider.net_cents() == 3000


def test_a_charge_whose_answer_was_lost_on_every_attempt_is_found_and_refunded(
    stocked: Cloud, context: LambdaContext
) -> None:
    provider = BookProvider(after=down_for(99))

    outcome = saga.run(order_request(), context, saga_with(provider))

    assert (outcome.end_state, outcome.error) == ("OrderFailed", "PaymentGatewayUnavailable")
    assert outcome.state["compensation"]["refunded"] is True
    assert provider.refunds == {"refund-order-1": "ch-order-1"}
    assert provider.net_cents() == 0
    assert sorted(entry["entry"] for entry in stocked.ledger("order-1")) == ["CHARGE", "REFUND"]


def test_out_of_stock_after_the_charge_is_refunded_through_your_provider(
    stocked: Cloud, context: LambdaContext
) -> None:
    provider = BookProvider()
    stocked.seed_stock(**{"SKU-A": 1})  # the order needs two

    outcome = saga.run(order_request(), context, saga_with(provider))

    assert (outcome.end_state, outcome.error) == ("OrderFailed", "OutOfStock")
    assert provider.refunds == {"refund-order-1": "ch-order-1"}
    entries = {entry["entry"]: entry for entry in stocked.ledger("order-1")}
    assert entries["REFUND"]["gateway"] == "book-pay"
    assert entries["REFUND"]["gateway_reference"] == "re-refund-order-1"
    assert provider.net_cents() == 0


class _ProvidersOwnPaymentError(Exception):
    """A provider SDK's exception that happens to share a name the state machine routes on."""


_ProvidersOwnPaymentError.__name__ = "PaymentError"


@pytest.mark.parametrize("raised", [KeyError("charge_id"), _ProvidersOwnPaymentError("sdk says no")])
def test_an_error_outside_the_contract_is_retried_as_transient_never_taken_for_a_decline(
    stocked: Cloud, context: LambdaContext, raised: Exception
) -> None:
    def broken(request: ChargeRequest, idempotency_key: str) -> None:
        raise raised

    charge = build_charge_handler(BookProvider(before=broken))
    order = validate.handler(order_request(), context)["order"]

    with (
        captured_logs() as logged,
        pytest.raises(
            TransientError, match=f"payment provider 'book-pay' failed on the charge with {type(raised).__name__}"
        ),
    ):
        charge(order, context)

    assert stocked.order("order-1")["status"] == "VALIDATED"  # not declined: retried, then compensated
    (error,) = [line for line in logged if line["level"] == "ERROR"]
    assert str(raised.args[0]) in error["exception"]  # the cause's traceback, in the function's log


def test_exactly_once_whatever_the_provider_does(stocked: Cloud, context: LambdaContext) -> None:
    """Random outages before and after the charge, orders running to their end: never a charge twice.

    Per order: at most one charge at the provider; the ledger holds exactly what the provider
    kept; a failed order nets zero at the provider, a confirmed one its total.
    """
    plans = random.Random(15)
    for number in range(12):
        order_id = f"prop-{number}"
        before, after = plans.randint(0, 5), plans.randint(0, 2)
        provider = BookProvider(before=down_for(before), after=down_for(after))
        stocked.seed_stock(**{"SKU-A": 10, "SKU-B": 10})

        outcome = saga.run(order_request(order_id), context, saga_with(provider))

        ledger = {entry["entry"]: entry for entry in stocked.ledger(order_id)}
        assert len(provider.charges) <= 1
        assert ("CHARGE" in ledger) == bool(provider.charges), (before, after)
        assert ("REFUND" in ledger) == bool(provider.refunds), (before, after)
        expected = 3000 if outcome.end_state == "OrderConfirmed" else 0
        assert provider.net_cents() == expected, (before, after, outcome.end_state)
        assert outcome.end_state in {"OrderConfirmed", "OrderFailed"}


# --- the confirmation step --------------------------------------------------------------------------------


def _reserved(provider: BookProvider, context: LambdaContext) -> dict[str, Any]:
    order: dict[str, Any] = validate.handler(order_request(), context)["order"]
    build_charge_handler(provider)(order, context)
    inventory.handler(order, context)
    return order


def test_your_confirmation_step_runs_once_then_the_order_is_confirmed_and_announced(
    stocked: Cloud, context: LambdaContext
) -> None:
    shipped: list[Order] = []
    provider = BookProvider()

    outcome = saga.run(order_request(), context, saga_with(provider, shipped.append))

    assert outcome.end_state == "OrderConfirmed"
    (order,) = shipped
    assert (order.order_id, order.total_cents, [line.sku for line in order.lines]) == (
        "order-1",
        3000,
        ["SKU-A", "SKU-B"],
    )
    assert stocked.order("order-1")["status"] == "CONFIRMED"
    (event,) = stocked.events()
    assert (event["detail-type"], event["detail"]["order_id"]) == ("OrderConfirmed", "order-1")
    # A retry or a duplicate execution finds the order CONFIRMED: the step is not run again.
    build_confirmation_handler(shipped.append)(outcome.state["order"], context)
    assert len(shipped) == 1


def test_a_failing_step_keeps_the_order_reserved_until_the_deferred_confirmation_succeeds(
    stocked: Cloud, context: LambdaContext
) -> None:
    warehouse_up = False
    shipped: list[str] = []

    def ship(order: Order) -> None:
        if not warehouse_up:
            raise ConnectionError("warehouse API unreachable")
        shipped.append(order.order_id)

    confirm = build_confirmation_handler(ship)
    order = _reserved(BookProvider(), context)

    with pytest.raises(ConnectionError):
        confirm(order, context)
    assert stocked.order("order-1")["status"] == "RESERVED"
    assert stocked.events() == []

    # The state machine's retries ran out: QueueConfirmation hands the order to the queue.
    deferred = {"Records": [{"messageId": "m-1", "eventSource": "aws:sqs", "body": json.dumps(order)}]}
    assert confirm(deferred, context) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    warehouse_up = True
    assert confirm(deferred, context) == {"batchItemFailures": []}

    assert shipped == ["order-1"]
    assert stocked.order("order-1")["status"] == "CONFIRMED"
    assert [event["detail-type"] for event in stocked.events()] == ["OrderConfirmed"]


def test_the_step_never_runs_for_an_order_that_is_not_reserved(stocked: Cloud, context: LambdaContext) -> None:
    shipped: list[Order] = []
    order = validate.handler(order_request(), context)["order"]

    with pytest.raises(OrderStateError, match="not RESERVED"):
        build_confirmation_handler(shipped.append)(order, context)
    assert shipped == []


@pytest.mark.parametrize(
    ("build", "argument", "message"),
    [
        (build_charge_handler, BookProvider, "pass a payment provider instance, not the class BookProvider"),
        (build_refund_handler, object(), "object is not a PaymentProvider: it has no charge, refund, find_charge"),
        (build_charge_handler, type("Nameless", (BookProvider,), {"name": ""})(), "Nameless.name must be a non-empty"),
        (build_confirmation_handler, "ship", "the confirmation step must be a function taking the Order"),
        (build_confirmation_handler, Order, "the confirmation step must be a function taking the Order"),
    ],
)
def test_your_code_is_checked_when_the_handler_is_built(build: Any, argument: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        build(argument)
