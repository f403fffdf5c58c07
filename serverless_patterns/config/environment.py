"""One environment's configuration: what differs between Dev, Staging and Prod."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from aws_cdk import RemovalPolicy, aws_logs as logs

from serverless_patterns.config.checks import check_emails, check_fields
from serverless_patterns.config.common import AlarmThresholds, FunctionSettings, PatternDefaults
from serverless_patterns.config.patterns import (
    ApiSettings,
    CircuitBreakerSettings,
    FanOutSettings,
    PipelineSettings,
    PowerTuningSettings,
    WorkflowSettings,
)

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,63}$")


@dataclass(frozen=True)
class EnvironmentConfig:
    """Everything that differs between Dev, Staging and Prod.

    The three values live in ``serverless_patterns.stacks.environments``; the service stack
    hands each pattern its part. Only Dev is a development environment
    (``PatternDefaults.development``): it alone may run an open API (``ApiAuth.NONE``) or allow
    the CORS origin ``*`` or plain-http origins.

    :param name: the Stage's name (``Dev``, ``Staging``, ``Prod``) and the metrics namespace suffix.
    :param account: AWS account to deploy to (None: environment-agnostic, from the CLI's credentials).
    :param region: AWS region to deploy to (None: environment-agnostic).
    :param functions: ``FunctionSettings`` per function role (``api``, ``validate``, ``process``,
        ``master``, ``worker``, ``aggregator``, ``sweeper``, ``status``, ``validate_order``,
        ``charge_payment``, ``update_inventory``, ``send_confirmation``, ``refund_payment``).
    :param default_function: the settings of every role not in ``functions``.
    :param log_retention: retention of every log group.
    :param removal_policy: ``DESTROY`` (Dev) or ``RETAIN`` (data survives ``cdk destroy``).
    :param alarm_thresholds: the ``AlarmThresholds`` of every alarm.
    :param alarm_emails: who the alarm topic e-mails (each must confirm the subscription).
    :param api: ``ApiSettings`` of the ApiBackend (auth, CORS origins, stage throttling).
    :param point_in_time_recovery: continuous backups of every table.
    :param tracing: X-Ray tracing everywhere.
    :param keep_warm: keep-warm pings for functions without provisioned concurrency.
    :param log_level: the handlers' log level.
    :param debug_log_sample_rate: share of invocations logged at DEBUG.
    :param pipeline: ``PipelineSettings`` of the EventPipeline.
    :param fan_out: ``FanOutSettings`` of the FanOut.
    :param workflow: ``WorkflowSettings`` of the OrderWorkflow.
    :param circuit_breaker: ``CircuitBreakerSettings`` of the breakers guarding external calls.
    :param power_tuning: ``PowerTuningSettings`` (opt-in AWS Lambda Power Tuning, Dev only).
    """

    name: str
    account: str | None = None
    region: str | None = None
    functions: dict[str, FunctionSettings] = field(default_factory=dict)
    default_function: FunctionSettings = field(default_factory=FunctionSettings)
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_WEEK
    removal_policy: RemovalPolicy = RemovalPolicy.DESTROY
    alarm_thresholds: AlarmThresholds = field(default_factory=AlarmThresholds)
    alarm_emails: tuple[str, ...] = ()
    point_in_time_recovery: bool = True
    tracing: bool = True
    keep_warm: bool = False
    log_level: str = "INFO"
    debug_log_sample_rate: float = 0.0
    api: ApiSettings = field(default_factory=ApiSettings)
    pipeline: PipelineSettings = field(default_factory=PipelineSettings)
    fan_out: FanOutSettings = field(default_factory=FanOutSettings)
    workflow: WorkflowSettings = field(default_factory=WorkflowSettings)
    circuit_breaker: CircuitBreakerSettings = field(default_factory=CircuitBreakerSettings)
    power_tuning: PowerTuningSettings = field(default_factory=PowerTuningSettings)

    def __post_init__(self) -> None:
        check_fields(self)
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"EnvironmentConfig.name must match {_NAME.pattern} (a Stage name), got {self.name!r}")
        check_emails(f"EnvironmentConfig {self.name}", "alarm_emails", self.alarm_emails)
        self.api.check_environment(development=self.is_dev, where=f"EnvironmentConfig {self.name}")
        if not self.is_dev and self.power_tuning.enabled:
            raise ValueError(f"{self.name}: Lambda Power Tuning republishes and invokes functions; Dev only")

    @property
    def is_dev(self) -> bool:
        """Dev is the one development environment (open API, CORS ``*`` and ``http://`` origins allowed)."""
        return self.name.lower() == "dev"

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
            development=self.is_dev,
        )

    def function(self, role: str) -> FunctionSettings:
        """Settings of the function playing ``role`` (e.g. ``"api"``), or the default."""
        return self.functions.get(role, self.default_function)

    def functions_for(self, roles: tuple[str, ...]) -> dict[str, FunctionSettings]:
        """A pattern's ``functions=``: every one of its ``roles`` with this environment's settings."""
        return {role: self.function(role) for role in roles}
