"""One environment's operations view: dashboard, alarm routing, service health, saved log queries."""

from __future__ import annotations

import math
from collections.abc import Sequence

from aws_cdk import Duration, Stack, Stage, aws_cloudwatch as cloudwatch, aws_logs as logs
from constructs import Construct

from serverless_patterns.config import PatternDefaults
from serverless_patterns.config.checks import check_type
from serverless_patterns.constructs.alarm_topic import AlarmTopic
from serverless_patterns.constructs.alarms import threshold_alarm
from serverless_patterns.constructs.capacity_alarms import CapacityAlarms
from serverless_patterns.constructs.function import ServerlessFunction
from serverless_patterns.constructs.observability_queries import RECENT_ERRORS, SAVED_QUERIES
from serverless_patterns.constructs.observable import Observable
from serverless_patterns.constructs.props import owner_name, resolve_defaults
from serverless_patterns.constructs.tree import unique

GRID_WIDTH = 24
ALARM_STATUS_WIDGET_LIMIT = 100
# A composite alarm's rule is at most 10,240 characters; one ALARM("<arn>") term with a generated
# alarm name takes about 128. Past this many alarms the rule is split into parts.
MAX_ALARMS_PER_RULE = 70
ALARM_TILES_PER_ROW = 6
TELEMETRY_PERIOD = Duration.minutes(5)
# Powertools writes the cold-start metric under this name, with function_name and service dimensions.
COLD_START_METRIC = "ColdStart"


