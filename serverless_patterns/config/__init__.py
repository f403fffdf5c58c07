"""Typed, frozen configuration shared by the constructs and the environment stacks.

Constructs take these values as keyword arguments; only ``app.py`` decides which
environment's values are used. Nothing here reads the process environment. Every value is
checked when it is built: a wrong type is a ``TypeError`` and a value out of range a
``ValueError``, each naming the field.

Modules
    ``common``       ``FunctionSettings``, ``AlarmThresholds``, ``PatternDefaults``, ``ApiAuth``.
    ``patterns``     each pattern's tuning (``ApiSettings``, ``PipelineSettings``, ``FanOutSettings``,
                     ``WorkflowSettings``) and the building blocks' (``CircuitBreakerSettings``,
                     ``PowerTuningSettings``).
    ``environment``  ``EnvironmentConfig``: what differs between Dev, Staging and Prod.
    ``checks``       the type and value checks they share.
"""

from serverless_patterns.config.common import AlarmThresholds, ApiAuth, FunctionSettings, PatternDefaults
from serverless_patterns.config.environment import EnvironmentConfig
from serverless_patterns.config.patterns import (
    ApiSettings,
    CircuitBreakerSettings,
    FanOutSettings,
    PipelineSettings,
    PowerTuningSettings,
    WorkflowSettings,
)

__all__ = [
    "AlarmThresholds",
    "ApiAuth",
    "ApiSettings",
    "CircuitBreakerSettings",
    "EnvironmentConfig",
    "FanOutSettings",
    "FunctionSettings",
    "PatternDefaults",
    "PipelineSettings",
    "PowerTuningSettings",
    "WorkflowSettings",
]
