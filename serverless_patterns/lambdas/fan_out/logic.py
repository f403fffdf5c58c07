"""The job lifecycle: submit, process a chunk, fail a chunk, aggregate, sweep overdue jobs, read status.

Race-free fan-in, unlike the seed's ``allChunksComplete`` check:

1. A chunk counts once: its result is stored by a conditional put in the same transaction that
   adds 1 to the job's ``completed_chunks``. A repeated delivery finds the record and counts nothing.
2. Whoever delivers a chunk then tries ``completed_chunks = total_chunks AND status = RUNNING ->
   AGGREGATING``: a conditional update, so exactly one delivery ever wins, whatever the interleaving.
   Repeated deliveries try again, so a worker that crashed between its transaction and this step
   is covered by the redelivery of its message.
3. The winner invokes the aggregator and confirms it on the job. If the winner dies in between,
   the redelivery of the winning chunk (and only that chunk) re-invokes it once the claim is older
   than a worker's timeout. Without crashes the aggregator is invoked exactly once; with one it
   may run twice, and it is idempotent (its final write is conditional on AGGREGATING).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from serverless_patterns.lambdas.fan_out.errors import (
    IncompleteJobError,
    InvalidJobError,
    ItemRejectedError,
    JobConflictError,
    JobNotFoundError,
)
from serverless_patterns.lambdas.fan_out.models import (
    ChunkMessage,
    JobRequest,
    JobStatus,
    JsonObject,
    NewJob,
    StatusResponse,
    SubmitResponse,
)
from serverless_patterns.lambdas.fan_out.processing import (
    ChunkProcessor,
    ResultCombiner,
    combine_summaries,
    summarize_chunk,
)

if TYPE_CHECKING:
    from serverless_patterns.lambdas.fan_out.data_access import ChunkQueue, ItemsObjectReader, JobStore

SQS_MAX_MESSAGE_BYTES = 262_144
MAX_REPORTED_PROBLEMS = 10
MAX_ERROR_TEXT = 300

Clock = Callable[[], float]
AggregationTrigger = Callable[[str], None]
"""Starts the aggregator for a job id (an async Lambda invoke in production)."""


def iso(epoch: float) -> str:
    """UTC ISO-8601 with milliseconds: what the job records show."""
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")


# --- submit -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobLimits:
    """The master's limits, from its settings."""

    chunk_size: int
    max_items: int
    max_source_bytes: int
    deadline_seconds: int
    retention_seconds: int


def parse_items_object(body: bytes) -> list[JsonObject]:
    """Items from an S3 object: one JSON array of objects, or JSON Lines of objects (blank lines skipped)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidJobError("the items object is not UTF-8 text") from None
    if text.lstrip().startswith("["):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as error:
            raise InvalidJobError(f"the items object is not valid JSON: line {error.lineno}: {error.msg}") from None
        problems = [
            f"item {index}: not a JSON object" for index, item in enumerate(parsed) if not isinstance(item, dict)
        ]
        if problems:
            raise InvalidJobError("every item must be a JSON object", problems[:MAX_REPORTED_PROBLEMS])
        return list(parsed)
    items: list[JsonObject] = []
    problems = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            problems.append(f"line {line_number}: not valid JSON ({error.msg})")
            continue
        if isinstance(item, dict):
            items.append(item)
        else:
            problems.append(f"line {line_number}: not a JSON object")
    if problems:
        raise InvalidJobError("the items object must be JSON Lines of objects", problems[:MAX_REPORTED_PROBLEMS])
    return items


def plan_chunks(job_id: str, items: Sequence[JsonObject], *, chunk_size: int, expires_at: int) -> list[ChunkMessage]:
    """The job's items split into chunk messages of ``chunk_size`` (the last may be smaller)."""
    return [
        ChunkMessage(
            job_id=job_id,
            chunk_index=index,
            first_item=start,
            expires_at=expires_at,
            items=list(items[start : start + chunk_size]),
        )
        for index, start in enumerate(range(0, len(items), chunk_size))
    ]


