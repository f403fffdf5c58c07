"""Alarms for approaching the limits that cap throughput, for whatever the observables are made of.

``python -m serverless_patterns.capacity`` says which limit binds first; these alarm before it
does, and the patterns need not know about them (``ObservabilityDashboard`` adds them):

- the account's concurrent executions near its Lambda concurrency quota (``AlarmThresholds.
  account_concurrency``, AWS's default 1,000 unless yours is raised);
- each function with reserved concurrency near its reservation (the fan-out workers' cap);
- each asynchronously invoked function's event age (Lambda's own queue backing up, as a queue's
  oldest message does), at the queues' threshold;
- throttled reads and writes of every DynamoDB table whose throttles no alarm watches yet (a hot
  item or partition, such as a job's completion count, shows there first).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from aws_cdk import Duration, Stack, aws_cloudwatch as cloudwatch, aws_dynamodb as dynamodb
from constructs import Construct, IConstruct

from serverless_patterns.config import AlarmThresholds
from serverless_patterns.constructs.alarms import threshold_alarm
from serverless_patterns.constructs.function import ServerlessFunction
from serverless_patterns.constructs.tree import unique

LAMBDA_NAMESPACE = "AWS/Lambda"
TABLE_DIMENSION = "TableName"
GRAPH_WIDTH = 8


class CapacityAlarms(Construct):
    """Alarms (``alarms``) and a dashboard row (``widgets``) for the limits under ``scope``'s observables."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        constructs: Sequence[Construct],
        existing_alarms: Sequence[cloudwatch.Alarm],
        thresholds: AlarmThresholds,
        environment_name: str,
    ) -> None:
        """Build the alarms for the functions and tables found under ``constructs``.

        :param constructs: where to look for ``ServerlessFunction``\\ s and DynamoDB tables.
        :param existing_alarms: alarms already defined (a table whose throttles one of them watches gets no other).
        :param thresholds: the environment's thresholds: ``account_concurrency``, ``capacity_share``,
            ``queue_oldest_message_seconds``, ``dynamodb_throttles`` and the evaluation settings.
        :param environment_name: for the alarms' descriptions.
        """
        super().__init__(scope, construct_id)
        period = Duration.seconds(thresholds.period_seconds)
        share = thresholds.capacity_share
        # isinstance first: reading a node's path is a call into jsii, and most nodes are neither.
        found = unique(
            child
            for construct in constructs
            for child in construct.node.find_all()
            if isinstance(child, ServerlessFunction | dynamodb.TableV2 | dynamodb.Table)
        )
        functions = [child for child in found if isinstance(child, ServerlessFunction)]
        tables = [child for child in found if isinstance(child, dynamodb.TableV2 | dynamodb.Table)]
        account = cloudwatch.Metric(
            namespace=LAMBDA_NAMESPACE, metric_name="ConcurrentExecutions", statistic="Maximum", period=period
        )
        self.alarms: list[cloudwatch.Alarm] = [
            threshold_alarm(
                self,
                "AccountConcurrencyAlarm",
                account,
                share * thresholds.account_concurrency,
                f"{environment_name}: the account's concurrent executions passed {share:.0%} of its Lambda "
                f"concurrency quota ({thresholds.account_concurrency}): functions without reserved concurrency "
                "are throttled at the quota (python -m serverless_patterns.capacity)",
                thresholds,
            )
        ]
        widgets: list[cloudwatch.IWidget] = [
            cloudwatch.GraphWidget(
                title="Account concurrency",
                left=[
                    account,
                    cloudwatch.Metric(
                        namespace=LAMBDA_NAMESPACE,
                        metric_name="UnreservedConcurrentExecutions",
                        statistic="Maximum",
                        period=period,
                    ),
                ],
                left_annotations=[cloudwatch.HorizontalAnnotation(value=thresholds.account_concurrency, label="quota")],
                width=GRAPH_WIDTH,
            )
        ]
        for function in functions:
            reserved = function.settings.reserved_concurrency
            if reserved:
                concurrency = function.function.metric("ConcurrentExecutions", statistic="Maximum", period=period)
                self.alarms.append(
                    threshold_alarm(
                        self,
                        f"{_id(self, function)}ReservedConcurrencyAlarm",
                        concurrency,
                        share * reserved,
                        f"{function.node.path}: concurrent executions passed {share:.0%} of its reserved "
                        f"concurrency ({reserved}); invocations beyond it are throttled",
                        thresholds,
                    )
                )
                widgets.append(
                    cloudwatch.GraphWidget(
                        title=f"{function.node.id} concurrency (reserved {reserved})",
                        left=[concurrency],
                        left_annotations=[cloudwatch.HorizontalAnnotation(value=reserved, label="reserved")],
                        width=GRAPH_WIDTH,
                    )
                )
            if function.failure_queue is not None:
                self.alarms.append(
                    threshold_alarm(
                        self,
                        f"{_id(self, function)}AsyncEventAgeAlarm",
                        function.function.metric("AsyncEventAge", statistic="Maximum", period=period),
                        thresholds.queue_oldest_message_seconds * 1000,
                        f"{function.node.path}: asynchronous events wait too long before they run (throttled or "
                        "failing)",
                        thresholds,
                    )
                )
        watched = _alarmed_tables(existing_alarms)
        for table in tables:
            if table.table_name in watched:
                continue
            throttles = cloudwatch.MathExpression(
                expression="reads + writes",
                using_metrics={
                    "reads": table.metric("ReadThrottleEvents", statistic="Sum", period=period),
                    "writes": table.metric("WriteThrottleEvents", statistic="Sum", period=period),
                },
                label="throttled reads and writes",
                period=period,
            )
            self.alarms.append(
                threshold_alarm(
                    self,
                    f"{_id(self, table)}ThrottlesAlarm",
                    throttles,
                    thresholds.dynamodb_throttles,
                    f"{table.node.path}: requests throttled (a hot item or partition, or the table's limit)",
                    thresholds,
                )
            )
        self.widgets: Sequence[cloudwatch.IWidget] = widgets


def _alarmed_tables(alarms: Iterable[cloudwatch.Alarm]) -> set[str]:
    """Table names (tokens) whose metrics an alarm already watches."""
    names: set[str] = set()
    for alarm in alarms:
        metric = alarm.metric
        metrics = list(metric.using_metrics.values()) if isinstance(metric, cloudwatch.MathExpression) else [metric]
        for each in metrics:
            dimensions = each.dimensions if isinstance(each, cloudwatch.Metric) else None  # read once: a jsii call
            if dimensions and TABLE_DIMENSION in dimensions:
                names.add(str(dimensions[TABLE_DIMENSION]))
    return names


def _id(scope: IConstruct, construct: IConstruct) -> str:
    """A construct id naming ``construct`` by its path below its stack (``FanOutWorker``), after the
    stack's id when that is not ``scope``'s (the dashboard watching patterns of several stacks)."""
    stack = Stack.of(construct)
    below = construct.node.path.removeprefix(stack.node.path).split("/")
    name = "".join(part for part in below if part not in ("", "Resource", "Default")) or construct.node.id
    return name if stack is Stack.of(scope) else f"{stack.node.id}{name}"
