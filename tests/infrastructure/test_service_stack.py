"""The composed app, per environment: every resource observed, every alarm routed, secure settings."""

from __future__ import annotations

import json
import re

import pytest
from aws_cdk import Stack, assertions

from serverless_patterns.stacks.stage import ServiceStage
from tests.infrastructure.observability_checks import (
    alarms_not_notifying,
    alarms_outside_composites,
    unobserved_resources,
)

ENVIRONMENTS = ["dev", "staging", "prod"]


def _topic_logical_id(stage: ServiceStage) -> str:
    topic = stage.service.alarm_topic.topic.node.default_child
    return Stack.of(topic).get_logical_id(topic)  # type: ignore[arg-type]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_function_queue_table_api_and_state_machine_is_on_the_dashboard(
    env: str, templates: dict[str, assertions.Template]
) -> None:
    assert unobserved_resources(templates[env]) == {}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_alarm_notifies_the_topic_on_alarm_and_ok(
    env: str, templates: dict[str, assertions.Template], stages: dict[str, ServiceStage]
) -> None:
    assert alarms_not_notifying(templates[env], _topic_logical_id(stages[env])) == {}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_alarm_feeds_the_service_health_alarm(env: str, templates: dict[str, assertions.Template]) -> None:
    """One service-health composite at the top; past 70 alarms (Prod) it watches composite parts of them."""
    composites = templates[env].find_resources("AWS::CloudWatch::CompositeAlarm")
    watched = {name for c in composites.values() for name in re.findall(r'"Fn::GetAtt": \["(\w+)"', json.dumps(c))}
    assert len(set(composites) - watched) == 1
    assert alarms_outside_composites(templates[env]) <= _warnings(templates[env])


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_outside_dev_the_api_is_authenticated_and_cors_is_exact(
    env: str, templates: dict[str, assertions.Template]
) -> None:
    methods = templates[env].find_resources("AWS::ApiGateway::Method")
    proxied = [m for m in methods.values() if m["Properties"]["HttpMethod"] != "OPTIONS"]
    assert proxied
    assert {m["Properties"]["AuthorizationType"] for m in proxied} <= {"AWS_IAM", "COGNITO_USER_POOLS"}
    allowed_origins = {
        value
        for method in methods.values()
        for response in method["Properties"].get("Integration", {}).get("IntegrationResponses", [])
        for header, value in response.get("ResponseParameters", {}).items()
        if header.endswith("Access-Control-Allow-Origin")
    }
    assert allowed_origins
    assert "'*'" not in allowed_origins


def test_prod_api_uses_provisioned_concurrency_through_the_alias(templates: dict[str, assertions.Template]) -> None:
    templates["prod"].has_resource_properties(
        "AWS::Lambda::Alias",
        {"Name": "live", "ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 5}},
    )
    templates["dev"].has_resource_properties(
        "AWS::Lambda::Alias", {"ProvisionedConcurrencyConfig": assertions.Match.absent()}
    )


def _warnings(template: assertions.Template) -> set[str]:
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    return {
        logical_id
        for logical_id, alarm in alarms.items()
        if str(alarm["Properties"].get("AlarmDescription", "")).startswith("WARNING")
    }


DATA_TYPES = (
    "AWS::SQS::Queue",
    "AWS::DynamoDB::GlobalTable",
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
    "AWS::Logs::LogGroup",
)


@pytest.mark.parametrize(("env", "policy"), [("dev", "Delete"), ("staging", "Retain"), ("prod", "Retain")])
def test_every_queue_table_bucket_and_log_group_follows_the_environments_removal_policy(
    env: str, policy: str, templates: dict[str, assertions.Template]
) -> None:
    """Dead letters, data and logs survive a stack deletion or a replacement in Staging and Prod."""
    resources = templates[env].to_json()["Resources"]
    policies = {
        logical_id: (resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy"))
        for logical_id, resource in resources.items()
        if resource["Type"] in DATA_TYPES
    }
    kinds = {resources[logical_id]["Type"] for logical_id in policies}
    assert {"AWS::SQS::Queue", "AWS::DynamoDB::GlobalTable", "AWS::S3::Bucket", "AWS::Logs::LogGroup"} <= kinds
    assert {logical_id: value for logical_id, value in policies.items() if value != (policy, policy)} == {}
