"""Outputs, resources by construct path, what is deployed: the synthesized assembly joined with CloudFormation."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from serverless_patterns.scenarios.aws_target import AwsTarget, StageNotDeployedError, SynthesizedStack
from serverless_patterns.scenarios.target import Target
from tests.unit.aws_target.conftest import STACK_NAME, Deployed, template, write_assembly


def test_the_assembly_names_every_logical_ids_construct_path(tmp_path: Path) -> None:
    stack = SynthesizedStack.from_assembly(write_assembly(tmp_path, template("https://x/dev/")))
    assert stack.stack_name == STACK_NAME
    # from the metadata file
    assert stack.construct_paths["WorkQueueAAAA"] == "/Dev/Service/Pipeline/Queue/Resource"
    # from the template's aws:cdk:path metadata
    assert stack.construct_paths["HandlerFn5678"] == "/Dev/Service/Pipeline/Handler/Resource"
    assert set(stack.resources) <= set(stack.construct_paths)


def test_an_assembly_with_another_stack_name_is_refused(tmp_path: Path) -> None:
    write_assembly(tmp_path, template("https://x/dev/"))
    assert SynthesizedStack.from_assembly(tmp_path, "Dev/Service").stack_name == STACK_NAME
    with pytest.raises(LookupError, match="expected one stack named 'Prod-Service'"):
        SynthesizedStack.from_assembly(tmp_path, "Prod-Service")


def test_outputs_come_from_the_deployed_stack(deployed: Deployed) -> None:
    target = deployed.target()
    target.ensure_deployed()
    assert target.outputs["ApiUrl"].startswith("http://127.0.0.1:")
    bucket = target.resource("Pipeline/Uploads", "AWS::S3::Bucket").physical_id
    assert target.outputs["UploadBucketName"] == bucket
    assert bucket in [b["Name"] for b in target.client("s3").list_buckets()["Buckets"]]


def test_resources_are_found_by_the_end_of_their_construct_path(deployed: Deployed) -> None:
    target = deployed.target()
    queue = target.resource("Pipeline/Queue")  # an L2 construct's path finds its Resource child
    assert queue.resource_type == "AWS::SQS::Queue"
    assert queue.path == "/Dev/Service/Pipeline/Queue/Resource"
    assert queue.physical_id.startswith("https://sqs.us-east-1.amazonaws.com/")
    assert queue.status == "CREATE_COMPLETE"
    assert target.resource("WorkQueueAAAA") == queue  # or by logical id
    function = target.resource("Handler/Resource", "AWS::Lambda::Function")
    assert function.properties["Handler"] == "index.handler"  # as synthesized
    assert target.client("lambda").get_function(FunctionName=function.physical_id)["Configuration"]["Handler"]


def test_an_ambiguous_or_unknown_path_is_an_error(deployed: Deployed) -> None:
    target = deployed.target()
    assert target.resource("Role").logical_id == "MachineRoleEEEE"  # whole segments: not .../ServiceRole
    with pytest.raises(LookupError, match="11 deployed resources of Dev-Service match 'Resource'"):
        target.resource("Resource")
    with pytest.raises(LookupError, match="0 deployed resources"):
        target.resource("Pipeline/Queue", "AWS::SNS::Topic")
    with pytest.raises(LookupError, match="0 deployed resources"):
        target.resource("Queue/Resource/Extra")


def test_find_and_has_construct_match_whole_path_segments(deployed: Deployed) -> None:
    target = deployed.target()
    assert {r.logical_id for r in target.find("AWS::SQS::Queue")} == {"WorkQueueAAAA", "WorkDlqBBBB"}
    assert [r.logical_id for r in target.find("AWS::IAM::Role", under="Workflow")] == ["MachineRoleEEEE"]
    assert target.find("AWS::IAM::Role", under="Work") == []
    assert target.has_construct("Pipeline")
    assert target.has_construct("Workflow")
    assert not target.has_construct("Pipe")
    assert not target.has_construct("FanOut")


def test_resources_synthesized_but_not_deployed_are_reported(deployed: Deployed) -> None:
    target = deployed.target()
    assert target.missing_resources() == ["/Dev/Service/Pipeline/NewQueue/Resource"]
    with pytest.raises(LookupError):
        target.resource("Pipeline/NewQueue")


def test_a_stage_that_is_not_deployed_says_so(tmp_path: Path) -> None:
    stack = SynthesizedStack.from_assembly(write_assembly(tmp_path, template("https://x/dev/")))
    with mock_aws():
        target = AwsTarget(stack, session=boto3.Session(region_name="eu-west-1"))
        with pytest.raises(StageNotDeployedError, match="Dev-Service is not deployed in eu-west-1"):
            target.ensure_deployed()
        with pytest.raises(StageNotDeployedError):
            _ = target.outputs


def test_a_stack_in_a_failed_state_is_not_usable(deployed: Deployed) -> None:
    target = deployed.target()
    with Stubber(target.client("cloudformation")) as stubber:
        stubber.add_response(
            "describe_stacks",
            {"Stacks": [{"StackName": STACK_NAME, "CreationTime": "2025-01-01", "StackStatus": "ROLLBACK_COMPLETE"}]},
        )
        with pytest.raises(StageNotDeployedError, match="Dev-Service in us-east-1 is ROLLBACK_COMPLETE"):
            target.ensure_deployed()


def test_a_target_needs_a_region(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stack = SynthesizedStack.from_assembly(write_assembly(tmp_path, template("https://x/dev/")))
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(variable)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    with pytest.raises(ValueError, match="no region"):
        AwsTarget(stack, session=boto3.Session())


def test_aws_target_is_a_target(deployed: Deployed) -> None:
    target: Target = deployed.target()  # checked by mypy: AwsTarget satisfies the protocol scenarios use
    assert target.has_construct("Api")
