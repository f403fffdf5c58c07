"""SQS message move tasks (DLQ redrive): StartMessageMoveTask, ListMessageMoveTasks, CancelMessageMoveTask.

moto has none of the three; here they behave as SQS documents them, on the virtual clock:

* the source must be a dead-letter queue of another queue (standard, not FIFO), with one
  active task per source at a time;
* the task moves the messages that were in the DLQ when it started
  (``ApproximateNumberOfMessagesToMove``), each back to the queue it was dead-lettered from,
  or all to ``DestinationArn``; a moved message is a new message there (receive count 0),
  body and message attributes kept, and is deleted from the DLQ once sent;
* with ``MaxNumberOfMessagesPerSecond`` it moves that many per virtual second; without, SQS
  moves "at a system-optimized rate": here all of them at the virtual instant the task
  started, which every observer sees once it looks (``ListMessageMoveTasks``) or the clock
  moves (``drain``/``advance``);
* a task is RUNNING, then COMPLETED (or CANCELLED, or FAILED with a ``FailureReason`` when a
  destination queue is gone); ``ListMessageMoveTasks`` returns the newest first (default 1,
  at most 10), with the ``TaskHandle`` only while RUNNING.
"""

from __future__ import annotations

import base64
import json
import math
import threading
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from moto.core.common_types import TYPE_RESPONSE
from moto.sqs.exceptions import InvalidParameterValue, QueueDoesNotExist
from moto.sqs.models import Message, Queue
from moto.sqs.responses import SQSResponse

from serverless_patterns.local import sqs
from serverless_patterns.local.clock import VirtualClock

RUNNING, COMPLETED, CANCELLED, FAILED = "RUNNING", "COMPLETED", "CANCELLED", "FAILED"
MAX_RATE = 500


@dataclass
class MoveTask:
    """One message move task."""

    handle: str
    source_arn: str
    destination_arn: str | None
    rate: int | None
    started_at: float  # virtual seconds
    started_wall_ms: int
    pending: list[str]  # message ids still to move, in the order SQS would take them
    to_move: int
    moved: int = 0
    status: str = RUNNING
    failure: str | None = None
    history: list[tuple[float, int]] = field(default_factory=list)  # (virtual time, moved so far)

    def entry(self) -> dict[str, Any]:
        """The task as ListMessageMoveTasks reports it."""
        result: dict[str, Any] = {
            "SourceArn": self.source_arn,
            "Status": self.status,
            "ApproximateNumberOfMessagesMoved": self.moved,
            "ApproximateNumberOfMessagesToMove": self.to_move,
            "StartedTimestamp": self.started_wall_ms,
        }
        if self.status == RUNNING:
            result["TaskHandle"] = self.handle
        if self.destination_arn:
            result["DestinationArn"] = self.destination_arn
        if self.rate:
            result["MaxNumberOfMessagesPerSecond"] = self.rate
        if self.failure:
            result["FailureReason"] = self.failure
        return result


