"""Pydantic models: what the API accepts, what it returns, and its settings.

JSON field names are camelCase (``createdAt``); Python names are snake_case.
Inputs forbid unknown fields, so a misspelt field is a 422, not silently dropped, and are strict:
``"2"``, ``2.0`` or ``true`` is not an integer, ``3`` is not a string.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel

ITEM_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
COUNTER_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,128}$"
MAX_ATTRIBUTES = 32
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
MAX_INCREMENT = 1_000_000
MAX_COUNTERS = 100  # per item: keeps an item far below DynamoDB's 400 KB, whatever callers name
MAX_VERSION = 999_999_999_999_999  # 15 digits, as in an ETag

AttributeName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
AttributeValue = Annotated[str, StringConstraints(max_length=256)]


class ApiModel(BaseModel):
    """camelCase on the wire, immutable in code."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class InputModel(ApiModel):
    """A request body: unknown fields are errors, and nothing is coerced."""

    model_config = ConfigDict(extra="forbid", strict=True)


class ItemInput(InputModel):
    """The fields a client owns. Everything else (id, version, timestamps, counters) is the server's."""

    name: str = Field(min_length=1, max_length=200, description="Display name.")
    description: str | None = Field(default=None, max_length=2_000)
    attributes: dict[AttributeName, AttributeValue] = Field(
        default_factory=dict, max_length=MAX_ATTRIBUTES, description="Free-form string attributes."
    )


class ItemReplacement(ItemInput):
    """A full replacement of the client's fields, guarded by the version the client last read."""

    expected_version: int | None = Field(
        default=None,
        ge=1,
        le=MAX_VERSION,
        description="The version being replaced; alternatively send its ETag as If-Match. "
        "One of the two is required (428 without), and both must name the same version (400).",
    )


class CounterIncrement(InputModel):
    """How much to add to a counter; the body is optional and defaults to 1."""

    by: int = Field(default=1, ge=1, le=MAX_INCREMENT)


class Item(ApiModel):
    """An item as stored and returned."""

    id: str
    name: str
    description: str | None = None
    attributes: dict[str, str] = Field(default_factory=dict)
    counters: dict[str, int] = Field(default_factory=dict)
    version: int = Field(ge=1, description="Incremented by every update; send it back as If-Match.")
    created_at: datetime
    updated_at: datetime


class ItemPage(ApiModel):
    """One page of items; pass ``nextCursor`` back as ``cursor`` for the next page."""

    items: list[Item]
    next_cursor: str | None = Field(default=None, description="Opaque; absent on the last page.")


class CounterValue(ApiModel):
    """A counter after an increment."""

    item_id: str
    name: str
    value: int


class ErrorBody(ApiModel):
    """Every error response: a message, the request id to quote to support, and field details if any."""

    message: str
    request_id: str
    detail: list[dict[str, Any]] | None = None


class ApiSettings(BaseModel):
    """The function's environment, validated once per container."""

    model_config = ConfigDict(frozen=True)

    table_name: str = Field(alias="TABLE_NAME", min_length=1)
    idempotency_table_name: str = Field(alias="IDEMPOTENCY_TABLE_NAME", min_length=1)
    cursor_secret_arn: str = Field(alias="CURSOR_SECRET_ARN", min_length=1)
    idempotency_ttl_seconds: int = Field(alias="IDEMPOTENCY_TTL_SECONDS", default=86_400, ge=60)
