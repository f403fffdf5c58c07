"""Your routes on the pattern's REST resolver: ``ApiApp`` mounts Powertools ``Router``s with the plumbing.

API Gateway proxies every path of the ``ApiBackend`` to one function (``/{proxy+}``), so routing,
404 and 405 are decided here and behave the same on AWS, in the local cloud and in tests. An
``ApiApp`` gives every route:

* the request guard (``request_guard``): a body that is not JSON is 415 and an oversize one 413
  before anything parses it; JSON too deep or with too long numbers, strings, arrays or
  objects is 400 naming the limit, while parsing;
* one error shape (``responses.ErrorBody`` with ``X-Request-Id``) for every refusal: an
  ``ApiError`` with its declared status, a validation failure as 422 listing the fields (never
  echoing the input), malformed JSON as 400, a path no route has as 404, a method the path does
  not serve as 405 with ``Allow``, DynamoDB throttling (after the SDK's retries, from any code under
  a route) as 429 with ``Retry-After``, and anything unexpected as a 500 whose trace goes only to the
  logs;
* CORS for the origins the construct sets (``CORS_ORIGINS``), on errors too;
* structured logs with the request id as correlation id, EMF metrics with a cold-start metric,
  never the request body (``shared.observability``); the keep-warm ping answered before any of it;
* its OpenAPI document, generated from the routes and models (``openapi_json``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, cast

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from serverless_patterns.lambdas.api_backend.errors import ApiError, StorageThrottledError
from serverless_patterns.lambdas.api_backend.request_guard import RequestGuard, RequestLimits, RequestRefusedError
from serverless_patterns.lambdas.api_backend.responses import error_response, validation_detail
from serverless_patterns.lambdas.shared.observability import API_REQUEST_ID, logger, observed
from serverless_patterns.lambdas.shared.warmup import warmup_aware

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
    from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent
    from aws_lambda_powertools.utilities.typing import LambdaContext

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]
"""A Lambda entry point: (event, context) -> response."""

CORS_ALLOW_HEADERS = ("Idempotency-Key", "If-Match")
"""Request headers the pattern's helpers read, allowed from browsers."""
CORS_EXPOSE_HEADERS = ("ETag", "Location", "Idempotent-Replayed", "X-Request-Id", "Retry-After")
"""Response headers the pattern's helpers send, readable by browsers."""
CORS_MAX_AGE_SECONDS = 600
MAX_CAUSES = 5  # how far _throttled follows an error's causes
THROTTLING_CODES = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"})
"""What DynamoDB answers when an item, a partition or the table is past its throughput."""
LIMITS_HEADING = "Limits, checked before any parsing, on every request that carries a body, whatever its method:\n"


