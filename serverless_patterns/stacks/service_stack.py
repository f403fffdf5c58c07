"""One environment's stack: composes the patterns and wires them together."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from serverless_patterns.config import EnvironmentConfig
from serverless_patterns.constructs.alarm_topic import AlarmTopic


class ServiceStack(Stack):
    """Every pattern of one environment, configured from its ``EnvironmentConfig``."""

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        self.alarm_topic = AlarmTopic(
            self, "AlarmTopic", emails=config.alarm_emails, removal_policy=config.removal_policy
        )
