"""The cdk-nag gates: an unacknowledged finding fails synthesis; an acknowledged one does not."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aws_cdk import (
    App,
    RemovalPolicy,
    Stack,
    Stage,
    Validations,
    assertions,
    aws_dynamodb as dynamodb,
    aws_iam as iam,
    aws_kms as kms,
    aws_lambda as lambda_,
    aws_sqs as sqs,
)

from serverless_patterns.config import FunctionSettings, PatternDefaults
from serverless_patterns.constructs.compliance import WILDCARD_RESOURCE_FINDING, acknowledge
from serverless_patterns.constructs.function import ServerlessFunction
from serverless_patterns.constructs.storage import secure_table
from serverless_patterns.stacks.compliance import add_compliance_checks
from serverless_patterns.stacks.template_checks import findings


def _stage_with_bare_queue(cdk_context: dict[str, Any], outdir: str) -> tuple[App, sqs.Queue]:
    app = App(context=cdk_context, outdir=outdir)
    stage = Stage(app, "Gate")
    add_compliance_checks(stage)
    queue = sqs.Queue(Stack(stage, "Service"), "NoDlqNoTls")
    return app, queue


def test_unacknowledged_finding_fails_synth(cdk_context: dict[str, Any], tmp_path: Any) -> None:
    app, _ = _stage_with_bare_queue(cdk_context, str(tmp_path))
    with pytest.raises(RuntimeError, match="ValidationFailed") as failure:
        app.synth()
    assert "AwsSolutions-SQS4" in str(failure.value)
    assert "Serverless-SQSRedrivePolicy" in str(failure.value)


def test_acknowledged_findings_pass(cdk_context: dict[str, Any], tmp_path: Any) -> None:
    app, queue = _stage_with_bare_queue(cdk_context, str(tmp_path))
    acknowledge(
        queue,
        ("AwsSolutions::AwsSolutions-SQS3", "test: a queue without DLQ"),
        ("AwsSolutions::AwsSolutions-SQS4", "test: a queue without TLS enforcement"),
        ("Serverless::Serverless-SQSRedrivePolicy", "test: a queue without redrive"),
    )
    app.synth()


# --- our own pack: ServerlessPatterns (stacks/template_checks.py) ------------------------------------


def _gated_stack(cdk_context: dict[str, Any], outdir: str) -> tuple[App, Stack]:
    app = App(context=cdk_context, outdir=outdir)
    stage = Stage(app, "Gate")
    add_compliance_checks(stage)
    return app, Stack(stage, "Service")


def test_a_global_table_without_pitr_or_deletion_protection_fails_synth(
    cdk_context: dict[str, Any], tmp_path: Any
) -> None:
    app, stack = _gated_stack(cdk_context, str(tmp_path))
    dynamodb.TableV2(stack, "Bare", partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING))
    with pytest.raises(RuntimeError, match="ValidationFailed") as failure:
        app.synth()
    assert "ServerlessPatterns-DynamoDBPointInTimeRecovery" in str(failure.value)
    assert "ServerlessPatterns-DynamoDBDeletionProtection" in str(failure.value)


@pytest.mark.parametrize(("development", "fails"), [(True, False), (False, True)])
def test_only_a_development_environments_tables_are_acknowledged(
    cdk_context: dict[str, Any], tmp_path: Any, development: bool, fails: bool
) -> None:
    app, stack = _gated_stack(cdk_context, str(tmp_path))
    defaults = PatternDefaults(
        removal_policy=RemovalPolicy.DESTROY, point_in_time_recovery=False, development=development
    )
    secure_table(stack, "Items", defaults=defaults)
    if fails:
        with pytest.raises(RuntimeError, match="ServerlessPatterns-DynamoDBPointInTimeRecovery"):
            app.synth()
    else:
        app.synth()


def test_a_service_principal_without_a_source_condition_fails_synth(cdk_context: dict[str, Any], tmp_path: Any) -> None:
    app, stack = _gated_stack(cdk_context, str(tmp_path))
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    key.grant_encrypt_decrypt(iam.ServicePrincipal("cloudwatch.amazonaws.com"))
    with pytest.raises(RuntimeError, match="ServerlessPatterns-ServicePrincipalCondition"):
        app.synth()


def _gated_function(cdk_context: dict[str, Any], outdir: str) -> tuple[App, ServerlessFunction]:
    app, stack = _gated_stack(cdk_context, outdir)
    function = ServerlessFunction(
        stack,
        "Fn",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
        handler="index.handler",
        settings=FunctionSettings(),
        service="gate",
    )
    return app, function


def test_a_new_wildcard_grant_to_a_function_role_fails_synth(cdk_context: dict[str, Any], tmp_path: Any) -> None:
    """The X-Ray wildcard is acknowledged on its own policy only: any other Resource '*' is a finding."""
    app, _ = _gated_function(cdk_context, str(tmp_path / "traced"))
    app.synth()  # tracing's own wildcard passes
    app, widened = _gated_function(cdk_context, str(tmp_path / "widened"))
    widened.role.add_to_principal_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"]))
    with pytest.raises(RuntimeError, match=re.escape("AwsSolutions-IAM5[Resource::*]")):
        app.synth()


RESOURCE = dict[str, Any]


def _snapstart_function(**properties: Any) -> RESOURCE:
    """A function with SnapStart on its published versions, on python3.13 unless ``properties`` say otherwise."""
    return {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Runtime": "python3.13", "SnapStart": {"ApplyOn": "PublishedVersions"}, **properties},
    }


@pytest.mark.parametrize(
    ("resource", "rule"),
    [
        ({"Type": "AWS::DynamoDB::Table", "Properties": {}}, "DynamoDBPointInTimeRecovery"),
        (
            {
                "Type": "AWS::DynamoDB::GlobalTable",
                "Properties": {
                    "Replicas": [
                        {"PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}},
                        {"PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": False}},
                    ]
                },
            },
            "DynamoDBPointInTimeRecovery",
        ),
        (
            {"Type": "AWS::DynamoDB::GlobalTable", "Properties": {"Replicas": [{"DeletionProtectionEnabled": False}]}},
            "DynamoDBDeletionProtection",
        ),
        (
            {"Type": "AWS::Lambda::Permission", "Properties": {"Principal": "events.amazonaws.com"}},
            "ServicePrincipalCondition",
        ),
        (
            {
                "Type": "AWS::SQS::QueuePolicy",
                "Properties": {
                    "PolicyDocument": {
                        "Statement": [{"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}}]
                    }
                },
            },
            "ServicePrincipalCondition",
        ),
        (_snapstart_function(Runtime="python3.11"), "SnapStartCompatible"),
        (_snapstart_function(EphemeralStorage={"Size": 1024}), "SnapStartCompatible"),
        (_snapstart_function(FileSystemConfigs=[{"Arn": "arn", "LocalMountPath": "/mnt/data"}]), "SnapStartCompatible"),
    ],
)
def test_each_rule_finds_what_it_names(resource: RESOURCE, rule: str) -> None:
    assert rule in [name for name, _, _ in findings({"Resources": {"R": resource}})]


@pytest.mark.parametrize(
    "resource",
    [
        {
            "Type": "AWS::DynamoDB::GlobalTable",
            "Properties": {
                "Replicas": [
                    {
                        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                        "DeletionProtectionEnabled": True,
                    }
                ]
            },
        },
        {
            "Type": "AWS::Lambda::Permission",
            "Properties": {"Principal": "s3.amazonaws.com", "SourceAccount": "1", "SourceArn": "arn"},
        },
        {"Type": "AWS::Lambda::Permission", "Properties": {"Principal": "123456789012"}},
        _snapstart_function(EphemeralStorage={"Size": 512}),
        _snapstart_function(Runtime="java21"),
        {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "python3.11", "SnapStart": {"ApplyOn": "None"}}},
        {
            "Type": "AWS::KMS::Key",
            "Properties": {
                "KeyPolicy": {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudwatch.amazonaws.com"},
                            "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
                        },
                        {"Effect": "Deny", "Principal": {"Service": "s3.amazonaws.com"}},
                    ]
                }
            },
        },
    ],
)
def test_compliant_resources_have_no_findings(resource: RESOURCE) -> None:
    assert list(findings({"Resources": {"R": resource}})) == []


# --- the service stage: no blind spots, every acknowledgment true where it applies ---------------------


def _acknowledgments(stage: Stage) -> dict[str, list[tuple[str, str]]]:
    """Rule id -> (construct path, reason) of every acknowledgment in the stage."""
    found: dict[str, list[tuple[str, str]]] = {}
    for construct in stage.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                for rule, reason in (entry.data or {}).items():
                    found.setdefault(rule, []).append((construct.node.path, str(reason)))
    return found


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_wildcard_resources_are_acknowledged_only_on_their_own_policies(stages: dict[str, Any], env: str) -> None:
    acknowledged = _acknowledgments(stages[env])
    paths = [path for path, _ in acknowledged.get(WILDCARD_RESOURCE_FINDING, [])]
    assert paths
    assert all(path.endswith(("/TracingPolicy", "/LogsAndTracingPolicy")) for path in paths), paths


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_the_waf_acknowledgment_tells_the_truth(stages: dict[str, Any], env: str) -> None:
    reasons = [reason for _, reason in _acknowledgments(stages[env]).get("AwsSolutions::AwsSolutions-APIG3", [])]
    if env == "dev":
        (reason,) = reasons
        assert "development environment" in reason
        assert "open" in reason  # Dev's API is unauthenticated: the reason must not claim otherwise
    else:
        assert reasons == []  # Staging and Prod have a web ACL


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_the_service_stack_has_no_finding_of_our_pack_outside_dev(
    templates: dict[str, assertions.Template], env: str
) -> None:
    rules = {rule for rule, _, _ in findings(templates[env].to_json())}
    # Dev's tables (no PITR, deletable) are acknowledged where secure_table creates them; nothing else is.
    assert rules == ({"DynamoDBPointInTimeRecovery", "DynamoDBDeletionProtection"} if env == "dev" else set())
