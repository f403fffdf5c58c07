"""Asynchronous invocations (InvocationType=Event, S3 and EventBridge triggers) with AWS's retry rules.

Lambda queues an async event, runs it, and on a function error retries it up to
``MaximumRetryAttempts`` times (default 2) with about one minute before the first retry and
two before the second; an event older than ``MaximumEventAgeInSeconds`` is dropped. Then the
``EventInvokeConfig`` destinations get AWS's invocation record (``version``,
``timestamp``, ``requestContext`` with ``condition`` and ``approximateInvokeCount``,
``requestPayload``, ``responseContext``, ``responsePayload``). Here the waiting is virtual:
the cloud's drain loop advances the clock to the next due retry.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from serverless_patterns.local.clock import VirtualClock
from serverless_patterns.local.invocation import Invocation, split_function
from serverless_patterns.local.lambda_runtime import LambdaRuntime
from serverless_patterns.local.permissions.enforcer import ACCESS_DENIED_CODES

RETRY_DELAYS_SECONDS = (60.0, 120.0)
DEFAULT_MAX_RETRY_ATTEMPTS = 2
DEFAULT_MAX_EVENT_AGE_SECONDS = 6 * 3600


@dataclass(frozen=True)
class InvokeConfig:
    """A function's (or alias's) EventInvokeConfig."""

    max_retry_attempts: int = DEFAULT_MAX_RETRY_ATTEMPTS
    max_event_age_seconds: int = DEFAULT_MAX_EVENT_AGE_SECONDS
    on_success: str | None = None
    on_failure: str | None = None

    @classmethod
    def from_properties(cls, properties: Mapping[str, Any]) -> InvokeConfig:
        """From an ``AWS::Lambda::EventInvokeConfig``'s (resolved) properties."""
        destinations = properties.get("DestinationConfig", {})
        return cls(
            max_retry_attempts=int(properties.get("MaximumRetryAttempts", DEFAULT_MAX_RETRY_ATTEMPTS)),
            max_event_age_seconds=int(properties.get("MaximumEventAgeInSeconds", DEFAULT_MAX_EVENT_AGE_SECONDS)),
            on_success=destinations.get("OnSuccess", {}).get("Destination"),
            on_failure=destinations.get("OnFailure", {}).get("Destination"),
        )


@dataclass
class AsyncEvent:
    """One queued asynchronous invocation."""

    request_id: str
    function_name: str
    qualifier: str | None
    payload: str
    source: str
    enqueued_at: float
    due_at: float
    attempts: list[Invocation] = field(default_factory=list)


@dataclass(frozen=True)
class DestinationDelivery:
    """An invocation record sent to an on-success or on-failure destination."""

    destination: str
    condition: str
    record: dict[str, Any]


Deliver = Callable[[str, dict[str, Any]], None]


