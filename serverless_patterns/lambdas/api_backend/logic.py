"""Domain rules of the items API: ids, versions, preconditions, pagination, idempotent creation.

Talks to AWS only through ``data_access``; raises only ``errors.ApiError`` subclasses
for expected failures.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer
from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_patterns.lambdas.api_backend import data_access, metric_names
from serverless_patterns.lambdas.api_backend.cursor import decode_cursor, encode_cursor
from serverless_patterns.lambdas.api_backend.errors import (
    IdempotencyKeyReusedError,
    InvalidPreconditionError,
    ItemNotFoundError,
    PreconditionFailedError,
    PreconditionRequiredError,
    RequestInProgressError,
    VersionConflictError,
)
from serverless_patterns.lambdas.api_backend.models import (
    MAX_COUNTERS,
    ApiSettings,
    CounterValue,
    Item,
    ItemInput,
    ItemPage,
)
from serverless_patterns.lambdas.shared.observability import metrics
from serverless_patterns.lambdas.shared.settings import load_settings

IDEMPOTENCY_KEY_PREFIX = "items-create"
ENTITY_TAG_PATTERN = r'^"[1-9][0-9]{0,14}"$'
"""An ETag as the API issues it: the item's version in double quotes; If-Match must be one exactly."""
_ENTITY_TAG = re.compile(ENTITY_TAG_PATTERN)


@dataclass(frozen=True)
class Created:
    """A created item, and whether it is the stored result of an earlier request with the same key."""

    item: Item
    replayed: bool


@dataclass(frozen=True)
class _Replay:
    item: Item


def entity_tag(version: int) -> str:
    """The ETag of an item version; clients send it back as If-Match."""
    return f'"{version}"'


@dataclass(frozen=True)
class Precondition:
    """The version a write replaces, and whether the client sent it as If-Match (a miss is then 412)."""

    version: int
    from_header: bool


def parse_if_match(value: str) -> int:
    """The version in an If-Match header: exactly an ETag this API issued (``"3"``); anything else is invalid."""
    if _ENTITY_TAG.fullmatch(value) is None:
        raise InvalidPreconditionError('If-Match must be an ETag this API returned, e.g. "3"')
    return int(value[1:-1])


def expected_version(if_match: str | None, body_version: int | None) -> Precondition:
    """The version an update replaces, from If-Match or the body; required, and both must agree."""
    header_version = parse_if_match(if_match) if if_match is not None else None
    if header_version is not None and body_version is not None and header_version != body_version:
        raise InvalidPreconditionError("If-Match and expectedVersion name different versions")
    if header_version is not None:
        return Precondition(header_version, from_header=True)
    if body_version is None:
        raise PreconditionRequiredError
    return Precondition(body_version, from_header=False)


def _precondition_failed(conflict: VersionConflictError) -> PreconditionFailedError:
    return PreconditionFailedError(conflict.item_id, conflict.expected, conflict.current)


def _now() -> str:
    return datetime.now(UTC).isoformat()


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
    start = decode_cursor(cursor, data_access.cursor_signing_key()) if cursor else None
    rows, resume = data_access.repository().scan_page(limit, start)
    next_cursor = encode_cursor(resume, data_access.cursor_signing_key()) if resume else None
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
        created_at=datetime.fromisoformat(now),
        updated_at=datetime.fromisoformat(now),
    )
    data_access.repository().create(item.model_dump(mode="json", by_alias=True))
    _business_metric(metric_names.ITEMS_CREATED)
    return item


def _create_from_request(request: dict[str, Any]) -> Item:
    return _create(ItemInput.model_validate(request["item"]))


def _mark_replay(response: Any, idempotent_data: DataRecord) -> _Replay:
    _business_metric(metric_names.IDEMPOTENT_REPLAYS)
    return _Replay(item=response)


@functools.cache
def _idempotency_config() -> IdempotencyConfig:
    return IdempotencyConfig(
        event_key_jmespath="[principal, key]",
        payload_validation_jmespath="item",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=load_settings(ApiSettings).idempotency_ttl_seconds,
        response_hook=_mark_replay,
    )


@functools.cache
def _idempotent_create() -> Callable[..., Any]:
    """``_create`` made idempotent on (caller, key); built on first use because it needs the table client."""
    decorated: Callable[..., Any] = idempotent_function(
        _create_from_request,
        data_keyword_argument="request",
        persistence_store=data_access.idempotency_store(),
        config=_idempotency_config(),
        output_serializer=PydanticSerializer(model=Item),
        key_prefix=IDEMPOTENCY_KEY_PREFIX,
    )
    return decorated


def create_item(
    data: ItemInput, *, idempotency_key: str | None, principal: str, lambda_context: LambdaContext | None
) -> Created:
    """A new item (server id, version 1). With a key, a retry returns the first result instead.

    The key is scoped to the caller (``principal``), so two callers cannot collide or read
    each other's results; reusing a key with a different body is refused. ``lambda_context``
    lets an in-progress record expire with the invocation holding it, instead of blocking
    retries until the record's TTL when that invocation dies.
    """
    if idempotency_key is None:
        return Created(_create(data), replayed=False)
    if lambda_context is not None:
        _idempotency_config().register_lambda_context(lambda_context)
    request = {"principal": principal, "key": idempotency_key, "item": data.model_dump(mode="json")}
    try:
        result = _idempotent_create()(request=request)
    except IdempotencyValidationError:
        raise IdempotencyKeyReusedError from None
    except IdempotencyAlreadyInProgressError:
        raise RequestInProgressError from None
    if isinstance(result, _Replay):
        return Created(result.item, replayed=True)
    return Created(result, replayed=False)


def replace_item(item_id: str, data: ItemInput, *, precondition: Precondition) -> Item:
    """Replace the client's fields if the item is still at the precondition's version; returns the new version.

    A miss is ``PreconditionFailedError`` (412) when the version came as If-Match, else
    ``VersionConflictError`` (409).
    """
    fields = {
        "name": data.name,
        "description": data.description,
        "attributes": dict(data.attributes),
    }
    try:
        row = data_access.repository().replace(
            item_id, fields, expected_version=precondition.version, updated_at=_now()
        )
    except VersionConflictError as conflict:
        _business_metric(metric_names.VERSION_CONFLICTS)
        if precondition.from_header:
            raise _precondition_failed(conflict) from None
        raise
    _business_metric(metric_names.ITEMS_UPDATED)
    return Item.model_validate(row)


def delete_item(item_id: str, *, if_match: str | None) -> None:
    """Delete the item; with If-Match, only if it is still at that version (412 otherwise)."""
    version = parse_if_match(if_match) if if_match is not None else None
    try:
        data_access.repository().delete(item_id, expected_version=version)
    except VersionConflictError as conflict:
        _business_metric(metric_names.VERSION_CONFLICTS)
        raise _precondition_failed(conflict) from None
    _business_metric(metric_names.ITEMS_DELETED)


def increment_counter(item_id: str, name: str, by: int) -> CounterValue:
    """Atomically add ``by`` to the item's counter ``name`` (created at 0); the version is unchanged.

    Counters are commutative, so concurrent increments never conflict and never need a version.
    An item holds at most ``MAX_COUNTERS`` counters (a new one beyond is ``CounterLimitError``, 409).
    """
    value = data_access.repository().increment(item_id, name, by, max_counters=MAX_COUNTERS)
    _business_metric(metric_names.COUNTER_INCREMENTS)
    return CounterValue(item_id=item_id, name=name, value=value)
