"""Typed, frozen configuration shared by the constructs and the environment stacks.

Constructs take these values as keyword arguments; only ``app.py`` decides which
environment's values are used. Nothing here reads the process environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from aws_cdk import RemovalPolicy, aws_logs as logs


class ApiAuth(StrEnum):
    """How callers authenticate to the API. ``NONE`` is refused outside Dev."""

    IAM = "iam"
    COGNITO = "cognito"
    NONE = "none"


@dataclass(frozen=True)
class FunctionSettings:
    """Sizing of one Lambda function.

    ``provisioned_concurrency`` > 0 publishes a ``live`` alias with that many
    pre-initialised environments and scales it between that value and
    ``max_provisioned_concurrency`` on utilisation.
    """

    memory_mb: int = 256
    timeout_seconds: int = 10
    provisioned_concurrency: int = 0
    max_provisioned_concurrency: int = 0
    reserved_concurrency: int | None = None

    def __post_init__(self) -> None:
        if not 128 <= self.memory_mb <= 10_240:
            raise ValueError(f"memory_mb must be 128..10240, got {self.memory_mb}")
        if not 1 <= self.timeout_seconds <= 900:
            raise ValueError(f"timeout_seconds must be 1..900, got {self.timeout_seconds}")
        if self.provisioned_concurrency < 0:
            raise ValueError("provisioned_concurrency must be >= 0")
        if self.max_provisioned_concurrency and (self.max_provisioned_concurrency < self.provisioned_concurrency):
            raise ValueError("max_provisioned_concurrency must be >= provisioned_concurrency")


@dataclass(frozen=True)
class AlarmThresholds:
    """Alarm thresholds shared by every pattern in one environment."""

    lambda_errors: int = 1
    lambda_throttles: int = 1
    duration_p99_fraction_of_timeout: float = 0.8
    provisioned_spillover: int = 1
    api_5xx_rate_percent: float = 1.0
    api_4xx_rate_percent: float = 10.0
    api_p99_latency_ms: int = 1_000
    dynamodb_throttles: int = 1
    queue_oldest_message_seconds: int = 300
    dlq_visible_messages: int = 1
    evaluation_periods: int = 3
    datapoints_to_alarm: int = 2
    period_seconds: int = 60


@dataclass(frozen=True)
class PatternDefaults:
    """Cross-cutting settings every pattern applies to the resources it creates."""

    metrics_namespace: str = "ServerlessPatterns"
    thresholds: AlarmThresholds = field(default_factory=AlarmThresholds)
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH
    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN
    point_in_time_recovery: bool = True
    tracing: bool = True
    log_level: str = "INFO"
    debug_log_sample_rate: float = 0.0
    keep_warm: bool = False


@dataclass(frozen=True)
class PipelineSettings:
    """EventPipeline tuning."""

    batch_size: int = 10
    batching_window_seconds: int = 5
    max_concurrency: int = 5
    max_receive_count: int = 5
    max_file_bytes: int = 50 * 1024 * 1024
    upload_prefix: str = "incoming/"


@dataclass(frozen=True)
class FanOutSettings:
    """FanOut tuning."""

    chunk_size: int = 100
    max_items: int = 100_000
    worker_parallelism: int = 8
    worker_retries: int = 2
    job_deadline_minutes: int = 30


@dataclass(frozen=True)
class WorkflowSettings:
    """OrderWorkflow tuning."""

    express: bool = False
    log_execution_data: bool = False
    execution_timeout_minutes: int = 5


@dataclass(frozen=True)
class CircuitBreakerSettings:
    """Thresholds of the circuit breaker that guards calls to external services."""

    failure_threshold: int = 5
    window_seconds: int = 60
    cooldown_seconds: int = 30
    connect_timeout_seconds: float = 1.0
    read_timeout_seconds: float = 3.0


@dataclass(frozen=True)
class EnvironmentConfig:
    """Everything that differs between Dev, Staging and Prod."""

    name: str
    account: str | None = None
    region: str | None = None
    functions: dict[str, FunctionSettings] = field(default_factory=dict)
    default_function: FunctionSettings = field(default_factory=FunctionSettings)
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_WEEK
    removal_policy: RemovalPolicy = RemovalPolicy.DESTROY
    alarm_thresholds: AlarmThresholds = field(default_factory=AlarmThresholds)
    alarm_emails: tuple[str, ...] = ()
    api_auth: ApiAuth = ApiAuth.IAM
    cors_origins: tuple[str, ...] = ()
    api_throttle_rate: int = 100
    api_throttle_burst: int = 200
    point_in_time_recovery: bool = True
    tracing: bool = True
    keep_warm: bool = False
    log_level: str = "INFO"
    debug_log_sample_rate: float = 0.0
    pipeline: PipelineSettings = field(default_factory=PipelineSettings)
    fan_out: FanOutSettings = field(default_factory=FanOutSettings)
    workflow: WorkflowSettings = field(default_factory=WorkflowSettings)
    circuit_breaker: CircuitBreakerSettings = field(default_factory=CircuitBreakerSettings)

    def __post_init__(self) -> None:
        is_dev = self.name.lower() == "dev"
        if not is_dev and self.api_auth is ApiAuth.NONE:
            raise ValueError(f"{self.name}: an unauthenticated API is allowed in Dev only")
        if not is_dev and "*" in self.cors_origins:
            raise ValueError(f"{self.name}: CORS origin '*' is allowed in Dev only")

    @property
    def metrics_namespace(self) -> str:
        """CloudWatch namespace of the business metrics, one per environment."""
        return f"ServerlessPatterns/{self.name}"

    @property
    def defaults(self) -> PatternDefaults:
        """The cross-cutting settings handed to every pattern of this environment."""
        return PatternDefaults(
            metrics_namespace=self.metrics_namespace,
            thresholds=self.alarm_thresholds,
            log_retention=self.log_retention,
            removal_policy=self.removal_policy,
            point_in_time_recovery=self.point_in_time_recovery,
            tracing=self.tracing,
            log_level=self.log_level,
            debug_log_sample_rate=self.debug_log_sample_rate,
            keep_warm=self.keep_warm,
        )

    def function(self, role: str) -> FunctionSettings:
        """Settings of the function playing ``role`` (e.g. ``"api"``), or the default."""
        return self.functions.get(role, self.default_function)
