"""The encrypted SNS topic every alarm notifies."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import (
    Duration,
    Names,
    RemovalPolicy,
    Stack,
    Token,
    aws_cloudwatch as cloudwatch,
    aws_cloudwatch_actions as actions,
    aws_iam as iam,
    aws_kms as kms,
    aws_sns as sns,
    aws_sns_subscriptions as subscriptions,
    aws_sqs as sqs,
)
from constructs import Construct

from serverless_patterns.config.checks import check_emails, check_type
from serverless_patterns.constructs.compliance import acknowledge


class AlarmTopic(Construct):
    """An SNS topic encrypted with its own rotating KMS key, TLS-only, with e-mail subscriptions.

    CloudWatch alarms may publish to it (the key policy lets the CloudWatch service use the key).
    Alarms of other stacks may notify it too (same account and region): they address it by a
    name it then gets, so the stacks do not reference each other in a cycle.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        emails: Sequence[str] = (),
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """Create the key, the topic, the e-mail subscriptions and their dead-letter queue.

        :param emails: who is e-mailed (each must confirm the subscription); a tuple of addresses.
        :param removal_policy: what happens to the key and the queue when the stack is deleted.
        """
        super().__init__(scope, construct_id)
        owner = f"AlarmTopic {self.node.path}"
        emails = check_emails(owner, "emails", emails)
        check_type(owner, "removal_policy", removal_policy, RemovalPolicy)
        self.key = kms.Key(
            self,
            "Key",
            description=f"Encrypts the alarm topic {self.node.path}",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        stack = Stack.of(self)
        # CloudWatch encrypts the alarm notifications it publishes: only for this account's alarms
        # (no confused deputy), and only the two calls it makes.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": stack.format_arn(service="cloudwatch", resource="alarm:*")},
                },
            )
        )
        self.topic = sns.Topic(self, "Resource", master_key=self.key, enforce_ssl=True)
        self.delivery_failures: sqs.Queue | None = None
        self._actions: list[tuple[Stack, actions.SnsAction]] = []
        if emails:
            self.delivery_failures = sqs.Queue(
                self,
                "DeliveryFailures",
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                retention_period=Duration.days(14),
                removal_policy=removal_policy,
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
        """Make the topic the ALARM and OK action of ``alarm`` (of any stack in the same account and region)."""
        stack = Stack.of(alarm)
        # One action per stack the alarms are in (an SnsAction binds to no alarm of its own): finding the
        # topic as that stack sees it takes a dozen calls into jsii, done once instead of per alarm.
        action = next((action for seen_from, action in self._actions if seen_from is stack), None)
        if action is None:
            action = actions.SnsAction(topic_seen_from(stack, self.topic))
            self._actions.append((stack, action))
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


def topic_seen_from(stack: Stack, topic: sns.ITopic) -> sns.ITopic:
    """``topic`` as ``stack`` should reference it: directly in its own stack, by ARN from another.

    An alarm action pointing at a topic of another stack would make that stack depend on the
    topic's, while the dashboard beside the topic depends on the alarms' stack: a cycle. So the
    topic gets a fixed name and the other stack builds its ARN from its own account and region.
    """
    own = Stack.of(topic)
    if own.node.path == stack.node.path or not isinstance(topic, sns.Topic):
        return topic
    for attribute in ("account", "region"):
        mine, theirs = getattr(own, attribute), getattr(stack, attribute)
        if not Token.is_unresolved(mine) and not Token.is_unresolved(theirs) and mine != theirs:
            raise ValueError(
                f"alarms of {stack.node.path} cannot notify the topic {topic.node.path}: CloudWatch alarm actions "
                f"must be in the alarm's own {attribute} ({theirs}, not {mine})"
            )
    resource = topic.node.default_child
    assert isinstance(resource, sns.CfnTopic)
    name = own.resolve(resource.topic_name)
    if name is None:
        name = resource.topic_name = Names.unique_resource_name(topic, max_length=256, separator="-")
    if not isinstance(name, str):
        raise ValueError(f"the topic {topic.node.path} must have a literal name to be notified from {stack.node.path}")
    reference_id = f"AlarmTopic{Names.unique_id(topic)}"
    existing = stack.node.try_find_child(reference_id)
    if existing is not None:
        return existing  # type: ignore[return-value]
    return sns.Topic.from_topic_arn(stack, reference_id, stack.format_arn(service="sns", resource=name))
