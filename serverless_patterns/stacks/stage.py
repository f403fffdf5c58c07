"""A deployable environment: one Stage holding the service stack."""

from __future__ import annotations

from aws_cdk import Environment, Stage
from constructs import Construct

from serverless_patterns.config import EnvironmentConfig
from serverless_patterns.stacks.compliance import add_compliance_checks
from serverless_patterns.stacks.service_stack import ServiceStack


class ServiceStage(Stage):
    """Dev, Staging or Prod. Synthesize with ``npx cdk synth 'Prod/*'``."""

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig) -> None:
        env = Environment(account=config.account, region=config.region)
        super().__init__(scope, construct_id, env=env)
        add_compliance_checks(self)
        self.service = ServiceStack(
            self,
            "Service",
            config=config,
            description=f"serverless-patterns {config.name}: API, pipeline, fan-out, order workflow, observability",
        )
