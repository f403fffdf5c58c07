"""Small reads tests make of a running local cloud: a queue's messages, a bucket's objects, a machine's executions.

Each takes a ``LocalCloud`` and names resources as stack outputs print them (queue ARN or URL,
bucket name, state machine ARN)::

    from serverless_patterns.local.helpers import execution_results, messages, objects

    cloud.drain()
    assert messages(cloud, cloud.outputs["DlqArn"]) == []
    assert list(objects(cloud, cloud.outputs["ResultsBucket"], prefix="processed/"))
    assert [r.status for r in execution_results(cloud, cloud.outputs["OrderStateMachineArn"])] == ["SUCCEEDED"]
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from serverless_patterns.local.cloud import LocalCloud
    from serverless_patterns.scenarios.target import ExecutionResult


def queue_url(cloud: LocalCloud, queue: str) -> str:
    """A queue's URL from its URL, ARN or name."""
    if queue.startswith(("https://", "http://")):
        return queue
    name = queue.rsplit(":", 1)[-1]
    return str(cloud.client("sqs").get_queue_url(QueueName=name)["QueueUrl"])


def messages(cloud: LocalCloud, queue: str, *, delete: bool = False) -> list[Any]:
    """The bodies of a queue's visible messages (parsed when they are JSON), left in place unless ``delete``."""
    bodies: list[Any] = []
    for message in cloud.read_queue(queue_url(cloud, queue), delete=delete):
        try:
            bodies.append(json.loads(message["Body"]))
        except ValueError:
            bodies.append(message["Body"])
    return bodies


def objects(cloud: LocalCloud, bucket: str, *, prefix: str = "") -> dict[str, bytes]:
    """A bucket's objects under ``prefix``: key -> content."""
    s3 = cloud.client("s3")
    found: dict[str, bytes] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            found[item["Key"]] = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return found


def execution_results(
    cloud: LocalCloud, state_machine_arn: str, *, timeout_seconds: float = 30.0
) -> list[ExecutionResult]:
    """Every execution of a state machine, each awaited to its end, oldest first."""
    client = cloud.client("stepfunctions")
    listed = client.list_executions(stateMachineArn=state_machine_arn)["executions"]
    ordered = sorted(listed, key=lambda execution: execution["startDate"])
    return [cloud.wait_for_execution(e["executionArn"], timeout_seconds=timeout_seconds) for e in ordered]
