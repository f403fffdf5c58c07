"""serverless-patterns: production-grade serverless patterns as AWS CDK v2 constructs for Python.

Import the constructs and their configuration types from here::

    from serverless_patterns import ApiBackend, EventPipeline, FunctionSettings, PatternDefaults

The patterns: ``ApiBackend`` (REST API -> Lambda -> DynamoDB), ``EventPipeline`` (S3 -> validate
-> SQS -> process -> S3), ``FanOut`` (chunked parallel work, exactly-once aggregation),
``OrderWorkflow`` (a Step Functions saga with compensation) and ``ObservabilityDashboard`` (one
environment's dashboard, alarm routing and saved log queries). They are built from
``ServerlessFunction``, ``AlarmTopic`` and ``CircuitBreakers``, and configured with the frozen
dataclasses of ``serverless_patterns.config``.

Everything is imported lazily, on first attribute access: the Lambda handlers under
``serverless_patterns.lambdas`` are packaged with this ``__init__`` in the same wheel and must
never pull in aws_cdk (nor pay for importing it) when they import their own modules.

The names listed in ``__all__`` are the public API that semantic versioning covers (see
CHANGELOG.md), together with the construct ids each construct gives the resources it creates.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.3.0"

_CONFIG = "serverless_patterns.config"
_EXPORTS: dict[str, str] = {
    # The patterns.
    "ApiBackend": "serverless_patterns.constructs.api_backend",
    "EventPipeline": "serverless_patterns.constructs.event_pipeline",
    "FanOut": "serverless_patterns.constructs.fan_out",
    "OrderWorkflow": "serverless_patterns.constructs.order_workflow",
    "ObservabilityDashboard": "serverless_patterns.constructs.observability",
    # Their building blocks, usable on their own.
    "ServerlessFunction": "serverless_patterns.constructs.function",
    "AlarmTopic": "serverless_patterns.constructs.alarm_topic",
    "CircuitBreakers": "serverless_patterns.constructs.circuit_breaker",
    "Observable": "serverless_patterns.constructs.observable",
    # Your own code for a pattern's function role, and the compliance gates the patterns pass.
    "HandlerCode": "serverless_patterns.constructs.handler_code",
    "add_compliance_checks": "serverless_patterns.stacks.compliance",
    # Configuration.
    "AlarmThresholds": _CONFIG,
    "ApiAuth": _CONFIG,
    "ApiSettings": _CONFIG,
    "CircuitBreakerSettings": _CONFIG,
    "EnvironmentConfig": _CONFIG,
    "FanOutSettings": _CONFIG,
    "FunctionSettings": _CONFIG,
    "PatternDefaults": _CONFIG,
    "PipelineSettings": _CONFIG,
    "PowerTuningSettings": _CONFIG,
    "WorkflowSettings": _CONFIG,
}

if TYPE_CHECKING:
    from serverless_patterns.config import (
        AlarmThresholds,
        ApiAuth,
        ApiSettings,
        CircuitBreakerSettings,
        EnvironmentConfig,
        FanOutSettings,
        FunctionSettings,
        PatternDefaults,
        PipelineSettings,
        PowerTuningSettings,
        WorkflowSettings,
    )
    from serverless_patterns.constructs.alarm_topic import AlarmTopic
    from serverless_patterns.constructs.api_backend import ApiBackend
    from serverless_patterns.constructs.circuit_breaker import CircuitBreakers
    from serverless_patterns.constructs.event_pipeline import EventPipeline
    from serverless_patterns.constructs.fan_out import FanOut
    from serverless_patterns.constructs.function import ServerlessFunction
    from serverless_patterns.constructs.handler_code import HandlerCode
    from serverless_patterns.constructs.observability import ObservabilityDashboard
    from serverless_patterns.constructs.observable import Observable
    from serverless_patterns.constructs.order_workflow import OrderWorkflow
    from serverless_patterns.stacks.compliance import add_compliance_checks

__all__ = [
    "AlarmThresholds",
    "AlarmTopic",
    "ApiAuth",
    "ApiBackend",
    "ApiSettings",
    "CircuitBreakerSettings",
    "CircuitBreakers",
    "EnvironmentConfig",
    "EventPipeline",
    "FanOut",
    "FanOutSettings",
    "FunctionSettings",
    "HandlerCode",
    "ObservabilityDashboard",
    "Observable",
    "OrderWorkflow",
    "PatternDefaults",
    "PipelineSettings",
    "PowerTuningSettings",
    "ServerlessFunction",
    "WorkflowSettings",
    "add_compliance_checks",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562), then cache the name here."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'serverless_patterns' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names too, although they are imported only when first used."""
    return sorted({*globals(), *_EXPORTS})
