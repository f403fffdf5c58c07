"""Submitting a job: validate it, record it, queue its chunks, and resume a dispatch that stopped.

Dispatch is resumable. The master queues a job's chunks in order, 10 per SendMessageBatch, and
after each batch raises the job's ``dispatched_chunks`` watermark: chunks below it are queued,
chunks from it on may never have been. While queuing, the master holds a dispatch lease
(``dispatch_lease_until``, the end of its own invocation), released when the last batch is
queued or when queuing fails. A master that dies between two batches (a timeout, a crash, SQS
refusing) leaves the job RUNNING with a watermark below ``total_chunks`` and an expired lease.

Resubmitting the job (same ``job_id``, same items) resumes it: the resubmission claims the
lease (one conditional update, so one claimant wins), re-plans the chunks from the items it
carries, the same way (the job's own ``chunk_size``), and queues exactly those from the
watermark on. A batch queued just before a crash, whose watermark write was lost, is queued
again: harmless, since a chunk is counted once whatever its deliveries (``logic``'s docstring).

Why the master resumes and the sweeper does not: only the submission holds the items. Inline
items exist nowhere else, and re-reading an S3 source from the sweeper would give the sweeper
read access to the input bucket and send access to the queue, a second dispatcher racing the
client's own retry, for jobs whose caller may have given up. A synchronous caller always learns
that the master failed (an error or a timeout) and retries with its job id; the error names the
job id and how far dispatch got. The sweeper stays a detector with table access only: at the
deadline it fails a job that was never fully queued saying exactly that ("n of m chunks were
never queued"), and one that was, saying where its missing chunks are.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from serverless_patterns.lambdas.fan_out.errors import DispatchFailedError, InvalidJobError, JobConflictError
from serverless_patterns.lambdas.fan_out.logic import Clock, describe, iso
from serverless_patterns.lambdas.fan_out.models import (
    ChunkMessage,
    JobRecord,
    JobRequest,
    JobStatus,
    JsonObject,
    NewJob,
    SubmitResponse,
)

if TYPE_CHECKING:
    from serverless_patterns.lambdas.fan_out.data_access import JobStore
    from serverless_patterns.lambdas.fan_out.services import ChunkQueue, ItemsObjectReader

SQS_MAX_MESSAGE_BYTES = 262_144
MAX_REPORTED_PROBLEMS = 10
DEFAULT_LEASE_SECONDS = 900
"""A dispatcher's lease when it does not know its own remaining time: Lambda's longest timeout."""


@dataclass(frozen=True)
class JobLimits:
    """The master's limits, from its settings."""

    chunk_size: int
    max_items: int
    max_source_bytes: int
    deadline_seconds: int
    retention_seconds: int
    completion_shards: int = 0


def shards_for(total_chunks: int, completion_shards: int) -> int:
    """The completion shards of a job of ``total_chunks``: the configured number, at most one per chunk."""
    return min(completion_shards, total_chunks)


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


