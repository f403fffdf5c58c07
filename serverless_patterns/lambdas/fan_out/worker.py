"""The worker: one SQS record per chunk, processed with partial batch responses.

A failed chunk goes back to the queue; SQS redelivers it up to the queue's maxReceiveCount and
then moves it to the DLQ. On the last attempt the worker records the failure first, so the job
is FAILED with the reason by the time the chunk lands in the DLQ.

``build_handler(chunk_processor)`` is the worker with another chunk processor (your own code:
``lambdas.fan_out.custom.build_worker_handler``); ``handler`` is the built-in one, which
summarises numeric ``value`` fields (``processing.summarize_chunk``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_patterns.lambdas.fan_out import contract, data_access, logic, services
from serverless_patterns.lambdas.fan_out.models import ChunkMessage, WorkerSettings
from serverless_patterns.lambdas.fan_out.processing import ChunkProcessor, summarize_chunk
from serverless_patterns.lambdas.shared.observability import CorrelationKey, correlated, logger, metrics, observed
from serverless_patterns.lambdas.shared.settings import load_settings
from serverless_patterns.lambdas.shared.sqs_batch import PartialBatchResponse, SQSRecord, process_sqs_batch
from serverless_patterns.lambdas.shared.warmup import warmup_aware

LambdaHandler = Callable[[dict[str, Any], LambdaContext], PartialBatchResponse]


def _count(name: str) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


def process_record(record: SQSRecord, chunk_processor: ChunkProcessor = summarize_chunk) -> None:
    """Process one chunk delivery with ``chunk_processor``; raising marks the record failed (SQS retries it)."""
    settings = load_settings(WorkerSettings)
    message = ChunkMessage.model_validate_json(record.body)
    with correlated(CorrelationKey.JOB_ID, message.job_id):
        logger.append_keys(chunk_index=message.chunk_index)
        try:
            _process(message, record, settings, chunk_processor)
        finally:
            logger.remove_keys(["chunk_index"])


def _process(message: ChunkMessage, record: SQSRecord, settings: WorkerSettings, chunk: ChunkProcessor) -> None:
    store = data_access.job_store(settings.table_name)
    try:
        outcome = logic.process_chunk(
            message,
            store=store,
            processor=chunk,
            trigger=services.aggregator_invoker(settings.aggregator_function),
            parallelism=settings.parallelism,
            deadline_seconds=settings.job_deadline_seconds,
            claim_seconds=settings.aggregation_claim_seconds,
        )
    except Exception as error:
        attempts = int(record.attributes.approximate_receive_count)
        final = attempts >= settings.max_receive_count
        _count(contract.METRIC_CHUNK_ATTEMPTS_FAILED)
        logger.warning(
            "chunk attempt failed",
            extra={"attempts": attempts, "final_attempt": final, "reason": logic.describe(error)},
        )
        if final and logic.fail_chunk(message, error, attempts=attempts, store=store):
            _count(contract.METRIC_CHUNKS_FAILED)
            logger.error("chunk exhausted its retries; job failed", extra={"reason": logic.describe(error)})
        raise
    _count(contract.METRIC_DUPLICATE_DELIVERIES if outcome.duplicate else contract.METRIC_CHUNKS_COMPLETED)
    if outcome.aggregation_started:
        _count(contract.METRIC_AGGREGATIONS_STARTED)
        logger.info("last chunk completed; aggregation started")


def build_handler(chunk_processor: ChunkProcessor) -> LambdaHandler:
    """A worker handler that runs ``chunk_processor`` on each chunk, with every guarantee of the pattern's."""

    def record_handler(record: SQSRecord) -> None:
        process_record(record, chunk_processor)

    @warmup_aware
    @observed()
    def handler(event: dict[str, Any], context: LambdaContext) -> PartialBatchResponse:
        """Process a batch of chunk deliveries; only the failed ones are returned to the queue."""
        return process_sqs_batch(event, record_handler)

    return cast(LambdaHandler, handler)


handler = build_handler(summarize_chunk)
