"""SQS event source mappings with Lambda's semantics, driven by the drain loop.

moto's own mapping runs the function inside ``send_message``, one record at a time, always
with receive count 1, and ignores partial batch responses; it is switched off and this
poller does what the Lambda service does instead:

* receives up to ``BatchSize`` messages per batch (several ReceiveMessage calls when a
  batching window allows batches above 10; without a window, one call of at most 10);
* dispatches at most ``ScalingConfig.MaximumConcurrency`` batches per polling round (the
  rounds are sequential here, so "concurrency" is the number of batches in flight at once);
* on success deletes the batch, except with ``ReportBatchItemFailures``, where only the
  records named in ``batchItemFailures`` stay (an invalid response fails the whole batch);
* on a function error leaves the whole batch in flight;
* messages left in flight become visible again when the queue's visibility timeout expires
  on the virtual clock, with ``ApproximateReceiveCount`` incremented by SQS itself;
* SQS's redrive policy moves a message to the DLQ when it is received after
  ``maxReceiveCount`` receives (moto implements the move; nothing is lost on the way).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from serverless_patterns.local.clock import VirtualClock
from serverless_patterns.local.lambda_runtime import LambdaRuntime

SQS_RECEIVE_LIMIT = 10
DEFAULT_MAX_CONCURRENCY = 1000


@dataclass(frozen=True)
class SqsMapping:
    """One ``AWS::Lambda::EventSourceMapping`` from an SQS queue."""

    uuid: str
    queue_arn: str
    function_name: str
    batch_size: int = 10
    batching_window_seconds: int = 0
    maximum_concurrency: int | None = None
    report_batch_item_failures: bool = False
    enabled: bool = True

    @classmethod
    def from_properties(cls, uuid: str, properties: Mapping[str, Any]) -> SqsMapping:
        """From the mapping's (resolved) CloudFormation properties."""
        return cls(
            uuid=uuid,
            queue_arn=str(properties["EventSourceArn"]),
            function_name=str(properties["FunctionName"]),
            batch_size=int(properties.get("BatchSize", 10)),
            batching_window_seconds=int(properties.get("MaximumBatchingWindowInSeconds", 0)),
            maximum_concurrency=(properties.get("ScalingConfig") or {}).get("MaximumConcurrency"),
            report_batch_item_failures="ReportBatchItemFailures" in properties.get("FunctionResponseTypes", []),
            enabled=bool(properties.get("Enabled", True)),
        )


@dataclass(frozen=True)
class BatchResult:
    """What happened to one batch: for tests and the report."""

    mapping_uuid: str
    polling_round: int
    at: float
    message_ids: tuple[str, ...]
    failed_ids: tuple[str, ...]
    error_type: str | None


@dataclass
class _InFlight:
    queue_url: str
    receipt_handle: str
    message_id: str
    visible_at: float


