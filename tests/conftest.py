"""Session-wide fixtures: the app synthesized once, with cdk.json's context."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, assertions

from serverless_patterns.stacks.app import add_environments
from serverless_patterns.stacks.stage import ServiceStage

ROOT = Path(__file__).resolve().parent.parent

# The caller's own AWS settings, kept for the opt-in real-account suite (tests/aws) only.
CALLER_AWS_ENVIRONMENT = {name: value for name, value in os.environ.items() if name.startswith("AWS_")}

# Tests never reach real AWS: fake credentials and a fixed region for every boto3 client.
for _name, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}.items():
    os.environ[_name] = _value
os.environ.pop("AWS_PROFILE", None)


@pytest.fixture(scope="session")
def cdk_context() -> dict[str, Any]:
    """cdk.json's context (feature flags): ``python3 app.py`` alone would miss them."""
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
    return context


@pytest.fixture(scope="session")
def stages(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, ServiceStage]:
    """Dev, Staging and Prod, built and synthesized once per test session."""
    app = App(context=cdk_context, outdir=str(tmp_path_factory.mktemp("cdk.out")))
    built = {stage.stage_name.lower(): stage for stage in add_environments(app)}
    app.synth()
    return built


@pytest.fixture(scope="session")
def templates(stages: dict[str, ServiceStage]) -> dict[str, assertions.Template]:
    """The service stack's template per environment."""
    return {name: assertions.Template.from_stack(stage.service) for name, stage in stages.items()}
