"""AwsTarget over the real app's stages (synthesized once per session), as ``pytest -m aws`` builds it.

CloudFormation's listing is stubbed (two pages, as ListStackResources pages a 200+ resource
stack): every resource of every environment must be reachable by its construct path alone.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from serverless_patterns.scenarios.aws_target import (
    AwsTarget,
    SigV4,
    SynthesizedStack,
    TokenRequired,
    Unauthenticated,
)
from serverless_patterns.stacks.stage import ServiceStage

PATTERNS = ("AlarmTopic", "Api", "EventPipeline", "FanOut", "OrderWorkflow", "Observability")


@pytest.fixture(scope="module")
def synthesized(stages: dict[str, ServiceStage]) -> dict[str, SynthesizedStack]:
    return {name: SynthesizedStack.from_stage(stage) for name, stage in stages.items()}


def deployed_target(stack: SynthesizedStack) -> AwsTarget:
    """A target whose stack lists every synthesized resource, on two pages."""
    target = AwsTarget(stack, session=boto3.Session(region_name="us-east-1"))
    summaries = [
        {
            "LogicalResourceId": logical_id,
            "PhysicalResourceId": f"physical-{logical_id}",
            "ResourceType": resource["Type"],
            "LastUpdatedTimestamp": "2025-01-01",
            "ResourceStatus": "CREATE_COMPLETE",
        }
        for logical_id, resource in stack.resources.items()
    ]
    half = len(summaries) // 2
    with Stubber(target.client("cloudformation")) as stubber:
        stubber.add_response(
            "list_stack_resources",
            {"StackResourceSummaries": summaries[:half], "NextToken": "page-2"},
            {"StackName": stack.stack_name},
        )
        stubber.add_response(
            "list_stack_resources",
            {"StackResourceSummaries": summaries[half:]},
            {"StackName": stack.stack_name, "NextToken": "page-2"},
        )
        assert len(target.resources) == len(summaries)
        stubber.assert_no_pending_responses()
    return target


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_every_resource_is_found_by_its_construct_path(synthesized: dict[str, SynthesizedStack], env: str) -> None:
    stack = synthesized[env]
    stage_name = {"dev": "Dev", "staging": "Staging", "prod": "Prod"}[env]
    assert stack.stack_name == f"{stage_name}-Service"
    target = deployed_target(stack)
    assert target.missing_resources() == []
    for resource in target.resources:
        assert resource.path.startswith(f"/{stage_name}/Service/"), resource.logical_id
        relative = resource.path.removeprefix(f"/{stage_name}/Service/")
        assert target.resource(relative, resource.resource_type) == resource
    for pattern in PATTERNS:
        assert target.has_construct(pattern), pattern


def test_the_paths_scenarios_use_resolve_in_dev(synthesized: dict[str, SynthesizedStack]) -> None:
    target = deployed_target(synthesized["dev"])
    assert target.resource("AlarmTopic/Resource/Resource", "AWS::SNS::Topic").logical_id.startswith("AlarmTopic")
    assert target.resource("EventPipeline/QueueDlq").resource_type == "AWS::SQS::Queue"
    assert target.resource("Api/Handler/LiveAlias").resource_type == "AWS::Lambda::Alias"
    assert len(target.find("AWS::CloudWatch::Dashboard", under="Observability")) == 1
    assert len(target.find("AWS::CloudWatch::Alarm")) > 10
    consumed = sorted(queue.path.split("/")[3] for queue in target.consumed_queues())
    assert consumed == ["EventPipeline", "FanOut", "OrderWorkflow"]  # their DLQs and failure queues are not


def test_each_environment_gets_the_api_authorization_it_configures(synthesized: dict[str, SynthesizedStack]) -> None:
    assert isinstance(deployed_target(synthesized["dev"]).authorization, Unauthenticated)
    assert isinstance(deployed_target(synthesized["staging"]).authorization, SigV4)
    assert isinstance(deployed_target(synthesized["prod"]).authorization, TokenRequired)
