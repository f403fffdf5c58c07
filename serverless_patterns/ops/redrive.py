"""Moving dead letters back to work after a fix, and replaying what a function's retries gave up on.

``start_redrive`` uses SQS message move tasks (``StartMessageMoveTask``): SQS itself moves the
messages from the DLQ back to the queue they came from (or to ``destination_arn``), at an
optional rate, and reports progress. ``manual_redrive`` does the same by receive/send/delete for
where move tasks are not available (a local emulator); it sends before it deletes, so a crash
duplicates rather than loses (the pipeline's processing is idempotent).

``replay_failures`` re-invokes a function with the events its asynchronous retries gave up on
(the records in its on-failure destination queue), e.g. the pipeline's validator.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef, SendMessageBatchRequestEntryTypeDef

BATCH = 10
FINISHED = frozenset({"COMPLETED", "CANCELLED", "FAILED"})


def queue_arn(sqs: SQSClient, queue: str) -> str:
    """The ARN of a queue given by ARN or by URL."""
    if queue.startswith("arn:"):
        return queue
    return sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def queue_url(sqs: SQSClient, queue: str) -> str:
    """The URL of a queue given by URL or by ARN."""
    if not queue.startswith("arn:"):
        return queue
    _, _, _, _region, account, name = queue.split(":", 5)
    return sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]


@dataclass(frozen=True)
class MoveTask:
    """One message move task, as ListMessageMoveTasks reports it."""

    handle: str | None
    status: str
    moved: int
    to_move: int | None
    failure: str | None

    @property
    def finished(self) -> bool:
        """The task will move nothing more."""
        return self.status in FINISHED

    def describe(self) -> str:
        """One line for the operator."""
        total = "?" if self.to_move is None else str(self.to_move)
        failure = f" ({self.failure})" if self.failure else ""
        return f"{self.status}: {self.moved}/{total} moved{failure}"


def start_redrive(
    sqs: SQSClient, dlq: str, *, destination: str | None = None, max_per_second: int | None = None
) -> str:
    """Start moving every message in ``dlq`` back to its source queue (or ``destination``); the task handle."""
    request: dict[str, Any] = {"SourceArn": queue_arn(sqs, dlq)}
    if destination:
        request["DestinationArn"] = queue_arn(sqs, destination)
    if max_per_second:
        request["MaxNumberOfMessagesPerSecond"] = max_per_second
    return sqs.start_message_move_task(**request)["TaskHandle"]


def redrive_tasks(sqs: SQSClient, dlq: str) -> list[MoveTask]:
    """The DLQ's recent message move tasks, newest first."""
    results = sqs.list_message_move_tasks(SourceArn=queue_arn(sqs, dlq), MaxResults=10).get("Results", [])
    return [
        MoveTask(
            handle=task.get("TaskHandle"),
            status=task.get("Status", "UNKNOWN"),
            moved=task.get("ApproximateNumberOfMessagesMoved", 0),
            to_move=task.get("ApproximateNumberOfMessagesToMove"),
            failure=task.get("FailureReason"),
        )
        for task in results
    ]


def wait_for_redrive(
    sqs: SQSClient,
    dlq: str,
    *,
    poll_seconds: float = 5.0,
    timeout_seconds: float = 3600.0,
    sleep: Callable[[float], None] = time.sleep,
    report: Callable[[MoveTask], None] = lambda task: None,
) -> MoveTask:
    """Poll the newest move task of ``dlq`` until it finishes (or raise TimeoutError)."""
    waited = 0.0
    while True:
        tasks = redrive_tasks(sqs, dlq)
        if not tasks:
            raise RuntimeError(f"no message move task for {dlq}")
        report(tasks[0])
        if tasks[0].finished:
            return tasks[0]
        if waited >= timeout_seconds:
            raise TimeoutError(f"redrive of {dlq} still {tasks[0].status} after {waited:.0f} s")
        sleep(poll_seconds)
        waited += poll_seconds


def cancel_redrive(sqs: SQSClient, task_handle: str) -> int:
    """Stop a running move task; how many messages it had moved."""
    return sqs.cancel_message_move_task(TaskHandle=task_handle)["ApproximateNumberOfMessagesMoved"]


def manual_redrive(sqs: SQSClient, dlq: str, destination: str, *, limit: int | None = None) -> int:
    """Move up to ``limit`` messages (all, by default) from ``dlq`` to ``destination``; how many moved."""
    source_url, destination_url = queue_url(sqs, dlq), queue_url(sqs, destination)
    moved = 0
    while limit is None or moved < limit:
        wanted = BATCH if limit is None else min(BATCH, limit - moved)
        messages = sqs.receive_message(
            QueueUrl=source_url,
            MaxNumberOfMessages=wanted,
            MessageAttributeNames=["All"],
            VisibilityTimeout=60,
        ).get("Messages", [])
        if not messages:
            return moved
        _send_all(sqs, destination_url, messages)
        deleted = sqs.delete_message_batch(
            QueueUrl=source_url,
            Entries=[{"Id": str(i), "ReceiptHandle": message["ReceiptHandle"]} for i, message in enumerate(messages)],
        )
        if deleted.get("Failed"):
            raise RuntimeError(f"{len(deleted['Failed'])} moved messages could not be deleted from {dlq}: re-run")
        moved += len(messages)
    return moved


def _send_all(sqs: SQSClient, destination_url: str, messages: list[MessageTypeDef]) -> None:
    entries: list[SendMessageBatchRequestEntryTypeDef] = []
    for index, message in enumerate(messages):
        entry: SendMessageBatchRequestEntryTypeDef = {"Id": str(index), "MessageBody": message["Body"]}
        if message.get("MessageAttributes"):
            entry["MessageAttributes"] = message["MessageAttributes"]
        entries.append(entry)
    failed = sqs.send_message_batch(QueueUrl=destination_url, Entries=entries).get("Failed", [])
    if failed:
        raise RuntimeError(f"{len(failed)} messages could not be sent to {destination_url}; nothing was deleted")


def replay_failures(
    sqs: SQSClient, lambda_client: LambdaClient, failure_queue: str, function: str, *, limit: int | None = None
) -> int:
    """Re-invoke ``function`` asynchronously with each event its on-failure destination holds.

    A record is deleted only after its event was accepted again; records that are not Lambda
    destination records are left in place. Returns how many events were replayed.
    """
    url = queue_url(sqs, failure_queue)
    replayed = 0
    skipped: set[str] = set()
    while limit is None or replayed < limit:
        wanted = BATCH if limit is None else min(BATCH, limit - replayed)
        messages = [
            message
            for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=wanted, VisibilityTimeout=60).get(
                "Messages", []
            )
            if message["MessageId"] not in skipped
        ]
        if not messages:
            return replayed
        for message in messages:
            payload = _request_payload(message["Body"])
            if payload is None:
                skipped.add(message["MessageId"])
                continue
            lambda_client.invoke(FunctionName=function, InvocationType="Event", Payload=json.dumps(payload).encode())
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            replayed += 1
    return replayed


def _request_payload(body: str) -> Any:
    try:
        record = json.loads(body)
    except json.JSONDecodeError:
        return None
    if not isinstance(record, dict) or "requestPayload" not in record or "requestContext" not in record:
        return None
    return record["requestPayload"]
