"""S3 buckets, notifications and policies; DynamoDB global tables; SNS subscriptions, topic and queue policies."""

from __future__ import annotations

from typing import Any

from serverless_patterns.local.cloudformation import Emulated, ResourceContext, emulates
from serverless_patterns.local.resources.common import as_json

# -- S3 ----------------------------------------------------------------------------------


@emulates("AWS::S3::Bucket")
def bucket(ctx: ResourceContext) -> Any:
    """moto creates the bucket (name, encryption, tags); its versioning is applied as the template says.

    moto's model ignores ``VersioningConfiguration``: a versioned bucket would be unversioned.
    A bucket without the property stays unversioned; ``Suspended`` is applied as such.
    """
    if ctx.moto_create is None:
        raise ValueError("moto has no S3 bucket model")
    created = ctx.moto_create()
    status = (ctx.properties.get("VersioningConfiguration") or {}).get("Status")
    if status:
        ctx.client("s3").put_bucket_versioning(
            Bucket=created.physical_resource_id, VersioningConfiguration={"Status": str(status)}
        )
    return created


@emulates("Custom::S3BucketNotifications")
def bucket_notifications(ctx: ResourceContext) -> Emulated:
    """What CDK's notifications handler does: put the bucket's notification configuration."""
    config = ctx.properties.get("NotificationConfiguration") or {}
    ctx.client("s3").put_bucket_notification_configuration(
        Bucket=ctx.properties["BucketName"], NotificationConfiguration=config, SkipDestinationValidation=True
    )
    targets = sum(len(config.get(k, [])) for k in config)
    return Emulated(ctx.physical_name, detail=f"{targets} notification target(s) applied")


@emulates("AWS::S3::BucketPolicy")
def bucket_policy(ctx: ResourceContext) -> Emulated:
    """Attach the policy to the bucket."""
    ctx.client("s3").put_bucket_policy(
        Bucket=ctx.properties["Bucket"], Policy=as_json(ctx.properties["PolicyDocument"])
    )
    return Emulated(ctx.physical_name)


# -- DynamoDB ----------------------------------------------------------------------------


@emulates("AWS::DynamoDB::GlobalTable")
def global_table(ctx: ResourceContext) -> Emulated:
    """TableV2 synthesizes a GlobalTable: create the table of this region's replica."""
    props = ctx.properties
    replicas = props.get("Replicas") or [{}]
    replica = next((r for r in replicas if r.get("Region") in (None, ctx.region)), replicas[0])
    name = str(props.get("TableName") or ctx.physical_name)[:255]
    billing = props.get("BillingMode", "PAY_PER_REQUEST")
    kwargs: dict[str, Any] = {
        "TableName": name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": billing,
    }
    throughput = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    if billing == "PROVISIONED":
        kwargs["ProvisionedThroughput"] = throughput
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        indexes = [
            {k: v for k, v in index.items() if k in ("IndexName", "KeySchema", "Projection")}
            | ({"ProvisionedThroughput": throughput} if billing == "PROVISIONED" and key.startswith("Global") else {})
            for index in props.get(key, [])
        ]
        if indexes:
            kwargs[key] = indexes
    if props.get("StreamSpecification"):
        kwargs["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    if replica.get("DeletionProtectionEnabled") is not None:
        kwargs["DeletionProtectionEnabled"] = bool(replica["DeletionProtectionEnabled"])
    if replica.get("Tags"):
        kwargs["Tags"] = replica["Tags"]
    client = ctx.client("dynamodb")
    table = client.create_table(**kwargs)["TableDescription"]
    ttl = props.get("TimeToLiveSpecification") or {}
    if ttl.get("Enabled"):
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]}
        )
    pitr = (replica.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled")
    if pitr:
        client.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    attributes = {"Arn": table["TableArn"], "TableId": table.get("TableId", name)}
    if table.get("LatestStreamArn"):
        attributes["StreamArn"] = table["LatestStreamArn"]
    return Emulated(name, attributes)


# -- SNS / SQS ---------------------------------------------------------------------------


@emulates("AWS::SNS::Subscription")
def sns_subscription(ctx: ResourceContext) -> Emulated:
    """Subscribe (e-mail subscriptions stay pending, as on AWS)."""
    props = ctx.properties
    attributes = {
        key: as_json(props[key])
        if key in ("RedrivePolicy", "FilterPolicy", "DeliveryPolicy")
        else str(props[key]).lower()
        for key in ("RedrivePolicy", "FilterPolicy", "FilterPolicyScope", "DeliveryPolicy", "RawMessageDelivery")
        if key in props
    }
    if "FilterPolicyScope" in attributes:
        attributes["FilterPolicyScope"] = str(props["FilterPolicyScope"])
    response = ctx.client("sns").subscribe(
        TopicArn=props["TopicArn"],
        Protocol=props["Protocol"],
        Endpoint=props.get("Endpoint", ""),
        Attributes=attributes,
        ReturnSubscriptionArn=True,
    )
    return Emulated(response["SubscriptionArn"], {"Arn": response["SubscriptionArn"]})


@emulates("AWS::SNS::TopicPolicy")
def topic_policy(ctx: ResourceContext) -> Emulated:
    """Set the policy on every listed topic."""
    for topic in ctx.properties.get("Topics", []):
        ctx.client("sns").set_topic_attributes(
            TopicArn=topic, AttributeName="Policy", AttributeValue=as_json(ctx.properties["PolicyDocument"])
        )
    return Emulated(ctx.physical_name)


@emulates("AWS::SQS::QueuePolicy")
def queue_policy(ctx: ResourceContext) -> Emulated:
    """Set the policy on every listed queue (moto's CloudFormation skips this type)."""
    for url in ctx.properties.get("Queues", []):
        ctx.client("sqs").set_queue_attributes(
            QueueUrl=url, Attributes={"Policy": as_json(ctx.properties["PolicyDocument"])}
        )
    return Emulated(ctx.physical_name)