def plan_chunks(
    job_id: str, items: Sequence[JsonObject], *, chunk_size: int, expires_at: int, completion_shards: int = 0
) -> list[ChunkMessage]:
    """The job's items split into chunk messages of ``chunk_size`` (the last may be smaller)."""
    return [
        ChunkMessage(
            job_id=job_id,
            chunk_index=index,
            first_item=start,
            expires_at=expires_at,
            items=list(items[start : start + chunk_size]),
            completion_shards=completion_shards,
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
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    clock: Clock = time.time,
) -> SubmitResponse:
    """Validate the job, record it, queue its chunks; or resume the dispatch of the same job.

    Nothing is recorded for a refused job. A queueing failure leaves the job RUNNING with its
    watermark and raises ``DispatchFailedError`` naming the job: submitting it again resumes.
    ``lease_seconds`` is how long this invocation may still run (its dispatch lease).
    """
    items = _items(request, reader, limits)
    now = clock()
    expires_at = int(now + limits.retention_seconds)
    shards = shards_for(math.ceil(len(items) / limits.chunk_size), limits.completion_shards)
    bodies = _chunk_bodies(job_id, items, chunk_size=limits.chunk_size, expires_at=expires_at, completion_shards=shards)
    digest = request_digest(items)
    job = NewJob(
        job_id=job_id,
        total_items=len(items),
        total_chunks=len(bodies),
        completion_shards=shards,
        chunk_size=limits.chunk_size,
        request_digest=digest,
        created_at=iso(now),
        deadline_at=int(now + limits.deadline_seconds),
        expires_at=expires_at,
        dispatch_lease_until=math.ceil(now + lease_seconds),
    )
    if store.create_job(job):
        _dispatch(job_id, bodies, start=0, store=store, queue=queue, clock=clock)
        return SubmitResponse(
            job_id=job_id,
            status=JobStatus.RUNNING,
            total_items=len(items),
            total_chunks=len(bodies),
            created=True,
            queued_chunks=len(bodies),
        )
    existing = store.get_job(job_id)
    if existing is None or existing.request_digest != digest:
        raise JobConflictError(job_id)
    queued = _resume(existing, items, store=store, queue=queue, lease_seconds=lease_seconds, clock=clock)
    return SubmitResponse(
        job_id=job_id,
        status=existing.status,
        total_items=existing.total_items,
        total_chunks=existing.total_chunks,
        created=False,
        queued_chunks=queued,
    )


def _items(request: JobRequest, reader: ItemsObjectReader, limits: JobLimits) -> list[JsonObject]:
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
    return items


def _chunk_bodies(
    job_id: str, items: Sequence[JsonObject], *, chunk_size: int, expires_at: int, completion_shards: int
) -> list[str]:
    """The queue messages of the job's chunks, in order; ``InvalidJobError`` if one is too large for SQS."""
    chunks = plan_chunks(
        job_id, items, chunk_size=chunk_size, expires_at=expires_at, completion_shards=completion_shards
    )
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
    return bodies


def _resume(
    job: JobRecord,
    items: Sequence[JsonObject],
    *,
    store: JobStore,
    queue: ChunkQueue,
    lease_seconds: float,
    clock: Clock,
) -> int:
    """Queue the chunks of ``job`` that were never queued, if its dispatcher is gone; how many."""
    if job.status is not JobStatus.RUNNING or job.undispatched_chunks <= 0:
        return 0
    now = clock()
    if not store.claim_dispatch(
        job.job_id, dispatched=job.dispatched_chunks, now=int(now), lease_until=math.ceil(now + lease_seconds)
    ):
        return 0  # its dispatcher is still at work, or another resubmission took over
    chunk_size = job.chunk_size or math.ceil(job.total_items / job.total_chunks)
    bodies = _chunk_bodies(
        job.job_id,
        items,
        chunk_size=chunk_size,
        expires_at=job.expires_at or int(now),
        completion_shards=job.completion_shards,
    )
    if len(bodies) != job.total_chunks:  # the same digest cannot plan differently; refuse to guess
        store.release_dispatch(job.job_id)
        raise JobConflictError(job.job_id)
    _dispatch(job.job_id, bodies, start=job.dispatched_chunks, store=store, queue=queue, clock=clock)
    return len(bodies) - job.dispatched_chunks


def _dispatch(
    job_id: str, bodies: Sequence[str], *, start: int, store: JobStore, queue: ChunkQueue, clock: Clock
) -> None:
    """Queue ``bodies[start:]`` in order, raising the job's watermark after each batch."""
    total = len(bodies)

    def queued(count: int) -> None:
        store.advance_dispatch(job_id, start + count, now_iso=iso(clock()), done=start + count == total)

    try:
        queue.send(bodies[start:], sent=queued)
    except Exception as error:
        dispatched = store.get_job(job_id)
        with contextlib.suppress(Exception):
            store.release_dispatch(job_id)
        done = dispatched.dispatched_chunks if dispatched else start
        raise DispatchFailedError(
            f"job {job_id!r}: {done} of {total} chunks queued, then {describe(error)}; "
            "submit the job again with the same job_id and items to queue the rest"
        ) from error
