"""SQS batch of validated uploads -> process each once -> ``processed/{key}.json``.

Partial batch responses (``shared.sqs_batch``): only the records that failed go back to the
queue, each hidden for a backoff that grows with its receive count (``ChangeMessageVisibility``)
instead of the fixed visibility timeout; after ``maxReceiveCount`` receives SQS moves it to the
DLQ. Processing is idempotent per upload version (Powertools idempotency on DynamoDB, plus the
version recorded on each result), so a redelivered message produces no second result.

Bring your own processor: ``handler = build_handler(my_processor)`` in your own module, where
``my_processor(message, stream) -> summary`` (see ``processing.Processor``).
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_patterns.lambdas.event_pipeline import data_access
from serverless_patterns.lambdas.event_pipeline.errors import RetryLaterError
from serverless_patterns.lambdas.event_pipeline.layout import DEFERRALS_ATTRIBUTE, IDEMPOTENCY_KEY_PREFIX, Metric
from serverless_patterns.lambdas.event_pipeline.models import Outcome, PipelineMessage, ProcessSettings
from serverless_patterns.lambdas.event_pipeline.processing import (
    Processor,
    RetryLaterDecision,
    RetryPolicy,
    decide_retry_later,
    process_message,
    requeue_delay,
    retry_later_delay,
    summarise_upload,
)
from serverless_patterns.lambdas.shared.circuit_breaker_contract import DependencyUnavailableError
from serverless_patterns.lambdas.shared.observability import CorrelationKey, correlated, logger, metrics, observed
from serverless_patterns.lambdas.shared.settings import load_settings
from serverless_patterns.lambdas.shared.shapes import ShapeError
from serverless_patterns.lambdas.shared.sqs_batch import SQSRecord, process_sqs_batch
from serverless_patterns.lambdas.shared.warmup import warmup_aware

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]
DEFERRED = "deferred"
OUTCOME_METRICS = {
    Outcome.PROCESSED: Metric.FILES_PROCESSED,
    Outcome.PARKED: Metric.FILES_REJECTED,
    Outcome.DUPLICATE: Metric.DUPLICATES_SKIPPED,
    Outcome.SUPERSEDED: Metric.UPLOADS_SUPERSEDED,
}
# Not the message's fault: held back and re-queued, never counted as a poison message. Processors
# raise RetryLaterError themselves, or let a circuit breaker's CircuitOpenError through.
RETRY_LATER: tuple[type[Exception], ...] = (RetryLaterError, DependencyUnavailableError)
_jitter = random.Random()


@dataclass(frozen=True)
class Runtime:
    """What the handler builds once per container: settings, retry policy, idempotent processing."""

    settings: ProcessSettings
    policy: RetryPolicy
    idempotency: IdempotencyConfig
    process_once: Callable[..., str]


def _replayed(response: Any, idempotent_data: DataRecord) -> str:
    """A result replayed from the idempotency store means this delivery is a duplicate."""
    return Outcome.DUPLICATE.value


@functools.cache
def runtime() -> Runtime:
    """Built on the first message (not at import: no AWS client on the warm-up path)."""
    settings = load_settings(ProcessSettings)
    idempotency = IdempotencyConfig(
        expires_after_seconds=settings.idempotency_seconds,
        raise_on_no_idempotency_key=True,
        response_hook=_replayed,
    )
    persistence = DynamoDBPersistenceLayer(table_name=settings.idempotency_table)

    def process(*, upload: dict[str, Any], message: PipelineMessage, processor: Processor) -> str:
        return process_message(message, processor=processor, results_bucket=settings.results_bucket).value

    process_once: Callable[..., str] = idempotent_function(
        process,
        data_keyword_argument="upload",
        persistence_store=persistence,
        config=idempotency,
        key_prefix=IDEMPOTENCY_KEY_PREFIX,
    )

    policy = RetryPolicy(
        base_seconds=settings.retry_base_seconds,
        max_seconds=settings.retry_max_seconds,
        max_receive_count=settings.max_receive_count,
        max_deferrals=settings.max_deferrals,
    )
    return Runtime(settings=settings, policy=policy, idempotency=idempotency, process_once=process_once)


def idempotency_data(message: PipelineMessage) -> dict[str, Any]:
    """What the idempotency key hashes: the upload's identity in its JSON form (camelCase).

    Passed as a dict: Powertools converts only pydantic models and dataclasses, not a ``Shape``,
    and these are the names the keys were hashed with before (other names would let a
    redelivery after a deployment through).
    """
    return message.identity().model_dump(mode="json")


def handle_record(record: SQSRecord, processor: Processor, lambda_context: LambdaContext) -> str:
    """Process one queue record; raising leaves it on the queue (reported as a batch item failure).

    A failed record is hidden for its backoff, but never for less than this invocation's remaining
    time: it must not reach another poller while this batch, still running, holds it.
    """
    current = runtime()
    receive_count = int(record.attributes.approximate_receive_count or "1")
    floor = math.ceil(lambda_context.get_remaining_time_in_millis() / 1000)
    with logger.append_context_keys(message_id=record.message_id, receive_count=receive_count):
        try:
            message = PipelineMessage.model_validate_json(record.body)
        except ShapeError:
            logger.error("Not a pipeline message: retried, then kept in the DLQ")
            _hold_back(record, max(floor, current.policy.backoff(receive_count, _jitter)), current)
            raise
        with correlated(CorrelationKey.S3_KEY, message.key), logger.append_context_keys(version_id=message.version_id):
            try:
                outcome = Outcome(
                    current.process_once(upload=idempotency_data(message), message=message, processor=processor)
                )
            except RETRY_LATER as error:
                return _defer(record, error, receive_count, floor, current)
            except Exception:
                logger.exception("Processing failed: retried after a backoff")
                metrics.add_metric(name=Metric.PROCESSING_RETRIED, unit=MetricUnit.Count, value=1)
                _hold_back(record, max(floor, current.policy.backoff(receive_count, _jitter)), current)
                raise
            logger.info("Upload processed", extra={"outcome": outcome.value})
    metrics.add_metric(name=OUTCOME_METRICS[outcome], unit=MetricUnit.Count, value=1)
    return outcome.value


def _defer(record: SQSRecord, error: Exception, receive_count: int, floor: int, current: Runtime) -> str:
    retry_after_seconds: float | None = getattr(error, "retry_after_seconds", None)
    attribute = record.message_attributes[DEFERRALS_ATTRIBUTE]
    deferrals = int(attribute.string_value or "0") if attribute else 0
    delay = retry_later_delay(retry_after_seconds, receive_count, current.policy, _jitter)
    decision = decide_retry_later(receive_count, deferrals, current.policy)
    logger.warning("Dependency unavailable", extra={"decision": decision.value, "delay": delay, "reason": str(error)})
    metrics.add_metric(name=Metric.PROCESSING_DEFERRED, unit=MetricUnit.Count, value=1)
    if decision is RetryLaterDecision.REQUEUE:
        data_access.requeue(
            current.settings.queue_url, record.body, delay_seconds=requeue_delay(delay), deferrals=deferrals + 1
        )
        return DEFERRED
    if decision is RetryLaterDecision.HOLD:
        _hold_back(record, max(floor, delay), current)
    raise error


def _hold_back(record: SQSRecord, seconds: int, current: Runtime) -> None:
    try:
        data_access.hold_back(current.settings.queue_url, record.receipt_handle, seconds)
    except Exception:  # the queue's own visibility timeout still applies: log, keep the original error
        logger.exception("Could not set the retry backoff")


def build_handler(processor: Processor) -> LambdaHandler:
    """A Lambda handler for the processing queue that runs ``processor`` on each upload."""

    @warmup_aware
    @observed()  # each record is logged under its upload's key (``s3_key``), the pipeline's correlation id
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        runtime().idempotency.register_lambda_context(context)
        response = process_sqs_batch(
            event, lambda record: handle_record(record, processor, context), raise_on_entire_batch_failure=False
        )
        return dict(response)

    return cast(LambdaHandler, handler)


handler = build_handler(summarise_upload)
