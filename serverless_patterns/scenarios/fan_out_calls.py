"""The FanOut scenario's calls on a target: submit and poll jobs, read the jobs table, the DLQ and the logs."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from serverless_patterns.lambdas.fan_out import contract
from serverless_patterns.lambdas.fan_out.models import ChunkMessage
from serverless_patterns.scenarios.fan_out_app import FanOutApp, JsonObject

if TYPE_CHECKING:
    from serverless_patterns.scenarios.target import Target

TERMINAL = frozenset({"SUCCEEDED", "FAILED"})
DLQ_RECEIVE_VISIBILITY_SECONDS = 30
EMPTY_RECEIVES_TO_STOP = 2


def _payload(cloud: Target, function: str, request: Any) -> JsonObject:
    invocation = cloud.invoke(function, request)
    if invocation.function_error or not isinstance(invocation.payload, dict):
        raise RuntimeError(f"{function} failed ({invocation.function_error}): {invocation.payload!r}")
    return invocation.payload


def submit(cloud: Target, app: FanOutApp, request: Any) -> JsonObject:
    """Invoke the master; its answer (the job, or a refusal with ``error``)."""
    return _payload(cloud, app.master, request)


def job_status(cloud: Target, app: FanOutApp, job_id: str) -> JsonObject:
    """Invoke the status function for ``job_id``."""
    return _payload(cloud, app.status, {"job_id": job_id})


def settle_job(cloud: Target, app: FanOutApp, job_id: str, *, timeout_seconds: float) -> JsonObject:
    """Let the job run to SUCCEEDED or FAILED (or the timeout); its status then."""
    cloud.settle(lambda: job_status(cloud, app, job_id).get("status") in TERMINAL, timeout_seconds=timeout_seconds)
    return job_status(cloud, app, job_id)


def job_item(cloud: Target, app: FanOutApp, job_id: str) -> JsonObject:
    """The job's item in the jobs table, as DynamoDB holds it (typed attribute values)."""
    key = {contract.PARTITION_KEY: {"S": job_id}, contract.SORT_KEY: {"S": contract.JOB_SORT_KEY}}
    item: JsonObject = (
        cloud.client("dynamodb").get_item(TableName=app.table_name, Key=key, ConsistentRead=True).get("Item", {})
    )
    return item


def table_records(cloud: Target, app: FanOutApp, job_id: str, prefix: str = "") -> int:
    """How many items the jobs table holds for ``job_id`` (those whose sort key starts with ``prefix``),
    under the job's own partition key and those of its completion shards."""
    shards = int(job_item(cloud, app, job_id).get("completion_shards", {}).get("N", "0"))
    partitions = [job_id, *(contract.shard_partition_key(job_id, shard) for shard in range(shards))]
    return sum(_partition_records(cloud, app, partition, prefix) for partition in partitions)


def _partition_records(cloud: Target, app: FanOutApp, partition: str, prefix: str) -> int:
    dynamodb = cloud.client("dynamodb")
    condition = f"{contract.PARTITION_KEY} = :job" + (
        f" AND begins_with({contract.SORT_KEY}, :prefix)" if prefix else ""
    )
    values: JsonObject = {":job": {"S": partition}} | ({":prefix": {"S": prefix}} if prefix else {})
    query: JsonObject = {
        "TableName": app.table_name,
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": values,
        "Select": "COUNT",
        "ConsistentRead": True,
    }
    count = 0
    while True:
        page = dynamodb.query(**query)
        count += int(page["Count"])
        if "LastEvaluatedKey" not in page:
            return count
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def resend_chunks(
    cloud: Target, app: FanOutApp, job_id: str, items: Sequence[JsonObject], indexes: Iterable[int]
) -> int:
    """Queue chunk messages of a submitted job a second time, exactly as the master queued them."""
    job = job_item(cloud, app, job_id)
    expires_at = int(job[contract.TTL_ATTRIBUTE]["N"])
    shards = int(job.get("completion_shards", {}).get("N", "0"))
    sqs = cloud.client("sqs")
    sent = 0
    for index in indexes:
        first = index * app.chunk_size
        message = ChunkMessage(
            job_id=job_id,
            chunk_index=index,
            first_item=first,
            expires_at=expires_at,
            items=list(items[first : first + app.chunk_size]),
            completion_shards=shards,
        )
        sqs.send_message(QueueUrl=app.work_queue_url, MessageBody=message.model_dump_json())
        sent += 1
    return sent


def dead_letters(cloud: Target, app: FanOutApp, job_id: str, *, delete: bool = False) -> list[JsonObject]:
    """The job's chunk messages in the DLQ (parsed); every other message is left as it was.

    ``delete`` removes the job's own messages (nothing to redrive: the scenario's poison is on purpose).
    """
    sqs = cloud.client("sqs")
    received: list[JsonObject] = []
    empty = 0
    while empty < EMPTY_RECEIVES_TO_STOP:  # a short poll may miss messages on SQS: stop on the second miss
        batch = sqs.receive_message(
            QueueUrl=app.dlq_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=DLQ_RECEIVE_VISIBILITY_SECONDS,
            WaitTimeSeconds=0,
        ).get("Messages", [])
        received += batch
        empty = 0 if batch else empty + 1
    ours: list[JsonObject] = []
    for message in received:
        try:
            body = json.loads(message["Body"])
        except json.JSONDecodeError:
            body = None
        mine = isinstance(body, dict) and body.get("job_id") == job_id
        if mine:
            ours.append(body)
        if mine and delete:
            sqs.delete_message(QueueUrl=app.dlq_url, ReceiptHandle=message["ReceiptHandle"])
        else:
            sqs.change_message_visibility(
                QueueUrl=app.dlq_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
    return ours


def log_records(cloud: Target, log_group: str, message: str, job_id: str, *, since_ms: int) -> list[JsonObject]:
    """The structured log records of ``log_group`` with this ``message`` for ``job_id``, since ``since_ms``."""
    logs = cloud.client("logs")
    request: JsonObject = {
        "logGroupName": log_group,
        "startTime": since_ms,
        "filterPattern": json.dumps(message),
    }
    records: list[JsonObject] = []
    while True:
        page = logs.filter_log_events(**request)
        for event in page.get("events", []):
            try:
                record = json.loads(event["message"])
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict) and record.get("message") == message and record.get("job_id") == job_id:
                records.append(record)
        if not page.get("nextToken"):
            return records
        request["nextToken"] = page["nextToken"]
