"""Domain exceptions of the fan-out. ``responses.error_response`` maps them to payloads, in one place."""

from __future__ import annotations

from collections.abc import Sequence


class FanOutError(Exception):
    """Base class: something the caller or an operator can act on."""


class InvalidJobError(FanOutError):
    """The job was refused before anything was created; ``details`` lists what is wrong."""

    def __init__(self, message: str, details: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.details = list(details)


class JobNotFoundError(FanOutError):
    """No job with this id (never created, or expired by the table's TTL)."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"no job {job_id!r}")
        self.job_id = job_id


class JobConflictError(FanOutError):
    """A job id supplied by the caller was already used for different items."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"job id {job_id!r} was already used for a different job")
        self.job_id = job_id


class ChunkRejectedError(FanOutError):
    """A chunk message names a job that does not exist or a chunk index outside the job."""


class ItemRejectedError(FanOutError):
    """The processor cannot process one item; retrying will not change that (a poison item)."""

    def __init__(self, position: int, reason: str) -> None:
        super().__init__(f"item {position}: {reason}")
        self.position = position
        self.reason = reason


class DispatchFailedError(FanOutError):
    """Some chunks of a created job could not be queued; the job is marked failed."""


class IncompleteJobError(FanOutError):
    """Aggregation found fewer chunk results than the job has chunks (should never happen; retried)."""
