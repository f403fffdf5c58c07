"""Domain errors and the HTTP status of each: the one table an ``ApiApp`` answers them from.

An expected failure whose message is safe to show the caller subclasses ``ApiError`` and
declares its ``status``, a 4xx (a failure of the request, never of the service)::

    class OrderClosedError(ApiError):
        status = HTTPStatus.CONFLICT

Raised anywhere under a route, it is answered with that status and its message in the API's
error shape (``responses.error_response``). Defining a subclass enters it in ``ERROR_STATUS``;
a status that is not a 4xx ``HTTPStatus`` is a ``TypeError`` when the class is defined.
``kind`` names what an item is in messages ("order 'o-1' not found").
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, ClassVar

MAX_SHOWN_KEY = 64
"""Characters of a key an error message repeats (the rest is elided): messages never echo large input."""
ERROR_STATUS: dict[type[ApiError], HTTPStatus] = {}
"""Every ``ApiError`` subclass and the status it is answered with, entered as each class is defined."""


class ApiError(Exception):
    """An expected failure whose message is safe to show the caller; ``status`` is its HTTP status."""

    status: ClassVar[HTTPStatus] = HTTPStatus.BAD_REQUEST

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        status = cls.status
        if not isinstance(status, HTTPStatus) or not 400 <= status.value < 500:
            raise TypeError(f"{cls.__qualname__}.status must be a 4xx HTTPStatus, got {status!r}")
        ERROR_STATUS[cls] = status

    @property
    def headers(self) -> Mapping[str, str]:
        """Response headers the refusal carries besides the error shape's (none by default)."""
        return {}


class ItemNotFoundError(ApiError):
    """No item has that key."""

    status = HTTPStatus.NOT_FOUND

    def __init__(self, item_id: str, *, kind: str = "item") -> None:
        super().__init__(f"{kind} {_shown(item_id)} not found")
        self.item_id = item_id


class VersionConflictError(ApiError):
    """The item changed since the caller read it (optimistic locking)."""

    status = HTTPStatus.CONFLICT

    def __init__(self, item_id: str, expected: int, current: int, *, kind: str = "item") -> None:
        super().__init__(f"{kind} {_shown(item_id)} is at version {current}, not {expected}; read it again and retry")
        self.item_id = item_id
        self.expected = expected
        self.current = current
        self.kind = kind


class PreconditionFailedError(VersionConflictError):
    """The If-Match header names a version the item is no longer at (RFC 9110: 412, not 409)."""

    status = HTTPStatus.PRECONDITION_FAILED


class PreconditionRequiredError(ApiError):
    """An update without the version it replaces would overwrite changes blindly."""

    status = HTTPStatus.PRECONDITION_REQUIRED

    def __init__(self) -> None:
        super().__init__("send the version you are replacing as If-Match or expectedVersion")


class InvalidPreconditionError(ApiError):
    """An If-Match that is not a version this API issued, or one that contradicts expectedVersion."""

    status = HTTPStatus.BAD_REQUEST


class CounterLimitError(ApiError):
    """The item already has as many counters as an item may have; this one would be new."""

    status = HTTPStatus.CONFLICT

    def __init__(self, item_id: str, limit: int, *, kind: str = "item") -> None:
        super().__init__(
            f"{kind} {_shown(item_id)} already has {limit} counters, the most {_article(kind)} {kind} may have"
        )
        self.item_id = item_id
        self.limit = limit


class InvalidCursorError(ApiError):
    """The page cursor was not issued by this API (or was altered)."""

    status = HTTPStatus.BAD_REQUEST

    def __init__(self) -> None:
        super().__init__("invalid cursor; start again from the first page")


class IdempotencyKeyReusedError(ApiError):
    """The Idempotency-Key was already used with a different request body."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY

    def __init__(self) -> None:
        super().__init__("this Idempotency-Key was used with a different request body")


class RequestInProgressError(ApiError):
    """A request with the same Idempotency-Key is still being processed."""

    status = HTTPStatus.CONFLICT

    def __init__(self) -> None:
        super().__init__("a request with this Idempotency-Key is in progress; retry later")


class StorageThrottledError(ApiError):
    """DynamoDB refused a request for throughput (a hot item past about 1,000 write units a second, or
    the table's limit) after the SDK's own retries: the caller backs off (429, ``Retry-After``)."""

    status = HTTPStatus.TOO_MANY_REQUESTS
    retry_after_seconds = 1

    def __init__(self) -> None:
        super().__init__("too many requests for this item right now; retry after a short backoff")

    @property
    def headers(self) -> Mapping[str, str]:
        return {"Retry-After": str(self.retry_after_seconds)}


def _shown(key: str) -> str:
    return repr(key if len(key) <= MAX_SHOWN_KEY else key[:MAX_SHOWN_KEY] + "...")


def _article(noun: str) -> str:
    return "an" if noun[:1].lower() in "aeiou" else "a"
