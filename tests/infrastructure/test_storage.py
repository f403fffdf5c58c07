"""Secure defaults of the shared tables, buckets and queues, under the compliance gates."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Duration, RemovalPolicy, Stack, Stage, assertions, aws_sqs as sqs

from serverless_patterns.constructs.storage import idempotency_table, queue_with_dlq, secure_bucket, secure_table
from serverless_patterns.stacks.compliance import add_compliance_checks
from serverless_patterns.stacks.environments import environment

Match = assertions.Match


@pytest.fixture(scope="module", params=["dev", "prod"])
def template(request: pytest.FixtureRequest, cdk_context: dict[str, Any]) -> tuple[str, assertions.Template]:
    config = environment(request.param)
    app = App(context=cdk_context)
    stage = Stage(app, config.name)
    add_compliance_checks(stage)
    stack = Stack(stage, "Storage")
    secure_table(stack, "Items", defaults=config.defaults, partition_key="id")
    idempotency_table(stack, "Idempotency", defaults=config.defaults)
    logs = secure_bucket(stack, "AccessLogs", defaults=config.defaults)
    secure_bucket(stack, "Uploads", defaults=config.defaults, server_access_logs_bucket=logs)
    queue_with_dlq(
        stack,
        "Work",
        visibility_timeout=Duration.seconds(60),
        max_receive_count=3,
        removal_policy=config.defaults.removal_policy,
    )
    app.synth()  # runs the compliance gates; Template.from_stack alone does not
    return request.param, assertions.Template.from_stack(stack)


def test_tables_are_on_demand_encrypted_with_pitr_per_environment(template: tuple[str, assertions.Template]) -> None:
    env, t = template
    t.has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "BillingMode": "PAY_PER_REQUEST",
            "SSESpecification": {"SSEEnabled": True},
            "Replicas": [
                Match.object_like(
                    {
                        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": env == "prod"},
                        "DeletionProtectionEnabled": env == "prod",
                    }
                )
            ],
        },
    )
    t.has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "TimeToLiveSpecification": Match.object_like({"AttributeName": "expiration", "Enabled": True}),
        },
    )


def test_buckets_block_public_access_encrypt_and_version(template: tuple[str, assertions.Template]) -> None:
    _, t = template
    t.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "VersioningConfiguration": {"Status": "Enabled"},
            "BucketEncryption": Match.any_value(),
        },
    )


def test_queue_dlq_and_redrive_allowed_only_from_its_source(template: tuple[str, assertions.Template]) -> None:
    _, t = template
    t.has_resource_properties(
        "AWS::SQS::Queue",
        {"VisibilityTimeout": 60, "RedrivePolicy": {"deadLetterTargetArn": Match.any_value(), "maxReceiveCount": 3}},
    )
    dlq = t.find_resources("AWS::SQS::Queue", {"Properties": {"MessageRetentionPeriod": 14 * 24 * 3600}})
    (props,) = (resource["Properties"] for resource in dlq.values())
    assert props["RedriveAllowPolicy"]["redrivePermission"] == "byQueue"
    source_arn = props["RedriveAllowPolicy"]["sourceQueueArns"][0]
    assert "Work" in str(source_arn)


def test_queues_follow_the_environments_removal_policy(template: tuple[str, assertions.Template]) -> None:
    env, t = template
    policy = "Retain" if env == "prod" else "Delete"
    queues = t.find_resources("AWS::SQS::Queue")
    assert len(queues) == 2
    for resource in queues.values():
        assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == (policy, policy)


def test_a_retained_dead_letter_queue_may_not_be_made_deletable() -> None:
    stack = Stack(App(), "Refused")
    with pytest.raises(ValueError, match=r"dead_letter_queue_props.removal_policy=.* refused: messages are retained"):
        queue_with_dlq(
            stack,
            "Work",
            visibility_timeout=Duration.seconds(60),
            max_receive_count=3,
            removal_policy=RemovalPolicy.RETAIN,
            dead_letter_queue_props=sqs.QueueProps(removal_policy=RemovalPolicy.DESTROY),
        )
