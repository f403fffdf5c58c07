"""Inputs, outputs, records and environment settings of the fan-out handlers.

They are ``shapes.Shape`` records, not pydantic models: the fan-out handlers never import pydantic
(about 80 ms of every cold start), and the checks are the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from serverless_patterns.lambdas.fan_out.contract import MAX_COMPLETION_SHARDS
from serverless_patterns.lambdas.shared.shapes import Shape, field

JOB_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"

JsonObject = dict[str, Any]


class JobStatus(StrEnum):
    """Lifecycle of a job: RUNNING -> AGGREGATING -> SUCCEEDED, or FAILED with a reason."""

    RUNNING = "RUNNING"
    AGGREGATING = "AGGREGATING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


# --- environment ------------------------------------------------------------------------------


class MasterSettings(Shape):
    """The master's environment, set by the construct."""

    table_name: str = field(key="TABLE_NAME")
    queue_url: str = field(key="QUEUE_URL")
    input_bucket: str = field(key="INPUT_BUCKET")
    input_prefix: str = field(key="INPUT_PREFIX")
    chunk_size: int = field(key="CHUNK_SIZE", ge=1)
    max_items: int = field(key="MAX_ITEMS", ge=1)
    max_source_bytes: int = field(key="MAX_SOURCE_BYTES", ge=1)
    job_deadline_seconds: int = field(key="JOB_DEADLINE_SECONDS", ge=1)
    job_retention_days: int = field(key="JOB_RETENTION_DAYS", ge=1)
    completion_shards: int = field(
        default=0,
        key="COMPLETION_SHARDS",
        ge=0,
        le=MAX_COMPLETION_SHARDS,
        description="Shards a job's completions are counted in (0: on the job item, as in 0.2)",
    )


class WorkerSettings(Shape):
    """The worker's environment, set by the construct."""

    table_name: str = field(key="TABLE_NAME")
    aggregator_function: str = field(key="AGGREGATOR_FUNCTION")
    parallelism: int = field(key="WORKER_PARALLELISM", ge=1)
    max_receive_count: int = field(key="MAX_RECEIVE_COUNT", ge=1)
    job_deadline_seconds: int = field(key="JOB_DEADLINE_SECONDS", ge=1)
    aggregation_claim_seconds: int = field(key="AGGREGATION_CLAIM_SECONDS", ge=1)


class TableSettings(Shape):
    """The environment of the handlers that only need the jobs table (aggregator, status)."""

    table_name: str = field(key="TABLE_NAME")


class SweeperSettings(Shape):
    """The sweeper's environment, set by the construct."""

    table_name: str = field(key="TABLE_NAME")
    open_jobs_index: str = field(key="OPEN_JOBS_INDEX")


# --- requests ---------------------------------------------------------------------------------


class ItemsObject(Shape, extra="forbid"):
    """An S3 object of items under the input prefix of the construct's input bucket: JSON Lines, or one JSON array."""

    key: str = field(min_length=1, max_length=1024)
    version_id: str | None = field(default=None, min_length=1, max_length=1024)


class JobRequest(Shape, extra="forbid"):
    """What the master accepts: items inline or an S3 object of items, and optionally its own job id.

    A caller-chosen ``job_id`` makes submission idempotent: submitting the same items under the same
    id again returns the existing job instead of starting a second one.
    """

    job_id: str | None = field(default=None, pattern=JOB_ID_PATTERN)
    items: list[JsonObject] | None = None
    source: ItemsObject | None = None

    def _check(self) -> None:
        if (self.items is None) == (self.source is None):
            raise ValueError("give exactly one of 'items' (a list of objects) or 'source' ({'key': ...})")


class JobQuery(Shape):
    """What the status reader and the aggregator are invoked with."""

    job_id: str = field(pattern=JOB_ID_PATTERN)


