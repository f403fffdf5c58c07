"""Environment variables of each handler, validated once per container (``shapes.Shape``: no pydantic)."""

from __future__ import annotations

from serverless_patterns.lambdas.order_workflow import names
from serverless_patterns.lambdas.shared.shapes import Shape, field


class _Settings(Shape, extra="ignore"):
    """A handler's view of ``os.environ``: the variables it does not name are ignored."""


class ValidateSettings(_Settings):
    orders_table: str = field(key=names.ORDERS_TABLE_ENV)
    inventory_table: str = field(key=names.INVENTORY_TABLE_ENV)


class GatewaySettings(_Settings):
    """Which payment gateway adapter to use, and its limits."""

    payment_gateway: str = field(default="ledger", key=names.PAYMENT_GATEWAY_ENV)
    max_charge_cents: int = field(key=names.MAX_CHARGE_ENV, ge=1)


class ChargeSettings(_Settings):
    orders_table: str = field(key=names.ORDERS_TABLE_ENV)
    payments_table: str = field(key=names.PAYMENTS_TABLE_ENV)
    idempotency_table: str = field(key=names.IDEMPOTENCY_TABLE_ENV)
    idempotency_ttl_seconds: int = field(key=names.IDEMPOTENCY_TTL_ENV, ge=60)


class InventorySettings(_Settings):
    orders_table: str = field(key=names.ORDERS_TABLE_ENV)
    inventory_table: str = field(key=names.INVENTORY_TABLE_ENV)


class ConfirmSettings(_Settings):
    orders_table: str = field(key=names.ORDERS_TABLE_ENV)
    event_bus_name: str = field(key=names.EVENT_BUS_ENV)


class RefundSettings(_Settings):
    orders_table: str = field(key=names.ORDERS_TABLE_ENV)
    payments_table: str = field(key=names.PAYMENTS_TABLE_ENV)