class AsyncInvoker:
    """The queue behind every asynchronous invocation, drained with virtual time."""

    def __init__(
        self,
        *,
        runtime: LambdaRuntime,
        clock: VirtualClock,
        configs: Mapping[tuple[str, str | None], InvokeConfig],
        deliver: Deliver,
    ) -> None:
        self.runtime = runtime
        self.clock = clock
        self.configs = configs
        self.deliver = deliver
        self.queue: list[AsyncEvent] = []
        self.completed: list[AsyncEvent] = []
        self.deliveries: list[DestinationDelivery] = []

    def enqueue(self, invoked_arn: str, payload: str, source: str) -> str:
        """Accept an event (the API's 202); return its request id."""
        name, qualifier = split_function(invoked_arn)
        now = self.clock.now()
        event = AsyncEvent(
            request_id=str(uuid.uuid4()),
            function_name=name,
            qualifier=qualifier,
            payload=payload,
            source=source,
            enqueued_at=now,
            due_at=now,
        )
        self.queue.append(event)
        return event.request_id

    def config(self, function_name: str, qualifier: str | None) -> InvokeConfig:
        """The EventInvokeConfig for this qualifier, else the unqualified one, else AWS's defaults."""
        for key in ((function_name, qualifier), (function_name, "$LATEST"), (function_name, None)):
            if key in self.configs:
                return self.configs[key]
        return InvokeConfig()

    def next_due(self) -> float | None:
        """When the next queued attempt is due, if any."""
        return min((e.due_at for e in self.queue), default=None)

    def process_due(self) -> int:
        """Run every attempt that is due now; return how many ran."""
        ran = 0
        while True:
            now = self.clock.now()
            due = [e for e in self.queue if e.due_at <= now]
            if not due:
                return ran
            event = min(due, key=lambda e: e.due_at)
            self.queue.remove(event)
            self._attempt(event, now)
            ran += 1

    def _attempt(self, event: AsyncEvent, now: float) -> None:
        config = self.config(event.function_name, event.qualifier)
        if now - event.enqueued_at > config.max_event_age_seconds:
            self._finish(event, config, "EventAgeExceeded", success=False)
            return
        with self.runtime.source(event.source):
            invocation = self.runtime.invoke(
                event.function_name,
                event.payload,
                qualifier=event.qualifier,
                source=event.source,
                invocation_type="Event",
            )
        event.attempts.append(invocation)
        if not invocation.failed:
            self._finish(event, config, "Success", success=True)
            return
        retries_done = len(event.attempts) - 1
        if retries_done < config.max_retry_attempts:
            delay = RETRY_DELAYS_SECONDS[min(retries_done, len(RETRY_DELAYS_SECONDS) - 1)]
            event.due_at = now + delay
            self.queue.append(event)
            return
        self._finish(event, config, "RetriesExhausted", success=False)

    def _finish(self, event: AsyncEvent, config: InvokeConfig, condition: str, *, success: bool) -> None:
        self.completed.append(event)
        destination = config.on_success if success else config.on_failure
        if destination is None:
            return
        record = self.invocation_record(event, condition)
        enforcer = self.runtime.permissions
        # Lambda sends the record with the function's execution role.
        with enforcer.acting_as(enforcer.function_caller(event.function_name)) if enforcer else nullcontext():
            try:
                self.deliver(destination, record)
            except ClientError as exc:
                if exc.response["Error"]["Code"] not in ACCESS_DENIED_CODES:
                    raise
                return  # the role may not send there: AWS drops the record (the denial is recorded)
        self.deliveries.append(DestinationDelivery(destination=destination, condition=condition, record=record))

    def invocation_record(self, event: AsyncEvent, condition: str) -> dict[str, Any]:
        """AWS's destination record for ``event``."""
        last = event.attempts[-1] if event.attempts else None
        try:
            request_payload: Any = json.loads(event.payload)
        except json.JSONDecodeError:
            request_payload = event.payload
        record: dict[str, Any] = {
            "version": "1.0",
            "timestamp": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "requestContext": {
                "requestId": event.request_id,
                "functionArn": self.runtime.function_arn(event.function_name, event.qualifier or "$LATEST"),
                "condition": condition,
                "approximateInvokeCount": len(event.attempts),
            },
            "requestPayload": request_payload,
        }
        if last is not None:
            record["responseContext"] = {"statusCode": 200, "executedVersion": last.executed_version}
            if last.failed:
                record["responseContext"]["functionError"] = "Unhandled"
            record["responsePayload"] = last.result
        return record


def destination_sender(client: Callable[[str], Any]) -> Deliver:
    """Deliver invocation records to SQS, SNS, Lambda or EventBridge destinations, by ARN."""

    def deliver(destination: str, record: dict[str, Any]) -> None:
        service = destination.split(":")[2]
        body = json.dumps(record)
        if service == "sqs":
            name, account = destination.split(":")[5], destination.split(":")[4]
            url = client("sqs").get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
            client("sqs").send_message(QueueUrl=url, MessageBody=body)
        elif service == "sns":
            client("sns").publish(TopicArn=destination, Message=body)
        elif service == "lambda":
            client("lambda").invoke(FunctionName=destination, InvocationType="Event", Payload=body.encode())
        elif service == "events":
            condition = record["requestContext"]["condition"]
            detail_type = "Lambda Function Invocation Result - " + ("Success" if condition == "Success" else "Failure")
            client("events").put_events(
                Entries=[{"Source": "lambda", "DetailType": detail_type, "Detail": body, "EventBusName": destination}]
            )
        else:
            raise ValueError(f"unsupported async destination {destination}")

    return deliver
