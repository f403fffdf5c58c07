"""A deployable environment: one Stage holding the service stack."""

from __future__ import annotations

from aws_cdk import Environment, Stage
from constructs import Construct

from serverless_patterns.config import EnvironmentConfig
from serverless_patterns.stacks.compliance import add_compliance_checks
from serverless_patterns.stacks.service_stack import ServiceStack


class ServiceStage(Stage):
    """Dev, Staging or Prod. Synthesize with ``npx cdk synth 'Prod/*'``."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, compliance_gates: bool = True
    ) -> None:
        """The stage and its service stack.

        :param config: the environment's configuration.
        :param compliance_gates: run the compliance gates (``stacks/compliance.py``) when the stage is synthesized.
            Only ``bench`` turns them off, to time them apart; ``app.py`` has no way to, so nothing deployed skips them.
        """
        env = Environment(account=config.account, region=config.region)
        super().__init__(scope, construct_id, env=env)
        if compliance_gates:
            add_compliance_checks(self)
        self.service = ServiceStack(
            self,
            "Service",
            config=config,
            description=f"serverless-patterns {config.name}: API, pipeline, fan-out, order workflow, observability",
        )