def request_digest(items: Sequence[JsonObject]) -> str:
    """A fingerprint of the items, so a repeated submission under the same job id can be recognised."""
    canonical = json.dumps(items, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def submit_job(
    request: JobRequest,
    *,
    job_id: str,
    store: JobStore,
    queue: ChunkQueue,
    reader: ItemsObjectReader,
    limits: JobLimits,
    clock: Clock = time.time,
) -> SubmitResponse:
    """Validate the job, record it, queue its chunks. Nothing is recorded for a refused job.

    A queueing failure after the job is recorded marks the job FAILED with the reason and
    re-raises: chunks already queued are still processed, but the job never completes.
    """
    if request.items is not None:
        items = request.items
    else:
        assert request.source is not None  # the model guarantees one of the two
        body = reader.read(request.source.key, request.source.version_id, max_bytes=limits.max_source_bytes)
        items = parse_items_object(body)
    if not items:
        raise InvalidJobError("the job has no items")
    if len(items) > limits.max_items:
        raise InvalidJobError(f"the job has {len(items)} items; at most {limits.max_items} are accepted")

    now = clock()
    expires_at = int(now + limits.retention_seconds)
    chunks = plan_chunks(job_id, items, chunk_size=limits.chunk_size, expires_at=expires_at)
    bodies = [chunk.model_dump_json() for chunk in chunks]
    oversized = [
        f"chunk {chunk.chunk_index} (items {chunk.first_item}..{chunk.first_item + len(chunk.items) - 1}) "
        f"is {size} bytes"
        for chunk, body in zip(chunks, bodies, strict=True)
        if (size := len(body.encode())) > SQS_MAX_MESSAGE_BYTES
    ]
    if oversized:
        raise InvalidJobError(
            f"items are too large: a chunk message may be at most {SQS_MAX_MESSAGE_BYTES} bytes",
            oversized[:MAX_REPORTED_PROBLEMS],
        )

    digest = request_digest(items)
    job = NewJob(
        job_id=job_id,
        total_items=len(items),
        total_chunks=len(chunks),
        chunk_size=limits.chunk_size,
        request_digest=digest,
        created_at=iso(now),
        deadline_at=int(now + limits.deadline_seconds),
        expires_at=expires_at,
    )
    if not store.create_job(job):
        existing = store.get_job(job_id)
        if existing is None or existing.request_digest != digest:
            raise JobConflictError(job_id)
        return SubmitResponse(
            job_id=job_id,
            status=existing.status,
            total_items=existing.total_items,
            total_chunks=existing.total_chunks,
            created=False,
        )
    try:
        queue.send(bodies)
    except Exception as error:
        store.fail_job(
            job_id, reason=f"dispatch failed: {describe(error)}", now_iso=iso(clock()), from_status=JobStatus.RUNNING
        )
        raise
    return SubmitResponse(
        job_id=job_id, status=JobStatus.RUNNING, total_items=len(items), total_chunks=len(chunks), created=True
    )


# --- workers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChunkOutcome:
    """What processing one delivery of a chunk amounted to."""

    duplicate: bool
    aggregation_started: bool


def process_chunk(
    message: ChunkMessage,
    *,
    store: JobStore,
    trigger: AggregationTrigger,
    parallelism: int,
    deadline_seconds: int,
    claim_seconds: int,
    clock: Clock = time.time,
    processor: ChunkProcessor = summarize_chunk,
) -> ChunkOutcome:
    """Process one delivery of a chunk: count it once, and start aggregation if it completes the job."""
    duplicate = store.chunk_recorded(message.job_id, message.chunk_index)
    if not duplicate:
        result = processor(message.items, message.first_item, parallelism)
        duplicate = not store.record_chunk(
            message.job_id,
            message.chunk_index,
            result=result,
            item_count=len(message.items),
            now_iso=iso(clock()),
            expires_at=message.expires_at,
        )
    started = start_aggregation_if_complete(
        message.job_id,
        message.chunk_index,
        store=store,
        trigger=trigger,
        deadline_seconds=deadline_seconds,
        claim_seconds=claim_seconds,
        clock=clock,
    )
    return ChunkOutcome(duplicate=duplicate, aggregation_started=started)


def start_aggregation_if_complete(
    job_id: str,
    chunk_index: int,
    *,
    store: JobStore,
    trigger: AggregationTrigger,
    deadline_seconds: int,
    claim_seconds: int,
    clock: Clock = time.time,
) -> bool:
    """The fan-in: True when this delivery handed the job to the aggregator."""
    now = int(clock())
    attempt = store.try_start_aggregation(
        job_id, chunk_index, now=now, deadline_at=now + deadline_seconds, now_iso=iso(now)
    )
    if not attempt.started:
        job = attempt.job
        orphaned = (
            job is not None
            and job.status is JobStatus.AGGREGATING
            and job.aggregation_trigger == chunk_index
            and not job.aggregation_dispatched
        )
        if not (
            orphaned and store.reclaim_aggregation(job_id, chunk_index, now=now, claimed_before=now - claim_seconds)
        ):
            return False
    trigger(job_id)
    store.confirm_aggregation_dispatched(job_id)
    return True


def describe(error: BaseException) -> str:
    """A short, loggable account of a failure: the processor's own words for a poison item."""
    if isinstance(error, ItemRejectedError):
        return str(error)
    text = str(error)
    if len(text) > MAX_ERROR_TEXT:
        text = text[:MAX_ERROR_TEXT] + "..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def fail_chunk(
    message: ChunkMessage, error: BaseException, *, attempts: int, store: JobStore, clock: Clock = time.time
) -> bool:
    """Record that the chunk exhausted its retries and fail its job with the reason.

    False when another delivery completed the chunk meanwhile (nothing failed after all), or the
    job is gone or already aggregating.
    """
    reason = f"chunk {message.chunk_index} failed after {attempts} attempts: {describe(error)}"
    return store.record_chunk_failure(
        message.job_id,
        message.chunk_index,
        reason=reason,
        attempts=attempts,
        now_iso=iso(clock()),
        expires_at=message.expires_at,
    )


