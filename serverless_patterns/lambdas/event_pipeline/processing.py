"""Processing one validated upload, and what happens to its message when that fails.

Where a message ends:
- processed: the processor's summary is written to ``processed/{key}.json``;
- parked: the content turned out invalid (``InvalidContentError``) or the upload was deleted
  meanwhile: ``rejected/{key}.json`` says why, and the message is done;
- duplicate / superseded: the record for this version (or a newer one) exists: nothing is written;
- retried: any other error leaves the message on the queue, hidden for a backoff that grows with
  its receive count, until ``maxReceiveCount`` moves it to the DLQ (a poison message);
- deferred: a dependency is down (``RetryLaterError``, or the circuit breaker's
  ``DependencyUnavailableError``/``CircuitOpenError``): held back like a retry, but re-queued
  as a fresh message instead of being dead-lettered, up to ``max_deferrals`` times.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from serverless_patterns.lambdas.event_pipeline import data_access, records
from serverless_patterns.lambdas.event_pipeline.enrichment import enrich, enrichment_enabled
from serverless_patterns.lambdas.event_pipeline.errors import InvalidContentError, ObjectVanishedError
from serverless_patterns.lambdas.event_pipeline.formats import ByteStream, summarise
from serverless_patterns.lambdas.event_pipeline.layout import (
    ENRICHMENT_FIELD,
    MAX_DELAY_SECONDS,
    MAX_VISIBILITY_SECONDS,
    PROCESSED_PREFIX,
    STATUS_PROCESSED,
    record_key,
)
from serverless_patterns.lambdas.event_pipeline.models import (
    Outcome,
    PipelineMessage,
    Rejection,
    RejectionCode,
    ResultRecord,
    SourceRef,
)
from serverless_patterns.lambdas.shared.observability import logger

Processor = Callable[[PipelineMessage, ByteStream], Mapping[str, Any]]
"""A processor reads one upload as a stream and returns the JSON-ready summary to record.

It raises ``InvalidContentError`` for content it cannot accept (the upload is parked with the
message as its reason) and ``RetryLaterError`` (or lets a ``CircuitOpenError`` through) when a
dependency is unavailable.
"""


def summarise_upload(message: PipelineMessage, stream: ByteStream) -> Mapping[str, Any]:
    """The default processor: row count, columns and per-field statistics, in one streaming pass.

    With an enrichment service configured, its answer about the upload is added as ``enrichment``;
    it is asked first, so while it is down (or its breaker open) no upload is read in vain.
    """
    enrichment = enrich(message) if enrichment_enabled() else None
    summary = summarise(message.format, stream)
    if enrichment is not None:
        summary[ENRICHMENT_FIELD] = enrichment
    return summary


def source_of(message: PipelineMessage) -> SourceRef:
    """The upload a message is about, as records name it."""
    return SourceRef(
        bucket=message.bucket,
        key=message.key,
        version_id=message.version_id,
        etag=message.etag,
        size=message.size,
        sequencer=message.sequencer,
    )


def process_message(message: PipelineMessage, *, processor: Processor, results_bucket: str) -> Outcome:
    """Run ``processor`` over the upload once and record the result (see the module docstring)."""
    source = source_of(message)
    result_key = record_key(PROCESSED_PREFIX, message.key)
    existing = records.existing_record(results_bucket, result_key, source)
    if existing is not records.Existing.NOTHING:
        if existing is records.Existing.SAME_VERSION:
            data_access.tag_upload(source, STATUS_PROCESSED)
            return Outcome.DUPLICATE
        return Outcome.SUPERSEDED
    try:
        with data_access.open_upload(source) as stream:
            summary = dict(processor(message, stream))
    except (InvalidContentError, ObjectVanishedError) as error:
        code = RejectionCode.MALFORMED if isinstance(error, InvalidContentError) else RejectionCode.VANISHED
        records.park(
            source,
            Rejection(code=code, detail=str(error)),
            results_bucket=results_bucket,
            stage="process",
            upload_request_id=message.upload_request_id,
        )
        return Outcome.PARKED
    records.write_record(
        results_bucket,
        result_key,
        ResultRecord(source=source, summary=summary, upload_request_id=message.upload_request_id),
    )
    if not data_access.tag_upload(source, STATUS_PROCESSED):
        logger.warning("Upload not tagged (gone, or ten tags already): the lifecycle rules will not expire it")
    return Outcome.PROCESSED


@dataclass(frozen=True)
class RetryPolicy:
    """How long a failed message waits, and how long an outage may defer it."""

    base_seconds: int
    max_seconds: int
    max_receive_count: int
    max_deferrals: int

    def backoff(self, receive_count: int, rng: random.Random) -> int:
        """``base * 2**(receives - 1)`` capped at ``max``, with equal jitter (never below half).

        Jitter keeps the messages that failed together in one outage from all coming back in
        the same second.
        """
        growth = 1 << min(max(receive_count - 1, 0), 30)
        ceiling = min(self.max_seconds, self.base_seconds * growth, MAX_VISIBILITY_SECONDS)
        return ceiling - rng.randint(0, ceiling // 2)


class RetryLaterDecision(StrEnum):
    """What to do with a message whose dependency is unavailable."""

    HOLD = "hold"  # hide it for the backoff; it is not near its maxReceiveCount yet
    REQUEUE = "requeue"  # its next failure would dead-letter it: queue a fresh copy instead
    GIVE_UP = "give_up"  # deferred too often: let it fail on to the DLQ, where it is kept


def decide_retry_later(receive_count: int, deferrals: int, policy: RetryPolicy) -> RetryLaterDecision:
    """Hold while receives remain; on the last one re-queue, until ``max_deferrals`` is used up."""
    if receive_count < policy.max_receive_count:
        return RetryLaterDecision.HOLD
    if deferrals < policy.max_deferrals:
        return RetryLaterDecision.REQUEUE
    return RetryLaterDecision.GIVE_UP


def retry_later_delay(
    retry_after_seconds: float | None, receive_count: int, policy: RetryPolicy, rng: random.Random
) -> int:
    """The dependency's own hint (e.g. a breaker's remaining cooldown) if given, else the backoff."""
    if retry_after_seconds is not None:
        return max(1, min(int(retry_after_seconds + 0.999), policy.max_seconds, MAX_VISIBILITY_SECONDS))
    return policy.backoff(receive_count, rng)


def requeue_delay(seconds: int) -> int:
    """SQS delays a new message by at most 15 minutes."""
    return min(seconds, MAX_DELAY_SECONDS)
