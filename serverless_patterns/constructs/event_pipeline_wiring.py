"""How EventPipeline's functions are wired: their access to the buckets, queue and table, the upload
notifications that trigger the validator, and the enrichment service behind its circuit breaker.

``EventPipeline`` calls these on itself (the scope of anything they create), in this order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import (
    Stack,
    aws_iam as iam,
    aws_s3 as s3,
    aws_s3_notifications as s3n,
    aws_secretsmanager as secretsmanager,
)

from serverless_patterns.config import PipelineSettings
from serverless_patterns.constructs.circuit_breaker import CircuitBreakers
from serverless_patterns.constructs.compliance import acknowledge, wildcard_finding
from serverless_patterns.lambdas.event_pipeline.layout import ENRICHMENT_BREAKER, PROCESSED_PREFIX, REJECTED_PREFIX

if TYPE_CHECKING:
    from serverless_patterns.constructs.event_pipeline import EventPipeline

# The singleton Lambda CDK deploys to apply bucket notifications (Custom::S3BucketNotifications).
NOTIFICATIONS_HANDLER_ID = "BucketNotificationsHandler050a0587b7544547bf325f094a3db834"
READ_UPLOAD_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging", "s3:GetObjectVersionTagging")
TAG_UPLOAD_ACTIONS = ("s3:PutObjectTagging", "s3:PutObjectVersionTagging")
RECORD_ACTIONS = ("s3:GetObject", "s3:PutObject")


def connect_enrichment(
    pipeline: EventPipeline,
    settings: PipelineSettings,
    breakers: CircuitBreakers | None,
    secret: secretsmanager.ISecret | None,
) -> secretsmanager.ISecret | None:
    """Connect the processor to the enrichment service, if there is one; the secret it reads."""
    if not settings.enrichment_url:
        if secret is not None:
            raise ValueError("enrichment_secret is given but settings.enrichment_url is not")
        return None
    if breakers is None:
        raise ValueError(
            f"settings.enrichment_url needs circuit_breakers declaring {ENRICHMENT_BREAKER!r}: "
            "every external call goes through a breaker"
        )
    if secret is None and settings.enrichment_secret_name:
        secret = secretsmanager.Secret.from_secret_name_v2(
            pipeline, "EnrichmentCredentials", settings.enrichment_secret_name
        )
    breakers.connect(pipeline.process_function, ENRICHMENT_BREAKER, url=settings.enrichment_url, secret=secret)
    return secret


def grant_handler_access(pipeline: EventPipeline) -> None:
    """Each function reads and tags uploads, writes its records and queues; the processor uses the idempotency table."""
    upload_bucket, results_bucket = pipeline.upload_bucket, pipeline.results_bucket
    upload_prefix = pipeline.settings.upload_prefix
    uploads = upload_bucket.arn_for_objects(f"{upload_prefix}*")
    record_prefixes = (
        (pipeline.validate_function, (REJECTED_PREFIX,)),
        (pipeline.process_function, (PROCESSED_PREFIX, REJECTED_PREFIX)),
    )
    for function, prefixes in record_prefixes:
        records = [results_bucket.arn_for_objects(f"{prefix}*") for prefix in prefixes]
        role = function.role
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=[*READ_UPLOAD_ACTIONS, *TAG_UPLOAD_ACTIONS], resources=[uploads])
        )
        role.add_to_principal_policy(iam.PolicyStatement(actions=list(RECORD_ACTIONS), resources=records))
        # Listing only the keys the function reads tells a missing key (gone) from a denied one
        # (lambdas/shared/s3_objects.py); nothing else in either bucket can be listed.
        for bucket, listed in (
            (upload_bucket, (upload_prefix,)),
            (results_bucket, prefixes),
        ):
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["s3:ListBucket"],
                    resources=[bucket.bucket_arn],
                    conditions={"StringLike": {"s3:prefix": [f"{prefix}*" for prefix in listed]}},
                )
            )
        pipeline.queue.grant_send_messages(role)
        acknowledge(
            role,
            (
                wildcard_finding(pipeline, uploads),
                "Upload keys are unknown at deploy time; access is limited to the upload prefix.",
            ),
            *(
                (
                    wildcard_finding(pipeline, arn),
                    "Record keys follow the upload keys; access is limited to the records' prefix.",
                )
                for arn in records
            ),
        )
    # Exactly Powertools idempotency's calls (as ApiBackend grants them): no batches, queries or scans.
    pipeline.idempotency_table.grant(
        pipeline.process_function.role,
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    )


def notify_validator(pipeline: EventPipeline, settings: PipelineSettings) -> None:
    """Objects created under the upload prefix (with an allowed suffix) invoke the validator's alias."""
    destination = s3n.LambdaDestination(pipeline.validate_function.alias)
    for suffix in settings.upload_suffixes or (None,):
        pipeline.upload_bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED,
            destination,
            s3.NotificationKeyFilter(prefix=settings.upload_prefix, suffix=suffix),
        )
    handler = Stack.of(pipeline).node.try_find_child(NOTIFICATIONS_HANDLER_ID)
    if handler is not None:
        acknowledge(
            handler,
            (
                "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                "CDK's bucket-notifications handler (a deployment-time custom resource) comes with this role.",
            ),
        )
