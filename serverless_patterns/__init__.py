"""serverless-patterns: production-grade serverless patterns as AWS CDK v2 constructs.

The public API is imported lazily, so handler code under
``serverless_patterns.lambdas`` never pulls in aws_cdk.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "ServerlessFunction": "serverless_patterns.constructs.function",
    "Observable": "serverless_patterns.constructs.observable",
    "ApiAuth": "serverless_patterns.config",
    "AlarmThresholds": "serverless_patterns.config",
    "CircuitBreakerSettings": "serverless_patterns.config",
    "EnvironmentConfig": "serverless_patterns.config",
    "FanOutSettings": "serverless_patterns.config",
    "FunctionSettings": "serverless_patterns.config",
    "PipelineSettings": "serverless_patterns.config",
    "WorkflowSettings": "serverless_patterns.config",
}

if TYPE_CHECKING:
    from serverless_patterns.config import (
        AlarmThresholds,
        ApiAuth,
        CircuitBreakerSettings,
        EnvironmentConfig,
        FanOutSettings,
        FunctionSettings,
        PipelineSettings,
        WorkflowSettings,
    )
    from serverless_patterns.constructs.function import ServerlessFunction
    from serverless_patterns.constructs.observable import Observable

__all__ = [
    "AlarmThresholds",
    "ApiAuth",
    "CircuitBreakerSettings",
    "EnvironmentConfig",
    "FanOutSettings",
    "FunctionSettings",
    "Observable",
    "PipelineSettings",
    "ServerlessFunction",
    "WorkflowSettings",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'serverless_patterns' has no attribute {name!r}")
