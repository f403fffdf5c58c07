"""Entry point of the items API: routes, the HTTP mapping of every error, the Lambda handler.

API Gateway proxies every path here (``/{proxy+}``), so routing, 404 and 405 are
decided in one place and behave the same on AWS, in the local cloud and in tests.
Every request passes the ``request_guard`` first (JSON only, bounded size and shape), so no
input reaches a parser unbounded. Request bodies are never logged.
"""

from __future__ import annotations

import os
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_patterns.lambdas.api_backend import logic, routes
from serverless_patterns.lambdas.api_backend.cursor import CURSOR_PATTERN, MAX_CURSOR_LENGTH
from serverless_patterns.lambdas.api_backend.errors import (
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
from serverless_patterns.lambdas.api_backend.models import (
    COUNTER_NAME_PATTERN,
    DEFAULT_PAGE_SIZE,
    IDEMPOTENCY_KEY_PATTERN,
    ITEM_ID_PATTERN,
    MAX_COUNTERS,
    MAX_PAGE_SIZE,
    CounterIncrement,
    CounterValue,
    Item,
    ItemInput,
    ItemPage,
    ItemReplacement,
)
from serverless_patterns.lambdas.api_backend.request_guard import RequestGuard, RequestRefusedError
from serverless_patterns.lambdas.api_backend.responses import (
    ETAG_HEADER,
    documented,
    error_response,
    validation_detail,
)
from serverless_patterns.lambdas.shared.observability import logger, metrics
from serverless_patterns.lambdas.shared.warmup import warmup_aware

GUARD = RequestGuard()
MAX_BODY_BYTES = GUARD.limits.max_body_bytes
CORS_ALLOW_HEADERS = ["Idempotency-Key", "If-Match"]
CORS_EXPOSE_HEADERS = ["ETag", "Location", "Idempotent-Replayed", "X-Request-Id", "Retry-After"]
CORS_MAX_AGE_SECONDS = 600

# The one place a domain error becomes an HTTP status.
ERROR_STATUS: dict[type[ApiError], HTTPStatus] = {
    ItemNotFoundError: HTTPStatus.NOT_FOUND,
    VersionConflictError: HTTPStatus.CONFLICT,
    PreconditionFailedError: HTTPStatus.PRECONDITION_FAILED,
    RequestInProgressError: HTTPStatus.CONFLICT,
    CounterLimitError: HTTPStatus.CONFLICT,
    InvalidCursorError: HTTPStatus.BAD_REQUEST,
    InvalidPreconditionError: HTTPStatus.BAD_REQUEST,
    PreconditionRequiredError: HTTPStatus.PRECONDITION_REQUIRED,
    IdempotencyKeyReusedError: HTTPStatus.UNPROCESSABLE_ENTITY,
    StorageThrottledError: HTTPStatus.TOO_MANY_REQUESTS,
}


def _cors(origins: str) -> CORSConfig | None:
    """CORS for the configured origins; none at all when the API serves no browser origin.

    The resolver takes its CORS configuration when it is built, so the origins are read
    from the environment at import (the construct sets ``CORS_ORIGINS``).
    """
    allowed = [origin.strip() for origin in origins.split(",") if origin.strip()]
    if not allowed:
        return None
    return CORSConfig(
        allow_origin=allowed[0],
        extra_origins=allowed[1:],
        allow_headers=CORS_ALLOW_HEADERS,
        expose_headers=CORS_EXPOSE_HEADERS,
        max_age=CORS_MAX_AGE_SECONDS,
    )


CORS = _cors(os.environ.get("CORS_ORIGINS", ""))
app = APIGatewayRestResolver(enable_validation=True, cors=CORS, json_body_deserializer=GUARD.parse_json)

ItemId = Annotated[str, Path(pattern=ITEM_ID_PATTERN, description="The item's id.")]
CounterName = Annotated[str, Path(pattern=COUNTER_NAME_PATTERN, description="The counter's name.")]
IfMatch = Annotated[
    str | None,
    Header(
        alias="if-match",
        pattern=logic.ENTITY_TAG_PATTERN,
        description='The ETag of the version being replaced, exactly as the API returned it (e.g. `"3"`): '
        "a quoted version number; weak tags, lists and `*` are refused (422). A version the item is no "
        "longer at is 412.",
    ),
]


def _request_id() -> str:
    return str(app.current_event.request_context.request_id or "")


def _error(
    status: HTTPStatus,
    message: str,
    *,
    detail: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[dict[str, Any]]:
    return error_response(status, message, _request_id(), detail=detail, headers=headers)


def _item_response(status: HTTPStatus, item: Item, headers: dict[str, str] | None = None) -> Response[Item]:
    return Response(
        status_code=status.value,
        content_type=content_types.APPLICATION_JSON,
        body=item,
        headers={"ETag": logic.entity_tag(item.version), **(headers or {})},
    )


def _principal() -> str:
    """Who is calling, as API Gateway authenticated them: idempotency keys are scoped to it."""
    context = app.current_event.request_context
    subject = context.authorizer.claims.get("sub")
    if subject:
        return f"cognito:{subject}"
    if context.identity.user_arn:
        return f"iam:{context.identity.user_arn}"
    return "anonymous"


@app.get(
    routes.ITEMS,
    summary="List items",
    description="A page of items in table order. Pass `nextCursor` back as `cursor` for the next page.",
    operation_id="listItems",
    tags=["items"],
    responses=documented(HTTPStatus.OK, ItemPage),
)
def list_items(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size.")] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[
        str | None,
        Query(
            max_length=MAX_CURSOR_LENGTH,
            pattern=CURSOR_PATTERN,
            description="`nextCursor` of the previous page, unchanged: a signed token (payload, a dot, a 43-character "
            "signature). Another shape is 422; one this API did not sign, or that was altered, is 400.",
        ),
    ] = None,
) -> ItemPage:
    return logic.list_items(limit, cursor)


@app.get(
    routes.ITEM,
    summary="Get an item",
    operation_id="getItem",
    tags=["items"],
    responses=documented(HTTPStatus.OK, Item, HTTPStatus.NOT_FOUND, headers=ETAG_HEADER),
)
def get_item(item_id: ItemId) -> Response[Item]:
    return _item_response(HTTPStatus.OK, logic.get_item(item_id))


@app.post(
    routes.ITEMS,
    summary="Create an item",
    description="The server assigns id, createdAt and version 1. With an `Idempotency-Key`, a retry returns "
    "the first result (header `Idempotent-Replayed: true`) instead of creating a duplicate.",
    operation_id="createItem",
    tags=["items"],
    status_code=HTTPStatus.CREATED.value,
    responses=documented(
        HTTPStatus.CREATED,
        Item,
        HTTPStatus.CONFLICT,
        headers={
            **ETAG_HEADER,
            "Location": {"description": "The new item's URL path.", "required": True, "schema": {"type": "string"}},
            "Idempotent-Replayed": {
                "description": "`true` when this is the stored result of an earlier request with the same key.",
                "schema": {"type": "string", "enum": ["true"]},
            },
        },
    ),
)
def create_item(
    item: ItemInput,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="idempotency-key",
            pattern=IDEMPOTENCY_KEY_PATTERN,
            description="Client-chosen key (e.g. a UUID); retries with the same key and body are replayed.",
        ),
    ] = None,
) -> Response[Item]:
    created = logic.create_item(
        item, idempotency_key=idempotency_key, principal=_principal(), lambda_context=app.lambda_context
    )
    location = f"{app.current_event.request_context.path or routes.ITEMS}".rstrip("/") + f"/{created.item.id}"
    headers = {"Location": location}
    if created.replayed:
        headers["Idempotent-Replayed"] = "true"
    return _item_response(HTTPStatus.CREATED, created.item, headers)


