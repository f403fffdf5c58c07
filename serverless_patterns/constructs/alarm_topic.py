"""The encrypted SNS topic every alarm notifies."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import (
    Duration,
    RemovalPolicy,
    aws_cloudwatch as cloudwatch,
    aws_cloudwatch_actions as actions,
    aws_iam as iam,
    aws_kms as kms,
    aws_sns as sns,
    aws_sns_subscriptions as subscriptions,
    aws_sqs as sqs,
)
from constructs import Construct

from serverless_patterns.constructs.compliance import acknowledge


class AlarmTopic(Construct):
    """An SNS topic encrypted with its own rotating KMS key, TLS-only, with e-mail subscriptions.

    CloudWatch alarms may publish to it (the key policy lets the CloudWatch service use the key).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        emails: Sequence[str] = (),
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "Key",
            description=f"Encrypts the alarm topic {self.node.path}",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        self.key.grant_encrypt_decrypt(iam.ServicePrincipal("cloudwatch.amazonaws.com"))
        self.topic = sns.Topic(self, "Resource", master_key=self.key, enforce_ssl=True)
        self.delivery_failures: sqs.Queue | None = None
        if emails:
            self.delivery_failures = sqs.Queue(
                self,
                "DeliveryFailures",
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                retention_period=Duration.days(14),
            )
            acknowledge(
                self.delivery_failures,
                ("AwsSolutions::AwsSolutions-SQS3", "This queue is the subscriptions' dead-letter queue itself."),
                ("Serverless::Serverless-SQSRedrivePolicy", "This queue is the subscriptions' DLQ itself."),
            )
        for email in emails:
            self.topic.add_subscription(
                subscriptions.EmailSubscription(email, dead_letter_queue=self.delivery_failures)
            )

    def notify_on_alarm_and_ok(self, alarm: cloudwatch.AlarmBase) -> None:
        """Make the topic the ALARM and OK action of ``alarm``."""
        action = actions.SnsAction(self.topic)
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)

    def dashboard_widgets(self) -> Sequence[cloudwatch.IWidget]:
        """Notifications published and failed, and the e-mail deliveries parked in the DLQ.

        An alarm nobody receives is silent: this row shows whether notifications get out.
        """
        notifications = cloudwatch.GraphWidget(
            title="Alarm notifications",
            left=[self.topic.metric_number_of_messages_published(), self.topic.metric_number_of_notifications_failed()],
            width=12,
        )
        if self.delivery_failures is None:
            return [notifications]
        return [
            notifications,
            cloudwatch.GraphWidget(
                title="Undelivered alarm e-mails (DLQ)",
                left=[self.delivery_failures.metric_approximate_number_of_messages_visible()],
                right=[self.delivery_failures.metric_approximate_age_of_oldest_message()],
                width=12,
            ),
        ]