class ChunkMessage(Shape, extra="forbid"):
    """One chunk of a job, as the master queues it and the worker receives it."""

    job_id: str = field(pattern=JOB_ID_PATTERN)
    chunk_index: int = field(ge=0)
    first_item: int = field(ge=0, description="Position of the chunk's first item in the job")
    expires_at: int = field(ge=0, description="Epoch seconds after which the table's TTL removes the records")
    items: list[JsonObject] = field(min_length=1)
    completion_shards: int = field(
        default=0,
        ge=0,
        le=MAX_COMPLETION_SHARDS,
        description="The job's completion shards (0, or absent in messages of 0.2: counted on the job item)",
    )


# --- records ----------------------------------------------------------------------------------


class JobRecord(Shape):
    """The job item in the table, as the handlers read it."""

    job_id: str
    status: JobStatus
    total_items: int
    total_chunks: int
    completed_chunks: int = 0
    dispatched_chunks: int = field(default=0, description="Chunks queued, in order: 0..n-1 are, n.. may not be")
    dispatch_lease_until: int | None = None
    chunk_size: int | None = None
    expires_at: int | None = None
    created_at: str
    updated_at: str
    deadline_at: int
    request_digest: str
    failure_reason: str | None = None
    failed_chunks: list[int] = field(default_factory=list)
    result: JsonObject | None = None
    finished_at: str | None = None
    aggregation_trigger: int | None = None
    aggregation_claimed_at: int | None = None
    aggregation_dispatched: bool = False
    completion_shards: int = field(default=0, description="0: completions counted on the job item itself")

    @classmethod
    def _prepare(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "failed_chunks" in data:
            data = {**data, "failed_chunks": sorted(int(index) for index in data["failed_chunks"])}
        if isinstance(data, Mapping) and "dispatched_chunks" not in data and "total_chunks" in data:
            # Jobs recorded before dispatch was tracked were queued whole or failed by the master.
            data = {**data, "dispatched_chunks": data["total_chunks"]}
        return data

    @property
    def undispatched_chunks(self) -> int:
        """Chunks never queued (the master stopped while queuing them)."""
        return self.total_chunks - self.dispatched_chunks


@dataclass(frozen=True)
class NewJob:
    """A job as the master records it, before any chunk is queued."""

    job_id: str
    total_items: int
    total_chunks: int
    chunk_size: int
    request_digest: str
    created_at: str
    deadline_at: int
    expires_at: int
    dispatch_lease_until: int
    completion_shards: int = 0


@dataclass(frozen=True)
class ShardState:
    """One completion shard of a job: the chunks it counts, how many are recorded, whether it was
    added to the job's count (``closed``), and which of its chunks exhausted their retries."""

    expected: int
    completed: int
    closed: bool
    failed_chunks: frozenset[int]

    @property
    def complete(self) -> bool:
        """Every chunk of the shard is recorded."""
        return self.completed >= self.expected


# --- responses --------------------------------------------------------------------------------


def json_number(value: Any) -> Any:
    """DynamoDB's Decimals as JSON numbers: integral ones as int, others as float; nested too."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {key: json_number(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_number(item) for item in value]
    return value


class SubmitResponse(Shape):
    """The master's answer: the job id to poll, and whether this call created the job."""

    job_id: str
    status: JobStatus
    total_items: int
    total_chunks: int
    created: bool
    queued_chunks: int = field(description="Chunks this call queued: all of a new job's, those a resubmission resumed")


class StatusResponse(Shape):
    """A job's progress, its result once SUCCEEDED, or the reason it FAILED."""

    job_id: str
    status: JobStatus
    total_items: int
    total_chunks: int
    dispatched_chunks: int
    completed_chunks: int
    failed_chunks: list[int]
    failure_reason: str | None
    result: JsonObject | None
    created_at: str
    updated_at: str
    finished_at: str | None

    @classmethod
    def of(cls, job: JobRecord) -> StatusResponse:
        """The public view of a job record (internal bookkeeping left out), its numbers as JSON's."""
        public = {name: getattr(job, name) for name in cls.model_field_names()}
        return cls(**{**public, "result": json_number(job.result)})


class ErrorResponse(Shape):
    """A refused request: ``status_code`` is the HTTP status it maps to behind an API."""

    error: str
    message: str
    status_code: int
    details: list[str] = field(default_factory=list)
