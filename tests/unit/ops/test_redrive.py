"""Redrive and replay: message move tasks (SQS API, stubbed: moto lacks it), the manual fallback under moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from serverless_patterns.ops import redrive
from serverless_patterns.ops.__main__ import main

DLQ_ARN = "arn:aws:sqs:us-east-1:123456789012:pipeline-dlq"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:pipeline"


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("sqs", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_redrive_starts_a_message_move_task_back_to_the_source(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_response("start_message_move_task", {"TaskHandle": "h-1"}, {"SourceArn": DLQ_ARN})
    assert redrive.start_redrive(client, DLQ_ARN) == "h-1"


def test_redrive_to_another_queue_at_a_rate_resolves_urls(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/pipeline"
    stubber.add_response(
        "get_queue_attributes",
        {"Attributes": {"QueueArn": QUEUE_ARN}},
        {"QueueUrl": url, "AttributeNames": ["QueueArn"]},
    )
    stubber.add_response(
        "start_message_move_task",
        {"TaskHandle": "h-2"},
        {"SourceArn": DLQ_ARN, "DestinationArn": QUEUE_ARN, "MaxNumberOfMessagesPerSecond": 10},
    )
    assert redrive.start_redrive(client, DLQ_ARN, destination=url, max_per_second=10) == "h-2"


def test_wait_follows_the_newest_task_until_it_finishes(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    for status, moved in (("RUNNING", 3), ("RUNNING", 7), ("COMPLETED", 9)):
        stubber.add_response(
            "list_message_move_tasks",
            {
                "Results": [
                    {
                        "TaskHandle": "h-1",
                        "Status": status,
                        "SourceArn": DLQ_ARN,
                        "ApproximateNumberOfMessagesMoved": moved,
                        "ApproximateNumberOfMessagesToMove": 9,
                    }
                ]
            },
            {"SourceArn": DLQ_ARN, "MaxResults": 10},
        )
    seen: list[str] = []
    sleeps: list[float] = []
    task = redrive.wait_for_redrive(
        client, DLQ_ARN, poll_seconds=2, sleep=sleeps.append, report=lambda t: seen.append(t.describe())
    )
    assert task.status == "COMPLETED"
    assert seen == ["RUNNING: 3/9 moved", "RUNNING: 7/9 moved", "COMPLETED: 9/9 moved"]
    assert sleeps == [2, 2]


def test_wait_gives_up_after_its_timeout(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    running = {"Results": [{"TaskHandle": "h", "Status": "RUNNING", "ApproximateNumberOfMessagesMoved": 0}]}
    for _ in range(2):
        stubber.add_response("list_message_move_tasks", running, {"SourceArn": DLQ_ARN, "MaxResults": 10})
    with pytest.raises(TimeoutError, match="still RUNNING"):
        redrive.wait_for_redrive(client, DLQ_ARN, poll_seconds=5, timeout_seconds=5, sleep=lambda _: None)


def test_cancel_reports_what_was_moved(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_response("cancel_message_move_task", {"ApproximateNumberOfMessagesMoved": 4}, {"TaskHandle": "h-1"})
    assert redrive.cancel_redrive(client, "h-1") == 4


@pytest.fixture
def queues() -> Iterator[tuple[Any, str, str]]:
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        dlq = sqs.create_queue(QueueName="pipeline-dlq")["QueueUrl"]
        queue = sqs.create_queue(QueueName="pipeline")["QueueUrl"]
        yield sqs, dlq, queue


def _bodies(sqs: Any, url: str) -> list[str]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    return sorted(message["Body"] for message in messages.get("Messages", []))


def test_manual_redrive_moves_everything_with_attributes_and_loses_nothing(queues: tuple[Any, str, str]) -> None:
    sqs, dlq, queue = queues
    for i in range(13):
        sqs.send_message(
            QueueUrl=dlq,
            MessageBody=json.dumps({"n": i}),
            MessageAttributes={"pipeline-deferrals": {"DataType": "Number", "StringValue": "1"}},
        )
    dlq_arn = redrive.queue_arn(sqs, dlq)
    assert redrive.manual_redrive(sqs, dlq_arn, queue, limit=4) == 4
    assert redrive.manual_redrive(sqs, dlq_arn, queue) == 9
    moved = []
    while batch := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get(
        "Messages"
    ):
        moved += batch
        sqs.delete_message_batch(
            QueueUrl=queue, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
        )
    assert sorted(json.loads(m["Body"])["n"] for m in moved) == list(range(13))
    assert all(m["MessageAttributes"]["pipeline-deferrals"]["StringValue"] == "1" for m in moved)
    assert _bodies(sqs, dlq) == []


def test_cli_manual_redrive(queues: tuple[Any, str, str], capsys: pytest.CaptureFixture[str]) -> None:
    sqs, dlq, queue = queues
    sqs.send_message(QueueUrl=dlq, MessageBody="poison, fixed")
    assert main(["--region", "us-east-1", "redrive", "--dlq", dlq, "--to", queue, "--manual"]) == 0
    assert capsys.readouterr().out == "moved 1 messages\n"
    assert _bodies(sqs, queue) == ["poison, fixed"]
    assert main(["redrive", "--dlq", dlq, "--manual"]) == 2


class RecordingLambda:
    """Stands in for the Lambda client: records asynchronous invocations."""

    def __init__(self) -> None:
        self.invocations: list[tuple[str, str, Any]] = []

    def invoke(self, **request: Any) -> dict[str, int]:
        self.invocations.append((request["FunctionName"], request["InvocationType"], json.loads(request["Payload"])))
        return {"StatusCode": 202}


def test_replay_reinvokes_each_failed_event_and_leaves_foreign_messages(queues: tuple[Any, str, str]) -> None:
    sqs, failures, _ = queues
    events = [{"Records": [{"s3": {"object": {"key": f"incoming/{i}.csv"}}}]} for i in range(3)]
    for event in events:
        record = {
            "version": "1.0",
            "requestContext": {"condition": "RetriesExhausted", "approximateInvokeCount": 3},
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
        }
        sqs.send_message(QueueUrl=failures, MessageBody=json.dumps(record))
    sqs.send_message(QueueUrl=failures, MessageBody="not a destination record")
    client = RecordingLambda()
    assert redrive.replay_failures(sqs, client, failures, "validate:live") == 3  # type: ignore[arg-type]
    assert sorted(json.dumps(payload) for _, _, payload in client.invocations) == sorted(json.dumps(e) for e in events)
    assert {(name, kind) for name, kind, _ in client.invocations} == {("validate:live", "Event")}
    attributes = sqs.get_queue_attributes(QueueUrl=failures, AttributeNames=["All"])["Attributes"]
    left = int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])
    assert left == 1  # the foreign message stays for a person to look at
