"""Secure-by-default tables, buckets and queues the patterns share."""

from __future__ import annotations

from aws_cdk import Duration, Names, RemovalPolicy, Stack, aws_dynamodb as dynamodb, aws_s3 as s3, aws_sqs as sqs
from constructs import Construct

from serverless_patterns.config import PatternDefaults
from serverless_patterns.constructs.compliance import acknowledge

DLQ_RETENTION = Duration.days(14)
QUEUE_RETENTION = Duration.days(4)


def secure_table(
    scope: Construct,
    construct_id: str,
    *,
    defaults: PatternDefaults,
    partition_key: str = "pk",
    sort_key: str | None = None,
    time_to_live_attribute: str | None = None,
) -> dynamodb.TableV2:
    """On-demand, encrypted, PITR per environment, deletion-protected where data is retained."""
    retained = defaults.removal_policy is RemovalPolicy.RETAIN
    return dynamodb.TableV2(
        scope,
        construct_id,
        partition_key=dynamodb.Attribute(name=partition_key, type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name=sort_key, type=dynamodb.AttributeType.STRING) if sort_key else None,
        billing=dynamodb.Billing.on_demand(),
        encryption=dynamodb.TableEncryptionV2.aws_managed_key(),
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=defaults.point_in_time_recovery
        ),
        deletion_protection=retained,
        removal_policy=defaults.removal_policy,
        time_to_live_attribute=time_to_live_attribute,
    )


def idempotency_table(scope: Construct, construct_id: str, *, defaults: PatternDefaults) -> dynamodb.TableV2:
    """The table Powertools idempotency expects: key ``id``, TTL on ``expiration``."""
    return secure_table(scope, construct_id, defaults=defaults, partition_key="id", time_to_live_attribute="expiration")


def secure_bucket(
    scope: Construct,
    construct_id: str,
    *,
    defaults: PatternDefaults,
    lifecycle_rules: list[s3.LifecycleRule] | None = None,
    server_access_logs_bucket: s3.IBucket | None = None,
    server_access_logs_prefix: str | None = None,
) -> s3.Bucket:
    """Encrypted, TLS-only, public access blocked, versioned, owner-enforced."""
    return s3.Bucket(
        scope,
        construct_id,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        versioned=True,
        lifecycle_rules=lifecycle_rules,
        removal_policy=defaults.removal_policy,
        auto_delete_objects=False,
        server_access_logs_bucket=server_access_logs_bucket,
        server_access_logs_prefix=server_access_logs_prefix,
    )


def queue_with_dlq(
    scope: Construct,
    construct_id: str,
    *,
    visibility_timeout: Duration,
    max_receive_count: int,
    retention_period: Duration = QUEUE_RETENTION,
) -> tuple[sqs.Queue, sqs.Queue]:
    """An encrypted, TLS-only queue and its DLQ (14 days), redrive allowed only from that queue.

    The source queue gets a generated physical name so the DLQ's redrive-allow policy can
    name it without a circular reference.
    """
    queue_name = Names.unique_resource_name(scope, max_length=64, separator="-") + f"-{construct_id}"
    dlq = sqs.Queue(
        scope,
        f"{construct_id}Dlq",
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=DLQ_RETENTION,
        redrive_allow_policy=sqs.RedriveAllowPolicy(
            redrive_permission=sqs.RedrivePermission.BY_QUEUE,
            source_queues=[
                sqs.Queue.from_queue_arn(
                    scope,
                    f"{construct_id}SourceRef",
                    Stack.of(scope).format_arn(service="sqs", resource=queue_name),
                )
            ],
        ),
    )
    acknowledge(dlq, ("Serverless::Serverless-SQSRedrivePolicy", "This queue is a dead-letter queue itself."))
    queue = sqs.Queue(
        scope,
        construct_id,
        queue_name=queue_name,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        visibility_timeout=visibility_timeout,
        retention_period=retention_period,
        dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=max_receive_count),
    )
    return queue, dlq
