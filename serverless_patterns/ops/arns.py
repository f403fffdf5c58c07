"""Queue and function references as operators type them: ARNs and URLs parsed, regions read from them.

No boto3 here: the CLI validates its arguments before it needs the SDK.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from urllib.parse import urlparse

_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}(\.fifo)?$")
_FUNCTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_QUALIFIER = re.compile(r"^(\$LATEST|[A-Za-z0-9_-]{1,128})$")
_SQS_HOST = re.compile(r"^(?:sqs\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?|([a-z0-9-]+)\.queue\.amazonaws\.com)$")
_PARTITIONS = ("aws", "aws-cn", "aws-us-gov")


@dataclass(frozen=True)
class QueueRef:
    """A queue named by ARN or URL: the text as given, and the region it names (if it names one)."""

    text: str
    region: str | None
    name: str


@dataclass(frozen=True)
class FunctionRef:
    """A Lambda function by name (``name``, ``name:alias``) or ARN; the region when an ARN names it."""

    text: str
    region: str | None
    name: str


def _arn_parts(text: str, service: str, option: str, shape: str) -> list[str]:
    parts = text.split(":")
    if len(parts) < 6 or parts[0] != "arn" or parts[1] not in _PARTITIONS or parts[2] != service:
        raise ValueError(f"{option}: not an {shape}: {text!r}")
    if not _REGION.match(parts[3]):
        raise ValueError(f"{option}: {text!r} names no valid region ({parts[3]!r})")
    if not _ACCOUNT.match(parts[4]):
        raise ValueError(f"{option}: {text!r} names no valid account id ({parts[4]!r})")
    return parts


def parse_queue(text: str, option: str = "--queue") -> QueueRef:
    """An SQS queue ARN (``arn:aws:sqs:<region>:<account>:<name>``) or queue URL, checked."""
    shape = "SQS queue ARN (arn:aws:sqs:<region>:<account>:<name>) or queue URL"
    text = text.strip()
    if text.startswith("arn:"):
        parts = _arn_parts(text, "sqs", option, shape)
        if len(parts) != 6 or not _QUEUE_NAME.match(parts[5]):
            raise ValueError(f"{option}: {text!r} names no valid queue")
        return QueueRef(text, parts[3], parts[5])
    url = urlparse(text)
    if url.scheme in ("https", "http") and url.hostname:
        path = [part for part in url.path.split("/") if part]
        if len(path) != 2 or not _ACCOUNT.match(path[0]) or not _QUEUE_NAME.match(path[1]):
            raise ValueError(f"{option}: a queue URL ends in /<account>/<name>, got {text!r}")
        host = _SQS_HOST.match(url.hostname)
        return QueueRef(text, (host.group(1) or host.group(2)) if host else None, path[1])
    raise ValueError(f"{option}: not an {shape}: {text!r}")


def parse_function(text: str, option: str = "--function") -> FunctionRef:
    """A function name, ``name:qualifier`` or function ARN (``arn:aws:lambda:<region>:<account>:function:<name>``)."""
    text = text.strip()
    if text.startswith("arn:"):
        shape = "Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>[:<alias>])"
        parts = _arn_parts(text, "lambda", option, shape)
        if len(parts) not in (7, 8) or parts[5] != "function" or not _FUNCTION_NAME.match(parts[6]):
            raise ValueError(f"{option}: not a {shape}: {text!r}")
        if len(parts) == 8 and not _QUALIFIER.match(parts[7]):
            raise ValueError(f"{option}: {text!r} has an invalid alias or version ({parts[7]!r})")
        return FunctionRef(text, parts[3], parts[6])
    name, _, qualifier = text.partition(":")
    if not _FUNCTION_NAME.match(name) or (qualifier and not _QUALIFIER.match(qualifier)):
        raise ValueError(f"{option}: not a function name, name:alias or function ARN: {text!r}")
    return FunctionRef(text, None, name)


def task_handle_region(handle: str) -> str | None:
    """The region of the source queue a message move task handle names (SQS's handles are base64 JSON)."""
    try:
        document = json.loads(base64.b64decode(handle + "=" * (-len(handle) % 4), validate=False))
    except (binascii.Error, ValueError):
        return None
    source = document.get("sourceArn") if isinstance(document, dict) else None
    if not isinstance(source, str):
        return None
    try:
        return parse_queue(source).region
    except ValueError:
        return None


def common_region(option_region: str | None, *named: tuple[str, str | None]) -> str | None:
    """The one region the arguments agree on: ``--region`` or the regions ARNs and URLs name.

    ``named`` is ``(option, region or None)`` per argument; two different regions are refused.
    """
    regions = {region: option for option, region in named if region}
    if len(regions) > 1:
        described = ", ".join(f"{option} is in {region}" for region, option in regions.items())
        raise ValueError(f"the queues and functions are in different regions ({described})")
    implied = next(iter(regions), None)
    if option_region and implied and option_region != implied:
        raise ValueError(f"--region {option_region} contradicts {regions[implied]}, which is in {implied}")
    return option_region or implied