class ObservabilityDashboard(Construct):
    """The operations view of one environment, built from the patterns' own alarms and widgets.

    Every pattern shows itself through the small ``Observable`` protocol, so this
    construct knows no pattern. It draws one dashboard row per observable under
    a heading, makes an encrypted SNS topic the ALARM and OK action of every
    alarm, rolls all alarms into one composite "service health" alarm (one
    thing to page on, one tile to look at), charts the business and cold-start
    metrics the handlers write as EMF in the environment's namespace, and saves
    Logs Insights queries over every ``ServerlessFunction`` log group found
    under the observables.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        observables: Sequence[Observable],
        environment_name: str | None = None,
        defaults: PatternDefaults | None = None,
        alarm_emails: Sequence[str] = (),
        existing_alarm_topic: AlarmTopic | None = None,
        extra_log_groups: Sequence[logs.ILogGroup] = (),
        dashboard_name: str | None = None,
        default_interval: Duration | None = None,
    ) -> None:
        """Build the dashboard, topic wiring, composite alarm and saved queries.

        :param observables: the patterns (or single functions) to show; each gets a row, in this order.
            They may live in other stacks of the same account and region.
        :param environment_name: headings, alarm descriptions and the saved queries' folder; by default
            the name of the Stage (or else the stack) the dashboard is in.
        :param defaults: the environment's thresholds (alarm evaluation), metrics namespace (the
            business-metric search) and removal policy (a topic created here).
        :param alarm_emails: recipients of a topic created here; give them to ``existing_alarm_topic``
            instead when you pass one.
        :param existing_alarm_topic: an ``AlarmTopic`` to route the alarms to (e.g. one shared by several
            dashboards, in any stack of the same account and region); by default one is created.
        :param extra_log_groups: log groups the queries should also read (e.g. a state machine's or an
            API's); the functions' log groups are found on their own.
        :param dashboard_name: a fixed name; by default CloudFormation generates a unique one.
        :param default_interval: time range the dashboard opens with (3 hours by default).
        """
        super().__init__(scope, construct_id)
        owner = owner_name(self)
        defaults = resolve_defaults(self, defaults)
        check_type(owner, "existing_alarm_topic", existing_alarm_topic, AlarmTopic | None)
        check_type(owner, "environment_name", environment_name, str | None)
        if isinstance(observables, str | bytes) or not all(isinstance(o, Observable) for o in observables):
            raise TypeError(f"{owner}: observables must be a sequence of patterns with alarms and dashboard_widgets()")
        if existing_alarm_topic is not None and alarm_emails:
            raise ValueError(
                f"{owner}: alarm_emails configure a topic created here; subscribe them on the existing_alarm_topic"
            )
        alarm_topic = existing_alarm_topic
        stage = Stage.of(self)
        self.environment_name = environment_name or (stage.stage_name if stage else Stack.of(self).stack_name)
        environment_name = self.environment_name
        self.metrics_namespace = defaults.metrics_namespace
        self.query_folder = f"serverless-patterns/{environment_name}"

        self.alarm_topic = alarm_topic or AlarmTopic(
            self, "AlarmTopic", emails=alarm_emails, removal_policy=defaults.removal_policy
        )
        self.topic = self.alarm_topic.topic

        observed_alarms = unique([alarm for observable in observables for alarm in observable.alarms])
        if not observed_alarms:
            raise ValueError("nothing to observe: the observables own no alarm")
        self.delivery_failures_alarm = self._delivery_failures_alarm(defaults)
        self.capacity = CapacityAlarms(
            self,
            "Capacity",
            constructs=[observable for observable in observables if isinstance(observable, Construct)],
            existing_alarms=observed_alarms,
            thresholds=defaults.thresholds,
            environment_name=environment_name,
        )
        self.alarms: Sequence[cloudwatch.Alarm] = [
            *observed_alarms,
            *self.capacity.alarms,
            *([self.delivery_failures_alarm] if self.delivery_failures_alarm is not None else []),
        ]
        for alarm in self.alarms:
            self.alarm_topic.notify_on_alarm_and_ok(alarm)

        self.health_parts = self._health_parts()
        self.service_health = cloudwatch.CompositeAlarm(
            self,
            "ServiceHealth",
            alarm_rule=cloudwatch.AlarmRule.any_of(*(self.health_parts or self.alarms)),
            alarm_description=(
                f"{environment_name} service health: in ALARM while any of its {len(self.alarms)} alarms is."
            ),
        )
        for composite in [*self.health_parts, self.service_health]:
            self.alarm_topic.notify_on_alarm_and_ok(composite)

        self.log_groups: Sequence[logs.ILogGroup] = unique(
            [*(group for observable in observables for group in _function_log_groups(observable)), *extra_log_groups]
        )
        self.query_definitions: dict[str, logs.QueryDefinition] = {
            saved.slug: logs.QueryDefinition(
                self,
                _pascal(saved.slug),
                query_definition_name=f"{self.query_folder}/{saved.slug}",
                query_string=saved.query,
                log_groups=list(self.log_groups) or None,
            )
            for saved in SAVED_QUERIES
        }

        self.dashboard = cloudwatch.Dashboard(
            self,
            "Resource",
            dashboard_name=dashboard_name,
            default_interval=default_interval or Duration.hours(3),
        )
        self._add_health_rows()
        for observable in observables:  # one row each, headed, in the order given
            self.dashboard.add_widgets(_heading(_title(observable)))
            self.dashboard.add_widgets(*observable.dashboard_widgets())
        self._add_telemetry_rows()
        self.dashboard.add_widgets(_heading("Capacity: concurrency against its limits"))
        self.dashboard.add_widgets(*self.capacity.widgets)
        self.dashboard.add_widgets(_heading("Alarm delivery"))
        self.dashboard.add_widgets(*self.alarm_topic.dashboard_widgets())

    @property
    def dashboard_url(self) -> str:
        """Console link to the dashboard (for a stack output)."""
        region = Stack.of(self).region
        return (
            f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
            f"#dashboards/dashboard/{self.dashboard.dashboard_name}"
        )

    def _delivery_failures_alarm(self, defaults: PatternDefaults) -> cloudwatch.Alarm | None:
        """An alarm on undelivered alarm e-mails: it still shows in the composite and on the dashboard."""
        queue = self.alarm_topic.delivery_failures
        if queue is None:
            return None
        thresholds = defaults.thresholds
        return threshold_alarm(
            self,
            "AlarmDeliveryFailuresAlarm",
            queue.metric_approximate_number_of_messages_visible(
                period=Duration.seconds(thresholds.period_seconds), statistic="Maximum"
            ),
            thresholds.dlq_visible_messages,
            f"{self.environment_name}: alarm e-mails could not be delivered (see the topic's DLQ)",
            thresholds,
        )

    def _health_parts(self) -> list[cloudwatch.CompositeAlarm]:
        """Intermediate composites when one rule cannot name every alarm (none below the limit)."""
        if len(self.alarms) <= MAX_ALARMS_PER_RULE:
            return []
        return [
            cloudwatch.CompositeAlarm(
                self,
                f"ServiceHealthPart{number}",
                alarm_rule=cloudwatch.AlarmRule.any_of(*self.alarms[start : start + MAX_ALARMS_PER_RULE]),
                alarm_description=(
                    f"{self.environment_name} service health, part {number}: "
                    f"alarms {start + 1}-{min(start + MAX_ALARMS_PER_RULE, len(self.alarms))}."
                ),
            )
            for number, start in enumerate(range(0, len(self.alarms), MAX_ALARMS_PER_RULE), start=1)
        ]

    def _add_health_rows(self) -> None:
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(
                markdown=(
                    f"# {self.environment_name} service health\n"
                    f"Alarms notify the topic on ALARM and OK. Saved Logs Insights queries: "
                    f"`{self.query_folder}/` (errors by function, slowest invocations, cold starts, correlation id)."
                ),
                width=GRID_WIDTH,
                height=2,
            )
        )
        alarms: list[cloudwatch.IAlarm] = [self.service_health, *self.alarms]
        for start in range(0, len(alarms), ALARM_STATUS_WIDGET_LIMIT):
            chunk = alarms[start : start + ALARM_STATUS_WIDGET_LIMIT]
            self.dashboard.add_widgets(
                cloudwatch.AlarmStatusWidget(
                    title="Alarms" if start == 0 else f"Alarms (continued, {start + 1}-)",
                    alarms=chunk,
                    sort_by=cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
                    width=GRID_WIDTH,
                    height=1 + math.ceil(len(chunk) / ALARM_TILES_PER_ROW),
                )
            )

    def _add_telemetry_rows(self) -> None:
        namespace = self.metrics_namespace
        widgets: list[cloudwatch.IWidget] = [
            cloudwatch.GraphWidget(
                title=f"Business metrics ({namespace})",
                left=[
                    cloudwatch.MathExpression(
                        expression=_search(namespace, f'NOT MetricName="{COLD_START_METRIC}"', "Sum", TELEMETRY_PERIOD),
                        using_metrics={},
                        label="",
                        period=TELEMETRY_PERIOD,
                    )
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Cold starts by function",
                left=[
                    cloudwatch.MathExpression(
                        expression=_search(namespace, f'MetricName="{COLD_START_METRIC}"', "Sum", TELEMETRY_PERIOD),
                        using_metrics={},
                        label="",
                        period=TELEMETRY_PERIOD,
                    )
                ],
                width=12,
            ),
        ]
        if self.log_groups:
            widgets.append(
                cloudwatch.LogQueryWidget(
                    title="Recent errors",
                    log_group_names=[lg.log_group_name for lg in self.log_groups],
                    query_string=RECENT_ERRORS.to_string(),
                    view=cloudwatch.LogQueryVisualizationType.TABLE,
                    width=GRID_WIDTH,
                    height=6,
                )
            )
        self.dashboard.add_widgets(_heading("Business metrics, cold starts and errors"))
        self.dashboard.add_widgets(*widgets)


def _search(namespace: str, terms: str, statistic: str, period: Duration) -> str:
    """A metric-math SEARCH over one namespace: new metrics and services appear without a redeploy."""
    return f"SEARCH('Namespace=\"{namespace}\" {terms}', '{statistic}', {int(period.to_seconds())})"


def _heading(title: str) -> cloudwatch.TextWidget:
    return cloudwatch.TextWidget(
        markdown=f"## {title}", width=GRID_WIDTH, height=1, background=cloudwatch.TextWidgetBackground.TRANSPARENT
    )


def _title(observable: Observable) -> str:
    if isinstance(observable, Construct):
        return f"{observable.node.id} ({type(observable).__name__})"
    return type(observable).__name__


def _function_log_groups(observable: Observable) -> list[logs.ILogGroup]:
    """The log groups of the ServerlessFunctions that make up ``observable`` (itself included)."""
    if not isinstance(observable, Construct):
        return []
    return [child.log_group for child in observable.node.find_all() if isinstance(child, ServerlessFunction)]


def _pascal(slug: str) -> str:
    return "".join(part.capitalize() for part in slug.split("-")) + "Query"
