"""PowerTuning: the Power Tuning app nested in Dev, scoped to the stack's functions, gates passed."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack, Stage, assertions
from cfnlint.api import ManualArgs, lint_file

from serverless_patterns.config import PowerTuningSettings
from serverless_patterns.constructs.power_tuning import APPLICATION_ID, PowerTuning, tuning_input
from serverless_patterns.stacks.compliance import add_compliance_checks
from serverless_patterns.stacks.environments import environment

Match = assertions.Match


@pytest.fixture(scope="module")
def synthesized(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> tuple[Stack, PowerTuning]:
    config = dataclasses.replace(
        environment("dev"), power_tuning=PowerTuningSettings(enabled=True, power_values=(256, 512, 1024))
    )
    app = App(context=cdk_context, outdir=str(tmp_path_factory.mktemp("cdk.out")))
    stage = Stage(app, config.name)
    add_compliance_checks(stage)
    stack = Stack(stage, "Service")
    tuner = PowerTuning(stack, "PowerTuning", settings=config.power_tuning)
    app.synth()  # runs the compliance gates; Template.from_stack alone does not
    return stack, tuner


def test_the_public_app_is_nested_with_the_sam_transform(synthesized: tuple[Stack, PowerTuning]) -> None:
    stack, _ = synthesized
    template = assertions.Template.from_stack(stack)
    assert template.to_json()["Transform"] == "AWS::Serverless-2016-10-31"
    template.has_resource_properties(
        "AWS::Serverless::Application",
        {
            "Location": {"ApplicationId": APPLICATION_ID, "SemanticVersion": "4.4.0"},
            "Parameters": Match.object_like(
                {"PowerValues": "256,512,1024", "totalExecutionTimeout": "300", "logGroupRetentionInDays": "7"}
            ),
        },
    )


def test_it_may_tune_only_this_stacks_functions(synthesized: tuple[Stack, PowerTuning]) -> None:
    stack, tuner = synthesized
    resource = stack.resolve(tuner.lambda_resource)
    parts = resource["Fn::Join"][1]
    assert parts[0] == "arn:"
    assert parts[-1] == ":function:Dev-Service-*"
    assert stack.resolve(tuner.state_machine_arn) == {
        "Fn::GetAtt": [stack.get_logical_id(tuner.application), "Outputs.StateMachineARN"]
    }


def test_the_template_passes_cfn_lint(synthesized: tuple[Stack, PowerTuning]) -> None:
    stack, _ = synthesized
    stage = Stage.of(stack)
    assert stage is not None
    artifact = stage.synth().get_stack_artifact(stack.artifact_id)
    assert [str(match) for match in lint_file(Path(artifact.template_full_path), ManualArgs())] == []


def test_power_tuning_is_for_dev_only() -> None:
    with pytest.raises(ValueError, match="Dev only"):
        dataclasses.replace(environment("prod"), power_tuning=PowerTuningSettings(enabled=True))
    assert not environment("dev").power_tuning.enabled  # opt-in


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"power_values": ()}, "power_values"),
        ({"power_values": (64, 512)}, "power_values"),
        ({"total_execution_timeout_seconds": 901}, "10..900"),
        ({"log_retention_days": 0}, "log_retention_days"),
    ],
)
def test_settings_that_cannot_work_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PowerTuningSettings(**changes)


def test_a_tuning_run_input() -> None:
    arn = "arn:aws:lambda:us-east-1:111122223333:function:Dev-Service-ApiHandlerF33F5146-x"
    assert tuning_input(arn, {"path": "/items"}, power_values=[256, 512], num=10) == {
        "lambdaARN": arn,
        "num": 10,
        "payload": {"path": "/items"},
        "parallelInvocation": False,
        "strategy": "cost",
        "autoOptimize": False,
        "powerValues": [256, 512],
    }
    weighted = tuning_input(arn, [{"payload": {}, "weight": 3}], strategy="balanced")
    assert weighted["payload"] == [{"payload": {}, "weight": 3}]
    assert "powerValues" not in weighted  # the deployment's PowerValues apply
    with pytest.raises(ValueError, match="strategy"):
        tuning_input(arn, {}, strategy="cheapest")
    with pytest.raises(ValueError, match="num"):
        tuning_input(arn, {}, num=1)
