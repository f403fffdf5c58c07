"""The alarm topic every alarm notifies: encrypted, TLS-only, recipients with a DLQ."""

from __future__ import annotations

from typing import TYPE_CHECKING

from serverless_patterns.scenarios import ScenarioRun, scenario

if TYPE_CHECKING:
    from serverless_patterns.scenarios.target import Target


@scenario("Alarm topic: encrypted, TLS-only, usable by alarms, recipients subscribed with a DLQ", pattern="AlarmTopic")
def alarm_topic(cloud: Target, run: ScenarioRun) -> None:
    """Check the topic's protections, that alarms can use its key, and its subscriptions."""
    sns = cloud.client("sns")
    topic_arn = cloud.resource("AlarmTopic/Resource/Resource", "AWS::SNS::Topic").physical_id
    key_id = cloud.resource("AlarmTopic/Key/Resource", "AWS::KMS::Key").physical_id
    attributes = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    run.check("topic encrypted with its own KMS key", key_id in attributes.get("KmsMasterKeyId", ""))
    run.check("topic policy denies plain HTTP", "aws:SecureTransport" in attributes.get("Policy", ""))

    # No test notification is published: on Staging and Prod it would page the on-call recipients.
    key_policy = cloud.client("kms").get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]
    run.check("CloudWatch alarms may use the topic's key", "cloudwatch.amazonaws.com" in key_policy)

    expected = cloud.find("AWS::SNS::Subscription", under="AlarmTopic")
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    emails = [s for s in subscriptions if s["Protocol"] == "email"]
    run.equal("every recipient has an e-mail subscription", len(emails), len(expected), count=len(emails))
    if emails:
        queue_arn = cloud.client("sqs").get_queue_attributes(
            QueueUrl=cloud.resource("AlarmTopic/DeliveryFailures/Resource").physical_id, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        with_dlq = [
            s
            for s in emails
            if queue_arn
            in sns.get_subscription_attributes(SubscriptionArn=s["SubscriptionArn"])["Attributes"].get(
                "RedrivePolicy", ""
            )
        ]
        run.equal(
            "undeliverable notifications go to the delivery-failures DLQ",
            len(with_dlq),
            len(emails),
            count=len(with_dlq),
        )
