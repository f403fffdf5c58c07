"""Secure-by-default tables, buckets and queues the patterns share."""

from __future__ import annotations

from aws_cdk import Duration, Names, RemovalPolicy, Stack, aws_dynamodb as dynamodb, aws_s3 as s3, aws_sqs as sqs
from constructs import Construct

from serverless_patterns.config import PatternDefaults
from serverless_patterns.constructs.compliance import acknowledge
from serverless_patterns.constructs.props import BUCKET_GUARDS, QUEUE_GUARDS, Guard, fixed, merged_props, table_guards

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
    props: dynamodb.TablePropsV2 | None = None,
    props_name: str = "table_props",
    key_fixed: bool = True,
) -> dynamodb.TableV2:
    """On-demand, encrypted, PITR per environment, deletion-protected where data is retained.

    The ServerlessPatterns gate requires PITR and deletion protection of every table; a development
    environment's tables (``PatternDefaults.development``) are acknowledged here, and only those.

    :param props: the user's ``TablePropsV2`` merged over these defaults; the keys and TTL
        attribute stay what the handlers use (when ``key_fixed``), and encryption, deletion
        protection and PITR may not be weakened.
    :param props_name: the keyword argument ``props`` came from, for error messages.
    :param key_fixed: the handlers rely on the key schema (False when the user's own code owns it).
    """
    retained = defaults.removal_policy is RemovalPolicy.RETAIN
    partition = dynamodb.Attribute(name=partition_key, type=dynamodb.AttributeType.STRING)
    sort = dynamodb.Attribute(name=sort_key, type=dynamodb.AttributeType.STRING) if sort_key else None
    handler_contract = "the pattern's handlers read and write the table by it"
    layout: dict[str, tuple[object, str]] = (
        {
            "partition_key": (partition, handler_contract),
            "sort_key": (sort, handler_contract),
            "time_to_live_attribute": (time_to_live_attribute, "the pattern's handlers set this TTL attribute"),
        }
        if key_fixed
        else {}
    )
    kwargs = merged_props(
        scope,
        props_name,
        dynamodb.TablePropsV2,
        {
            "partition_key": partition,
            "sort_key": sort,
            "billing": dynamodb.Billing.on_demand(),
            "encryption": dynamodb.TableEncryptionV2.aws_managed_key(),
            "point_in_time_recovery_specification": dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=defaults.point_in_time_recovery
            ),
            "deletion_protection": retained,
            "removal_policy": defaults.removal_policy,
            "time_to_live_attribute": time_to_live_attribute,
        },
        props,
        table_guards(defaults, **layout),
    )
    table = dynamodb.TableV2(scope, construct_id, **kwargs)
    if defaults.development:
        reason = "A development environment (PatternDefaults.development): its data is disposable."
        acknowledge(
            table,
            ("ServerlessPatterns::ServerlessPatterns-DynamoDBPointInTimeRecovery", reason),
            ("ServerlessPatterns::ServerlessPatterns-DynamoDBDeletionProtection", reason),
        )
    return table


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
    props: s3.BucketProps | None = None,
    props_name: str = "bucket_props",
    guards: dict[str, Guard] | None = None,
) -> s3.Bucket:
    """Encrypted, TLS-only, public access blocked, versioned, owner-enforced.

    :param props: the user's ``BucketProps`` merged over these defaults (security defaults may not be
        weakened; lifecycle rules given replace the pattern's).
    :param props_name: the keyword argument ``props`` came from, for error messages.
    :param guards: more rules the props must keep (e.g. an event notification's prefix).
    """
    kwargs = merged_props(
        scope,
        props_name,
        s3.BucketProps,
        {
            "encryption": s3.BucketEncryption.S3_MANAGED,
            "enforce_ssl": True,
            "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
            "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            "versioned": True,
            "lifecycle_rules": lifecycle_rules,
            "removal_policy": defaults.removal_policy,
            "auto_delete_objects": False,
            "server_access_logs_bucket": server_access_logs_bucket,
            "server_access_logs_prefix": server_access_logs_prefix,
        },
        props,
        {**BUCKET_GUARDS, **(guards or {})},
    )
    return s3.Bucket(scope, construct_id, **kwargs)


