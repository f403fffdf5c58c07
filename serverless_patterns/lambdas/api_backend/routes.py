"""The items API's routes, on a Powertools ``Router`` that ``handler`` mounts on the pattern's ``ApiApp``.

Each route parses and validates its request (the models and ``parameters``), calls ``logic``
and shapes the answer (``responses``); what it documents is what ``docs/openapi.json`` holds.
``ROUTES`` lists them once more for the tests that compare the document with the routes.
Paths use the Powertools ``<param>`` syntax.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from serverless_patterns.lambdas.api_backend import logic
from serverless_patterns.lambdas.api_backend.app import caller_principal, created_location
from serverless_patterns.lambdas.api_backend.models import (
    COUNTER_NAME_PATTERN,
    ITEM_ID_PATTERN,
    MAX_COUNTERS,
    CounterIncrement,
    CounterValue,
    Item,
    ItemInput,
    ItemPage,
    ItemReplacement,
)
from serverless_patterns.lambdas.api_backend.parameters import (
    DEFAULT_PAGE_SIZE,
    IdempotencyKey,
    IfMatch,
    PageCursor,
    PageSize,
)
from serverless_patterns.lambdas.api_backend.preconditions import expected_version
from serverless_patterns.lambdas.api_backend.responses import (
    CREATED_HEADERS,
    ETAG_HEADER,
    documented,
    versioned_response,
)

ITEMS = "/items"
ITEM = "/items/<item_id>"
COUNTER = "/items/<item_id>/counters/<name>"

ROUTES: dict[str, tuple[str, ...]] = {
    ITEMS: ("GET", "POST"),
    ITEM: ("GET", "PUT", "DELETE"),
    COUNTER: ("POST",),
}

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves its __init__ unannotated

ItemId = Annotated[str, Path(pattern=ITEM_ID_PATTERN, description="The item's id.")]
CounterName = Annotated[str, Path(pattern=COUNTER_NAME_PATTERN, description="The counter's name.")]


@router.get(
    ITEMS,
    summary="List items",
    description="A page of items in table order. Pass `nextCursor` back as `cursor` for the next page.",
    operation_id="listItems",
    tags=["items"],
    responses=documented(HTTPStatus.OK, ItemPage),
)
def list_items(limit: PageSize = DEFAULT_PAGE_SIZE, cursor: PageCursor = None) -> ItemPage:
    return logic.list_items(limit, cursor)


@router.get(
    ITEM,
    summary="Get an item",
    operation_id="getItem",
    tags=["items"],
    responses=documented(HTTPStatus.OK, Item, HTTPStatus.NOT_FOUND, headers=ETAG_HEADER),
)
def get_item(item_id: ItemId) -> Response[Item]:
    return versioned_response(logic.get_item(item_id))


@router.post(
    ITEMS,
    summary="Create an item",
    description="The server assigns id, createdAt and version 1. With an `Idempotency-Key`, a retry returns "
    "the first result (header `Idempotent-Replayed: true`) instead of creating a duplicate.",
    operation_id="createItem",
    tags=["items"],
    status_code=HTTPStatus.CREATED.value,
    responses=documented(HTTPStatus.CREATED, Item, HTTPStatus.CONFLICT, headers=CREATED_HEADERS),
)
def create_item(item: ItemInput, idempotency_key: IdempotencyKey = None) -> Response[Item]:
    event = router.current_event
    created = logic.create_item(
        item, idempotency_key=idempotency_key, principal=caller_principal(event), lambda_context=router.lambda_context
    )
    return versioned_response(
        created.item,
        status=HTTPStatus.CREATED,
        location=created_location(event, created.item.id),
        replayed=created.replayed,
    )


@router.put(
    ITEM,
    summary="Replace an item's fields",
    description="Optimistic locking: the version being replaced is **required**, as the `If-Match` ETag or as "
    "`expectedVersion` in the body (428 without either; 400 if both are sent and differ). When the item is no "
    "longer at that version the answer is 412 for If-Match and 409 for `expectedVersion`. The response carries "
    "the new version.",
    operation_id="replaceItem",
    tags=["items"],
    responses=documented(
        HTTPStatus.OK,
        Item,
        HTTPStatus.NOT_FOUND,
        HTTPStatus.CONFLICT,
        HTTPStatus.PRECONDITION_FAILED,
        HTTPStatus.PRECONDITION_REQUIRED,
        headers=ETAG_HEADER,
    ),
)
def replace_item(item_id: ItemId, replacement: ItemReplacement, if_match: IfMatch = None) -> Response[Item]:
    precondition = expected_version(if_match, replacement.expected_version)
    return versioned_response(logic.replace_item(item_id, replacement, precondition=precondition))


@router.delete(
    ITEM,
    summary="Delete an item",
    description="With `If-Match`, only if the item is still at that version (412 otherwise).",
    operation_id="deleteItem",
    tags=["items"],
    status_code=HTTPStatus.NO_CONTENT.value,
    responses=documented(HTTPStatus.NO_CONTENT, None, HTTPStatus.NOT_FOUND, HTTPStatus.PRECONDITION_FAILED),
)
def delete_item(item_id: ItemId, if_match: IfMatch = None) -> Response[None]:
    logic.delete_item(item_id, if_match=if_match)
    return Response(status_code=HTTPStatus.NO_CONTENT.value)


@router.post(
    COUNTER,
    summary="Increment a counter",
    description="Atomically adds `by` (default 1) to the item's counter and returns the new value. "
    f"Counters do not change the item's version. An item has at most {MAX_COUNTERS} counters: a new one "
    "beyond is 409.",
    operation_id="incrementCounter",
    tags=["counters"],
    responses=documented(HTTPStatus.OK, CounterValue, HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT),
)
def increment_counter(
    item_id: ItemId, name: CounterName, increment: Annotated[CounterIncrement | None, Body()] = None
) -> CounterValue:
    return logic.increment_counter(item_id, name, (increment or CounterIncrement()).by)