@app.put(
    routes.ITEM,
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
    precondition = logic.expected_version(if_match, replacement.expected_version)
    return _item_response(HTTPStatus.OK, logic.replace_item(item_id, replacement, precondition=precondition))


@app.delete(
    routes.ITEM,
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


@app.post(
    routes.COUNTER,
    summary="Increment a counter",
    description="Atomically adds `by` (default 1) to the item's counter and returns the new value. "
    f"Counters do not change the item's version. An item has at most {MAX_COUNTERS} counters: a new one "
    "beyond is 409.",
    operation_id="incrementCounter",
    tags=["counters"],
    responses=documented(
        HTTPStatus.OK,
        CounterValue,
        HTTPStatus.NOT_FOUND,
        HTTPStatus.CONFLICT,
    ),
)
def increment_counter(
    item_id: ItemId, name: CounterName, increment: Annotated[CounterIncrement | None, Body()] = None
) -> CounterValue:
    return logic.increment_counter(item_id, name, (increment or CounterIncrement()).by)


def _domain_error(error: ApiError) -> Response[dict[str, Any]]:
    headers = {"Retry-After": str(error.retry_after_seconds)} if isinstance(error, StorageThrottledError) else None
    return _error(ERROR_STATUS[type(error)], str(error), headers=headers)


def _invalid_request(error: RequestValidationError) -> Response[dict[str, Any]]:
    problems = error.errors()
    if any(problem.get("type") == "json_invalid" for problem in problems):
        return _error(HTTPStatus.BAD_REQUEST, "request body is not valid JSON")
    # loc/msg/type only, capped and trimmed: never echo the input back (it may be large or sensitive).
    return _error(HTTPStatus.UNPROCESSABLE_ENTITY, "request validation failed", detail=validation_detail(problems))


def _refused(error: RequestRefusedError) -> Response[dict[str, Any]]:
    return _error(error.status, str(error))


def _refused_before_routing(error: RequestRefusedError, request_id: str) -> Response[dict[str, Any]]:
    return error_response(error.status, str(error), request_id)


def _unsupported_content_type(error: RequestUnsupportedContentType) -> Response[dict[str, Any]]:
    return _error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send the body as application/json")


def _no_route(error: NotFoundError) -> Response[dict[str, Any]]:
    allowed = routes.allowed_methods(app.current_event.path)
    if allowed:
        method = app.current_event.http_method
        return _error(
            HTTPStatus.METHOD_NOT_ALLOWED, f"{method} is not allowed here", headers={"Allow": ", ".join(allowed)}
        )
    return _error(HTTPStatus.NOT_FOUND, "no such route")


def _unexpected(error: Exception) -> Response[dict[str, Any]]:
    logger.exception("unhandled error")  # the trace goes to the logs, never to the caller
    return _error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error; quote the request id to support")


# Every error becomes a response here; Powertools picks the most specific class (it walks the MRO).
app.exception_handler(ApiError)(_domain_error)
app.exception_handler(RequestRefusedError)(_refused)
app.exception_handler(RequestValidationError)(_invalid_request)
app.exception_handler(RequestUnsupportedContentType)(_unsupported_content_type)
app.exception_handler(NotFoundError)(_no_route)
app.exception_handler(Exception)(_unexpected)


@warmup_aware
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway REST (proxy integration) entry point: the request guard, then the resolver."""
    return GUARD.resolve(app, event, context, refuse=_refused_before_routing, cors=CORS)
