"""Your own routes in the ApiBackend: everything an API handler of yours imports, in one module.

You write Powertools routes; ``ApiApp`` mounts them with the pattern's plumbing, and the items
API's production pieces are yours to use on any table your routes own. A package ``notes_api``
with one module::

    # notes_api/handler.py
    from http import HTTPStatus
    from uuid import uuid4

    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.api_gateway import Router
    from aws_lambda_powertools.metrics import MetricUnit
    from pydantic import Field

    from serverless_patterns.lambdas.api_backend.custom import (
        CREATED_HEADERS, DEFAULT_PAGE_SIZE, ETAG_HEADER, MAX_VERSION, ApiApp, ApiError, ApiModel,
        IdempotencyKey, IdempotentCreate, IfMatch, InputModel, ItemNotFoundError, PageCursor, PageSize,
        VersionedRepository, caller_principal, created_location, documented, expected_version,
        if_match_precondition, metrics, versioned_response,
    )

    router = Router()
    NOTES = VersionedRepository(kind="note")  # the construct's table, keyed by "id"


    class NoteInput(InputModel):  # a request body: camelCase, strict, unknown fields refused
        text: str = Field(min_length=1, max_length=1_000)
        pinned: bool = False


    class NoteReplacement(NoteInput):
        expected_version: int | None = Field(default=None, ge=1, le=MAX_VERSION)


    class Note(ApiModel):
        id: str
        text: str
        pinned: bool
        version: int


    class NotePage(ApiModel):
        notes: list[Note]
        next_cursor: str | None = None


    class NotePinnedError(ApiError):  # raised anywhere under a route: a 409 with this message
        status = HTTPStatus.CONFLICT


    def store_note(data: NoteInput) -> Note:
        note = Note(id=str(uuid4()), text=data.text, pinned=data.pinned, version=1)
        NOTES.create(note.model_dump(by_alias=True))
        metrics.add_metric(name="NotesCreated", unit=MetricUnit.Count, value=1)
        return note


    create_once = IdempotentCreate(store_note, item_model=Note, key_prefix="notes-create")


    def read_note(note_id: str) -> Note:
        row = NOTES.get(note_id)
        if row is None:
            raise ItemNotFoundError(note_id, kind="note")
        return Note.model_validate(row)


    @router.post("/notes", status_code=201,
                 responses=documented(HTTPStatus.CREATED, Note, HTTPStatus.CONFLICT, headers=CREATED_HEADERS))
    def create_note(note: NoteInput, idempotency_key: IdempotencyKey = None) -> Response[Note]:
        event = router.current_event
        created = create_once(note, key=idempotency_key, principal=caller_principal(event),
                              lambda_context=router.lambda_context)
        return versioned_response(created.item, status=HTTPStatus.CREATED, replayed=created.replayed,
                                  location=created_location(event, created.item.id))


    @router.get("/notes", responses=documented(HTTPStatus.OK, NotePage))
    def list_notes(limit: PageSize = DEFAULT_PAGE_SIZE, cursor: PageCursor = None) -> NotePage:
        rows, next_cursor = NOTES.scan_page(limit, cursor)  # cursors signed with the construct's key
        return NotePage(notes=[Note.model_validate(row) for row in rows], next_cursor=next_cursor)


    @router.get("/notes/<note_id>",
                responses=documented(HTTPStatus.OK, Note, HTTPStatus.NOT_FOUND, headers=ETAG_HEADER))
    def get_note(note_id: str) -> Response[Note]:
        return versioned_response(read_note(note_id))


    @router.put("/notes/<note_id>", responses=documented(
        HTTPStatus.OK, Note, HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT, HTTPStatus.PRECONDITION_FAILED,
        HTTPStatus.PRECONDITION_REQUIRED, headers=ETAG_HEADER))
    def replace_note(note_id: str, note: NoteReplacement, if_match: IfMatch = None) -> Response[Note]:
        precondition = expected_version(if_match, note.expected_version)  # 428 without either
        row = NOTES.replace(note_id, {"text": note.text, "pinned": note.pinned}, precondition=precondition)
        return versioned_response(Note.model_validate(row))


    @router.delete("/notes/<note_id>", status_code=204, responses=documented(
        HTTPStatus.NO_CONTENT, None, HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT, HTTPStatus.PRECONDITION_FAILED,
        descriptions={HTTPStatus.CONFLICT: "Conflict: the note is pinned."}))
    def delete_note(note_id: str, if_match: IfMatch = None) -> Response[None]:
        if read_note(note_id).pinned:
            raise NotePinnedError(f"note {note_id!r} is pinned; unpin it first")
        NOTES.delete(note_id, precondition=if_match_precondition(if_match))  # a stale If-Match is 412
        return Response(status_code=204)


    api = ApiApp(router, title="Notes API", version="1.0.0", description="Notes, kept in order.")
    handler = api.handler

handed to the construct (the package is staged beside the pattern's runtime, no Docker)::

    ApiBackend(self, "Notes", handlers={"api": HandlerCode.from_package("notes_api", "notes_api.handler.handler")})

What ``ApiApp`` adds to every route (``app``): the request guard (415 for a body that is not
JSON and 413 for one over 32 KiB, before anything parses it; 400 naming the limit for JSON too
deep or with too long numbers, strings, arrays or objects), one error shape with the request id
for every refusal (an ``ApiError`` with its ``status``, 422 listing the invalid fields without
echoing them, 404 and 405 with ``Allow``, a 500 whose trace only the logs see), CORS for the
construct's origins, structured logs correlated by request id that never hold a body, EMF
metrics (graph yours with ``ApiBackend.metric_business("NotesCreated")``), and the keep-warm
ping. The construct keeps the rest: the ``live`` alias and its provisioned concurrency,
authentication, stage throttling, access logs and alarms.

The pieces (``repository``, ``idempotency``, ``preconditions``, ``parameters``, ``responses``,
``resources``): ``VersionedRepository`` keeps a version per item (``ETag``/``If-Match`` or
``expectedVersion``: 412, 409 and 428 as in the items API), signs page cursors with the
construct's key and keeps atomic counters; ``IdempotentCreate`` replays a retried create with
the same ``Idempotency-Key`` from the construct's idempotency table. The function may Get, Put,
Update, Delete and Scan the construct's table; grant it more on ``ApiBackend.table`` (e.g. a
``Query``) or another table of yours with ``table.grant(api.functions["api"].role, ...)``. Your
contract is your server: ``python -m serverless_patterns.lambdas.api_backend.openapi
notes_api.handler:api`` prints the OpenAPI document of your routes and models.

Names are imported on first use, so a handler pays only for what it uses.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_PACKAGE = "serverless_patterns.lambdas.api_backend"
_EXPORTS = {
    # the app and the request
    "ApiApp": "app",
    "caller_principal": "app",
    "created_location": "app",
    "RequestLimits": "request_guard",
    # errors and the response shapes
    "ApiError": "errors",
    "ERROR_STATUS": "errors",
    "ItemNotFoundError": "errors",
    "VersionConflictError": "errors",
    "PreconditionFailedError": "errors",
    "PreconditionRequiredError": "errors",
    "InvalidPreconditionError": "errors",
    "CounterLimitError": "errors",
    "InvalidCursorError": "errors",
    "IdempotencyKeyReusedError": "errors",
    "RequestInProgressError": "errors",
    "StorageThrottledError": "errors",
    "ApiModel": "wire",
    "InputModel": "wire",
    "ErrorBody": "wire",
    "documented": "responses",
    "versioned_response": "responses",
    "ETAG_HEADER": "responses",
    "CREATED_HEADERS": "responses",
    # optimistic locking, idempotent create, pages
    "Precondition": "preconditions",
    "expected_version": "preconditions",
    "if_match_precondition": "preconditions",
    "entity_tag": "preconditions",
    "MAX_VERSION": "preconditions",
    "IfMatch": "parameters",
    "IdempotencyKey": "parameters",
    "PageSize": "parameters",
    "PageCursor": "parameters",
    "DEFAULT_PAGE_SIZE": "parameters",
    "MAX_PAGE_SIZE": "parameters",
    "VersionedRepository": "repository",
    "IdempotentCreate": "idempotency",
    "Created": "idempotency",
    # what the construct gives the function
    "ApiEnvironment": "resources",
    "environment": "resources",
    "dynamodb": "resources",
    "CLIENT_CONFIG": "resources",
}
_OBSERVABILITY = "serverless_patterns.lambdas.shared.observability"
_SHARED = {"logger": _OBSERVABILITY, "metrics": _OBSERVABILITY}

if TYPE_CHECKING:
    from serverless_patterns.lambdas.api_backend.app import ApiApp, caller_principal, created_location
    from serverless_patterns.lambdas.api_backend.errors import (
        ERROR_STATUS,
        ApiError,
        CounterLimitError,
        IdempotencyKeyReusedError,
        InvalidCursorError,
        InvalidPreconditionError,
        ItemNotFoundError,
        PreconditionFailedError,
        PreconditionRequiredError,
        RequestInProgressError,
        StorageThrottledError,
        VersionConflictError,
    )
    from serverless_patterns.lambdas.api_backend.idempotency import Created, IdempotentCreate
    from serverless_patterns.lambdas.api_backend.parameters import (
        DEFAULT_PAGE_SIZE,
        MAX_PAGE_SIZE,
        IdempotencyKey,
        IfMatch,
        PageCursor,
        PageSize,
    )
    from serverless_patterns.lambdas.api_backend.preconditions import (
        MAX_VERSION,
        Precondition,
        entity_tag,
        expected_version,
        if_match_precondition,
    )
    from serverless_patterns.lambdas.api_backend.repository import VersionedRepository
    from serverless_patterns.lambdas.api_backend.request_guard import RequestLimits
    from serverless_patterns.lambdas.api_backend.resources import CLIENT_CONFIG, ApiEnvironment, dynamodb, environment
    from serverless_patterns.lambdas.api_backend.responses import (
        CREATED_HEADERS,
        ETAG_HEADER,
        documented,
        versioned_response,
    )
    from serverless_patterns.lambdas.api_backend.wire import ApiModel, ErrorBody, InputModel
    from serverless_patterns.lambdas.shared.observability import logger, metrics

__all__ = [
    "CLIENT_CONFIG",
    "CREATED_HEADERS",
    "DEFAULT_PAGE_SIZE",
    "ERROR_STATUS",
    "ETAG_HEADER",
    "MAX_PAGE_SIZE",
    "MAX_VERSION",
    "ApiApp",
    "ApiEnvironment",
    "ApiError",
    "ApiModel",
    "CounterLimitError",
    "Created",
    "ErrorBody",
    "IdempotencyKey",
    "IdempotencyKeyReusedError",
    "IdempotentCreate",
    "IfMatch",
    "InputModel",
    "InvalidCursorError",
    "InvalidPreconditionError",
    "ItemNotFoundError",
    "PageCursor",
    "PageSize",
    "Precondition",
    "PreconditionFailedError",
    "PreconditionRequiredError",
    "RequestInProgressError",
    "RequestLimits",
    "StorageThrottledError",
    "VersionConflictError",
    "VersionedRepository",
    "caller_principal",
    "created_location",
    "documented",
    "dynamodb",
    "entity_tag",
    "environment",
    "expected_version",
    "if_match_precondition",
    "logger",
    "metrics",
    "versioned_response",
]


def __getattr__(name: str) -> Any:
    """Import a name's module on first use (PEP 562)."""
    if name in _EXPORTS:
        module = f"{_PACKAGE}.{_EXPORTS[name]}"
    elif name in _SHARED:
        module = _SHARED[name]
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The exported names too, although they are imported only when first used."""
    return sorted({*globals(), *_EXPORTS, *_SHARED})
