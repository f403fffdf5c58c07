"""What EventPipeline shows operations: its alarms and its dashboard widgets (``EventPipeline`` delegates here)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from aws_cdk import Duration, aws_cloudwatch as cloudwatch

from serverless_patterns.config import PatternDefaults
from serverless_patterns.constructs.alarms import threshold_alarm
from serverless_patterns.constructs.widgets import table_widget
from serverless_patterns.lambdas.event_pipeline.layout import Metric

if TYPE_CHECKING:
    from serverless_patterns.constructs.event_pipeline import EventPipeline

OUTCOME_METRICS = (Metric.UPLOADS_ACCEPTED, Metric.FILES_PROCESSED, Metric.FILES_REJECTED, Metric.DUPLICATES_SKIPPED)


def dashboard_widgets(pipeline: EventPipeline, period: Duration) -> Sequence[cloudwatch.IWidget]:
    """Outcomes, queue depths, oldest message age, retries, the idempotency table, both functions.

    :param pipeline: the pipeline shown.
    :param period: the period of the queue and table metrics (the thresholds' period).
    """
    validate, process = pipeline.validate_function.function, pipeline.process_function.function
    return [
        cloudwatch.GraphWidget(
            title="Pipeline outcomes", left=[pipeline.metric_outcome(name) for name in OUTCOME_METRICS], width=6
        ),
        cloudwatch.GraphWidget(
            title="Pipeline queue",
            left=[
                pipeline.queue.metric_approximate_number_of_messages_visible(period=period),
                pipeline.queue.metric_approximate_number_of_messages_not_visible(period=period),
            ],
            right=[pipeline.metric_dead_letters()],
            width=6,
        ),
        cloudwatch.GraphWidget(
            title="Pipeline oldest message (s)", left=[pipeline.metric_oldest_message_age()], width=6
        ),
        cloudwatch.GraphWidget(
            title="Pipeline functions",
            left=[validate.metric_errors(), process.metric_errors()],
            right=[
                pipeline.metric_outcome(Metric.PROCESSING_RETRIED),
                pipeline.metric_outcome(Metric.PROCESSING_DEFERRED),
            ],
            width=6,
        ),
        table_widget(pipeline.idempotency_table, title="Pipeline idempotency table", period=period),
        *pipeline.validate_function.dashboard_widgets(),
        *pipeline.process_function.dashboard_widgets(),
    ]


def create_alarms(pipeline: EventPipeline, defaults: PatternDefaults) -> list[cloudwatch.Alarm]:
    """The pipeline's own alarms, its children: DLQ not empty and oldest message too old.

    :param pipeline: the pipeline (the alarms' scope).
    :param defaults: the thresholds.
    """
    thresholds = defaults.thresholds
    path = pipeline.node.path
    return [
        threshold_alarm(
            pipeline,
            "DeadLettersAlarm",
            pipeline.metric_dead_letters(),
            thresholds.dlq_visible_messages,
            f"{path}: poison messages in the DLQ (fix, then redrive with serverless_patterns.ops)",
            thresholds,
        ),
        threshold_alarm(
            pipeline,
            "OldestMessageAlarm",
            pipeline.metric_oldest_message_age(),
            thresholds.queue_oldest_message_seconds,
            f"{path}: uploads wait too long for processing",
            thresholds,
        ),
    ]
