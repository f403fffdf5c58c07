"""The API's response shapes: the error body every refusal uses, and the responses each route documents.

One place for both, so what the OpenAPI document promises is what the handler sends: every
error the function answers is an ``ErrorBody`` with an ``X-Request-Id`` header; the statuses
API Gateway answers itself (authentication, throttling) carry its ``{"message": ...}``.
Validation details are capped and trimmed, so no response repeats a large part of the input.

In your routes: ``responses=documented(HTTPStatus.OK, Order, HTTPStatus.NOT_FOUND)`` documents a
route's success and its own errors (the guard's, 422, 500 and the gateway's are added), and
``versioned_response(order)`` answers an item with its ``ETag``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from http import HTTPStatus
from itertools import islice
from typing import Any, Protocol, TypeVar, cast

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse, OpenAPIResponseHeader
from pydantic import BaseModel, ConfigDict

from serverless_patterns.lambdas.api_backend.preconditions import ENTITY_TAG_PATTERN, entity_tag
from serverless_patterns.lambdas.api_backend.wire import ErrorBody

MAX_DETAIL_ENTRIES = 10
MAX_ECHOED_CHARACTERS = 64
MAX_MESSAGE_CHARACTERS = 200


# Powertools' header TypedDict lacks ``required`` (valid OpenAPI, passed through as is).
ResponseHeaders = dict[str, dict[str, Any]]


class GatewayError(BaseModel):
    """What API Gateway itself answers (authentication, throttling), before the function runs."""

    model_config = ConfigDict(defer_build=True)  # only the OpenAPI document uses it

    message: str


ETAG_HEADER: ResponseHeaders = {
    "ETag": {
        "description": 'The item\'s version as an entity tag, e.g. `"3"`; send it back unchanged as If-Match.',
        "required": True,
        "schema": {"type": "string", "pattern": ENTITY_TAG_PATTERN},
    }
}
CREATED_HEADERS: ResponseHeaders = {
    **ETAG_HEADER,
    "Location": {"description": "The new item's URL path.", "required": True, "schema": {"type": "string"}},
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored result of an earlier request with the same key.",
        "schema": {"type": "string", "enum": ["true"]},
    },
}
"""The headers of a ``versioned_response`` to an (idempotent) create."""
REQUEST_ID_HEADER: ResponseHeaders = {
    "X-Request-Id": {
        "description": "The request's id, as in the body's `requestId`; quote it to support.",
        "required": True,
        "schema": {"type": "string"},
    }
}

# Statuses every route may answer: the request guard's refusals and an internal failure.
GUARD_STATUSES = (HTTPStatus.BAD_REQUEST, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, HTTPStatus.UNSUPPORTED_MEDIA_TYPE)
GATEWAY_STATUSES = (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN, HTTPStatus.TOO_MANY_REQUESTS)

# What each error status means for the pattern's helpers; a route may say more (``documented(descriptions=)``).
ERROR_DESCRIPTIONS: dict[HTTPStatus, str] = {
    HTTPStatus.BAD_REQUEST: "Bad Request: the body is not valid JSON, is beyond a limit (the message names it), "
    "or is not base64/UTF-8 as declared; or a cursor or precondition this API did not issue or that contradicts "
    "itself.",
    HTTPStatus.NOT_FOUND: "Not Found: no item has this id.",
    HTTPStatus.CONFLICT: "Conflict: the item is not at the `expectedVersion` sent, a request with the same "
    "Idempotency-Key is still in progress, or a new counter would exceed the item's limit.",
    HTTPStatus.PRECONDITION_FAILED: "Precondition Failed: the item is not at the version the If-Match ETag names.",
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: "Content Too Large: the body is larger than the limit.",
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE: "Unsupported Media Type: a body that is not `application/json`.",
    HTTPStatus.UNPROCESSABLE_ENTITY: "Unprocessable Content: a parameter or body field fails validation "
    "(`detail` names each, at most 10), or an Idempotency-Key is reused with another body.",
    HTTPStatus.PRECONDITION_REQUIRED: "Precondition Required: neither If-Match nor `expectedVersion` was sent.",
    HTTPStatus.INTERNAL_SERVER_ERROR: "Internal Server Error: a failure of the service, never of the request; "
    "retry, or quote the request id.",
    HTTPStatus.UNAUTHORIZED: "Unauthorized (API Gateway, Cognito stages): no valid ID token.",
    HTTPStatus.FORBIDDEN: "Forbidden (API Gateway, IAM stages): no valid SigV4 signature, or not allowed.",
    HTTPStatus.TOO_MANY_REQUESTS: "Too Many Requests: the stage's throttle (API Gateway), or more writes to "
    "one item than DynamoDB takes (about 1,000 write units a second per item); retry with backoff "
    "(the service's own answer carries Retry-After).",
}


def documented(
    success: HTTPStatus,
    model: type[BaseModel] | None,
    *errors: HTTPStatus,
    headers: ResponseHeaders | None = None,
    descriptions: Mapping[HTTPStatus, str] | None = None,
) -> dict[int, OpenAPIResponse]:
    """A route's documented responses: its success, its own errors, the guard's, 422, 500 and the gateway's.

    :param success: the status of a success.
    :param model: the success's body (None: no body).
    :param errors: the statuses of the route's own errors (``ApiError.status``).
    :param headers: the success's headers (e.g. ``ETAG_HEADER``, ``CREATED_HEADERS``).
    :param descriptions: what an error status means on this route, over ``ERROR_DESCRIPTIONS``
        (a status neither names is described by its phrase).
    """
    described = {**ERROR_DESCRIPTIONS, **(descriptions or {})}
    responses: dict[int, OpenAPIResponse] = {success.value: {"description": success.phrase, "content": {}}}
    if model is not None:
        responses[success.value]["content"] = {content_types.APPLICATION_JSON: {"model": model}}
    if headers:
        responses[success.value]["headers"] = _headers(headers)
    statuses = sorted({*errors, *GUARD_STATUSES, HTTPStatus.UNPROCESSABLE_ENTITY, HTTPStatus.INTERNAL_SERVER_ERROR})
    for status in statuses:
        responses[status.value] = {
            "description": described.get(status, status.phrase),
            "headers": _headers(REQUEST_ID_HEADER),
            "content": {content_types.APPLICATION_JSON: {"model": ErrorBody}},
        }
    for status in GATEWAY_STATUSES:
        responses[status.value] = {
            "description": described[status],
            "content": {content_types.APPLICATION_JSON: {"model": GatewayError}},
        }
    return responses


def _headers(headers: ResponseHeaders) -> dict[str, OpenAPIResponseHeader]:
    return cast("dict[str, OpenAPIResponseHeader]", headers)


def _trim(value: Any, limit: int) -> Any:
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + "..."
    return value


def validation_detail(problems: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """loc/msg/type of the first few problems, input strings trimmed: never the input itself."""
    return [
        {
            "loc": [_trim(part, MAX_ECHOED_CHARACTERS) for part in problem.get("loc", ())],
            "msg": _trim(str(problem.get("msg", "")), MAX_MESSAGE_CHARACTERS),
            "type": str(problem.get("type", "")),
        }
        for problem in islice(problems, MAX_DETAIL_ENTRIES)
    ]


def error_response(
    status: HTTPStatus,
    message: str,
    request_id: str,
    *,
    detail: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response[dict[str, Any]]:
    """An error in the API's one shape, with the request id in the body and the header."""
    body = ErrorBody(message=message, request_id=request_id, detail=detail)
    return Response(
        status_code=status.value,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump(mode="json", by_alias=True, exclude_none=True),
        headers={"X-Request-Id": request_id, **(headers or {})},
    )


class Versioned(Protocol):
    """An item with a version (``preconditions``)."""

    @property
    def version(self) -> int: ...


VersionedT = TypeVar("VersionedT", bound=Versioned)


def versioned_response(
    item: VersionedT,
    *,
    status: HTTPStatus = HTTPStatus.OK,
    location: str | None = None,
    replayed: bool = False,
) -> Response[VersionedT]:
    """``item`` as JSON with its ``ETag``; for a create, its ``Location`` and whether it is a replay.

    :param location: the new item's path (``created_location``), for a 201.
    :param replayed: ``Created.replayed``: adds ``Idempotent-Replayed: true``.
    """
    headers = {"ETag": entity_tag(item.version)}
    if location is not None:
        headers["Location"] = location
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(status_code=status.value, content_type=content_types.APPLICATION_JSON, body=item, headers=headers)
