"""SQS as the app relies on it, on the virtual clock: visibility, delays, long polls, dead-letter sources.

moto keeps each message's ``visible_at`` and ``delayed_until`` on the wall clock, which is
the cloud's virtual clock (``clock``), so ``ChangeMessageVisibility``, a receive's
``VisibilityTimeout``, ``DelaySeconds`` per message and the queue's ``DelaySeconds`` and
``VisibilityTimeout`` behave as on SQS: a message a handler hid for 30 s is received again
30 virtual seconds later, not at the queue's visibility timeout. What is changed here:

* a message is visible again *at* its deadline (moto: only after it, which on a clock that
  does not tick means never for ``VisibilityTimeout=0``);
* a long poll (``WaitTimeSeconds`` > 0) returns at once with what is there: waiting would
  need the clock to move, and only the drain loop moves it;
* a message SQS moves to a dead-letter queue remembers the queue it came from (AWS's
  ``DeadLetterQueueSourceArn``), so a message move task can send it back there;
* one SQS request at a time (``LOCK``): concurrent pollers never receive a message twice;
* ``next_visible_at`` tells the drain loop when the next message of the consumed queues
  becomes receivable, so it can jump the clock there.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any
from unittest import mock

from moto.core.utils import unix_time_millis
from moto.sqs.models import Message, Queue, SQSBackend, sqs_backends
from moto.sqs.responses import SQSResponse

_moving = threading.local()


@dataclass(frozen=True)
class VisibilityChange:
    """A ``ChangeMessageVisibility`` as SQS applied it: when (Unix seconds), which message, for how long."""

    at: float
    queue_arn: str
    message_id: str
    seconds: int


# One SQS request at a time (pollers receive concurrently; moto's receive is not atomic).
LOCK = threading.RLock()


def install(stack: ExitStack, changes: list[VisibilityChange] | None = None) -> None:
    """Patch moto's SQS for as long as ``stack`` is open, recording visibility changes in ``changes``."""
    original_receive = SQSBackend.receive_message
    original_add = Queue.add_message
    original_call = SQSResponse.call_action
    original_change = SQSBackend.change_message_visibility

    def change_message_visibility(
        backend: SQSBackend, queue_name: str, receipt_handle: str, visibility_timeout: int
    ) -> None:
        original_change(backend, queue_name, receipt_handle, visibility_timeout)
        if changes is not None:
            queue = backend.get_queue(queue_name)
            message = next(m for m in queue._messages if m.had_receipt_handle(receipt_handle))
            changes.append(
                VisibilityChange(unix_time_millis() / 1000, queue.queue_arn, message.id, int(visibility_timeout))
            )

    def visible(message: Message) -> bool:
        return bool(unix_time_millis() >= message.visible_at)

    def receive_message(
        backend: SQSBackend,
        queue_name: str,
        count: int,
        wait_seconds_timeout: int,
        visibility_timeout: int,
        message_attribute_names: list[str] | None = None,
    ) -> list[Message]:
        _moving.source = backend.get_queue(queue_name).queue_arn
        try:
            return original_receive(backend, queue_name, count, 0, visibility_timeout, message_attribute_names)
        finally:
            _moving.source = None

    def add_message(queue: Queue, message: Message) -> None:
        source = getattr(_moving, "source", None)
        if source is not None and source != queue.queue_arn:
            message.dead_letter_source_arn = source  # type: ignore[attr-defined]
        original_add(queue, message)

    def call_action(response: SQSResponse) -> Any:
        with LOCK:
            return original_call(response)

    stack.enter_context(mock.patch.object(SQSResponse, "call_action", call_action))
    stack.enter_context(mock.patch.object(Message, "visible", property(visible)))
    stack.enter_context(mock.patch.object(SQSBackend, "receive_message", receive_message))
    stack.enter_context(mock.patch.object(SQSBackend, "change_message_visibility", change_message_visibility))
    stack.enter_context(mock.patch.object(Queue, "add_message", add_message))


def queue_by_arn(arn: str) -> Queue | None:
    """The emulator's queue with this ARN, if it exists."""
    parts = arn.split(":")
    if len(parts) != 6:
        return None
    queue: Queue | None = sqs_backends[parts[4]][parts[3]].queues.get(parts[5])
    return queue


def dead_letter_sources(dlq: Queue) -> list[Queue]:
    """The queues whose redrive policy names ``dlq`` as their dead-letter queue."""
    backend = sqs_backends[dlq.account_id][dlq.region]
    return [
        queue
        for queue in backend.queues.values()
        if queue.redrive_policy and queue.redrive_policy.get("deadLetterTargetArn") == dlq.queue_arn
    ]


def next_visible_at(queue_arns: Iterable[str]) -> float | None:
    """The wall-clock time (Unix seconds) at which the next hidden or delayed message becomes receivable."""
    now = unix_time_millis()
    upcoming: list[float] = []
    for arn in set(queue_arns):
        queue = queue_by_arn(arn)
        if queue is None:
            continue
        with LOCK:
            messages = list(queue._messages)
        for message in messages:
            due = max(float(message.visible_at), float(message.delayed_until))
            if due > now:
                upcoming.append(due)
    return min(upcoming) / 1000 if upcoming else None


def moved_from(message: Any) -> str | None:
    """The ARN of the queue a dead letter came from (None for a message sent to the queue directly)."""
    source: str | None = getattr(message, "dead_letter_source_arn", None)
    return source


def read_queue(client: Any, queue_url: str, *, delete: bool = False) -> list[dict[str, Any]]:
    """Every message currently visible on a queue, left visible (receive count and all) unless ``delete``."""
    messages: list[dict[str, Any]] = []
    while True:
        batch = client.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=3600,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not batch:
            break
        messages += batch
    for message in messages:
        if delete:
            client.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        else:
            client.change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
    return messages


def queue_depth(client: Any, queue_url: str) -> dict[str, int]:
    """Visible and in-flight message counts."""
    attributes = client.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return {
        "visible": int(attributes["ApproximateNumberOfMessages"]),
        "in_flight": int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    }