def queue_with_dlq(
    scope: Construct,
    construct_id: str,
    *,
    visibility_timeout: Duration,
    max_receive_count: int,
    removal_policy: RemovalPolicy,
    retention_period: Duration = QUEUE_RETENTION,
    queue_props: sqs.QueueProps | None = None,
    dead_letter_queue_props: sqs.QueueProps | None = None,
    existing_dead_letter_queue: sqs.IQueue | None = None,
    props_prefix: str = "",
) -> tuple[sqs.Queue, sqs.IQueue]:
    """An encrypted, TLS-only queue and its DLQ (14 days), redrive allowed only from that queue.

    The source queue gets a generated physical name so the DLQ's redrive-allow policy can
    name it without a circular reference.

    :param removal_policy: what deleting the stack (or replacing a queue) does to both queues and their
        messages: ``PatternDefaults.removal_policy`` (``RETAIN`` keeps the dead letters the redrive
        tooling exists to recover).
    :param queue_props: the user's ``QueueProps`` for the queue, merged over these defaults; the
        visibility timeout (derived from the consumer's timeout) may only grow, and the DLQ is
        always wired.
    :param dead_letter_queue_props: the user's ``QueueProps`` for the DLQ.
    :param existing_dead_letter_queue: a DLQ the user owns (its redrive-allow policy is theirs).
    :param props_prefix: how the caller names the props (e.g. ``"work_"`` for ``work_queue_props``).
    """
    queue_name = Names.unique_resource_name(scope, max_length=64, separator="-") + f"-{construct_id}"
    retained: dict[str, Guard] = (
        {"removal_policy": fixed(RemovalPolicy.RETAIN, "messages are retained (PatternDefaults.removal_policy)")}
        if removal_policy is RemovalPolicy.RETAIN
        else {}
    )
    dlq: sqs.IQueue
    if existing_dead_letter_queue is not None:
        dlq = existing_dead_letter_queue
    else:
        dlq_kwargs = merged_props(
            scope,
            f"{props_prefix}dead_letter_queue_props",
            sqs.QueueProps,
            {
                "encryption": sqs.QueueEncryption.SQS_MANAGED,
                "enforce_ssl": True,
                "retention_period": DLQ_RETENTION,
                "removal_policy": removal_policy,
                "redrive_allow_policy": sqs.RedriveAllowPolicy(
                    redrive_permission=sqs.RedrivePermission.BY_QUEUE,
                    source_queues=[
                        sqs.Queue.from_queue_arn(
                            scope,
                            f"{construct_id}SourceRef",
                            Stack.of(scope).format_arn(service="sqs", resource=queue_name),
                        )
                    ],
                ),
            },
            dead_letter_queue_props,
            {**QUEUE_GUARDS, **retained},
        )
        dlq = sqs.Queue(scope, f"{construct_id}Dlq", **dlq_kwargs)
        acknowledge(dlq, ("Serverless::Serverless-SQSRedrivePolicy", "This queue is a dead-letter queue itself."))
    minimum_visibility = visibility_timeout.to_seconds()
    queue_kwargs = merged_props(
        scope,
        f"{props_prefix}queue_props",
        sqs.QueueProps,
        {
            "queue_name": queue_name,
            "encryption": sqs.QueueEncryption.SQS_MANAGED,
            "enforce_ssl": True,
            "visibility_timeout": visibility_timeout,
            "retention_period": retention_period,
            "removal_policy": removal_policy,
        },
        queue_props,
        {
            **QUEUE_GUARDS,
            **retained,
            "queue_name": fixed(queue_name, "the DLQ's redrive-allow policy names the queue"),
            "visibility_timeout": Guard(
                lambda value: value.to_seconds() >= minimum_visibility,
                f"it must stay at least {minimum_visibility:g} s: 6x the consumer's timeout (AWS's rule for "
                "SQS event sources) plus any batching window",
            ),
        },
    )
    queue = sqs.Queue(
        scope,
        construct_id,
        dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=max_receive_count),
        **queue_kwargs,
    )
    return queue, dlq
