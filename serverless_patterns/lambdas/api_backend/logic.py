"""Domain rules of the items API: ids, versions, preconditions, pagination, idempotent creation, counters.

Built from the pattern's pieces (``repository``, ``idempotency``, ``preconditions``); talks
to AWS only through ``data_access``; raises only ``errors.ApiError`` subclasses for expected
failures, and emits the business metrics the construct graphs (``metric_names``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_patterns.lambdas.api_backend import data_access, metric_names
from serverless_patterns.lambdas.api_backend.errors import ItemNotFoundError, VersionConflictError
from serverless_patterns.lambdas.api_backend.idempotency import Created as CreatedOf, IdempotentCreate
from serverless_patterns.lambdas.api_backend.models import MAX_COUNTERS, CounterValue, Item, ItemInput, ItemPage
from serverless_patterns.lambdas.api_backend.preconditions import Precondition, if_match_precondition
from serverless_patterns.lambdas.shared.observability import metrics

__all__ = [
    "IDEMPOTENCY_KEY_PREFIX",
    "Created",
    "Precondition",
    "create_item",
    "delete_item",
    "get_item",
    "increment_counter",
    "list_items",
    "replace_item",
]

IDEMPOTENCY_KEY_PREFIX = "items-create"
Created = CreatedOf[Item]
"""A created item, and whether it is the stored result of an earlier request with the same key."""


def _now() -> datetime:
    return datetime.now(UTC)


def _business_metric(name: str) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


def get_item(item_id: str) -> Item:
    """The item, or ``ItemNotFoundError``."""
    row = data_access.repository().get(item_id)
    if row is None:
        raise ItemNotFoundError(item_id)
    return Item.model_validate(row)


def list_items(limit: int, cursor: str | None) -> ItemPage:
    """One page of at most ``limit`` items (table order), resuming after ``cursor``."""
    rows, next_cursor = data_access.repository().scan_page(limit, cursor)
    return ItemPage(items=[Item.model_validate(row) for row in rows], next_cursor=next_cursor)


def _create(data: ItemInput) -> Item:
    now = _now()
    item = Item(
        id=str(uuid.uuid4()),
        name=data.name,
        description=data.description,
        attributes=dict(data.attributes),
        counters={},
        version=1,
        created_at=now,
        updated_at=now,
    )
    data_access.repository().create(item.model_dump(mode="json", by_alias=True))
    _business_metric(metric_names.ITEMS_CREATED)
    return item


_create_once = IdempotentCreate(_create, item_model=Item, key_prefix=IDEMPOTENCY_KEY_PREFIX)


def create_item(
    data: ItemInput, *, idempotency_key: str | None, principal: str, lambda_context: LambdaContext | None
) -> Created:
    """A new item (server id, version 1). With a key, a retry by the same caller returns the first result instead."""
    created = _create_once(data, key=idempotency_key, principal=principal, lambda_context=lambda_context)
    if created.replayed:
        _business_metric(metric_names.IDEMPOTENT_REPLAYS)
    return created


def replace_item(item_id: str, data: ItemInput, *, precondition: Precondition) -> Item:
    """Replace the client's fields if the item is still at the precondition's version; returns the new version.

    A miss is ``PreconditionFailedError`` (412) when the version came as If-Match, else
    ``VersionConflictError`` (409).
    """
    fields = {
        "name": data.name,
        "description": data.description,
        "attributes": dict(data.attributes),
        "updatedAt": _now().isoformat(),
    }
    try:
        row = data_access.repository().replace(item_id, fields, precondition=precondition)
    except VersionConflictError:
        _business_metric(metric_names.VERSION_CONFLICTS)
        raise
    _business_metric(metric_names.ITEMS_UPDATED)
    return Item.model_validate(row)


def delete_item(item_id: str, *, if_match: str | None) -> None:
    """Delete the item; with If-Match, only if it is still at that version (412 otherwise)."""
    try:
        data_access.repository().delete(item_id, precondition=if_match_precondition(if_match))
    except VersionConflictError:
        _business_metric(metric_names.VERSION_CONFLICTS)
        raise
    _business_metric(metric_names.ITEMS_DELETED)


def increment_counter(item_id: str, name: str, by: int) -> CounterValue:
    """Atomically add ``by`` to the item's counter ``name`` (created at 0); the version is unchanged.

    An item holds at most ``MAX_COUNTERS`` counters (a new one beyond is ``CounterLimitError``, 409).
    """
    value = data_access.repository().increment(item_id, name, by, max_counters=MAX_COUNTERS)
    _business_metric(metric_names.COUNTER_INCREMENTS)
    return CounterValue(item_id=item_id, name=name, value=value)
