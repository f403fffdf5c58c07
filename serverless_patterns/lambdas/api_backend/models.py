"""Pydantic models of the items API: what it accepts and what it returns.

On the wire as every model of the pattern (``wire``): camelCase, strict inputs that forbid
unknown fields.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from serverless_patterns.lambdas.api_backend.preconditions import MAX_VERSION
from serverless_patterns.lambdas.api_backend.wire import ApiModel, InputModel

ITEM_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
COUNTER_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
MAX_ATTRIBUTES = 32
MAX_INCREMENT = 1_000_000
MAX_COUNTERS = 100  # per item: keeps an item far below DynamoDB's 400 KB, whatever callers name

AttributeName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
AttributeValue = Annotated[str, StringConstraints(max_length=256)]


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
