"""What OrderWorkflow shows operations: alarms, dashboard row, execution logs and traces (it delegates here)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from aws_cdk import Duration, aws_cloudwatch as cloudwatch, aws_dynamodb as dynamodb, aws_stepfunctions as sfn

from serverless_patterns.constructs.alarms import threshold_alarm
from serverless_patterns.constructs.compliance import (
    LOG_DELIVERY_ACTIONS,
    XRAY_SAMPLING_ACTIONS,
    XRAY_WRITE_ACTIONS,
    wildcard_policy,
)
from serverless_patterns.lambdas.order_workflow import names

if TYPE_CHECKING:
    from serverless_patterns.constructs.order_workflow import OrderWorkflow


def dashboard_widgets(workflow: OrderWorkflow) -> Sequence[cloudwatch.IWidget]:
    """Executions, business outcomes, the functions, the queues and the tables."""
    period = Duration.seconds(workflow.defaults.thresholds.period_seconds)
    machine = workflow.state_machine
    functions = list(workflow.functions.items())
    tables: list[tuple[str, dynamodb.ITable]] = [
        ("orders", workflow.orders_table),
        ("inventory", workflow.inventory_table),
        ("payments", workflow.payments_table),
        ("idempotency", workflow.idempotency_table),
    ]
    return [
        cloudwatch.GraphWidget(
            title="Order executions",
            left=[
                machine.metric_started(period=period),
                machine.metric_succeeded(period=period),
                machine.metric_failed(period=period),
                machine.metric_timed_out(period=period),
                machine.metric_throttled(period=period),
            ],
            right=[machine.metric_time(statistic="p99", period=period)],
            width=8,
        ),
        cloudwatch.GraphWidget(
            title="Orders and payments",
            left=[
                workflow.metric_business(metric)
                for metric in (
                    names.ORDERS_CONFIRMED,
                    names.PAYMENTS_CHARGED,
                    names.PAYMENTS_DECLINED,
                    names.GATEWAY_UNAVAILABLE,
                    names.ORDERS_OUT_OF_STOCK,
                    names.PAYMENTS_REFUNDED,
                    names.ORDERS_REJECTED,
                )
            ],
            width=8,
        ),
        cloudwatch.GraphWidget(
            title="Order workflow queues",
            left=[
                workflow.confirmation_queue.metric_approximate_number_of_messages_visible(label="confirmations"),
                workflow.confirmation_dlq.metric_approximate_number_of_messages_visible(label="confirmation DLQ"),
                workflow.entry_dlq.metric_approximate_number_of_messages_visible(label="OrderPlaced DLQ"),
            ],
            right=[workflow.confirmation_queue.metric_approximate_age_of_oldest_message(label="oldest confirmation")],
            width=8,
        ),
        cloudwatch.GraphWidget(
            title="Order functions: errors and throttles",
            left=[fn.function.metric_errors(label=f"{role} errors") for role, fn in functions],
            right=[fn.function.metric_throttles(label=f"{role} throttles") for role, fn in functions],
            width=8,
        ),
        cloudwatch.GraphWidget(
            title="Order functions: p99 duration and invocations",
            left=[fn.function.metric_duration(statistic="p99", label=role) for role, fn in functions],
            right=[fn.function.metric_invocations(label=role) for role, fn in functions],
            width=8,
        ),
        cloudwatch.GraphWidget(
            title="Order functions: concurrency and spillover",
            left=[
                fn.function.metric("ConcurrentExecutions", statistic="Maximum", label=role) for role, fn in functions
            ],
            right=[fn.metric_spillover() for _, fn in functions],
            width=8,
        ),
        cloudwatch.GraphWidget(
            title="Order tables: throttles and latency",
            left=[
                table.metric("ThrottledRequests", statistic="Sum", period=period, label=f"{name} throttled")
                for name, table in tables
            ],
            right=[
                table.metric(
                    "SuccessfulRequestLatency",
                    statistic="p99",
                    period=period,
                    dimensions_map={"TableName": table.table_name, "Operation": operation},
                    label=f"{name} {operation} p99",
                )
                for (name, table), operation in zip(
                    tables, ("UpdateItem", "TransactWriteItems", "PutItem", "PutItem"), strict=True
                )
            ],
            width=8,
        ),
    ]


def create_alarms(workflow: OrderWorkflow) -> list[cloudwatch.Alarm]:
    """Executions failed/timed out/throttled, both DLQs and deferred confirmations, as children of ``workflow``."""
    thresholds = workflow.defaults.thresholds
    machine = workflow.state_machine
    period = Duration.seconds(workflow.defaults.thresholds.period_seconds)
    specs: list[tuple[str, cloudwatch.IMetric, float, str]] = [
        (
            "ExecutionsFailedAlarm",
            machine.metric_failed(period=period, statistic="Sum"),
            workflow.settings.failed_executions_threshold,
            "order executions failed (declines and out-of-stock count too)",
        ),
        (
            "ExecutionsTimedOutAlarm",
            machine.metric_timed_out(period=period, statistic="Sum"),
            1,
            "order executions timed out",
        ),
        (
            "ExecutionsThrottledAlarm",
            machine.metric_throttled(period=period, statistic="Sum"),
            1,
            "order executions throttled",
        ),
        (
            "ConfirmationDlqAlarm",
            workflow.confirmation_dlq.metric_approximate_number_of_messages_visible(period=period),
            thresholds.dlq_visible_messages,
            "paid, reserved orders whose confirmation kept failing (redrive the DLQ)",
        ),
        (
            "ConfirmationAgeAlarm",
            workflow.confirmation_queue.metric_approximate_age_of_oldest_message(period=period),
            thresholds.queue_oldest_message_seconds,
            "deferred confirmations are not being processed",
        ),
        (
            "OrderPlacedDlqAlarm",
            workflow.entry_dlq.metric_approximate_number_of_messages_visible(period=period),
            thresholds.dlq_visible_messages,
            "OrderPlaced events that could not start an execution (redrive them)",
        ),
    ]
    return [
        threshold_alarm(workflow, alarm_id, metric, threshold, f"{workflow.node.path}: {what}", thresholds)
        for alarm_id, metric, threshold, what in specs
    ]


def configure_logs_and_tracing(workflow: OrderWorkflow) -> None:
    """Execution logs and X-Ray, set on the L1 with their wildcard grants in a policy of their own.

    CDK's ``logs=``/``tracing_enabled=`` would add those ``Resource: "*"`` statements to the role's
    default policy, where an acknowledgment would also cover any later wildcard grant.
    """
    actions = [
        *LOG_DELIVERY_ACTIONS,
        *(XRAY_WRITE_ACTIONS + XRAY_SAMPLING_ACTIONS if workflow.defaults.tracing else ()),
    ]
    policy = wildcard_policy(
        workflow,
        "LogsAndTracingPolicy",
        role=workflow.state_machine.role,
        actions=actions,
        reason="CloudWatch Logs vended-log delivery and X-Ray trace APIs support no resource-level permissions.",
    )
    resource = workflow.state_machine.node.default_child
    assert isinstance(resource, sfn.CfnStateMachine)
    resource.logging_configuration = sfn.CfnStateMachine.LoggingConfigurationProperty(
        destinations=[
            sfn.CfnStateMachine.LogDestinationProperty(
                cloud_watch_logs_log_group=sfn.CfnStateMachine.CloudWatchLogsLogGroupProperty(
                    log_group_arn=workflow.log_group.log_group_arn
                )
            )
        ],
        level="ALL",
        include_execution_data=workflow.settings.log_execution_data,
    )
    resource.tracing_configuration = sfn.CfnStateMachine.TracingConfigurationProperty(enabled=workflow.defaults.tracing)
    # Step Functions checks the role may deliver logs when the state machine is created.
    resource.node.add_dependency(policy)
