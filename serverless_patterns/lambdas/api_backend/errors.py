"""Domain errors. ``handler`` maps each to its HTTP status in one table."""

from __future__ import annotations


class ApiError(Exception):
    """An expected failure whose message is safe to show the caller."""


class ItemNotFoundError(ApiError):
    """No item has that id."""

    def __init__(self, item_id: str) -> None:
        super().__init__(f"item {item_id!r} not found")
        self.item_id = item_id


class VersionConflictError(ApiError):
    """The item changed since the caller read it (optimistic locking)."""

    def __init__(self, item_id: str, expected: int, current: int) -> None:
        super().__init__(f"item {item_id!r} is at version {current}, not {expected}; read it again and retry")
        self.item_id = item_id
        self.expected = expected
        self.current = current


class CounterLimitError(ApiError):
    """The item already has as many counters as an item may have; this one would be new."""

    def __init__(self, item_id: str, limit: int) -> None:
        super().__init__(f"item {item_id!r} already has {limit} counters, the most an item may have")
        self.item_id = item_id
        self.limit = limit


class InvalidCursorError(ApiError):
    """The page cursor was not issued by this API (or was altered)."""

    def __init__(self) -> None:
        super().__init__("invalid cursor; start again from the first page")


class PreconditionRequiredError(ApiError):
    """An update without the version it replaces would overwrite changes blindly."""

    def __init__(self) -> None:
        super().__init__("send the version you are replacing as If-Match or expectedVersion")


class InvalidPreconditionError(ApiError):
    """An If-Match that is not a version this API issued, or one that contradicts expectedVersion."""


class PreconditionFailedError(VersionConflictError):
    """The If-Match header names a version the item is no longer at (RFC 9110: 412, not 409)."""


class IdempotencyKeyReusedError(ApiError):
    """The Idempotency-Key was already used with a different request body."""

    def __init__(self) -> None:
        super().__init__("this Idempotency-Key was used with a different request body")


class RequestInProgressError(ApiError):
    """A request with the same Idempotency-Key is still being processed."""

    def __init__(self) -> None:
        super().__init__("a request with this Idempotency-Key is in progress; retry later")


class StorageThrottledError(ApiError):
    """DynamoDB refused the request for throughput (a hot item past ~1,000 writes/s, or the table's
    limit) after the SDK's own retries: the caller should back off, not see a server error."""

    retry_after_seconds = 1

    def __init__(self) -> None:
        super().__init__("too many requests for this item right now; retry after a short backoff")
