"""What FanOut shows operations: its alarms and its dashboard widgets (``FanOut`` delegates here)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from aws_cdk import Duration, aws_cloudwatch as cloudwatch

from serverless_patterns.config import PatternDefaults
from serverless_patterns.constructs.alarms import threshold_alarm
from serverless_patterns.constructs.widgets import table_widget
from serverless_patterns.lambdas.fan_out import contract

if TYPE_CHECKING:
    from serverless_patterns.constructs.fan_out import FanOut


def dashboard_widgets(fan_out: FanOut, defaults: PatternDefaults) -> Sequence[cloudwatch.IWidget]:
    """Jobs, chunks, the work queue and its DLQ, the workers' concurrency, the jobs table, every function.

    :param fan_out: the pattern shown.
    :param defaults: the thresholds (their period is the jobs table's).
    """
    period = Duration.seconds(defaults.thresholds.period_seconds)
    name = fan_out.node.id
    return [
        cloudwatch.GraphWidget(
            title=f"{name} jobs",
            left=[
                fan_out.metric(metric)
                for metric in (
                    contract.METRIC_JOBS_SUBMITTED,
                    contract.METRIC_JOBS_SUCCEEDED,
                    contract.METRIC_JOBS_REJECTED,
                )
            ],
            right=[fan_out.metric_jobs_stuck(), fan_out.metric(contract.METRIC_CHUNKS_FAILED)],
            width=6,
        ),
        cloudwatch.GraphWidget(
            title=f"{name} chunks",
            left=[
                fan_out.metric(metric)
                for metric in (contract.METRIC_CHUNKS_COMPLETED, contract.METRIC_DUPLICATE_DELIVERIES)
            ],
            right=[fan_out.metric_chunk_attempts_failed()],
            width=6,
        ),
        cloudwatch.GraphWidget(
            title=f"{name} queue",
            left=[
                fan_out.work_queue.metric_approximate_number_of_messages_visible(statistic="Maximum"),
                fan_out.dead_letter_queue.metric_approximate_number_of_messages_visible(statistic="Maximum"),
            ],
            right=[fan_out.work_queue.metric_approximate_age_of_oldest_message(statistic="Maximum")],
            width=6,
        ),
        cloudwatch.GraphWidget(
            title=f"{name} workers",
            left=[fan_out.worker.function.metric("ConcurrentExecutions", statistic="Maximum")],
            right=[fan_out.worker.function.metric_duration(statistic="p99")],
            width=6,
        ),
        table_widget(fan_out.table, title=f"{name} jobs table", period=period),
        *(widget for function in fan_out.functions.values() for widget in function.dashboard_widgets()),
    ]


def create_alarms(fan_out: FanOut, defaults: PatternDefaults) -> list[cloudwatch.Alarm]:
    """The pattern's own alarms, its children: chunk attempts failing, DLQ not empty, oldest chunk, stuck jobs.

    :param fan_out: the pattern (the alarms' scope).
    :param defaults: the thresholds.
    """
    thresholds = defaults.thresholds
    period = Duration.seconds(thresholds.period_seconds)
    path = fan_out.node.path
    alarms = [
        threshold_alarm(
            fan_out,
            "ChunkFailuresAlarm",
            fan_out.metric(contract.METRIC_CHUNK_ATTEMPTS_FAILED, period=period),
            thresholds.lambda_errors,
            f"{path}: chunk deliveries failing (workers' errors, incl. partial batch failures)",
            thresholds,
        ),
        threshold_alarm(
            fan_out,
            "DlqNotEmptyAlarm",
            fan_out.dead_letter_queue.metric_approximate_number_of_messages_visible(period=period, statistic="Maximum"),
            thresholds.dlq_visible_messages,
            f"{path}: chunks exhausted their retries and wait in the DLQ; their jobs are FAILED",
            thresholds,
        ),
        threshold_alarm(
            fan_out,
            "OldestChunkAlarm",
            fan_out.work_queue.metric_approximate_age_of_oldest_message(period=period, statistic="Maximum"),
            thresholds.queue_oldest_message_seconds,
            f"{path}: workers are not keeping up with the queued chunks",
            thresholds,
        ),
    ]
    # One stuck job is an incident: alarm on the first sweep that finds one.
    alarms.append(
        cloudwatch.Alarm(
            fan_out,
            "JobsStuckAlarm",
            metric=fan_out.metric_jobs_stuck(),
            threshold=1,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            alarm_description=f"{path}: jobs were still open past their deadline and were failed",
        )
    )
    return alarms
