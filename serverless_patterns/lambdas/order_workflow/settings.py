"""Environment variables of each handler, validated once per container."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from serverless_patterns.lambdas.order_workflow import names


class _Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class ValidateSettings(_Settings):
    orders_table: str = Field(validation_alias=names.ORDERS_TABLE_ENV)
    inventory_table: str = Field(validation_alias=names.INVENTORY_TABLE_ENV)


class GatewaySettings(_Settings):
    """Which payment gateway adapter to use, and its limits."""

    payment_gateway: str = Field(default="ledger", validation_alias=names.PAYMENT_GATEWAY_ENV)
    max_charge_cents: int = Field(validation_alias=names.MAX_CHARGE_ENV, ge=1)


class ChargeSettings(_Settings):
    orders_table: str = Field(validation_alias=names.ORDERS_TABLE_ENV)
    payments_table: str = Field(validation_alias=names.PAYMENTS_TABLE_ENV)
    idempotency_table: str = Field(validation_alias=names.IDEMPOTENCY_TABLE_ENV)
    idempotency_ttl_seconds: int = Field(validation_alias=names.IDEMPOTENCY_TTL_ENV, ge=60)


class InventorySettings(_Settings):
    orders_table: str = Field(validation_alias=names.ORDERS_TABLE_ENV)
    inventory_table: str = Field(validation_alias=names.INVENTORY_TABLE_ENV)


class ConfirmSettings(_Settings):
    orders_table: str = Field(validation_alias=names.ORDERS_TABLE_ENV)
    event_bus_name: str = Field(validation_alias=names.EVENT_BUS_ENV)


class RefundSettings(_Settings):
    orders_table: str = Field(validation_alias=names.ORDERS_TABLE_ENV)
    payments_table: str = Field(validation_alias=names.PAYMENTS_TABLE_ENV)
