"""Powertools Logger and Metrics (EMF) shared by every handler.

Service name, namespace, log level and debug sampling come from the
``POWERTOOLS_*`` variables the building block sets. Metrics are written as EMF
log lines: no synchronous PutMetricData on the hot path. Tracing is Lambda's
active tracing alone (each invocation's initialization and invocation segments).
The X-Ray SDK is not imported: Powertools Tracer (aws_xray_sdk plus patching)
measured +65 ms CPU (+35%) over boto3 and this module in a fresh interpreter,
to add per-call subsegments for the AWS SDK calls.

Handlers use ``@observed(...)`` (or ``logger.inject_lambda_context`` and
``metrics.log_metrics`` directly), ``correlated(...)`` around each record of a
batch, and ``business_metric(...)`` for the numbers the dashboard charts.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from enum import StrEnum
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from serverless_patterns.lambdas.shared.snapstart import after_restore, restore_uniqueness

__all__ = [
    "API_REQUEST_ID",
    "REDACTED",
    "BusinessMetric",
    "CorrelationKey",
    "business_metric",
    "correlated",
    "logger",
    "metrics",
    "observed",
    "redact",
]

HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])

#: JMESPath of the API Gateway request id in a REST/HTTP API proxy event.
API_REQUEST_ID = correlation_paths.API_GATEWAY_REST

REDACTED = "***"
# Keys whose values never reach the logs, matched case-insensitively with '-' read as '_':
# request/response bodies and credentials. Any key containing one of the fragments is redacted too.
_REDACTED_KEYS = frozenset(
    {"body", "authorization", "cookie", "set_cookie", "x_api_key", "api_key", "apikey", "card_number", "cvv"}
)
_REDACTED_FRAGMENTS = ("password", "passwd", "secret", "token", "credential", "private_key")


class CorrelationKey(StrEnum):
    """The ids that follow one unit of work across functions; each is also the log key it is written under."""

    API_REQUEST_ID = "api_request_id"
    S3_KEY = "s3_key"
    JOB_ID = "job_id"
    ORDER_ID = "order_id"


class BusinessMetric(StrEnum):
    """Business metric names, one vocabulary for handlers, dashboard and alarms."""

    ITEMS_CREATED = "ItemsCreated"
    FILES_PROCESSED = "FilesProcessed"
    FILES_REJECTED = "FilesRejected"
    CHUNKS_COMPLETED = "ChunksCompleted"
    ORDERS_CONFIRMED = "OrdersConfirmed"
    PAYMENTS_DECLINED = "PaymentsDeclined"


def _is_sensitive(key: str) -> bool:
    normalized = key.lower().replace("-", "_")
    return normalized in _REDACTED_KEYS or any(fragment in normalized for fragment in _REDACTED_FRAGMENTS)


def redact(value: Any) -> Any:
    """``value`` with the values of sensitive keys (bodies, credentials) replaced, at any depth."""
    if isinstance(value, Mapping):
        return {
            key: REDACTED if isinstance(key, str) and _is_sensitive(key) else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


def _serialize(log: dict[str, Any]) -> str:
    """The last step before stdout: whatever a handler passes, bodies and secrets are not written."""
    return json.dumps(redact(log), default=str, separators=(",", ":"))


def _honour_powertools_level(target: Logger) -> None:
    """Let ``POWERTOOLS_LOG_LEVEL`` (plus sampling) decide when Lambda's log-level filter is more verbose.

    Powertools gives Lambda's application log level (``AWS_LAMBDA_LOG_LEVEL``) precedence. For sampled
    debug logs to reach CloudWatch, that filter must let DEBUG through; Powertools then logs at the
    intended level and switches a sampled share of invocations to DEBUG.
    """
    intended = os.environ.get("POWERTOOLS_LOG_LEVEL", "").upper()
    lambda_level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
    intended_number = logging.getLevelName(intended)
    lambda_number = logging.getLevelName(lambda_level)
    if isinstance(intended_number, int) and isinstance(lambda_number, int) and lambda_number < intended_number:
        target.initial_log_level = intended
        target.refresh_sample_rate_calculation()


logger = Logger(log_uncaught_exceptions=True, use_rfc3339=True, json_serializer=_serialize)
_honour_powertools_level(logger)
metrics = Metrics()
# SnapStart: each environment restored from the snapshot reseeds random and samples debug logs on its own.
after_restore(restore_uniqueness, logger.refresh_sample_rate_calculation)


def observed(*, correlation_id_path: str | None = None) -> Callable[[HandlerT], HandlerT]:
    """Structured logs with the Lambda context and a correlation id, EMF metrics with a cold-start metric.

    The event is never logged, whatever ``POWERTOOLS_LOGGER_LOG_EVENT`` says: it carries request
    bodies. Appended keys are cleared per invocation, so one request's ids never leak into the next.
    Put ``@warmup_aware`` above it so keep-warm pings skip both.
    """

    def decorate(handler: HandlerT) -> HandlerT:
        with_metrics = metrics.log_metrics(handler, capture_cold_start_metric=True)
        with_logs = logger.inject_lambda_context(
            with_metrics, correlation_id_path=correlation_id_path, log_event=False, clear_state=True
        )
        return cast(HandlerT, with_logs)

    return decorate


@contextlib.contextmanager
def correlated(key: CorrelationKey, value: str) -> Iterator[None]:
    """Log everything inside the block under ``key=value``, which is also the correlation id.

    For work that has its own id inside one invocation: a record of a batch (S3 key), a chunk of a
    job (job id), a workflow step (order id). The previous correlation id is restored on exit.
    """
    previous_id = logger.get_correlation_id()
    previous_value = logger.get_current_keys().get(str(key))
    logger.append_keys(**{str(key): value})
    logger.set_correlation_id(value)
    try:
        yield
    finally:
        if previous_value is None:
            logger.remove_keys([str(key)])
        else:
            logger.append_keys(**{str(key): previous_value})
        logger.set_correlation_id(previous_id)


def business_metric(name: BusinessMetric, value: float = 1, unit: MetricUnit = MetricUnit.Count) -> None:
    """Record a business metric (EMF, flushed by ``observed`` at the end of the invocation)."""
    metrics.add_metric(name=str(name), unit=unit, value=value)
