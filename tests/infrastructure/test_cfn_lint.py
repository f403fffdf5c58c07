"""cfn-lint over every synthesized template; only CDK's redundant DependsOn (W3005) is tolerated."""

from __future__ import annotations

from pathlib import Path

import pytest
from cfnlint.api import ManualArgs, lint_file

from serverless_patterns.stacks.stage import ServiceStage

IGNORED_RULES = ["W3005"]


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_template_passes_cfn_lint(env: str, stages: dict[str, ServiceStage]) -> None:
    stage = stages[env]
    artifact = stage.synth().get_stack_artifact(stage.service.artifact_id)
    matches = lint_file(Path(artifact.template_full_path), ManualArgs(ignore_checks=IGNORED_RULES))
    assert [str(match) for match in matches] == []
