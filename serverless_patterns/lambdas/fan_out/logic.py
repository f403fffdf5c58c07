"""The job lifecycle after submission (``submission``): process a chunk, fail a chunk, aggregate, sweep, status.

Race-free fan-in, unlike the seed's ``allChunksComplete`` check, and without a hot item:

1. A chunk counts once: its result is stored by a conditional put in the same transaction that
   adds 1 to the counter of its *completion shard* (chunk ``i`` of a job with S shards counts in
   shard ``i % S``; the record and the counter share the shard's own partition, ``chunk_store``).
   A repeated delivery finds the record and counts nothing.
2. Whoever delivers a chunk then reads its shard. Once the shard has counted all its chunks, the
   delivery *closes* it: one transaction marks the shard closed (conditional on it being complete
   and not closed) and adds the shard's chunk count to the job's ``completed_chunks``, so exactly
   one delivery closes each shard and the job item takes S writes per job instead of one per chunk.
3. Every delivery of a chunk whose shard is closed tries ``completed_chunks = total_chunks AND
   status = RUNNING -> AGGREGATING``: a conditional update, so exactly one delivery ever wins,
   whatever the interleaving (the delivery that closes the last shard always tries after its
   close, so someone wins). Repeated deliveries try again, so a worker that crashed between any
   two of these steps is covered by the redelivery of its message.
4. The winner invokes the aggregator and confirms it on the job. If the winner dies in between,
   the redelivery of the winning chunk (and only that chunk) re-invokes it once the claim is older
   than a worker's timeout. Without crashes the aggregator is invoked exactly once; with one it
   may run twice, and it is idempotent (its final write is conditional on AGGREGATING).

A job with S = 0 (the jobs of 0.2, or ``completion_shards=0``) counts each chunk on the job item in
step 1 and goes straight to step 3: simpler, but every chunk writes the one job item, which
DynamoDB allows about 1,000 times a second (``python -m serverless_patterns.capacity`` shows where
that binds).

A chunk that exhausted its retries fails its job (``failed_chunks``, ``failure_reason``) and, with
shards, is noted on its shard. When a redrive completes it, it leaves ``failed_chunks`` (in the
counting transaction without shards; with shards, by the delivery that completes it, which finds
it noted on its shard); if the job stays FAILED for another chunk, its ``failure_reason`` is then
set to that chunk's reason (conditional on that chunk still being failed), so the failure fields
name only failed chunks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from serverless_patterns.lambdas.fan_out import contract
from serverless_patterns.lambdas.fan_out.errors import (
    ChunkRejectedError,
    IncompleteJobError,
    ItemRejectedError,
    JobNotFoundError,
)
from serverless_patterns.lambdas.fan_out.models import (
    ChunkMessage,
    JobRecord,
    JobStatus,
    StatusResponse,
)
from serverless_patterns.lambdas.fan_out.processing import (
    ChunkProcessor,
    ResultCombiner,
    combine_summaries,
    summarize_chunk,
)

if TYPE_CHECKING:
    from serverless_patterns.lambdas.fan_out.data_access import JobStore

MAX_ERROR_TEXT = 300

Clock = Callable[[], float]
AggregationTrigger = Callable[[str], None]
"""Starts the aggregator for a job id (an async Lambda invoke in production)."""


def iso(epoch: float) -> str:
    """UTC ISO-8601 with milliseconds: what the job records show."""
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")


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
    shards = message.completion_shards
    duplicate = store.chunk_recorded(message.job_id, message.chunk_index, shards)
    if not duplicate:
        result = processor(message.items, message.first_item, parallelism)
        duplicate = not store.record_chunk(
            message.job_id,
            message.chunk_index,
            result=result,
            item_count=len(message.items),
            now_iso=iso(clock()),
            expires_at=message.expires_at,
            shards=shards,
        )
    repaired_job: list[JobRecord] = []
    if shards and not _close_shard(message, store=store, clock=clock, repaired=repaired_job.append):
        started = False
    else:
        started = start_aggregation_if_complete(
            message.job_id,
            message.chunk_index,
            store=store,
            trigger=trigger,
            deadline_seconds=deadline_seconds,
            claim_seconds=claim_seconds,
            clock=clock,
            # Without shards, the counting transaction cleared the chunk from the failed ones: look.
            seen=repaired_job.append if not (shards or duplicate) else None,
        )
    if repaired_job and repaired_job[0].status is JobStatus.FAILED:
        refresh_failure_reason(repaired_job[0], store=store, clock=clock)
    return ChunkOutcome(duplicate=duplicate, aggregation_started=started)


def _close_shard(
    message: ChunkMessage, *, store: JobStore, clock: Clock, repaired: Callable[[JobRecord], None]
) -> bool:
    """Step 2 of the fan-in for the chunk's shard: True once the shard is closed (by anyone).

    Also clears the chunk from the job's failed chunks if it had exhausted its retries before (a
    redrive completed it): ``repaired`` is shown the job as it is then.
    """
    shard = contract.completion_shard(message.chunk_index, message.completion_shards)
    state = store.shard_state(message.job_id, shard)
    if state is None:
        raise ChunkRejectedError(f"job {message.job_id!r} has no completion shard {shard}")
    if message.chunk_index in state.failed_chunks:
        job = store.clear_chunk_failure(
            message.job_id, message.chunk_index, shards=message.completion_shards, now_iso=iso(clock())
        )
        if job is not None:
            repaired(job)
    if state.closed:
        return True
    if not state.complete:
        return False
    # Whoever wins the close, the shard is closed now: the loser goes on to try the job's transition too.
    store.close_shard(message.job_id, shard, chunks=state.expected, now_iso=iso(clock()))
    return True


def refresh_failure_reason(job: JobRecord, *, store: JobStore, clock: Clock = time.time) -> None:
    """After a failed chunk was redriven and completed: make the job's reason name a chunk still failed."""
    for chunk_index in job.failed_chunks:
        reason = store.chunk_failure_reason(job.job_id, chunk_index)
        if reason is not None and store.set_failure_reason(
            job.job_id, reason=reason, chunk_index=chunk_index, now_iso=iso(clock())
        ):
            return


