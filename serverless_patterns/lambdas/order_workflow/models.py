"""Pydantic models of the workflow: the order, what each step returns, what the tables hold.

Amounts are integer minor units (cents) throughout: no floats near money. Integer fields are
strict: ``true``, ``"2"`` or ``2.0`` is refused, never converted (a caller's bug stays visible).
"""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError as PydanticValidationError,
    field_validator,
    model_validator,
)

from serverless_patterns.lambdas.order_workflow.errors import ValidationError

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


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OrderLine(_Model):
    """One SKU of an order."""

    sku: str = Field(pattern=IDENTIFIER)
    quantity: StrictInt = Field(ge=1, le=MAX_QUANTITY)
    unit_price_cents: StrictInt = Field(ge=0, le=MAX_UNIT_PRICE_CENTS)

    @property
    def total_cents(self) -> int:
        return self.quantity * self.unit_price_cents


class OrderRequest(_Model):
    """What a caller submits to start the workflow."""

    order_id: str = Field(pattern=IDENTIFIER)
    customer_id: str = Field(pattern=IDENTIFIER)
    currency: str = Field(pattern=CURRENCY)
    lines: list[OrderLine] = Field(min_length=1, max_length=MAX_LINES)

    @field_validator("lines")
    @classmethod
    def _one_line_per_sku(cls, lines: list[OrderLine]) -> list[OrderLine]:
        # A transaction may touch each stock item once; merging lines silently would hide client bugs.
        skus = [line.sku for line in lines]
        repeated = sorted({sku for sku in skus if skus.count(sku) > 1})
        if repeated:
            raise ValueError(f"each SKU may appear on one line only; repeated: {', '.join(repeated)}")
        if sum(line.total_cents for line in lines) <= 0:
            raise ValueError("the order total must be greater than zero")
        return lines

    @property
    def lines_total_cents(self) -> int:
        return sum(line.total_cents for line in self.lines)


class Order(OrderRequest):
    """A validated order with its total: what the steps after ValidateOrder receive."""

    total_cents: StrictInt = Field(ge=1)

    @model_validator(mode="after")
    def _total_matches_lines(self) -> Order:
        if self.total_cents != self.lines_total_cents:
            raise ValueError(f"total_cents {self.total_cents} does not match the lines ({self.lines_total_cents})")
        return self

    @classmethod
    def from_request(cls, request: OrderRequest) -> Order:
        return cls(**request.model_dump(), total_cents=request.lines_total_cents)

    def fingerprint(self) -> str:
        """Identifies the order's content, so a reused order id with other content is caught."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


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
    except PydanticValidationError as invalid:
        order_id = raw.get("order_id") if isinstance(raw, dict) else None
        label = order_id if isinstance(order_id, str) and len(order_id) <= 64 else "<unidentified>"
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'order'}: {error['msg']}" for error in invalid.errors()
        )
        raise ValidationError(f"order {label} is invalid: {problems}") from None


class StoredOrder(BaseModel):
    """An item of the orders table."""

    model_config = ConfigDict(frozen=True)

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


class Failure(BaseModel):
    """What a Catch puts at its ResultPath: the error name and its cause."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    error: str = Field(alias="Error")
    cause: str = Field(default="", alias="Cause")

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