# --- aggregation ------------------------------------------------------------------------------


class AggregationOutcome(StrEnum):
    """What an aggregator invocation did."""

    SUCCEEDED = "SUCCEEDED"
    ALREADY_SUCCEEDED = "ALREADY_SUCCEEDED"
    NOT_AGGREGATING = "NOT_AGGREGATING"


def aggregate_job(
    job_id: str,
    *,
    store: JobStore,
    combiner: ResultCombiner = combine_summaries,
    clock: Clock = time.time,
) -> AggregationOutcome:
    """Combine every chunk's result into the job's result and mark it SUCCEEDED; idempotent."""
    job = store.get_job(job_id)
    if job is None:
        raise JobNotFoundError(job_id)
    if job.status is JobStatus.SUCCEEDED:
        return AggregationOutcome.ALREADY_SUCCEEDED
    if job.status is not JobStatus.AGGREGATING:
        return AggregationOutcome.NOT_AGGREGATING
    results = store.chunk_results(job_id)
    if len(results) != job.total_chunks:
        raise IncompleteJobError(f"job {job_id!r} has {len(results)} chunk results of {job.total_chunks}")
    result = combiner([chunk_result for _, chunk_result in results])
    if store.complete_job(job_id, result=result, now_iso=iso(clock())):
        return AggregationOutcome.SUCCEEDED
    current = store.get_job(job_id)
    if current is not None and current.status is JobStatus.SUCCEEDED:
        return AggregationOutcome.ALREADY_SUCCEEDED
    return AggregationOutcome.NOT_AGGREGATING


# --- the sweeper ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OverdueJob:
    """A job the sweeper failed, and why."""

    job_id: str
    reason: str


def sweep_overdue_jobs(store: JobStore, *, index_name: str, clock: Clock = time.time) -> list[OverdueJob]:
    """Fail every open job past its deadline, with a reason saying how far it got."""
    now = int(clock())
    failed: list[OverdueJob] = []
    for job_id in store.overdue_job_ids(index_name, now=now):
        job = store.get_job(job_id)
        if job is None or job.status not in (JobStatus.RUNNING, JobStatus.AGGREGATING) or job.deadline_at >= now:
            continue
        if job.status is JobStatus.RUNNING:
            reason = (
                f"deadline exceeded: {job.completed_chunks} of {job.total_chunks} chunks completed "
                "(look for the missing chunks in the work queue's DLQ)"
            )
        elif job.aggregation_dispatched:
            reason = "deadline exceeded while aggregating (look in the aggregator's on-failure queue)"
        else:
            reason = (
                f"deadline exceeded: all chunks completed but the aggregator was never started "
                f"(look for chunk {job.aggregation_trigger} in the work queue's DLQ)"
            )
        if store.fail_job(job_id, reason=reason, now_iso=iso(now), from_status=job.status, deadline_before=now):
            failed.append(OverdueJob(job_id=job_id, reason=reason))
    return failed


# --- status -----------------------------------------------------------------------------------


def job_status(job_id: str, *, store: JobStore) -> StatusResponse:
    """The job's progress, result or failure reason."""
    job = store.get_job(job_id)
    if job is None:
        raise JobNotFoundError(job_id)
    return StatusResponse.of(job)