def start_aggregation_if_complete(
    job_id: str,
    chunk_index: int,
    *,
    store: JobStore,
    trigger: AggregationTrigger,
    deadline_seconds: int,
    claim_seconds: int,
    clock: Clock = time.time,
    seen: Callable[[JobRecord], None] | None = None,
) -> bool:
    """The fan-in: True when this delivery handed the job to the aggregator.

    ``seen`` is shown the job as it was when it could not start aggregating (e.g. still FAILED).
    """
    now = int(clock())
    attempt = store.try_start_aggregation(
        job_id, chunk_index, now=now, deadline_at=now + deadline_seconds, now_iso=iso(now)
    )
    if not attempt.started:
        job = attempt.job
        if job is not None and seen is not None:
            seen(job)
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
        shards=message.completion_shards,
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
    results = store.chunk_results(job_id, job.completion_shards)
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
        if job.status is JobStatus.RUNNING and job.undispatched_chunks > 0:
            queued = f"chunks 0..{job.dispatched_chunks - 1}" if job.dispatched_chunks else "none"
            reason = (
                f"deadline exceeded: {job.undispatched_chunks} of {job.total_chunks} chunks were never queued "
                f"(the master stopped after queuing {queued} and the job was not resubmitted); "
                f"{job.completed_chunks} completed. Submit the items again under a new job id"
            )
        elif job.status is JobStatus.RUNNING:
            reason = (
                f"deadline exceeded: {job.completed_chunks} of {job.total_chunks} chunks completed; all were queued, "
                f"so the other {job.total_chunks - job.completed_chunks} are in flight or in the work queue's DLQ"
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
