"""The three environments. ``app.py`` picks account and region; the rest is here."""

from __future__ import annotations

import dataclasses

from aws_cdk import RemovalPolicy, aws_logs as logs

from serverless_patterns.config import (
    AlarmThresholds,
    ApiAuth,
    ApiSettings,
    EnvironmentConfig,
    FunctionSettings,
    PipelineSettings,
    WorkflowSettings,
)

# Batch work needs more time and memory than an API call: the pipeline reads files of up to
# 50 MiB, the fan-out master queues up to max_items and its aggregator reads every chunk result.
BATCH_FUNCTIONS = {
    "validate": FunctionSettings(memory_mb=256, timeout_seconds=15),
    "process": FunctionSettings(memory_mb=1024, timeout_seconds=60),
    "master": FunctionSettings(memory_mb=512, timeout_seconds=60),
    "worker": FunctionSettings(memory_mb=512, timeout_seconds=30),
    "aggregator": FunctionSettings(memory_mb=512, timeout_seconds=60),
}

DEV = EnvironmentConfig(
    name="Dev",
    default_function=FunctionSettings(memory_mb=256, timeout_seconds=10),
    functions=dict(BATCH_FUNCTIONS),
    log_retention=logs.RetentionDays.ONE_WEEK,
    removal_policy=RemovalPolicy.DESTROY,
    alarm_thresholds=AlarmThresholds(lambda_errors=5, api_5xx_rate_percent=5.0),
    api=ApiSettings(auth=ApiAuth.NONE, cors_origins=("*",), throttle_rate=20, throttle_burst=40),
    point_in_time_recovery=False,
    keep_warm=False,
    log_level="DEBUG",
    pipeline=PipelineSettings(max_receive_count=3, max_concurrency=2),
)

STAGING = EnvironmentConfig(
    name="Staging",
    default_function=FunctionSettings(memory_mb=512, timeout_seconds=10),
    functions={
        **BATCH_FUNCTIONS,
        # SnapStart: the API starts from a snapshot, as Prod's starts provisioned; the rest keep warm.
        "api": FunctionSettings(memory_mb=512, timeout_seconds=10, reserved_concurrency=50, snap_start=True),
    },
    log_retention=logs.RetentionDays.ONE_MONTH,
    removal_policy=RemovalPolicy.RETAIN,
    alarm_emails=("oncall-staging@example.com",),
    api=ApiSettings(
        auth=ApiAuth.IAM, cors_origins=("https://staging.example.com",), throttle_rate=100, throttle_burst=200
    ),
    keep_warm=True,
    debug_log_sample_rate=0.1,
)

PROD = EnvironmentConfig(
    name="Prod",
    default_function=FunctionSettings(memory_mb=1024, timeout_seconds=10),
    functions={
        **BATCH_FUNCTIONS,
        # Reserved concurrency caps what fan-out workers can take from the account's pool.
        "worker": FunctionSettings(memory_mb=512, timeout_seconds=30, reserved_concurrency=20),
        "api": FunctionSettings(
            memory_mb=1024,
            timeout_seconds=10,
            provisioned_concurrency=5,
            max_provisioned_concurrency=50,
            reserved_concurrency=200,
        ),
    },
    log_retention=logs.RetentionDays.THREE_MONTHS,
    removal_policy=RemovalPolicy.RETAIN,
    alarm_thresholds=AlarmThresholds(api_p99_latency_ms=500),
    alarm_emails=("oncall@example.com",),
    api=ApiSettings(
        auth=ApiAuth.COGNITO, cors_origins=("https://app.example.com",), throttle_rate=1_000, throttle_burst=2_000
    ),
    debug_log_sample_rate=0.01,
    workflow=WorkflowSettings(log_execution_data=False),
)

ENVIRONMENTS: dict[str, EnvironmentConfig] = {"dev": DEV, "staging": STAGING, "prod": PROD}


def environment(name: str, *, account: str | None = None, region: str | None = None) -> EnvironmentConfig:
    """The named environment's config with the given account and region."""
    try:
        config = ENVIRONMENTS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown environment {name!r}; choose one of {sorted(ENVIRONMENTS)}") from None
    return dataclasses.replace(config, account=account, region=region)
