"""The workflow's records (``shapes.Shape``): the order, what each step returns, what the tables hold.

Amounts are integer minor units (cents) throughout: no floats near money. The order's integer
fields are strict: ``true``, ``"2"`` or ``2.0`` is refused, never converted (a caller's bug
stays visible). Shapes rather than pydantic models keep pydantic off every handler's cold start.
"""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum

from serverless_patterns.lambdas.order_workflow.errors import ValidationError
from serverless_patterns.lambdas.shared.shapes import Shape, ShapeError, field

# Letters, digits, '-' and '_': safe in Step Functions execution names and DynamoDB keys.
IDENTIFIER = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
CURRENCY = r"^[A-Z]{3}$"
# One DynamoDB transaction reserves every line plus the order item (limit 100 items).
MAX_LINES = 50
MAX_QUANTITY = 1_000
MAX_UNIT_PRICE_CENTS = 100_000_000
MAX_REASON_LENGTH = 1_000


class OrderStatus(StrEnum):
    """Where an order is in the saga. Each step moves it with a conditional write."""

    VALIDATED = "VALIDATED"
    PAYMENT_DECLINED = "PAYMENT_DECLINED"
    CHARGED = "CHARGED"
    RESERVED = "RESERVED"
    CONFIRMED = "CONFIRMED"
    FAILED = "FAILED"


# Paid and reserved: such an order is never compensated, only confirmed.
FULFILLED = frozenset({OrderStatus.RESERVED, OrderStatus.CONFIRMED})


class _Model(Shape, extra="forbid"):
    """A record the workflow exchanges: an unknown key is refused, not ignored."""


class OrderLine(_Model):
    """One SKU of an order."""

    sku: str = field(pattern=IDENTIFIER)
    quantity: int = field(ge=1, le=MAX_QUANTITY, strict=True)
    unit_price_cents: int = field(ge=0, le=MAX_UNIT_PRICE_CENTS, strict=True)

    @property
    def total_cents(self) -> int:
        return self.quantity * self.unit_price_cents


class OrderRequest(_Model):
    """What a caller submits to start the workflow."""

    order_id: str = field(pattern=IDENTIFIER)
    customer_id: str = field(pattern=IDENTIFIER)
    currency: str = field(pattern=CURRENCY)
    lines: list[OrderLine] = field(min_length=1, max_length=MAX_LINES)

    def _check(self) -> None:
        # A transaction may touch each stock item once; merging lines silently would hide client bugs.
        skus = [line.sku for line in self.lines]
        repeated = sorted({sku for sku in skus if skus.count(sku) > 1})
        if repeated:
            raise _lines_error(f"each SKU may appear on one line only; repeated: {', '.join(repeated)}")
        if self.lines_total_cents <= 0:
            raise _lines_error("the order total must be greater than zero")

    @property
    def lines_total_cents(self) -> int:
        return sum(line.total_cents for line in self.lines)


class Order(OrderRequest):
    """A validated order with its total: what the steps after ValidateOrder receive."""

    total_cents: int = field(ge=1, strict=True)

    def _check(self) -> None:
        super()._check()
        self._total_matches_lines()

    def _total_matches_lines(self) -> None:
        if self.total_cents != self.lines_total_cents:
            raise ValueError(f"total_cents {self.total_cents} does not match the lines ({self.lines_total_cents})")

    @classmethod
    def from_request(cls, request: OrderRequest) -> Order:
        """The request with its total (already validated: built, not checked again)."""
        return cls(
            order_id=request.order_id,
            customer_id=request.customer_id,
            currency=request.currency,
            lines=list(request.lines),
            total_cents=request.lines_total_cents,
        )

    def fingerprint(self) -> str:
        """Identifies the order's content, so a reused order id with other content is caught."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def _lines_error(message: str) -> ShapeError:
    """A problem of the lines as a whole, reported at ``lines`` (as a field's own check would be)."""
    return ShapeError(OrderRequest.__name__, [(("lines",), f"Value error, {message}")])


def _kind(value: object) -> str:
    """What a JSON value is, in words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


def parse_order_request(raw: object) -> OrderRequest:
    """The submitted order, or ValidationError listing every problem (field paths, never values).

    Any execution input reaches here, so anything but a JSON object is refused the same way.
    """
    if not isinstance(raw, dict):
        raise ValidationError(f"order <unidentified> is invalid: the order must be a JSON object, not {_kind(raw)}")
    try:
        return OrderRequest.model_validate(raw)
    except ShapeError as invalid:
        order_id = raw.get("order_id") if isinstance(raw, dict) else None
        label = order_id if isinstance(order_id, str) and len(order_id) <= 64 else "<unidentified>"
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'order'}: {error['msg']}" for error in invalid.errors()
        )
        raise ValidationError(f"order {label} is invalid: {problems}") from None


class StoredOrder(Shape):
    """An item of the orders table (its other attributes, such as ``history``, are ignored)."""

    order: Order
    status: OrderStatus
    fingerprint: str
    payment_id: str | None = None
    refund_id: str | None = None
    failure_error: str | None = None
    failure_reason: str | None = None
    reserved_at: str | None = None
    notified_at: str | None = None


class LedgerEntryKind(StrEnum):
    """At most one of each per order: the ledger refuses a second charge or refund."""

    CHARGE = "CHARGE"
    REFUND = "REFUND"


class LedgerEntry(_Model):
    """An item of the payments ledger: one charge or one refund of an order."""

    order_id: str
    entry: LedgerEntryKind
    reference_id: str
    amount_cents: int
    currency: str
    gateway: str
    gateway_reference: str
    recorded_at: str


class PaymentReceipt(_Model):
    """ChargePayment's result (``$.payment``); the same on every repeated charge of an order."""

    order_id: str
    payment_id: str
    amount_cents: int
    currency: str
    gateway: str
    gateway_reference: str
    charged_at: str

    @classmethod
    def from_entry(cls, entry: LedgerEntry) -> PaymentReceipt:
        return cls(
            order_id=entry.order_id,
            payment_id=entry.reference_id,
            amount_cents=entry.amount_cents,
            currency=entry.currency,
            gateway=entry.gateway,
            gateway_reference=entry.gateway_reference,
            charged_at=entry.recorded_at,
        )


class Reservation(_Model):
    """UpdateInventory's result (``$.reservation``)."""

    order_id: str
    units: int
    reserved_at: str


class ConfirmationResult(_Model):
    """SendConfirmation's result (``$.confirmation``)."""

    order_id: str
    status: OrderStatus
    notified: bool


class Failure(Shape, extra="ignore"):
    """What a Catch puts at its ResultPath: the error name and its cause (``Error``, ``Cause``)."""

    error: str = field(key="Error")
    cause: str = field(default="", key="Cause")

    @property
    def reason(self) -> str:
        """The human part of the cause: a Lambda error's message, or the cause text itself."""
        try:
            payload = json.loads(self.cause)
        except ValueError:
            payload = None
        message = payload.get("errorMessage") if isinstance(payload, dict) else None
        text = message if isinstance(message, str) and message else self.cause or self.error
        return text[:MAX_REASON_LENGTH]


class CompensationRequest(_Model):
    """RefundPayment's input: the order and why the saga is being compensated."""

    order: Order
    failure: Failure


class CompensationResult(_Model):
    """RefundPayment's result (``$.compensation``); OrderFailed reads ``error`` and ``reason``.

    ``fulfilled`` means another execution (or a retry that outlived its caller) already
    reserved the order: nothing is refunded and the workflow goes on to confirm it.
    """

    order_id: str
    fulfilled: bool
    refunded: bool
    refund_id: str | None
    error: str
    reason: str
