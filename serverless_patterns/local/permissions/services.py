"""Service-to-service permissions: what AWS checks when one service acts on another for the app.

* **Deployment** (``check_deployment``), as AWS refuses these at create time: an SQS event
  source mapping needs its function's role to allow ``sqs:ReceiveMessage``,
  ``sqs:DeleteMessage`` and ``sqs:GetQueueAttributes`` on the queue (and ``kms:Decrypt`` on a
  customer managed key), else the mapping fails ("The provided execution role does not have
  permissions to call ReceiveMessage on SQS") and is not polled; a bucket's notification
  configuration is put by CDK's notifications handler with its role
  (``s3:PutBucketNotification``), and each Lambda, SQS or SNS destination must let
  ``s3.amazonaws.com`` deliver (a ``lambda:InvokeFunction`` permission with the bucket as
  source, a queue or topic policy), else "Unable to validate the following destination
  configurations".
* **Invocations by a service** (``may_invoke``): API Gateway, S3 notifications, EventBridge
  rules and SNS need an ``AWS::Lambda::Permission`` on the exact function, version or alias
  they invoke, for their service principal, whose ``SourceArn``/``SourceAccount`` match (the
  method's ``execute-api`` ARN, the bucket, the rule, the topic). An API Gateway integration
  with ``Credentials`` invokes with that role instead.
* **Deliveries to a queue or topic** (``may_deliver``): S3, EventBridge (targets and their
  dead-letter queues) and SNS need the queue or topic policy to allow their service
  principal, and the key policy of a customer managed key to allow it too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from typing import Any
from unittest import mock

from moto.cloudwatch.models import Alarm
from moto.kms.models import kms_backends
from moto.s3 import notifications as s3_notifications
from moto.s3.models import s3_backends
from moto.secretsmanager.models import secretsmanager_backends
from moto.sns.models import Subscription, sns_backends

from serverless_patterns.local.invocation import split_function
from serverless_patterns.local.permissions import catalog
from serverless_patterns.local.permissions.enforcer import Caller, Denial, Enforcer


class MotoResolver(catalog.Resolver):
    """Full ARNs from the emulator: a secret's (with its random suffix), a key's (from an alias)."""

    def secret_arn(self, secret_id: str, region: str, account: str) -> str:
        try:
            return str(secretsmanager_backends[account][region].describe_secret(secret_id).arn)
        except Exception:
            return (
                secret_id
                if secret_id.startswith("arn:")
                else f"arn:aws:secretsmanager:{region}:{account}:secret:{secret_id}"
            )

    def key_arn(self, key_id: str, region: str, account: str) -> str:
        try:
            return str(kms_backends[account][region].describe_key(key_id).arn)
        except Exception:
            return key_id

    def exists(self, resource: str) -> bool:
        if not resource.startswith("arn:aws:s3:::"):
            return True
        return self._bucket(resource) is not None

    def missing_object(self, resource: str) -> bool:
        bucket = self._bucket(resource)
        key = resource.removeprefix("arn:aws:s3:::").partition("/")[2]
        return bucket is not None and bool(key) and bucket.keys.get(key) is None

    @staticmethod
    def _bucket(resource: str) -> Any:
        name = resource.removeprefix("arn:aws:s3:::").split("/", 1)[0]
        return next((b["aws"].buckets[name] for b in s3_backends.values() if name in b["aws"].buckets), None)


def may_invoke(
    enforcer: Enforcer | None,
    service: str,
    function_arn: str,
    *,
    source_arn: str,
    source_account: str | None = None,
    role_arn: str | None = None,
) -> Denial | None:
    """Whether ``service`` (or ``role_arn``, an integration's credentials) may invoke ``function_arn`` now."""
    if enforcer is None or not enforcer.enabled:
        return None
    caller: Caller
    if role_arn:
        caller = enforcer.role_caller(role_arn, service.split(".")[0], f"{service} with {role_arn.rsplit('/', 1)[-1]}")
    else:
        caller = enforcer.service_caller(service, source_arn=source_arn, source_account=source_account)
    function = catalog.needs(
        "lambda",
        "Invoke",
        {"FunctionName": function_arn},
        region=enforcer.store.region,
        account=enforcer.store.account,
        resolve=enforcer.resolver,
    )[0]
    return enforcer.authorize(caller, function.action, function.resource, operation=f"{service} invokes")


def may_deliver(
    enforcer: Enforcer | None,
    service: str,
    target_arn: str,
    *,
    source_arn: str,
    role_arn: str | None = None,
    for_owner: bool = False,
) -> Denial | None:
    """Whether ``service`` may send to a queue or publish to a topic (and use its customer managed key)."""
    if enforcer is None or not enforcer.enabled:
        return None
    if role_arn:
        caller = enforcer.role_caller(role_arn, service.split(".")[0], f"{service} with {role_arn.rsplit('/', 1)[-1]}")
    else:
        caller = enforcer.service_caller(service, source_arn=source_arn)
    kind = target_arn.split(":")[2]
    action = {"sqs": "sqs:SendMessage", "sns": "sns:Publish"}.get(kind)
    if action is None:
        return None
    operation = f"{service} delivers"
    denial = enforcer.authorize(caller, action, target_arn, operation=operation, for_owner=for_owner)
    for key_action, key in enforcer.key_needs(target_arn, action) if denial is None else ():
        denial = denial or enforcer.authorize(caller, key_action, key, operation=operation, via=kind)
    return denial


def lambda_service_writes(
    enforcer: Enforcer | None, function_name: str, properties: Mapping[str, Any], stream_arn: str
) -> bool:
    """What Lambda does with the execution role after a run: ship the log, send traces (if Active).

    Returns whether the log may be written (without ``logs:CreateLogStream`` and
    ``logs:PutLogEvents`` on its stream, AWS drops it; the denial is recorded).
    """
    caller = enforcer.function_caller(function_name) if enforcer is not None and enforcer.enabled else None
    if enforcer is None or caller is None:
        return True
    denied = [
        enforcer.authorize(caller, action, stream_arn, operation="Lambda log delivery")
        for action in ("logs:CreateLogStream", "logs:PutLogEvents")
    ]
    if (properties.get("TracingConfig") or {}).get("Mode") == "Active":
        for action in ("xray:PutTraceSegments", "xray:PutTelemetryRecords"):
            enforcer.authorize(caller, action, "*", operation="Lambda active tracing")
    return not any(denied)


def check_deployment(enforcer: Enforcer, state: Any, client: Callable[[str], Any]) -> list[str]:
    """What AWS would have refused to create: ``(record, reason)`` failures are marked on the records."""
    failures = []
    for mapping in list(state.sqs_mappings):
        caller = enforcer.function_caller(split_function(mapping.function_name)[0])
        if caller is None:
            continue
        for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
            denial = enforcer.authorize(caller, action, mapping.queue_arn, operation="CreateEventSourceMapping")
            for key_action, key in enforcer.key_needs(mapping.queue_arn, action) if denial is None else ():
                denial = enforcer.authorize(caller, key_action, key, operation="CreateEventSourceMapping", via="sqs")
            if denial is not None:
                message = (
                    f"The provided execution role does not have permissions to call {action.split(':')[1]} "
                    f"on SQS ({denial.reason})"
                )
                failures.append(_fail(next(r for r in state.records if r.physical_id == mapping.uuid), message))
                state.sqs_mappings.remove(mapping)
                break
    for record in state.records:
        if record.resource_type == "Custom::S3BucketNotifications" and record.outcome != "failed":
            failures += _check_notifications(enforcer, record, client)
    return [f for f in failures if f]


def _fail(record: Any, message: str) -> str:
    record.outcome = "failed"
    record.detail = message
    return f"{record.path}: {message}"


def _check_notifications(enforcer: Enforcer, record: Any, client: Callable[[str], Any]) -> list[str]:
    bucket = str(record.properties["BucketName"])
    bucket_arn = f"arn:aws:s3:::{bucket}"
    handler = str(record.properties.get("ServiceToken", "")).split(":")[-1]
    caller = enforcer.function_caller(handler)
    if caller is not None:
        denial = enforcer.authorize(
            caller, "s3:PutBucketNotification", bucket_arn, operation="Custom::S3BucketNotifications"
        )
        if denial is not None:
            client("s3").put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
            return [_fail(record, f"the notifications handler may not configure {bucket}: {denial.reason}")]
    config = record.properties.get("NotificationConfiguration") or {}
    invalid = []
    for key, arn_key in (
        ("LambdaFunctionConfigurations", "LambdaFunctionArn"),
        ("QueueConfigurations", "QueueArn"),
        ("TopicConfigurations", "TopicArn"),
    ):
        for target in config.get(key, []):
            target_arn = str(target[arn_key])
            if key.startswith("Lambda"):
                denial = may_invoke(
                    enforcer,
                    "s3.amazonaws.com",
                    target_arn,
                    source_arn=bucket_arn,
                    source_account=enforcer.store.account,
                )
            else:
                denial = may_deliver(enforcer, "s3.amazonaws.com", target_arn, source_arn=bucket_arn)
            if denial is not None:
                invalid.append(f"{target_arn} ({denial.reason})")
    if invalid:
        message = "Unable to validate the following destination configurations: " + ", ".join(invalid)
        client("s3").put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
        return [_fail(record, message)]
    return []


def _notify(enforcer: Enforcer, alarm: Alarm, previous: str) -> None:
    """An alarm's actions for its new state: CloudWatch publishes to each SNS topic, as the alarm's service.

    CloudWatch acts for the alarm owner's account: a topic of that account takes the
    notification unless its policy denies it; an encrypted topic's key policy must let
    ``cloudwatch.amazonaws.com`` use the key.
    """
    by_state = {
        "ALARM": alarm.alarm_actions,
        "OK": alarm.ok_actions,
        "INSUFFICIENT_DATA": alarm.insufficient_data_actions,
    }
    for action in by_state.get(alarm.state_value) or []:
        topic = str(action)
        if topic.split(":")[2] != "sns":
            continue
        if may_deliver(enforcer, "cloudwatch.amazonaws.com", topic, source_arn=alarm.alarm_arn, for_owner=True):
            continue  # CloudWatch cannot publish: the notification is lost (the denial is recorded)
        message = {
            "AlarmName": alarm.name,
            "AlarmArn": alarm.alarm_arn,
            "NewStateValue": alarm.state_value,
            "NewStateReason": alarm.state_reason,
            "OldStateValue": previous,
            "StateChangeTime": alarm.state_updated_timestamp.isoformat(),
        }
        region, account = topic.split(":")[3], topic.split(":")[4]
        sns_backends[account][region].publish(
            message=json.dumps(message), arn=topic, subject=f'{alarm.state_value}: "{alarm.name}"'
        )


def install(stack: ExitStack, enforcer: Enforcer) -> None:
    """Check SNS's deliveries to subscribed queues and functions, S3's to queues and topics; run alarm actions."""
    original_publish = Subscription.publish
    original_sqs, original_sns = s3_notifications._send_sqs_message, s3_notifications._send_sns_message

    def publish(subscription: Subscription, message: str, message_id: str, *args: Any, **kwargs: Any) -> None:
        topic = str(subscription.topic.arn)
        if subscription.protocol == "sqs":
            denial = may_deliver(enforcer, "sns.amazonaws.com", str(subscription.endpoint), source_arn=topic)
        elif subscription.protocol == "lambda":
            denial = may_invoke(enforcer, "sns.amazonaws.com", str(subscription.endpoint), source_arn=topic)
        else:
            denial = None
        if denial is None:  # else SNS cannot deliver: the message is lost for this subscriber
            original_publish(subscription, message, message_id, *args, **kwargs)

    def source_bucket(event_body: Any) -> str:
        return str(event_body["Records"][0]["s3"]["bucket"]["arn"])

    def send_sqs(account_id: str, event_body: Any, queue_name: str, region_name: str) -> None:
        queue = f"arn:aws:sqs:{region_name}:{account_id}:{queue_name}"
        if may_deliver(enforcer, "s3.amazonaws.com", queue, source_arn=source_bucket(event_body)) is None:
            original_sqs(account_id, event_body, queue_name, region_name)

    def send_sns(account_id: str, event_body: Any, topic_arn: str, region_name: str) -> None:
        if may_deliver(enforcer, "s3.amazonaws.com", topic_arn, source_arn=source_bucket(event_body)) is None:
            original_sns(account_id, event_body, topic_arn, region_name)

    def update_state(alarm: Alarm, reason: str, reason_data: str, state_value: str) -> None:
        previous = alarm.state_value
        original_update(alarm, reason, reason_data, state_value)
        if alarm.actions_enabled and state_value != previous:
            _notify(enforcer, alarm, previous)

    original_update = Alarm.update_state
    stack.enter_context(mock.patch.object(Alarm, "update_state", update_state))
    stack.enter_context(mock.patch.object(Subscription, "publish", publish))
    stack.enter_context(mock.patch.object(s3_notifications, "_send_sqs_message", send_sqs))
    stack.enter_context(mock.patch.object(s3_notifications, "_send_sns_message", send_sns))
