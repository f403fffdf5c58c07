"""SQS event source mappings with Lambda's semantics, driven by the drain loop.

moto's own mapping runs the function inside ``send_message``, one record at a time, always
with receive count 1, and ignores partial batch responses; it is switched off and this
poller does what the Lambda service does instead:

* receives up to ``BatchSize`` messages per batch (several ReceiveMessage calls when a
  batching window allows batches above 10; without a window, one call of at most 10), with
  the queue's own visibility timeout;
* delivers batches *concurrently*: each mapping has as many pollers as its concurrency
  allows (``ScalingConfig.MaximumConcurrency``, else Lambda's initial five; never more than
  the function's reserved concurrency), each receiving and invoking one batch after
  another, so that many handler executions overlap and never more; mappings run side by
  side. Lambda's scaling beyond its initial pollers is not simulated;
* on success deletes the batch, except with ``ReportBatchItemFailures``, where only the
  records named in ``batchItemFailures`` stay (an invalid response fails the whole batch);
* on a function error leaves the whole batch in flight;
* what becomes of a message left in flight is SQS's business (``sqs``): it is received again
  when its visibility ends on the virtual clock, the queue's visibility timeout or whatever
  the handler set with ``ChangeMessageVisibility``; a message a handler re-sends with
  ``DelaySeconds`` arrives when its delay ends; ``ApproximateReceiveCount`` counts receives;
* SQS's redrive policy moves a message to the DLQ when it is received after
  ``maxReceiveCount`` receives (moto implements the move; nothing is lost on the way).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from serverless_patterns.local.clock import VirtualClock
from serverless_patterns.local.lambda_runtime import LambdaRuntime

SQS_RECEIVE_LIMIT = 10
# Lambda starts polling a queue with five concurrent batches (its scaling beyond is not simulated).
DEFAULT_POLLERS = 5
# A poller gives up its turn after this many batches in one round (a message retried at once,
# e.g. hidden for 0 s, on a queue without a DLQ would otherwise keep one round going forever).
MAX_BATCHES_PER_POLLER_ROUND = 100


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
        maximum = (properties.get("ScalingConfig") or {}).get("MaximumConcurrency")
        return cls(
            uuid=uuid,
            queue_arn=str(properties["EventSourceArn"]),
            function_name=str(properties["FunctionName"]),
            batch_size=int(properties.get("BatchSize", 10)),
            batching_window_seconds=int(properties.get("MaximumBatchingWindowInSeconds", 0)),
            maximum_concurrency=int(maximum) if maximum is not None else None,
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
    receive_counts: tuple[int, ...] = ()


@dataclass
class SqsPoller:
    """The Lambda service's side of every SQS mapping of the cloud."""

    runtime: LambdaRuntime
    clock: VirtualClock
    client: Callable[[str], Any]
    mappings: list[SqsMapping]
    batches: list[BatchResult] = field(default_factory=list)
    peak_concurrency: dict[str, int] = field(default_factory=dict)
    _rounds: int = 0
    _in_flight: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        for mapping in self.mappings:
            self.runtime.reserve_capacity(mapping.function_name, self.concurrency(mapping))

    def concurrency(self, mapping: SqsMapping) -> int:
        """How many batches of ``mapping`` may be in flight at once."""
        limit = mapping.maximum_concurrency or DEFAULT_POLLERS
        reserved = self.runtime.reserved_concurrency(mapping.function_name)
        return max(1, min(limit, reserved)) if reserved is not None else limit

    def queue_url(self, queue_arn: str) -> str:
        """The URL of the queue with ``queue_arn``."""
        parts = queue_arn.split(":")
        response = self.client("sqs").get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])
        return str(response["QueueUrl"])

    def queue_arns(self) -> list[str]:
        """The queues an enabled mapping consumes."""
        return [m.queue_arn for m in self.mappings if m.enabled]

    def poll_once(self) -> int:
        """One polling round: every enabled mapping's pollers until its queue has nothing receivable.

        Returns how many records were delivered.
        """
        self._rounds += 1
        sqs = self.client("sqs")
        work = [
            (mapping, self.queue_url(mapping.queue_arn))
            for mapping in self.mappings
            if mapping.enabled
            for _ in range(self.concurrency(mapping))
        ]
        if not work:
            return 0
        with ThreadPoolExecutor(max_workers=len(work), thread_name_prefix="sqs-poller") as pool:
            return sum(pool.map(lambda item: self._poll(sqs, *item), work))

    def _poll(self, sqs: Any, mapping: SqsMapping, url: str) -> int:
        """One poller: receive and deliver batches one after another while there are any (as the function's role)."""
        enforcer = self.runtime.permissions
        with enforcer.acting_as(enforcer.function_caller(mapping.function_name)) if enforcer else nullcontext():
            return self._poll_batches(sqs, mapping, url)

    def _poll_batches(self, sqs: Any, mapping: SqsMapping, url: str) -> int:
        delivered = 0
        for _ in range(MAX_BATCHES_PER_POLLER_ROUND):
            messages = self._receive(sqs, mapping, url)
            if not messages:
                break
            delivered += len(messages)
            self._deliver(sqs, mapping, url, messages)
        return delivered

    def _receive(self, sqs: Any, mapping: SqsMapping, url: str) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while len(messages) < mapping.batch_size:
            response = sqs.receive_message(
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

    def _deliver(self, sqs: Any, mapping: SqsMapping, url: str, messages: list[dict[str, Any]]) -> None:
        region = mapping.queue_arn.split(":")[3]
        event = {"Records": [_record(m, mapping.queue_arn, region) for m in messages]}
        now = self.clock.now()
        with self._lock:
            self._in_flight[mapping.uuid] = in_flight = self._in_flight.get(mapping.uuid, 0) + 1
            self.peak_concurrency[mapping.uuid] = max(self.peak_concurrency.get(mapping.uuid, 0), in_flight)
        try:
            with self.runtime.source("sqs"):
                invocation = self.runtime.invoke(mapping.function_name, event, source="sqs")
        finally:
            with self._lock:
                self._in_flight[mapping.uuid] -= 1
        ids = [m["MessageId"] for m in messages]
        failed = set(ids)
        if not invocation.failed:
            failed = _failed_ids(invocation.result, ids) if mapping.report_batch_item_failures else set()
        succeeded = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(succeeded), SQS_RECEIVE_LIMIT):
            chunk = succeeded[start : start + SQS_RECEIVE_LIMIT]
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        result = BatchResult(
            mapping_uuid=mapping.uuid,
            polling_round=self._rounds,
            at=now,
            message_ids=tuple(ids),
            failed_ids=tuple(i for i in ids if i in failed),
            error_type=invocation.error_type,
            receive_counts=tuple(int(m.get("Attributes", {}).get("ApproximateReceiveCount", 0)) for m in messages),
        )
        with self._lock:
            self.batches.append(result)


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
