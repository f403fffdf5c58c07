"""S3 as the app sees it: event notifications as AWS sends them, bucket policies over HTTPS.

moto applies a bucket's notification configuration (prefix/suffix filters included) but
calls a Lambda target synchronously and sends a thinned-down record. Here the target gets
an *asynchronous* invocation (so its EventInvokeConfig retries and destinations apply) and
every target (Lambda, SQS, SNS) gets the full S3 event record of AWS's documented
structure, with the key URL-encoded (spaces as ``+``) as AWS does.

moto evaluates bucket policies without a request context and ignores ``Bool`` conditions,
so the ``aws:SecureTransport = false`` deny of every TLS-only bucket would refuse all
requests. Here a statement applies only when its condition holds for a request made over
HTTPS (boto3's default): ``Bool``/``StringEquals``/``StringNotEquals`` on the keys of
``REQUEST_CONTEXT``; a condition on any other key does not hold (so, e.g., a TLS-version
deny does not apply).
"""

from __future__ import annotations

import datetime
import json
from contextlib import ExitStack
from typing import Any
from unittest import mock
from urllib.parse import quote_plus

from moto.iam.access_control import IAMPolicyStatement, PermissionResult
from moto.s3 import notifications
from moto.s3.models import FakeBucket

from serverless_patterns.local.lambda_runtime import LambdaRuntime
from serverless_patterns.local.permissions.services import may_invoke

OWNER_ID = "A3NL1KOZZKExample"
REQUEST_CONTEXT = {"aws:SecureTransport": "true"}
_sequence = 0


def s3_event(event_name: str, bucket: Any, key: Any, notification_id: str) -> dict[str, list[dict[str, Any]]]:
    """AWS's S3 event notification record (event structure version 2.1)."""
    global _sequence
    _sequence += 1
    object_fields: dict[str, Any] = {
        "key": quote_plus(key.name, safe="/"),  # AWS encodes like a form value but keeps the slashes
        "size": key.size,
        "eTag": key.etag.replace('"', ""),
        "sequencer": f"{_sequence:016X}",
    }
    if getattr(key, "version_id", None) and key.version_id != "null":
        object_fields["versionId"] = key.version_id
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": bucket.region_name,
                "eventTime": datetime.datetime.now(datetime.UTC)
                .isoformat(timespec="milliseconds")
                .replace("+00:00", "Z"),
                "eventName": event_name.removeprefix("s3:"),
                "userIdentity": {"principalId": f"AWS:{OWNER_ID}"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {"x-amz-request-id": f"{_sequence:016X}", "x-amz-id-2": "local/cloud"},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": notification_id,
                    "bucket": {"name": bucket.name, "ownerIdentity": {"principalId": OWNER_ID}, "arn": bucket.arn},
                    "object": object_fields,
                },
            }
        ]
    }


def condition_holds(condition: dict[str, dict[str, Any]]) -> bool:
    """Whether a policy statement's ``Condition`` holds for a request with ``REQUEST_CONTEXT``."""
    for operator, tests in condition.items():
        for key, expected in tests.items():
            actual = REQUEST_CONTEXT.get(key)
            wanted = {str(v).lower() for v in (expected if isinstance(expected, list) else [expected])}
            if actual is None or operator not in ("Bool", "StringEquals", "StringNotEquals"):
                return False
            if (actual.lower() in wanted) == (operator == "StringNotEquals"):
                return False
    return True


def install(stack: ExitStack, runtime: LambdaRuntime) -> None:
    """Patch moto's S3 notifications for as long as ``stack`` is open."""

    def invoke_lambda(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
        if runtime.enqueue_async is None:
            raise RuntimeError("S3 notifications need the cloud's async invoker")
        bucket_arn = str(event_body["Records"][0]["s3"]["bucket"]["arn"])
        if may_invoke(
            runtime.permissions, "s3.amazonaws.com", fn_arn, source_arn=bucket_arn, source_account=account_id
        ):
            return  # S3 may not invoke the function: the notification is lost (the denial is recorded)
        runtime.enqueue_async(fn_arn, json.dumps(event_body), "s3")

    def get_permission(bucket: FakeBucket, action: str, resource: str) -> PermissionResult:
        if bucket.policy is None:
            return PermissionResult.NEUTRAL
        statements = json.loads(bucket.policy.decode())["Statement"]
        permitted = False
        for raw in statements if isinstance(statements, list) else [statements]:
            if not condition_holds(raw.get("Condition") or {}):
                continue  # the statement does not apply to this request
            result = IAMPolicyStatement({k: v for k, v in raw.items() if k != "Condition"}).is_action_permitted(
                action, resource
            )
            if result == PermissionResult.DENIED:
                return result
            permitted = permitted or result == PermissionResult.PERMITTED
        return PermissionResult.PERMITTED if permitted else PermissionResult.NEUTRAL

    stack.enter_context(mock.patch.object(FakeBucket, "get_permission", get_permission))
    stack.enter_context(mock.patch.object(notifications, "_get_s3_event", s3_event))
    stack.enter_context(mock.patch.object(notifications, "_invoke_awslambda", invoke_lambda))
