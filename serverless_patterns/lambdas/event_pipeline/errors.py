"""The pipeline's domain errors: each one decides where a message ends up."""

from __future__ import annotations


class InvalidContentError(Exception):
    """The upload cannot be processed as it is: it is parked with this reason, never retried.

    Raise it from a processor for content faults (a malformed row, a missing column): retrying
    reads the same bytes again, so the message would only reach the DLQ later and with no reason.
    """


class InvalidUploadError(InvalidContentError):
    """Raised by a validation rule: the upload breaks one of your rules and is parked with this reason.

    The validator writes ``rejected/{key}.json`` (code ``rule``, the detail naming the rule and
    your reason) and tags the upload ``rejected``, as for its own checks; it is never queued.
    """


class RetryLaterError(Exception):
    """A dependency is unavailable for now (an open circuit breaker, a throttling partner API).

    Not the message's fault: the message is held back with backoff and, when it would otherwise
    reach its last receive, re-queued with a delay instead of being counted as a poison message.
    ``retry_after_seconds`` (e.g. the breaker's remaining cooldown) overrides the backoff. The
    circuit breaker's ``CircuitOpenError`` (any ``DependencyUnavailableError``) is treated the same
    way, so a processor may simply let it through.
    """

    def __init__(self, message: str, *, retry_after_seconds: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class ObjectVanishedError(Exception):
    """The upload version named in an event or message no longer exists (deleted meanwhile)."""
