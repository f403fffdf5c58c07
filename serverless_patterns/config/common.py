"""Settings every pattern shares: function sizing, alarm thresholds, cross-cutting defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from aws_cdk import RemovalPolicy, aws_logs as logs

from serverless_patterns.config.checks import check_fields

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ApiAuth(StrEnum):
    """How callers authenticate to the API. ``NONE`` is refused outside development environments.

    ``IAM``: SigV4-signed requests from AWS principals (services, CLIs); grant them with
    ``ApiBackend.grant_invoke_api``. ``COGNITO``: end users with an ID token of a Cognito user
    pool (given, or created with MFA required and no self sign-up). ``NONE``: open, for Dev.
    """

    IAM = "iam"
    COGNITO = "cognito"
    NONE = "none"


@dataclass(frozen=True)
class FunctionSettings:
    """Sizing of one Lambda function, and its cold-start strategy.

    ``provisioned_concurrency`` > 0 publishes a ``live`` alias with that many
    pre-initialised environments and scales it between that value and
    ``max_provisioned_concurrency`` on utilisation.

    The cold-start strategies (``ServerlessFunction.cold_start``): ``provisioned`` (environments kept
    initialised, billed while idle), ``snapstart`` (Lambda initialises each published version
    once and restores new environments from its snapshot: cache and restore charges, no idle
    environments), ``keep_warm`` (the environment's 5-minute pings, ``PatternDefaults.keep_warm``)
    or ``none``. SnapStart and provisioned concurrency exclude each other, as Lambda requires.

    :param memory_mb: memory, 128..10240 MB. CPU share grows with it, so a CPU-bound handler can
        get both faster and cheaper with more (measure with Lambda Power Tuning).
    :param timeout_seconds: 1..900 s. Queues that feed the function get a visibility timeout
        derived from it, and the p99-duration alarm fires near it.
    :param provisioned_concurrency: environments kept initialised on the ``live`` alias (no cold
        starts up to that many concurrent calls; billed while idle). 0: none.
    :param max_provisioned_concurrency: with ``provisioned_concurrency``, the ceiling the alias's
        provisioned concurrency auto scales to (at 70 % utilisation). 0 or equal: no scaling.
    :param reserved_concurrency: caps the function's concurrent executions and sets them aside
        from the account's pool (protects both the function and its neighbours). None:
        the unreserved pool.
    :param snap_start: Lambda SnapStart on the published versions the ``live`` alias points to
        (Python 3.12+, which the patterns' runtime is). Not with provisioned concurrency; the
        function's ephemeral storage must stay at most 512 MB and it may mount no EFS file system
        (the compliance gates check the template). The handlers' runtime hooks keep restored
        environments apart (``serverless_patterns.lambdas.shared.snapstart``).
    """

    memory_mb: int = 256
    timeout_seconds: int = 10
    provisioned_concurrency: int = 0
    max_provisioned_concurrency: int = 0
    reserved_concurrency: int | None = None
    snap_start: bool = False

    def __post_init__(self) -> None:
        check_fields(self)
        if not 128 <= self.memory_mb <= 10_240:
            raise ValueError(f"FunctionSettings.memory_mb must be 128..10240, got {self.memory_mb}")
        if not 1 <= self.timeout_seconds <= 900:
            raise ValueError(f"FunctionSettings.timeout_seconds must be 1..900, got {self.timeout_seconds}")
        if self.provisioned_concurrency < 0 or self.max_provisioned_concurrency < 0:
            raise ValueError("FunctionSettings.provisioned_concurrency and max_provisioned_concurrency must be >= 0")
        if self.max_provisioned_concurrency and (self.max_provisioned_concurrency < self.provisioned_concurrency):
            raise ValueError("FunctionSettings.max_provisioned_concurrency must be >= provisioned_concurrency")
        if self.snap_start and (self.provisioned_concurrency or self.max_provisioned_concurrency):
            raise ValueError(
                "FunctionSettings.snap_start cannot be combined with provisioned_concurrency: Lambda refuses "
                "SnapStart on a function with provisioned concurrency; choose one cold-start strategy"
            )
        if self.reserved_concurrency is not None:
            if self.reserved_concurrency < 0:
                raise ValueError(f"FunctionSettings.reserved_concurrency must be >= 0, got {self.reserved_concurrency}")
            ceiling = max(self.provisioned_concurrency, self.max_provisioned_concurrency)
            if ceiling > self.reserved_concurrency:
                raise ValueError(
                    f"provisioned concurrency (up to {ceiling}) cannot exceed reserved_concurrency "
                    f"({self.reserved_concurrency}): Lambda refuses it"
                )


@dataclass(frozen=True)
class AlarmThresholds:
    """Alarm thresholds shared by every pattern in one environment.

    An alarm fires when its metric reaches the threshold (>=) in ``datapoints_to_alarm`` of
    the last ``evaluation_periods`` periods; missing data is not breaching.

    :param lambda_errors: failed invocations per period, per function.
    :param lambda_throttles: throttled invocations per period, per function.
    :param duration_p99_fraction_of_timeout: p99 duration above this share of the timeout alarms
        before invocations start timing out.
    :param provisioned_spillover: invocations per period that found no provisioned environment
        free (only functions with provisioned concurrency).
    :param api_5xx_rate_percent: share of API requests answered 5XX (counted from 10 requests
        per period on: fewer is noise).
    :param api_4xx_rate_percent: share answered 4XX; a warning alarm (client misuse), not a page.
    :param api_p99_latency_ms: API Gateway's p99 latency.
    :param waf_blocked_requests: requests an API's web ACL blocked per period; a warning alarm (an
        attack, a client over the rate limit, or a rule blocking legitimate traffic), not a page.
    :param dynamodb_throttles: throttled requests per period, per table.
    :param queue_oldest_message_seconds: age of the oldest message of a work queue (work is stuck
        or falling behind).
    :param dlq_visible_messages: messages in a dead-letter or on-failure queue.
    :param account_concurrency: the account's Lambda concurrency quota in the Region (AWS's default
        1,000; set yours if it was raised): the dashboard alarms as concurrent executions near it.
    :param capacity_share: share of a limit (that quota, a function's reserved concurrency) at which
        its alarm fires, before the limit throttles (0..1).
    :param evaluation_periods: how many periods each alarm looks at.
    :param datapoints_to_alarm: how many of them must breach.
    :param period_seconds: the length of one period (also the dashboards' metric period).
    """

    lambda_errors: int = 1
    lambda_throttles: int = 1
    duration_p99_fraction_of_timeout: float = 0.8
    provisioned_spillover: int = 1
    api_5xx_rate_percent: float = 1.0
    api_4xx_rate_percent: float = 10.0
    api_p99_latency_ms: int = 1_000
    waf_blocked_requests: int = 100
    dynamodb_throttles: int = 1
    queue_oldest_message_seconds: int = 300
    dlq_visible_messages: int = 1
    account_concurrency: int = 1_000
    capacity_share: float = 0.8
    evaluation_periods: int = 3
    datapoints_to_alarm: int = 2
    period_seconds: int = 60

    def __post_init__(self) -> None:
        check_fields(self)
        counts = {
            name: getattr(self, name)
            for name in (
                "lambda_errors",
                "lambda_throttles",
                "provisioned_spillover",
                "dynamodb_throttles",
                "dlq_visible_messages",
                "waf_blocked_requests",
                "account_concurrency",
            )
        }
        for name, value in counts.items():
            if value < 1:
                raise ValueError(f"AlarmThresholds.{name} must be >= 1, got {value}")
        if not 0 < self.duration_p99_fraction_of_timeout <= 1:
            raise ValueError("AlarmThresholds.duration_p99_fraction_of_timeout must be in (0, 1]")
        if not 0 < self.capacity_share <= 1:
            raise ValueError(f"AlarmThresholds.capacity_share must be in (0, 1], got {self.capacity_share}")
        if not (0 < self.api_5xx_rate_percent <= 100 and 0 < self.api_4xx_rate_percent <= 100):
            raise ValueError("AlarmThresholds.api_5xx_rate_percent and api_4xx_rate_percent must be in (0, 100]")
        if self.api_p99_latency_ms < 1 or self.queue_oldest_message_seconds < 1:
            raise ValueError("AlarmThresholds.api_p99_latency_ms and queue_oldest_message_seconds must be >= 1")
        if not 1 <= self.datapoints_to_alarm <= self.evaluation_periods:
            raise ValueError("AlarmThresholds needs 1 <= datapoints_to_alarm <= evaluation_periods")
        if self.period_seconds not in (10, 20, 30) and (self.period_seconds < 60 or self.period_seconds % 60):
            raise ValueError(
                f"AlarmThresholds.period_seconds must be 10, 20, 30 or a multiple of 60 (CloudWatch), "
                f"got {self.period_seconds}"
            )


@dataclass(frozen=True)
class PatternDefaults:
    """Cross-cutting settings every pattern applies to the resources it creates.

    An environment hands its own to every pattern (``EnvironmentConfig.defaults``); an app
    of your own builds one directly. The defaults are production-safe: data retained,
    point-in-time recovery, tracing on, no development allowances.

    :param metrics_namespace: CloudWatch namespace of the handlers' business metrics (EMF).
    :param thresholds: the alarm thresholds (``AlarmThresholds``).
    :param log_retention: retention of every log group created (functions, API access logs,
        state machine executions).
    :param removal_policy: what ``cdk destroy`` does to tables, buckets, log groups, keys and
        secrets; ``RETAIN`` also turns on deletion protection of tables and user pools.
    :param point_in_time_recovery: continuous backups of every DynamoDB table created.
    :param tracing: X-Ray active tracing of functions, the API stage and state machines.
    :param log_level: the handlers' Powertools log level (``DEBUG`` also raises API Gateway's
        execution logging from ERROR to INFO).
    :param debug_log_sample_rate: share of invocations (0..1) logged at DEBUG whatever the level.
    :param keep_warm: ping functions without provisioned concurrency every 5 minutes (the
        handlers return at once on the ping).
    :param development: a development environment. Only then may an API be open
        (``ApiAuth.NONE``) or allow the CORS origin ``*`` or plain ``http://`` origins; the
        constructs refuse them otherwise.
    """

    metrics_namespace: str = "ServerlessPatterns"
    thresholds: AlarmThresholds = field(default_factory=AlarmThresholds)
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH
    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN
    point_in_time_recovery: bool = True
    tracing: bool = True
    log_level: str = "INFO"
    debug_log_sample_rate: float = 0.0
    keep_warm: bool = False
    development: bool = False

    def __post_init__(self) -> None:
        check_fields(self)
        if not self.metrics_namespace.strip() or len(self.metrics_namespace) > 255:
            raise ValueError("PatternDefaults.metrics_namespace must be 1..255 characters")
        if self.log_level.upper() not in LOG_LEVELS:
            raise ValueError(f"PatternDefaults.log_level must be one of {LOG_LEVELS}, got {self.log_level!r}")
        if not 0 <= self.debug_log_sample_rate <= 1:
            raise ValueError(f"PatternDefaults.debug_log_sample_rate must be 0..1, got {self.debug_log_sample_rate}")
