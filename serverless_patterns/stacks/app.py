"""Adds the environments to an App, so tests and ``app.py`` build the same thing."""

from __future__ import annotations

from aws_cdk import App

from serverless_patterns.stacks.environments import ENVIRONMENTS, environment
from serverless_patterns.stacks.stage import ServiceStage


def add_environments(
    app: App,
    *,
    only: str | None = None,
    account: str | None = None,
    region: str | None = None,
    compliance_gates: bool = True,
) -> list[ServiceStage]:
    """One Stage per environment (``only``: just that one), named Dev, Staging, Prod.

    :param compliance_gates: see :class:`ServiceStage` (off only to time synthesis without them).
    """
    names = [only.lower()] if only else list(ENVIRONMENTS)
    stages = []
    for name in names:
        config = environment(name, account=account, region=region)
        stages.append(ServiceStage(app, config.name, config=config, compliance_gates=compliance_gates))
    return stages
