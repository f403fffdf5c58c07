"""The shared Lambda building block every pattern is made of."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import (
    Duration,
    Stack,
    Token,
    aws_cloudwatch as cloudwatch,
    aws_events as events,
    aws_events_targets as targets,
    aws_iam as iam,
    aws_lambda as lambda_,
    aws_lambda_destinations as destinations,
    aws_logs as logs,
    aws_sqs as sqs,
)
from constructs import Construct

from serverless_patterns.config import AlarmThresholds, FunctionSettings, PatternDefaults
from serverless_patterns.config.checks import check_type
from serverless_patterns.constructs.alarms import threshold_alarm
from serverless_patterns.constructs.compliance import XRAY_WRITE_ACTIONS, acknowledge, wildcard_policy
from serverless_patterns.constructs.lambda_code import ARCHITECTURE, PYTHON_RUNTIME, powertools_layer
from serverless_patterns.lambdas.shared.warmup import WARMUP_EVENT

ALIAS_NAME = "live"
# The template metadata key under which a pattern's function records its pattern, instance and role.
METADATA_KEY = "ServerlessPatterns"
UTILIZATION_TARGET = 0.7
# Commercial Regions without Lambda SnapStart (Asia Pacific (New Zealand), Asia Pacific (Taipei)).
SNAPSTART_UNAVAILABLE_REGIONS = frozenset({"ap-southeast-6", "ap-east-2"})
DASHBOARD_WIDTH = 24
RUNTIME_REASON = (
    "python3.13 is the runtime the handlers and the Powertools layer are built and tested for; "
    "it is bumped in one place (lambda_code.PYTHON_RUNTIME)."
)


class ServerlessFunction(Construct):
    """A Python Lambda function with production defaults.

    arm64, Python 3.13, the Powertools layer, its own log group with retention
    and JSON logs, X-Ray active tracing, an execution role with no managed
    policies, a ``live`` alias that every caller should invoke (provisioned
    concurrency and its auto scaling live there), optional reserved concurrency,
    optional keep-warm schedule or SnapStart, optional bounded async retries with an
    SQS on-failure destination, and alarms on errors, throttles, p99 duration near
    the timeout and provisioned-concurrency spillover.

    ``cold_start`` names the strategy it got: ``provisioned``, ``snapstart``, ``keep_warm``
    (``defaults.keep_warm``, for a function with neither of the others) or ``none``; the
    template records it in ``Metadata.ServerlessPatterns`` with the pattern role.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code,
        handler: str,
        settings: FunctionSettings,
        service: str,
        defaults: PatternDefaults | None = None,
        environment: Mapping[str, str] | None = None,
        description: str | None = None,
        async_invocation: bool = False,
        errors_alarm_threshold: float | None = None,
        async_retry_attempts: int = 2,
        async_max_event_age: Duration | None = None,
        role: str | None = None,
    ) -> None:
        """Create the function, its log group, role, ``live`` alias and alarms.

        :param code: the handler code, e.g. ``lambda_code.handler_code("api_backend")`` or your own asset.
        :param handler: the ``module.function`` Lambda calls, e.g. ``lambda_code.handler_path(...)``.
        :param settings: memory, timeout, provisioned and reserved concurrency.
        :param service: the Powertools service name (logs and the metrics' ``service`` dimension).
        :param defaults: the environment's cross-cutting settings (retention, removal policy, tracing,
            log level, debug sampling, keep-warm, metrics namespace, alarm thresholds).
        :param environment: extra environment variables for the handler.
        :param description: the function's description in the console.
        :param async_invocation: the function is invoked asynchronously (events, S3, ``InvocationType=Event``):
            bounded retries and an SQS on-failure destination with its own alarm.
        :param errors_alarm_threshold: errors per period that alarm, where the environment's default does not
            fit (e.g. Step Functions tasks whose business exceptions, such as a payment decline, are expected).
        :param async_retry_attempts: Lambda's retries of a failed async invocation (0..2).
        :param async_max_event_age: how long an async event may wait before it goes to the on-failure queue.
        :param role: the function's role in the pattern that creates it (``scope``), e.g. ``"worker"``:
            recorded in the template (``Metadata.ServerlessPatterns``) with the pattern's class and path,
            so tools (cost, capacity, the local cloud) recognise functions in any app.
        """
        super().__init__(scope, construct_id)
        owner = f"ServerlessFunction {self.node.path}"
        check_type(owner, "settings", settings, FunctionSettings)
        check_type(owner, "defaults", defaults, PatternDefaults | None)
        check_type(owner, "environment", environment, Mapping[str, str] | None)
        defaults = defaults or PatternDefaults()
        log_level = defaults.log_level.upper()
        self.settings = settings
        self.timeout = Duration.seconds(settings.timeout_seconds)
        self.cold_start = _cold_start(settings, defaults)
        region = Stack.of(scope).region
        if settings.snap_start and not Token.is_unresolved(region) and region in SNAPSTART_UNAVAILABLE_REGIONS:
            raise ValueError(f"{owner}: settings.snap_start: Lambda SnapStart is not available in {region}")

        self.log_group = logs.LogGroup(
            self, "LogGroup", retention=defaults.log_retention, removal_policy=defaults.removal_policy
        )
        self.role = iam.Role(
            self,
            "ServiceRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Execution role of {service}/{construct_id}",
        )
        self.log_group.grant_write(self.role)

        self.function = lambda_.Function(
            self,
            "Resource",
            runtime=PYTHON_RUNTIME,
            architecture=ARCHITECTURE,
            code=code,
            handler=handler,
            description=description,
            role=self.role,
            memory_size=settings.memory_mb,
            timeout=self.timeout,
            layers=[powertools_layer(self)],
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            # Sampled DEBUG lines must get through Lambda's filter; Powertools applies the real level.
            application_log_level_v2=lambda_.ApplicationLogLevel.DEBUG
            if defaults.debug_log_sample_rate > 0
            else lambda_.ApplicationLogLevel(log_level),
            # INFO keeps platform.report records, which the duration and cold-start queries read.
            system_log_level_v2=lambda_.SystemLogLevel.INFO,
            # Tracing is set on the L1 below: CDK's own X-Ray grant would share a policy with every other grant.
            tracing=lambda_.Tracing.DISABLED,
            reserved_concurrent_executions=settings.reserved_concurrency,
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if settings.snap_start else None,
            environment={
                "POWERTOOLS_SERVICE_NAME": service,
                "POWERTOOLS_METRICS_NAMESPACE": defaults.metrics_namespace,
                "POWERTOOLS_LOG_LEVEL": log_level,
                "POWERTOOLS_LOGGER_SAMPLE_RATE": str(defaults.debug_log_sample_rate),
                **(environment or {}),
            },
        )
        self.pattern_role = role
        if role is not None:
            self.cfn_function.add_metadata(
                METADATA_KEY,
                {
                    "pattern": type(scope).__name__,
                    "instance": scope.node.path,
                    "role": role,
                    "cold_start": self.cold_start,
                },
            )
        acknowledge(
            self,
            ("AwsSolutions::AwsSolutions-L1", RUNTIME_REASON),
            ("Serverless::Serverless-LambdaLatestVersion", RUNTIME_REASON),
            (
                "Serverless::Serverless-LambdaDLQ",
                "Async invocations use an on-failure destination (EventInvokeConfig), which supersedes a DLQ."
                if async_invocation
                else "Invoked synchronously (API Gateway, SQS event source, Step Functions, Invoke): failures go "
                "back to the caller or to the source queue's DLQ; its scheduled invocations (keep-warm pings, "
                "sweeps) are repeated by the next schedule, with nothing to redrive.",
            ),
        )
        self.tracing_policy: iam.Policy | None = None
        if defaults.tracing:
            self.tracing_policy = wildcard_policy(
                self,
                "TracingPolicy",
                role=self.role,
                actions=XRAY_WRITE_ACTIONS,
                reason="X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions.",
            )
            self.cfn_function.tracing_config = lambda_.CfnFunction.TracingConfigProperty(mode="Active")
            self.function.node.add_dependency(self.tracing_policy)

        self.alias = lambda_.Alias(
            self,
            "LiveAlias",
            alias_name=ALIAS_NAME,
            version=self.function.current_version,
            provisioned_concurrent_executions=settings.provisioned_concurrency or None,
        )
        if settings.provisioned_concurrency and (
            settings.max_provisioned_concurrency > settings.provisioned_concurrency
        ):
            self.alias.add_auto_scaling(
                min_capacity=settings.provisioned_concurrency,
                max_capacity=settings.max_provisioned_concurrency,
            ).scale_on_utilization(utilization_target=UTILIZATION_TARGET)

        self.failure_queue: sqs.Queue | None = None
        if async_invocation:
            self.failure_queue = sqs.Queue(
                self,
                "AsyncFailureQueue",
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                retention_period=Duration.days(14),
                removal_policy=defaults.removal_policy,
            )
            acknowledge(
                self.failure_queue,
                ("AwsSolutions::AwsSolutions-SQS3", "This queue is the on-failure destination (a DLQ) itself."),
                ("Serverless::Serverless-SQSRedrivePolicy", "This queue is the on-failure destination itself."),
            )
            self.alias.configure_async_invoke(
                on_failure=destinations.SqsDestination(self.failure_queue),
                retry_attempts=async_retry_attempts,
                max_event_age=async_max_event_age or Duration.hours(1),
            )

        if self.cold_start == "keep_warm":
            keep_warm_rule = events.Rule(
                self,
                "KeepWarm",
                description=f"Keeps {service}/{construct_id} warm",
                schedule=events.Schedule.rate(Duration.minutes(5)),
                targets=[
                    targets.LambdaFunction(
                        self.alias,
                        event=events.RuleTargetInput.from_object(WARMUP_EVENT),
                        retry_attempts=0,
                    )
                ],
            )
            acknowledge(
                keep_warm_rule,
                ("Serverless::Serverless-EventBusDLQ", "A lost warm-up ping costs one cold start; nothing to redrive."),
            )

        self._errors_alarm_threshold = errors_alarm_threshold
        self._alarms = self._create_alarms(defaults.thresholds)

    @property
    def cfn_function(self) -> lambda_.CfnFunction:
        """The ``AWS::Lambda::Function`` resource itself, for escape-hatch overrides."""
        resource = self.function.node.default_child
        assert isinstance(resource, lambda_.CfnFunction)
        return resource

    @property
    def invocable(self) -> lambda_.IFunction:
        """What callers invoke: the ``live`` alias (provisioned concurrency is used there)."""
        return self.alias

    @property
    def alarms(self) -> Sequence[cloudwatch.Alarm]:
        """Errors, throttles, p99 duration near the timeout, spillover (with provisioned concurrency)."""
        return list(self._alarms)

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` to invoke the ``live`` alias."""
        return self.alias.grant_invoke(grantee)

    def metric_spillover(self) -> cloudwatch.Metric:
        """Invocations of the alias that found no provisioned environment free."""
        return self.alias.metric(
            "ProvisionedConcurrencySpilloverInvocations",
            statistic="Sum",
            period=Duration.minutes(1),
        )

    def metric_provisioned_utilization(self) -> cloudwatch.Metric:
        """Peak share of the alias's provisioned environments in use."""
        return self.alias.metric("ProvisionedConcurrencyUtilization", statistic="Maximum", period=Duration.minutes(1))

    def dashboard_widgets(self) -> Sequence[cloudwatch.IWidget]:
        """One row: invocations/errors/throttles, duration percentiles, concurrency, async failures."""
        fn = self.function
        name = self.node.id
        graphs: list[tuple[str, list[cloudwatch.IMetric], list[cloudwatch.IMetric]]] = [
            (f"{name} invocations", [fn.metric_invocations(), fn.metric_errors(), fn.metric_throttles()], []),
            (f"{name} duration", [fn.metric_duration(statistic=p) for p in ("p50", "p90", "p99")], []),
            (
                f"{name} concurrency",
                [fn.metric("ConcurrentExecutions", statistic="Maximum")],
                [self.metric_provisioned_utilization(), self.metric_spillover()],
            ),
        ]
        if self.failure_queue:
            graphs.append(
                (f"{name} async failures", [self.failure_queue.metric_approximate_number_of_messages_visible()], [])
            )
        width = DASHBOARD_WIDTH // len(graphs)
        return [
            cloudwatch.GraphWidget(title=title, left=left, right=right, width=width) for title, left, right in graphs
        ]

    def _create_alarms(self, thresholds: AlarmThresholds) -> list[cloudwatch.Alarm]:
        period = Duration.seconds(thresholds.period_seconds)
        fn = self.function
        specs: list[tuple[str, cloudwatch.IMetric, float, str]] = [
            (
                "ErrorsAlarm",
                fn.metric_errors(period=period),
                thresholds.lambda_errors if self._errors_alarm_threshold is None else self._errors_alarm_threshold,
                "invocations failed",
            ),
            (
                "ThrottlesAlarm",
                fn.metric_throttles(period=period),
                thresholds.lambda_throttles,
                "invocations throttled",
            ),
            (
                "DurationAlarm",
                fn.metric_duration(period=period, statistic="p99"),
                self.timeout.to_milliseconds() * thresholds.duration_p99_fraction_of_timeout,
                "p99 duration near the timeout",
            ),
        ]
        if self.settings.provisioned_concurrency:
            specs.append(
                (
                    "SpilloverAlarm",
                    self.metric_spillover(),
                    thresholds.provisioned_spillover,
                    "provisioned concurrency exhausted",
                )
            )
        if self.failure_queue:
            specs.append(
                (
                    "AsyncFailuresAlarm",
                    self.failure_queue.metric_approximate_number_of_messages_visible(period=period),
                    thresholds.dlq_visible_messages,
                    "async invocations exhausted their retries (on-failure queue not empty)",
                )
            )
        path = self.node.path
        return [
            threshold_alarm(self, alarm_id, metric, threshold, f"{path}: {what}", thresholds)
            for alarm_id, metric, threshold, what in specs
        ]


def _cold_start(settings: FunctionSettings, defaults: PatternDefaults) -> str:
    """The function's cold-start strategy: provisioned concurrency, SnapStart, keep-warm pings or none."""
    if settings.provisioned_concurrency:
        return "provisioned"
    if settings.snap_start:
        return "snapstart"
    return "keep_warm" if defaults.keep_warm else "none"