class MessageMoveTasks:
    """Every move task of the cloud, advanced on the virtual clock."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.tasks: list[MoveTask] = []
        self._lock = threading.RLock()  # taken before sqs.LOCK, never after

    # -- the API -------------------------------------------------------------------------

    def start(self, source_arn: str, destination_arn: str | None, rate: int | None) -> str:
        """StartMessageMoveTask; the task handle."""
        source = sqs.queue_by_arn(source_arn)
        if source is None:
            raise QueueDoesNotExist()
        if rate is not None and not 1 <= rate <= MAX_RATE:
            raise InvalidParameterValue(f"Value {rate} for parameter MaxNumberOfMessagesPerSecond is invalid.")
        if source.fifo_queue:
            raise InvalidParameterValue("Message move tasks are not supported for FIFO queues.")
        if not sqs.dead_letter_sources(source):
            raise InvalidParameterValue("Source queue must be configured as a Dead Letter Queue.")
        if destination_arn is not None and sqs.queue_by_arn(destination_arn) is None:
            raise InvalidParameterValue(f"Destination queue {destination_arn} does not exist.")
        with self._lock:
            self.catch_up()
            if any(t.source_arn == source_arn and t.status == RUNNING for t in self.tasks):
                raise InvalidParameterValue(
                    "There is already a task running. Only one active task is allowed for a source queue at a time."
                )
            pending = [m.id for m in source._messages]
            handle = base64.b64encode(
                json.dumps({"taskId": str(uuid.uuid4()), "sourceArn": source_arn}).encode()
            ).decode()
            task = MoveTask(
                handle=handle,
                source_arn=source_arn,
                destination_arn=destination_arn,
                rate=rate,
                started_at=self.clock.now(),
                started_wall_ms=int(self.clock.wall() * 1000),
                pending=pending,
                to_move=len(pending),
            )
            self.tasks.append(task)
            return handle

    def list(self, source_arn: str, max_results: int = 1) -> list[dict[str, Any]]:
        """ListMessageMoveTasks: the newest ``max_results`` (1..10) tasks of the source queue."""
        if not 1 <= max_results <= 10:
            raise InvalidParameterValue(f"Value {max_results} for parameter MaxResults is invalid.")
        if sqs.queue_by_arn(source_arn) is None:
            raise QueueDoesNotExist()
        with self._lock:
            self.catch_up()
            mine = [t for t in self.tasks if t.source_arn == source_arn]
            return [t.entry() for t in reversed(mine[-max_results:])]

    def cancel(self, handle: str) -> int:
        """CancelMessageMoveTask: stop a RUNNING task; how many messages it had moved."""
        with self._lock:
            self.catch_up()
            task = next((t for t in self.tasks if t.handle == handle), None)
            if task is None:
                raise InvalidParameterValue("Value for parameter TaskHandle is invalid.")
            if task.status != RUNNING:
                raise InvalidParameterValue(f"Only a RUNNING task can be cancelled; this one is {task.status}.")
            task.status = CANCELLED
            return task.moved

    # -- progress on the virtual clock ---------------------------------------------------

    def next_due(self) -> float | None:
        """When a running rate-limited task moves its next message (virtual seconds)."""
        with self._lock:
            due = [self._next_move(t) for t in self.tasks if t.status == RUNNING]
            return min(due, default=None)

    def catch_up(self) -> int:
        """Move what every running task should have moved by now; how many messages moved."""
        moved = 0
        with self._lock, sqs.LOCK:
            for task in self.tasks:
                if task.status == RUNNING:
                    moved += self._advance(task)
        return moved

    def _next_move(self, task: MoveTask) -> float:
        if not task.rate:
            return task.started_at
        return task.started_at + math.floor(task.moved / task.rate)

    def _allowed(self, task: MoveTask) -> int:
        """How many messages the task may have moved by now."""
        if not task.rate:
            return task.to_move
        elapsed = self.clock.now() - task.started_at
        return min(task.to_move, task.rate * (math.floor(elapsed) + 1))

    def _advance(self, task: MoveTask) -> int:
        source = sqs.queue_by_arn(task.source_arn)
        if source is None:
            task.status, task.failure = FAILED, "AWS.SimpleQueueService.NonExistentQueue: the source queue was deleted"
            return 0
        moved = 0
        while task.status == RUNNING and task.moved < self._allowed(task):
            if not task.pending:
                break
            message_id = task.pending.pop(0)
            message = next((m for m in source._messages if m.id == message_id), None)
            if message is None:  # consumed or deleted from the DLQ meanwhile: nothing to move
                task.moved += 1
                continue
            destination_arn = task.destination_arn or sqs.moved_from(message) or _only_source(source)
            destination = sqs.queue_by_arn(destination_arn) if destination_arn else None
            if destination is None:
                task.status = FAILED
                task.failure = f"AWS.SimpleQueueService.NonExistentQueue: {destination_arn or 'no source queue known'}"
                break
            _send_copy(destination, message)
            source._messages.remove(message)
            source.pending_messages.discard(message)
            task.moved += 1
            moved += 1
        if task.status == RUNNING and (task.moved >= task.to_move or not task.pending):
            task.status = COMPLETED
        task.history.append((self.clock.now(), task.moved))
        return moved

    # -- wiring into moto ----------------------------------------------------------------

    def install(self, stack: ExitStack) -> None:
        """Serve the three actions from moto's SQS for as long as ``stack`` is open."""
        tasks = self

        def start_message_move_task(response: SQSResponse) -> TYPE_RESPONSE:
            rate = response._get_param("MaxNumberOfMessagesPerSecond")
            handle = tasks.start(
                str(response._get_param("SourceArn")),
                response._get_param("DestinationArn"),
                int(rate) if rate is not None else None,
            )
            return _json(response, {"TaskHandle": handle})

        def list_message_move_tasks(response: SQSResponse) -> TYPE_RESPONSE:
            max_results = response._get_param("MaxResults")
            results = tasks.list(str(response._get_param("SourceArn")), int(max_results) if max_results else 1)
            return _json(response, {"Results": results})

        def cancel_message_move_task(response: SQSResponse) -> TYPE_RESPONSE:
            moved = tasks.cancel(str(response._get_param("TaskHandle")))
            return _json(response, {"ApproximateNumberOfMessagesMoved": moved})

        for name, method in (
            ("start_message_move_task", start_message_move_task),
            ("list_message_move_tasks", list_message_move_tasks),
            ("cancel_message_move_task", cancel_message_move_task),
        ):
            stack.enter_context(mock.patch.object(SQSResponse, name, method, create=True))


def _json(response: SQSResponse, body: dict[str, Any]) -> TYPE_RESPONSE:
    return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(body)


def _only_source(dlq: Queue) -> str | None:
    """The source queue of a DLQ that serves exactly one queue (a message dead-lettered before tracking)."""
    sources = sqs.dead_letter_sources(dlq)
    return sources[0].queue_arn if len(sources) == 1 else None


def _send_copy(destination: Queue, message: Message) -> None:
    """Send ``message``'s body and attributes to ``destination`` as a new message."""
    from moto.sqs.models import sqs_backends

    backend = sqs_backends[destination.account_id][destination.region]
    backend.send_message(
        destination.name,
        message.body,
        message_attributes=dict(message.message_attributes or {}),
        delay_seconds=None,
    )
