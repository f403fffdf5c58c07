"""The saga's steps, one function each. AWS is reached only through ``data`` and the payment provider.

Every step is safe to repeat: a retried attempt or a duplicated execution of the same
order finds the previous outcome (order status, ledger entry) and returns it instead
of acting twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from serverless_patterns.lambdas.order_workflow import names
from serverless_patterns.lambdas.order_workflow.data import Inventory, Ledger, OrderEvents, Orders
from serverless_patterns.lambdas.order_workflow.errors import (
    OrderStateError,
    OrderWorkflowError,
    PaymentError,
    TransientError,
    ValidationError,
)
from serverless_patterns.lambdas.order_workflow.gateway import (
    ChargeRequest,
    PaymentProvider,
    ProviderReceipt,
    RefundRequest,
)
from serverless_patterns.lambdas.order_workflow.models import (
    FULFILLED,
    CompensationRequest,
    CompensationResult,
    ConfirmationResult,
    LedgerEntry,
    LedgerEntryKind,
    Order,
    OrderStatus,
    PaymentReceipt,
    Reservation,
    parse_order_request,
)

CHARGEABLE = frozenset({OrderStatus.VALIDATED, OrderStatus.PAYMENT_DECLINED})
PAID = frozenset({OrderStatus.CHARGED, *FULFILLED})
# Everything short of fulfilled can be closed; FAILED is closed already.
COMPENSABLE = frozenset({OrderStatus.VALIDATED, OrderStatus.PAYMENT_DECLINED, OrderStatus.CHARGED})

ResultT = TypeVar("ResultT")
# The step's work beside the order's status: e.g. an e-mail or a fulfilment API call (``custom``).
ConfirmationStep = Callable[[Order], None]


def validate_order(raw: object, *, orders: Orders, inventory: Inventory, now: datetime) -> Order:
    """Parse the submitted order, check its SKUs are stocked, and record it as VALIDATED.

    Resubmitting the same order is accepted (the workflow then resumes idempotently);
    reusing its id for different content is a ValidationError.
    """
    order = Order.from_request(parse_order_request(raw))
    stocked = inventory.stock_levels([line.sku for line in order.lines])
    unknown = [line.sku for line in order.lines if line.sku not in stocked]
    if unknown:
        raise ValidationError(f"order {order.order_id} is invalid: unknown SKU(s) {', '.join(unknown)}")
    stored, created = orders.create(order, now=now)
    if not created and stored.fingerprint != order.fingerprint():
        raise ValidationError(f"order {order.order_id} is invalid: its id was already used for a different order")
    return order


def charge_payment(
    order: Order,
    *,
    orders: Orders,
    ledger: Ledger,
    provider: PaymentProvider,
    max_charge_cents: int,
    now: datetime,
) -> PaymentReceipt:
    """Charge the order once, record the charge in the ledger, and mark the order CHARGED.

    An order already charged returns its ledger charge without asking the provider. A
    decline (ours above ``max_charge_cents``, or the provider's) marks the order
    PAYMENT_DECLINED and raises PaymentError.
    """
    stored = orders.get(order.order_id)
    if stored is None:
        raise OrderStateError(f"order {order.order_id} is unknown; ValidateOrder records it first")
    if stored.status is OrderStatus.FAILED:
        raise OrderStateError(f"order {order.order_id} is closed ({stored.failure_error}); it is not charged again")
    charge = ledger.entries(order.order_id).get(LedgerEntryKind.CHARGE)
    if charge is None:
        request = charge_request(order)
        try:
            if order.total_cents > max_charge_cents:
                # Our own limit: no provider is asked.
                raise PaymentError(
                    f"payment for order {order.order_id} declined: {order.total_cents} {order.currency} "
                    f"cents exceeds the per-order limit of {max_charge_cents}"
                )
            receipt = _ask(provider, "charge", lambda: provider.charge(request, charge_key(order.order_id)))
        except PaymentError as declined:
            orders.transition(
                order.order_id,
                allowed_from=CHARGEABLE,
                to=OrderStatus.PAYMENT_DECLINED,
                now=now,
                attributes={"failure_error": PaymentError.__name__, "failure_reason": str(declined)},
            )
            raise
        charge = ledger.record(_charge_entry(order, provider=provider, reference=receipt.reference, now=now))
    current, _ = orders.transition(
        order.order_id,
        allowed_from=CHARGEABLE,
        to=OrderStatus.CHARGED,
        now=now,
        attributes={"payment_id": charge.reference_id},
    )
    if current.status not in PAID:
        # Closed by a compensation meanwhile: the failing step's compensation refunds this charge.
        raise OrderStateError(f"order {order.order_id} was closed while it was charged; the charge is refunded")
    return PaymentReceipt.from_entry(charge)


def charge_key(order_id: str) -> str:
    """The idempotency key of the order's charge at the provider: every attempt sends the same."""
    return order_id


def refund_key(order_id: str) -> str:
    """The idempotency key of the order's refund at the provider."""
    return f"refund-{order_id}"


def charge_request(order: Order) -> ChargeRequest:
    """What the provider is asked to charge for ``order``."""
    return ChargeRequest(
        order_id=order.order_id,
        customer_id=order.customer_id,
        amount_cents=order.total_cents,
        currency=order.currency,
    )


def _ask(provider: PaymentProvider, what: str, call: Callable[[], ResultT]) -> ResultT:
    """Call the provider; an error outside the contract becomes TransientError (retried, then compensated).

    The workflow's own errors pass unchanged: their class names are what the state machine
    routes on. Any other exception is a fault of the integration, not of the order, and its
    class name could collide with one the state machine matches (a provider's own
    ``PaymentError`` would be taken for a decline), so it is renamed; its message is not
    copied into the order's failure reason (it may carry card or customer data), only its type.
    """
    try:
        return call()
    except OrderWorkflowError:
        raise
    except Exception as error:
        raise TransientError(
            f"payment provider {provider.name!r} failed on the {what} with {type(error).__name__} "
            "(outside its contract; see the function's log)"
        ) from error


def _lost_charge(order: Order, *, ledger: Ledger, provider: PaymentProvider, now: datetime) -> LedgerEntry | None:
    """A charge the provider took while its answer was lost (a timeout): recorded now, so it is refunded."""
    request = charge_request(order)
    receipt: ProviderReceipt | None = _ask(
        provider, "charge lookup", lambda: provider.find_charge(request, charge_key(order.order_id))
    )
    if receipt is None:
        return None
    return ledger.record(_charge_entry(order, provider=provider, reference=receipt.reference, now=now))


def _charge_entry(order: Order, *, provider: PaymentProvider, reference: str, now: datetime) -> LedgerEntry:
    return LedgerEntry(
        order_id=order.order_id,
        entry=LedgerEntryKind.CHARGE,
        reference_id=f"pay-{uuid.uuid4()}",
        amount_cents=order.total_cents,
        currency=order.currency,
        gateway=provider.name,
        gateway_reference=reference,
        recorded_at=now.isoformat(timespec="milliseconds"),
    )


def reserve_inventory(order: Order, *, orders: Orders, inventory: Inventory, now: datetime) -> Reservation:
    """Take the order's stock in one transaction (all lines or none) and mark it RESERVED."""
    units = sum(line.quantity for line in order.lines)
    if inventory.reserve(order, orders_table=orders.table_name, now=now):
        return Reservation(order_id=order.order_id, units=units, reserved_at=now.isoformat(timespec="milliseconds"))
    stored = orders.get(order.order_id)
    if stored is not None and stored.status in FULFILLED:
        return Reservation(order_id=order.order_id, units=units, reserved_at=stored.reserved_at or "")
    status = stored.status if stored else "unknown"
    raise OrderStateError(f"order {order.order_id} is {status}, not CHARGED; no stock was taken")


def confirm_order(
    order: Order, *, orders: Orders, events: OrderEvents, now: datetime, step: ConfirmationStep | None = None
) -> ConfirmationResult:
    """Run the confirmation ``step`` once, mark the order CONFIRMED and announce it (OrderConfirmed on the bus).

    The step runs while the order is RESERVED; CONFIRMED records that it succeeded, so a retry
    after that (the announcement failed, a duplicate execution) does not run it again. A step
    that fails fails the task, which is retried, then deferred to the confirmation queue: the
    order stays RESERVED until its step succeeds. If the announcement fails the task fails and
    is retried: the order stays confirmed and the event is sent by the retry (at least once;
    consumers dedupe on ``order_id``).
    """
    if step is not None:
        stored = orders.get(order.order_id)
        if stored is not None and stored.status is OrderStatus.RESERVED:
            step(order)
    stored, _ = orders.transition(
        order.order_id, allowed_from={OrderStatus.RESERVED}, to=OrderStatus.CONFIRMED, now=now
    )
    if stored.status is not OrderStatus.CONFIRMED:
        raise OrderStateError(f"order {order.order_id} is {stored.status}, not RESERVED; it cannot be confirmed")
    if stored.notified_at is None:
        events.publish(
            names.ORDER_CONFIRMED,
            {
                "order_id": order.order_id,
                "customer_id": order.customer_id,
                "currency": order.currency,
                "total_cents": order.total_cents,
                "payment_id": stored.payment_id,
                "lines": [line.model_dump() for line in order.lines],
            },
        )
        orders.annotate(order.order_id, {"notified_at": now.isoformat(timespec="milliseconds")}, now=now)
    return ConfirmationResult(order_id=order.order_id, status=OrderStatus.CONFIRMED, notified=True)


def compensate_order(
    request: CompensationRequest, *, orders: Orders, ledger: Ledger, provider: PaymentProvider, now: datetime
) -> CompensationResult:
    """Close the order as FAILED with its reason, then refund its charge if there is one.

    Closing comes first: a closed order can no longer be reserved, so a refund never
    races a reservation. A fulfilled order (reserved by a duplicate execution, or by an
    attempt whose caller gave up) is not compensated: ``fulfilled`` tells the workflow
    to confirm it instead.
    """
    order, failure = request.order, request.failure
    reason = failure.reason
    stored, _ = orders.transition(
        order.order_id,
        allowed_from=COMPENSABLE,
        to=OrderStatus.FAILED,
        now=now,
        attributes={"failure_error": failure.error, "failure_reason": reason},
    )
    if stored.status in FULFILLED:
        return CompensationResult(
            order_id=order.order_id,
            fulfilled=True,
            refunded=False,
            refund_id=None,
            error=failure.error,
            reason=f"order already {stored.status}; not compensated for: {reason}",
        )
    entries = ledger.entries(order.order_id)
    charge = entries.get(LedgerEntryKind.CHARGE) or _lost_charge(order, ledger=ledger, provider=provider, now=now)
    if charge is None:
        return CompensationResult(
            order_id=order.order_id, fulfilled=False, refunded=False, refund_id=None, error=failure.error, reason=reason
        )
    refund = entries.get(LedgerEntryKind.REFUND)
    if refund is None:
        refund_request = RefundRequest(
            order_id=order.order_id,
            amount_cents=charge.amount_cents,
            currency=charge.currency,
            charge_reference=charge.gateway_reference,
        )
        receipt = _ask(provider, "refund", lambda: provider.refund(refund_request, refund_key(order.order_id)))
        refund = ledger.record(
            LedgerEntry(
                order_id=order.order_id,
                entry=LedgerEntryKind.REFUND,
                reference_id=f"refund-{uuid.uuid4()}",
                amount_cents=charge.amount_cents,
                currency=charge.currency,
                gateway=provider.name,
                gateway_reference=receipt.reference,
                recorded_at=now.isoformat(timespec="milliseconds"),
            )
        )
        orders.annotate(order.order_id, {"refund_id": refund.reference_id}, now=now)
    return CompensationResult(
        order_id=order.order_id,
        fulfilled=False,
        refunded=True,
        refund_id=refund.reference_id,
        error=failure.error,
        reason=f"{reason} (payment {charge.reference_id} refunded)",
    )