@dataclass
class SqsPoller:
    """The Lambda service's side of every SQS mapping of the cloud."""

    runtime: LambdaRuntime
    clock: VirtualClock
    client: Callable[[str], Any]
    mappings: list[SqsMapping]
    batches: list[BatchResult] = field(default_factory=list)
    peak_concurrency: dict[str, int] = field(default_factory=dict)
    _in_flight: list[_InFlight] = field(default_factory=list)
    _rounds: int = 0

    def queue_url(self, queue_arn: str) -> str:
        """The URL of the queue with ``queue_arn``."""
        parts = queue_arn.split(":")
        response = self.client("sqs").get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])
        return str(response["QueueUrl"])

    def poll_once(self) -> int:
        """One polling round over every enabled mapping; return how many records were delivered."""
        self._rounds += 1
        delivered = 0
        for mapping in self.mappings:
            if not mapping.enabled:
                continue
            url = self.queue_url(mapping.queue_arn)
            timeout = int(
                self.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])[
                    "Attributes"
                ]["VisibilityTimeout"]
            )
            in_round = 0
            limit = mapping.maximum_concurrency or DEFAULT_MAX_CONCURRENCY
            while in_round < limit:
                messages = self._receive(mapping, url)
                if not messages:
                    break
                in_round += 1
                delivered += len(messages)
                self._deliver(mapping, url, messages, timeout)
            if in_round:
                self.peak_concurrency[mapping.uuid] = max(self.peak_concurrency.get(mapping.uuid, 0), in_round)
        return delivered

    def _receive(self, mapping: SqsMapping, url: str) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while len(messages) < mapping.batch_size:
            response = self.client("sqs").receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=min(SQS_RECEIVE_LIMIT, mapping.batch_size - len(messages)),
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            )
            received = response.get("Messages", [])
            messages += received
            if not received or not mapping.batching_window_seconds:
                break
        return messages

    def _deliver(self, mapping: SqsMapping, url: str, messages: list[dict[str, Any]], visibility_timeout: int) -> None:
        region = mapping.queue_arn.split(":")[3]
        event = {"Records": [_record(m, mapping.queue_arn, region) for m in messages]}
        with self.runtime.source("sqs"):
            invocation = self.runtime.invoke(mapping.function_name, event, source="sqs")
        ids = [m["MessageId"] for m in messages]
        failed = set(ids)
        if not invocation.failed:
            failed = _failed_ids(invocation.result, ids) if mapping.report_batch_item_failures else set()
        now = self.clock.now()
        succeeded = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(succeeded), SQS_RECEIVE_LIMIT):
            chunk = succeeded[start : start + SQS_RECEIVE_LIMIT]
            self.client("sqs").delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        for message in messages:
            if message["MessageId"] in failed:
                self._in_flight.append(
                    _InFlight(url, message["ReceiptHandle"], message["MessageId"], now + visibility_timeout)
                )
        self.batches.append(
            BatchResult(
                mapping_uuid=mapping.uuid,
                polling_round=self._rounds,
                at=now,
                message_ids=tuple(ids),
                failed_ids=tuple(i for i in ids if i in failed),
                error_type=invocation.error_type,
            )
        )

    def next_visible_at(self) -> float | None:
        """When the next failed message becomes visible again, if any."""
        return min((m.visible_at for m in self._in_flight), default=None)

    def expire_due(self) -> int:
        """Make the in-flight messages whose visibility timeout has passed visible again."""
        now = self.clock.now()
        due = [m for m in self._in_flight if m.visible_at <= now]
        for message in due:
            self._in_flight.remove(message)
            self.client("sqs").change_message_visibility(
                QueueUrl=message.queue_url, ReceiptHandle=message.receipt_handle, VisibilityTimeout=0
            )
        return len(due)


def _failed_ids(result: Any, ids: list[str]) -> set[str]:
    """The records to keep, from a partial batch response; all of them when the response is invalid."""
    if result is None or (isinstance(result, dict) and not result.get("batchItemFailures")):
        return set()
    if not isinstance(result, dict) or not isinstance(result.get("batchItemFailures"), list):
        return set(ids)
    failed = set()
    for item in result["batchItemFailures"]:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not identifier or identifier not in ids:
            return set(ids)
        failed.add(identifier)
    return failed


def _record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """The Lambda event record for one received SQS message."""
    attributes = message.get("Attributes", {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            key: str(attributes[key])
            for key in (
                "ApproximateReceiveCount",
                "SentTimestamp",
                "SenderId",
                "ApproximateFirstReceiveTimestamp",
                "MessageGroupId",
                "MessageDeduplicationId",
                "SequenceNumber",
                "AWSTraceHeader",
            )
            if key in attributes
        },
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": value.get("StringListValues", []),
                "binaryListValues": value.get("BinaryListValues", []),
                "dataType": value.get("DataType"),
            }
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody"),
        "md5OfMessageAttributes": message.get("MD5OfMessageAttributes"),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
