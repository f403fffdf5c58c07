"""The circuit breakers that guard calls to external services: shared state, wiring, alarms.

The handler side is ``serverless_patterns.lambdas.shared.circuit_breaker``
(``CircuitBreaker.from_env(name)``) and ``...shared.http``
(``HttpClient.from_env(name)``); this construct creates what they need and sets
the variables they read.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from aws_cdk import (
    Duration,
    Token,
    aws_cloudwatch as cloudwatch,
    aws_dynamodb as dynamodb,
    aws_iam as iam,
    aws_secretsmanager as secretsmanager,
)
from constructs import Construct

from serverless_patterns.config import CircuitBreakerSettings, PatternDefaults
from serverless_patterns.config.checks import check_type
from serverless_patterns.constructs.alarms import threshold_alarm
from serverless_patterns.constructs.function import ServerlessFunction
from serverless_patterns.constructs.props import existing_or_props, owner_name, resolve_defaults, resolve_settings
from serverless_patterns.constructs.storage import secure_table
from serverless_patterns.lambdas.shared.circuit_breaker_contract import (
    CACHE_SECONDS_ENV,
    CONNECT_TIMEOUT_ENV,
    COOLDOWN_SECONDS_ENV,
    DIMENSION,
    FAILURE_THRESHOLD_ENV,
    METRIC_CLOSED,
    METRIC_HALF_OPENED,
    METRIC_OPENED,
    METRIC_SHORT_CIRCUITED,
    PARTITION_KEY,
    READ_TIMEOUT_ENV,
    TABLE_ENV,
    TRIAL_LEASE_SECONDS_ENV,
    WINDOW_SECONDS_ENV,
    secret_env,
    url_env,
    validate_name,
)

# A call's connect + read timeouts may use at most this share of the function's timeout,
# leaving the rest for the function's own work and for reporting the failure.
MAX_TIMEOUT_SHARE = 0.5
LOOPBACK_HTTP_PREFIXES = ("http://127.0.0.1", "http://localhost", "http://[::1]")
# The table operations breakers use, with their CloudWatch ``Operation`` dimension values.
_STATE_OPERATIONS = {dynamodb.Operation.GET_ITEM: "GetItem", dynamodb.Operation.UPDATE_ITEM: "UpdateItem"}


class CircuitBreakers(Construct):
    """State table, function wiring and alarms of the named circuit breakers of a service.

    One breaker per external dependency (``breakers=("payment-gateway",
    "enrichment")``), one DynamoDB item per breaker in a table every guarded
    function shares, so all containers of all those functions see the same
    state. ``grant`` gives a function the least privilege it needs and the
    variables ``CircuitBreaker.from_env`` reads; ``connect`` adds the URL and
    credentials ``HttpClient.from_env`` reads. Each breaker has an alarm that
    fires when it opens, from the ``CircuitOpened`` EMF metric its handlers emit.

    Its attributes: ``table``, the breaker state table (``pk`` = breaker name), and ``breakers``,
    the declared breaker names.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        breakers: Sequence[str],
        settings: CircuitBreakerSettings | None = None,
        defaults: PatternDefaults | None = None,
        existing_table: dynamodb.ITableV2 | None = None,
        table_props: dynamodb.TablePropsV2 | None = None,
    ) -> None:
        """Create the state table (unless ``existing_table`` is given) and one opened-alarm per breaker.

        :param breakers: names of the dependencies guarded, lowercase and hyphenated; each gets an
            alarm, and ``connect`` accepts only these, so no breaker goes unwatched.
        :param settings: thresholds and timeouts of this environment.
        :param defaults: metrics namespace, alarm thresholds, removal policy and PITR of this environment.
        :param existing_table: an existing table with a string partition key ``pk`` to keep the state in
            instead (e.g. one shared by several stacks).
        :param table_props: ``dynamodb.TablePropsV2`` merged over the created state table's defaults.
        """
        super().__init__(scope, construct_id)
        defaults = resolve_defaults(self, defaults)
        settings = resolve_settings(self, "settings", settings, CircuitBreakerSettings)
        existing_or_props(self, "existing_table", existing_table, "table_props", table_props)
        check_type(owner_name(self), "existing_table", existing_table, dynamodb.ITableV2 | None)
        if isinstance(breakers, str):
            raise TypeError(
                f"{owner_name(self)}: breakers must be a sequence of names, got the single string {breakers!r}"
            )
        names = tuple(validate_name(name) for name in breakers)
        if not names:
            raise ValueError("CircuitBreakers needs at least one breaker name")
        if len(set(names)) != len(names):
            raise ValueError(f"breaker names must be unique, got {names}")
        self.breakers = names
        self.settings = settings
        self.defaults = defaults
        self.table: dynamodb.ITableV2 = existing_table or secure_table(
            self, "Resource", defaults=defaults, partition_key=PARTITION_KEY, props=table_props
        )
        self._granted: set[str] = set()
        self._alarms = [self._opened_alarm(name) for name in names]
        self._alarms.append(
            threshold_alarm(
                self,
                "ThrottlesAlarm",
                self.table.metric_throttled_requests_for_operations(
                    operations=list(_STATE_OPERATIONS), period=Duration.seconds(defaults.thresholds.period_seconds)
                ),
                defaults.thresholds.dynamodb_throttles,
                f"{self.node.path}: breaker state reads or writes throttled",
                defaults.thresholds,
            )
        )

    @property
    def alarms(self) -> Sequence[cloudwatch.Alarm]:
        """One alarm per breaker on its opening, and one on throttled state reads/writes."""
        return list(self._alarms)

    def grant(self, function: ServerlessFunction) -> iam.Grant:
        """Let ``function`` use the breakers: GetItem/UpdateItem on the table and the variables they read.

        Refuses a function whose timeout leaves too little room for the HTTP timeouts: a call
        must time out well before the function does, or the failure is never counted.
        """
        budget = function.settings.timeout_seconds * MAX_TIMEOUT_SHARE
        http_seconds = self.settings.connect_timeout_seconds + self.settings.read_timeout_seconds
        if http_seconds > budget:
            raise ValueError(
                f"{function.node.path}: connect + read timeouts ({http_seconds:g} s) must stay within "
                f"{MAX_TIMEOUT_SHARE:.0%} of the function timeout ({function.settings.timeout_seconds} s)"
            )
        environment = {
            TABLE_ENV: self.table.table_name,
            FAILURE_THRESHOLD_ENV: str(self.settings.failure_threshold),
            WINDOW_SECONDS_ENV: str(self.settings.window_seconds),
            COOLDOWN_SECONDS_ENV: str(self.settings.cooldown_seconds),
            CACHE_SECONDS_ENV: str(self.settings.cache_seconds),
            # No call outlives the invocation: a trial owner that died frees the trial by then.
            TRIAL_LEASE_SECONDS_ENV: str(function.settings.timeout_seconds),
            CONNECT_TIMEOUT_ENV: str(self.settings.connect_timeout_seconds),
            READ_TIMEOUT_ENV: str(self.settings.read_timeout_seconds),
        }
        for key, value in environment.items():
            function.function.add_environment(key, value)
        self._granted.add(function.node.path)
        return self.table.grant(function.role, "dynamodb:GetItem", "dynamodb:UpdateItem")

    def connect(
        self,
        function: ServerlessFunction,
        breaker: str,
        *,
        url: str,
        secret: secretsmanager.ISecret | None = None,
    ) -> None:
        """Let ``function`` call the HTTP service ``breaker`` with ``HttpClient.from_env(breaker)``.

        :param function: the caller; granted the breakers too if it was not already.
        :param breaker: one of the declared names.
        :param url: the service's base URL, https (plain http only to a loopback address, for local runs).
        :param secret: a secret holding a JSON object of HTTP headers to send (credentials stay out of
            the template and the environment); the function may read it and nothing else.
        """
        if breaker not in self.breakers:
            raise ValueError(f"unknown breaker {breaker!r}: declare it in breakers= (has {self.breakers})")
        if not Token.is_unresolved(url) and not url.startswith(("https://", *LOOPBACK_HTTP_PREFIXES)):
            raise ValueError(f"{breaker}: the URL must use https:// (plain http only to a loopback address)")
        if function.node.path not in self._granted:
            self.grant(function)
        function.function.add_environment(url_env(breaker), url)
        if secret is not None:
            function.function.add_environment(secret_env(breaker), secret.secret_arn)
            secret.grant_read(function.role)

    def metric_opened(self, breaker: str, *, period: Duration | None = None) -> cloudwatch.Metric:
        """How often ``breaker`` opened (from closed, or again after a failed trial)."""
        return self._metric(METRIC_OPENED, breaker, period)

    def metric_short_circuited(self, breaker: str, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Calls ``breaker`` refused without calling the dependency."""
        return self._metric(METRIC_SHORT_CIRCUITED, breaker, period)

    def dashboard_widgets(self) -> Sequence[cloudwatch.IWidget]:
        """Transitions and short-circuited calls per breaker; the state table's throttles and latency."""
        transitions = [
            self._metric(metric_name, name, None, label=f"{name} {label}")
            for name in self.breakers
            for metric_name, label in (
                (METRIC_OPENED, "opened"),
                (METRIC_HALF_OPENED, "trial"),
                (METRIC_CLOSED, "closed"),
            )
        ]
        return [
            cloudwatch.GraphWidget(
                title="Circuit breakers",
                left=transitions,
                right=[
                    self._metric(METRIC_SHORT_CIRCUITED, name, None, label=f"{name} short-circuited")
                    for name in self.breakers
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Circuit breaker state table",
                left=[self.table.metric_throttled_requests_for_operations(operations=list(_STATE_OPERATIONS))],
                right=[
                    self.table.metric_successful_request_latency(
                        dimensions_map={"TableName": self.table.table_name, "Operation": operation},
                        statistic="p99",
                        label=f"{operation} p99",
                    )
                    for operation in _STATE_OPERATIONS.values()
                ],
                width=12,
            ),
        ]

    def _metric(
        self, metric_name: str, breaker: str, period: Duration | None, *, label: str | None = None
    ) -> cloudwatch.Metric:
        if breaker not in self.breakers:
            raise ValueError(f"unknown breaker {breaker!r} (has {self.breakers})")
        return cloudwatch.Metric(
            namespace=self.defaults.metrics_namespace,
            metric_name=metric_name,
            dimensions_map={DIMENSION: breaker},
            statistic="Sum",
            period=period or Duration.seconds(self.defaults.thresholds.period_seconds),
            label=label,
        )

    def _opened_alarm(self, breaker: str) -> cloudwatch.Alarm:
        # One datapoint is the signal: the breaker only opens after failure_threshold failures.
        # A period of at least the cooldown keeps the alarm up while trials keep failing
        # (each failed trial reopens the breaker and emits CircuitOpened again).
        minutes = max(1, math.ceil(self.settings.cooldown_seconds / 60))
        period = Duration.seconds(max(self.defaults.thresholds.period_seconds, minutes * 60))
        return cloudwatch.Alarm(
            self,
            f"{_pascal(breaker)}OpenedAlarm",
            metric=self.metric_opened(breaker, period=period),
            threshold=1,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=(
                f"{self.node.path}: circuit breaker '{breaker}' opened: the dependency is failing and calls "
                f"fail fast for {self.settings.cooldown_seconds} s between trial calls"
            ),
        )


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))
