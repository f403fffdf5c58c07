"""settle: polls a real stage in (here virtual) time until a condition holds or nothing is pending."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from serverless_patterns.scenarios.aws_target import AwsTarget
from tests.unit.aws_target.conftest import Deployed, VirtualClock


def consume(sqs: Any, queue_url: str) -> None:
    """What the queue's consumer does: receive and delete every visible message."""
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def target(deployed: Deployed, clock: VirtualClock) -> Iterator[AwsTarget]:
    target = deployed.target(clock)
    yield target
    for queue in target.find("AWS::SQS::Queue"):
        consume(target.client("sqs"), queue.physical_id)


def test_settle_returns_at_once_when_the_condition_holds(target: AwsTarget, clock: VirtualClock) -> None:
    assert target.settle(until=lambda: True)
    assert clock.sleeps == []


def test_settle_polls_until_the_result_appears(target: AwsTarget, clock: VirtualClock) -> None:
    bucket = target.outputs["UploadBucketName"]
    s3 = target.client("s3")
    clock.while_asleep += [lambda: None, lambda: None, lambda: s3.put_object(Bucket=bucket, Key="results/1.json")]

    def result_written() -> bool:
        s3.head_object(Bucket=bucket, Key="results/1.json")  # 404 (a ClientError) until it is there: "not yet"
        return True

    assert target.settle(until=result_written, timeout_seconds=120)
    assert clock.sleeps == [1.0, 1.5, 2.25]


def test_settle_gives_up_at_the_timeout(target: AwsTarget, clock: VirtualClock) -> None:
    assert not target.settle(until=lambda: False, timeout_seconds=45)
    assert sum(clock.sleeps) == pytest.approx(45)
    assert max(clock.sleeps) == 10.0


def test_a_bug_in_the_condition_is_not_mistaken_for_not_yet(target: AwsTarget, clock: VirtualClock) -> None:
    def broken() -> bool:
        raise KeyError("status")

    with pytest.raises(KeyError):
        target.settle(until=broken)


def test_pending_work_counts_consumed_queues_and_running_executions(target: AwsTarget) -> None:
    sqs = target.client("sqs")
    work = target.resource("Pipeline/Queue").physical_id
    dead_letters = target.resource("Pipeline/DeadLetterQueue").physical_id
    sqs.send_message(QueueUrl=work, MessageBody="a")
    sqs.send_message(QueueUrl=work, MessageBody="b")
    (in_flight,) = sqs.receive_message(QueueUrl=work, MaxNumberOfMessages=1)["Messages"]  # in flight still counts
    sqs.send_message(QueueUrl=dead_letters, MessageBody="parked")  # nobody consumes a DLQ: not pending
    assert target.pending_work() == {
        "/Dev/Service/Pipeline/Queue/Resource": 2,
        "/Dev/Service/Workflow/StateMachine/Resource": 0,
    }

    stepfunctions = target.client("stepfunctions")
    machine = target.resource("Workflow/StateMachine").physical_id
    execution = stepfunctions.start_execution(stateMachineArn=machine, name="still-running")["executionArn"]
    assert target.pending_work()["/Dev/Service/Workflow/StateMachine/Resource"] == 1
    stepfunctions.stop_execution(executionArn=execution)
    sqs.delete_message(QueueUrl=work, ReceiptHandle=in_flight["ReceiptHandle"])
    consume(sqs, work)
    assert target.pending_work() == {
        "/Dev/Service/Pipeline/Queue/Resource": 0,
        "/Dev/Service/Workflow/StateMachine/Resource": 0,
    }


def test_settle_without_a_condition_waits_until_the_queues_drain(target: AwsTarget, clock: VirtualClock) -> None:
    sqs = target.client("sqs")
    work = target.resource("Pipeline/Queue").physical_id
    sqs.send_message(QueueUrl=work, MessageBody="a")
    sqs.send_message(QueueUrl=target.resource("Pipeline/DeadLetterQueue").physical_id, MessageBody="parked")
    clock.while_asleep += [lambda: None, lambda: consume(sqs, work)]  # the consumer catches up
    assert target.settle(timeout_seconds=300)
    # busy, busy, then empty on two polls in a row (SQS counts are approximate)
    assert clock.sleeps == [1.0, 1.5, 2.25]


def test_settle_without_a_condition_times_out_while_work_is_pending(target: AwsTarget, clock: VirtualClock) -> None:
    target.client("sqs").send_message(QueueUrl=target.resource("Pipeline/Queue").physical_id, MessageBody="a")
    assert not target.settle(timeout_seconds=30)
    assert sum(clock.sleeps) == pytest.approx(30)
