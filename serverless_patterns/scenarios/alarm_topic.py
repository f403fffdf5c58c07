"""The alarm topic every alarm notifies: encrypted, TLS-only, recipients with a DLQ."""

from __future__ import annotations

from typing import TYPE_CHECKING

from serverless_patterns.scenarios import ScenarioRun, scenario

if TYPE_CHECKING:
    from serverless_patterns.scenarios.target import Target


@scenario("Alarm topic: encrypted, TLS-only, usable by alarms, recipients subscribed with a DLQ", pattern="AlarmTopic")
def alarm_topic(cloud: Target, run: ScenarioRun) -> None:
    """Check the topic's protections, that alarms can use its key and do notify it, and its subscriptions."""
    sns = cloud.client("sns")
    topic_arn = cloud.resource("AlarmTopic/Resource/Resource", "AWS::SNS::Topic").physical_id
    key_id = cloud.resource("AlarmTopic/Key/Resource", "AWS::KMS::Key").physical_id
    attributes = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    run.check("topic encrypted with its own KMS key", key_id in attributes.get("KmsMasterKeyId", ""))
    run.check("topic policy denies plain HTTP", "aws:SecureTransport" in attributes.get("Policy", ""))

    # No test notification is published: on Staging and Prod it would page the on-call recipients.
    key_policy = cloud.client("kms").get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]
    run.check("CloudWatch alarms may use the topic's key", "cloudwatch.amazonaws.com" in key_policy)

    # Every environment: each deployed metric alarm notifies the topic when it fires and when it recovers.
    names = [r.physical_id for r in cloud.find("AWS::CloudWatch::Alarm")]
    alarms = []
    for start in range(0, len(names), 100):
        alarms += cloud.client("cloudwatch").describe_alarms(AlarmNames=names[start : start + 100])["MetricAlarms"]
    silent = sorted(a["AlarmName"] for a in alarms if topic_arn not in a.get("AlarmActions", []))
    unresolved = sorted(a["AlarmName"] for a in alarms if topic_arn not in a.get("OKActions", []))
    run.check(
        "every alarm notifies the topic on ALARM",
        bool(alarms) and not silent,
        detail=", ".join(silent[:5]),
        count=len(alarms),
    )
    run.check("every alarm notifies the topic on OK", bool(alarms) and not unresolved, detail=", ".join(unresolved[:5]))

    expected = cloud.find("AWS::SNS::Subscription", under="AlarmTopic")
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    emails = [s for s in subscriptions if s["Protocol"] == "email"]
    if not expected:
        run.note(
            "no alarm recipients in this environment (alarm_emails is empty): the subscription and "
            "delivery-failure DLQ checks run where recipients are set (make local ENV=staging or ENV=prod)"
        )
        run.equal("no e-mail subscription either", len(emails), 0)
        return
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