class ApiApp:
    """Powertools ``Router``s on one REST resolver, with the ApiBackend's plumbing; ``handler`` is the entry point.

    Build it at import, in the module Lambda calls (CORS is read from ``CORS_ORIGINS`` and
    ``CORS_ALLOW_HEADERS``, which the construct sets from ``ApiSettings``, then)::

        api = ApiApp(orders.router, title="Orders API", version="1.2.0")
        handler = api.handler

    :param routers: your routers, mounted in order (a path served by two is answered by the first).
    :param title: the API's title in its OpenAPI document.
    :param version: the document's version.
    :param description: the document's description (Markdown); the request limits are appended.
    :param limits: the request guard's limits (``RequestLimits()``: 32 KiB bodies, ...).
    :param cors_allow_headers: request headers your routes read, besides ``CORS_ALLOW_HEADERS``.
    :param cors_expose_headers: response headers your routes send, besides ``CORS_EXPOSE_HEADERS``.
    """

    def __init__(
        self,
        *routers: Router,
        title: str,
        version: str = "1.0.0",
        description: str = "",
        limits: RequestLimits | None = None,
        cors_allow_headers: Sequence[str] = (),
        cors_expose_headers: Sequence[str] = (),
    ) -> None:
        if not routers or not all(isinstance(router, Router) for router in routers):
            raise TypeError("ApiApp takes your Powertools Router(s) as positional arguments, at least one")
        self.title = title
        self.version = version
        self.description = description
        self.guard = RequestGuard(limits)
        self.cors = cors_config(
            os.environ.get("CORS_ORIGINS", ""),
            allow_headers=(
                *CORS_ALLOW_HEADERS,
                *_listed(os.environ.get("CORS_ALLOW_HEADERS", "")),
                *cors_allow_headers,
            ),
            expose_headers=(*CORS_EXPOSE_HEADERS, *cors_expose_headers),
        )
        self.resolver = APIGatewayRestResolver(
            enable_validation=True, cors=self.cors, json_body_deserializer=self.guard.parse_json
        )
        for router in routers:
            self.resolver.include_router(router)
        # Every error becomes a response here; Powertools picks the most specific class (it walks the MRO).
        self.resolver.exception_handler(ApiError)(self._domain_error)
        self.resolver.exception_handler(RequestRefusedError)(self._refused)
        self.resolver.exception_handler(RequestValidationError)(self._invalid_request)
        self.resolver.exception_handler(RequestUnsupportedContentType)(self._unsupported_content_type)
        self.resolver.exception_handler(NotFoundError)(self._no_route)
        self.resolver.exception_handler(Exception)(self._unexpected)
        self.handler: LambdaHandler = self._entry_point()

    def allowed_methods(self, path: str) -> tuple[str, ...]:
        """The methods some route serves on ``path``, in the order they were declared; empty when none matches."""
        routes = [*self.resolver._static_routes, *self.resolver._dynamic_routes]
        return tuple(dict.fromkeys(route.method for route in routes if route.rule.match(path)))

    def openapi_json(self) -> str:
        """The API's OpenAPI document as JSON text (ending in a newline), from its routes and models."""
        heading = f"{self.description}\n\n{LIMITS_HEADING}" if self.description else LIMITS_HEADING
        document = self.resolver.get_openapi_json_schema(
            title=self.title, version=self.version, description=heading + self.guard.limits.describe()
        )
        return document + "\n"

    # --- the entry point and the error mapping -----------------------------------------------------

    def _entry_point(self) -> LambdaHandler:
        @warmup_aware
        @observed(correlation_id_path=API_REQUEST_ID)
        def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
            """API Gateway REST (proxy integration) entry point: the request guard, then the resolver."""
            return self.guard.resolve(
                self.resolver, event, context, refuse=self._refused_before_routing, cors=self.cors
            )

        return handler

    def _error(
        self,
        status: HTTPStatus,
        message: str,
        *,
        detail: list[dict[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response[dict[str, Any]]:
        request_id = str(self.resolver.current_event.request_context.request_id or "")
        return error_response(status, message, request_id, detail=detail, headers=headers)

    def _domain_error(self, error: ApiError) -> Response[dict[str, Any]]:
        return self._error(error.status, str(error), headers=error.headers or None)

    def _invalid_request(self, error: RequestValidationError) -> Response[dict[str, Any]]:
        problems = error.errors()
        if any(problem.get("type") == "json_invalid" for problem in problems):
            return self._error(HTTPStatus.BAD_REQUEST, "request body is not valid JSON")
        # loc/msg/type only, capped and trimmed: never echo the input back (it may be large or sensitive).
        return self._error(
            HTTPStatus.UNPROCESSABLE_ENTITY, "request validation failed", detail=validation_detail(problems)
        )

    def _refused(self, error: RequestRefusedError) -> Response[dict[str, Any]]:
        return self._error(error.status, str(error))

    @staticmethod
    def _refused_before_routing(error: RequestRefusedError, request_id: str) -> Response[dict[str, Any]]:
        return error_response(error.status, str(error), request_id)

    def _unsupported_content_type(self, error: RequestUnsupportedContentType) -> Response[dict[str, Any]]:
        return self._error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send the body as application/json")

    def _no_route(self, error: NotFoundError) -> Response[dict[str, Any]]:
        event = self.resolver.current_event
        allowed = self.allowed_methods(event.path)
        if allowed:
            return self._error(
                HTTPStatus.METHOD_NOT_ALLOWED,
                f"{event.http_method} is not allowed here",
                headers={"Allow": ", ".join(allowed)},
            )
        return self._error(HTTPStatus.NOT_FOUND, "no such route")

    def _unexpected(self, error: Exception) -> Response[dict[str, Any]]:
        if _throttled(error):  # the caller's cue to back off: a hot item's writes are capped per second
            return self._domain_error(StorageThrottledError())
        logger.exception("unhandled error")  # the trace goes to the logs, never to the caller
        return self._error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error; quote the request id to support")


def _listed(value: str) -> list[str]:
    """A comma-separated environment variable's items."""
    return [item.strip() for item in value.split(",") if item.strip()]


def _throttled(error: BaseException) -> bool:
    """Whether ``error``, or an error it was raised from, is an AWS SDK error for throughput.

    Powertools' idempotency raises its own error from the SDK's, so the chain is followed (read
    without importing botocore).
    """
    cause: BaseException | None = error
    for _ in range(MAX_CAUSES):
        if cause is None:
            return False
        response = getattr(cause, "response", None)
        if isinstance(response, dict) and response.get("Error", {}).get("Code") in THROTTLING_CODES:
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def cors_config(
    origins: str,
    *,
    allow_headers: Sequence[str] = CORS_ALLOW_HEADERS,
    expose_headers: Sequence[str] = CORS_EXPOSE_HEADERS,
) -> CORSConfig | None:
    """CORS for ``origins`` (comma-separated, as in ``CORS_ORIGINS``); none at all when the API serves no browser."""
    allowed = [origin.strip() for origin in origins.split(",") if origin.strip()]
    if not allowed:
        return None
    return CORSConfig(
        allow_origin=allowed[0],
        extra_origins=allowed[1:],
        allow_headers=list(dict.fromkeys(allow_headers)),
        expose_headers=list(dict.fromkeys(expose_headers)),
        max_age=CORS_MAX_AGE_SECONDS,
    )


def caller_principal(event: BaseProxyEvent) -> str:
    """Who is calling, as API Gateway authenticated them: ``cognito:<sub>``, ``iam:<arn>`` or ``anonymous``.

    Scope per-caller state to it (``IdempotentCreate`` does); pass ``router.current_event``.
    """
    context = cast("APIGatewayProxyEvent", event).request_context
    subject = context.authorizer.claims.get("sub")
    if subject:
        return f"cognito:{subject}"
    if context.identity.user_arn:
        return f"iam:{context.identity.user_arn}"
    return "anonymous"


def created_location(event: BaseProxyEvent, item_id: str) -> str:
    """The URL path of an item just created by a POST to its collection (stage included): the ``Location``."""
    request = cast("APIGatewayProxyEvent", event)
    return f"{request.request_context.path or request.path}".rstrip("/") + f"/{item_id}"
