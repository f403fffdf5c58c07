"""Business metrics the API emits (EMF, dimension ``service``); the construct graphs the same names."""

from __future__ import annotations

ITEMS_CREATED = "ItemsCreated"
ITEMS_UPDATED = "ItemsUpdated"
ITEMS_DELETED = "ItemsDeleted"
COUNTER_INCREMENTS = "CounterIncrements"
VERSION_CONFLICTS = "VersionConflicts"
IDEMPOTENT_REPLAYS = "IdempotentReplays"

BUSINESS_METRICS: tuple[str, ...] = (
    ITEMS_CREATED,
    ITEMS_UPDATED,
    ITEMS_DELETED,
    COUNTER_INCREMENTS,
    VERSION_CONFLICTS,
    IDEMPOTENT_REPLAYS,
)
