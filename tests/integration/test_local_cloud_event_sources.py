"""SQS event sources: partial batch failures, visibility and delays on the virtual clock, concurrency, the DLQ."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from serverless_patterns.local import LocalCloud
from serverless_patterns.local.event_sources import _failed_ids
from tests.integration.fixtures.machinery_stack import (
    BATCH_SIZE,
    MAX_CONCURRENCY,
    MAX_RECEIVE_COUNT,
    OVERLAP_MAX_CONCURRENCY,
    OVERLAP_RESERVED,
)

RETRIED = {"j0", "j3", "j6"}  # fail on their first receive only
POISON = "j7"  # fails every time
ALL = {f"j{i}" for i in range(10)}


def _attempts(cloud: LocalCloud, job_id: str) -> dict[str, Any]:
    table = cloud.client("dynamodb")
    item = table.get_item(TableName=cloud.outputs["TableName"], Key={"pk": {"S": f"batch#{job_id}"}})["Item"]
    return {"attempts": int(item["attempts"]["N"]), "last_receive_count": int(item["last_receive_count"]["N"])}


@pytest.fixture(scope="module")
def drained(cloud: LocalCloud) -> LocalCloud:
    sqs = cloud.client("sqs")
    for job_id in sorted(ALL):
        body = {"id": job_id, "fail_until_receive": 2 if job_id in RETRIED else 0, "always_fail": job_id == POISON}
        sqs.send_message(QueueUrl=cloud.outputs["QueueUrl"], MessageBody=json.dumps(body))
    result = cloud.drain()
    assert not result.exhausted
    return cloud


def test_sending_does_not_invoke_synchronously(cloud: LocalCloud) -> None:
    before = len(cloud.invocations)
    cloud.client("sqs").send_message(QueueUrl=cloud.outputs["QueueUrl"], MessageBody=json.dumps({"id": "sync-check"}))
    assert len(cloud.invocations) == before  # moto's own in-send_message delivery is off
    cloud.drain()
    assert _attempts(cloud, "sync-check") == {"attempts": 1, "last_receive_count": 1}


def test_partial_batch_failures_retry_only_the_failed_records(drained: LocalCloud) -> None:
    for job_id in ALL - RETRIED - {POISON}:
        assert _attempts(drained, job_id) == {"attempts": 1, "last_receive_count": 1}, job_id
    for job_id in RETRIED:
        assert _attempts(drained, job_id) == {"attempts": 2, "last_receive_count": 2}, job_id


def test_a_poison_record_ends_in_the_dlq_after_max_receive_count_and_nothing_is_lost(drained: LocalCloud) -> None:
    assert _attempts(drained, POISON) == {"attempts": MAX_RECEIVE_COUNT, "last_receive_count": MAX_RECEIVE_COUNT}
    dead = [json.loads(m["Body"])["id"] for m in drained.read_queue(drained.outputs["DlqUrl"])]
    assert dead == [POISON]
    assert drained.queue_depth(drained.outputs["QueueUrl"]) == {"visible": 0, "in_flight": 0}

    # Counted by job id, so messages other tests (on this worker or not) send to the queue do not matter.
    jobs = {
        record["messageId"]: json.loads(record["body"]).get("id")
        for invocation in drained.invocations
        if invocation.source == "sqs"
        for record in invocation.event["Records"]
    }
    succeeded = [
        jobs[message_id]
        for batch in drained.poller.batches
        for message_id in batch.message_ids
        if message_id in jobs and jobs[message_id] in ALL and message_id not in batch.failed_ids
    ]
    assert sorted(succeeded + dead) == sorted(ALL)  # each job processed once or parked, none lost


def test_batches_respect_size_and_the_queues_visibility_timeout(drained: LocalCloud) -> None:
    batches = drained.poller.batches
    assert all(1 <= len(b.message_ids) <= BATCH_SIZE for b in batches)
    assert max(len(b.message_ids) for b in batches) == BATCH_SIZE  # the batching window fills batches
    (mapping, *_) = [m for m in drained.state.sqs_mappings if m.maximum_concurrency == MAX_CONCURRENCY]
    assert drained.poller.concurrency(mapping) == MAX_CONCURRENCY
    first_failure = min(b.at for b in batches if b.failed_ids)
    retries = [b for b in batches if b.at > first_failure]
    assert retries
    assert min(b.at for b in retries) - first_failure == 60  # the queue's visibility timeout, exactly


def _receives(cloud: LocalCloud, job_id: str) -> list[tuple[float, int]]:
    """(virtual time, receive count) of each delivery of the job's message(s), in order."""
    delivered = {
        (record["messageId"], int(record["attributes"]["ApproximateReceiveCount"]))
        for invocation in cloud.invocations
        if invocation.source == "sqs"
        for record in invocation.event["Records"]
        if json.loads(record["body"]).get("id") == job_id
    }
    return sorted(
        (batch.at, count)
        for batch in cloud.poller.batches
        for message_id, count in zip(batch.message_ids, batch.receive_counts, strict=True)
        if (message_id, count) in delivered
    )


def test_a_message_whose_handler_asked_for_a_30_s_backoff_is_received_again_30_s_later(cloud: LocalCloud) -> None:
    job_id = f"backoff-{uuid.uuid4().hex[:8]}"
    body = {"id": job_id, "fail_until_receive": 2, "hide_for": 30}
    cloud.client("sqs").send_message(QueueUrl=cloud.outputs["QueueUrl"], MessageBody=json.dumps(body))

    assert not cloud.drain().exhausted

    (first, first_count), (second, second_count) = _receives(cloud, job_id)
    assert (first_count, second_count) == (1, 2)
    assert second - first == 30  # what the handler asked for, not the queue's 60 s visibility timeout
    assert _attempts(cloud, job_id) == {"attempts": 2, "last_receive_count": 2}


def test_a_message_re_sent_with_a_delay_arrives_when_the_delay_ends(cloud: LocalCloud) -> None:
    job_id = f"resend-{uuid.uuid4().hex[:8]}"
    cloud.client("sqs").send_message(
        QueueUrl=cloud.outputs["QueueUrl"], MessageBody=json.dumps({"id": job_id, "resend_after": 45})
    )

    assert not cloud.drain().exhausted

    (first, first_count), (second, second_count) = _receives(cloud, job_id)
    assert (first_count, second_count) == (1, 1)  # a new message, received for the first time
    assert second - first == 45
    assert cloud.queue_depth(cloud.outputs["QueueUrl"]) == {"visible": 0, "in_flight": 0}


def test_queue_and_message_delays_and_visibility_changes_follow_the_virtual_clock(cloud: LocalCloud) -> None:
    sqs = cloud.client("sqs")
    url = sqs.create_queue(QueueName=f"delayed-{uuid.uuid4().hex[:8]}", Attributes={"DelaySeconds": "20"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="queue delay")
    sqs.send_message(QueueUrl=url, MessageBody="own delay", DelaySeconds=5)

    def receive(**options: Any) -> list[dict[str, Any]]:
        return list(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, **options).get("Messages", []))

    assert receive() == []
    cloud.advance(5)
    (own,) = receive()  # hidden again for the queue's default visibility timeout (30 s)
    assert own["Body"] == "own delay"
    cloud.advance(15)
    (queued,) = receive()
    assert queued["Body"] == "queue delay"
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=own["ReceiptHandle"], VisibilityTimeout=3)
    assert receive(WaitTimeSeconds=20) == []  # a long poll returns at once: only the drain moves the clock
    cloud.advance(3)
    assert [m["Body"] for m in receive()] == ["own delay"]


def _overlaps(cloud: LocalCloud, run: str) -> list[dict[str, Any]]:
    items = cloud.client("dynamodb").scan(
        TableName=cloud.outputs["TableName"],
        FilterExpression="begins_with(pk, :run)",
        ExpressionAttributeValues={":run": {"S": f"overlap#{run}#"}},
    )["Items"]
    return [
        {"enter": int(i["enter"]["N"]), "exit": int(i["exit"]["N"]), "barrier_met": i["barrier_met"]["BOOL"]}
        for i in items
    ]


def _most_at_once(intervals: list[dict[str, Any]]) -> int:
    """The largest number of handler executions inside at the same moment."""
    steps = sorted([(i["enter"], 1) for i in intervals] + [(i["exit"], -1) for i in intervals])
    inside = most = 0
    for _, change in steps:
        inside += change
        most = max(most, inside)
    return most


@pytest.mark.parametrize(
    ("queue_output", "limit"),
    [("OverlapsUrl", OVERLAP_MAX_CONCURRENCY), ("ReservedOverlapsUrl", OVERLAP_RESERVED)],
    ids=["maximum-concurrency", "reserved-concurrency"],
)
def test_batches_run_concurrently_up_to_the_limit_and_never_beyond(
    cloud: LocalCloud, queue_output: str, limit: int
) -> None:
    run = uuid.uuid4().hex[:8]
    sqs = cloud.client("sqs")
    for index in range(limit * 3):
        body = {"id": f"{run}-{index}", "run": run, "parties": limit}
        sqs.send_message(QueueUrl=cloud.outputs[queue_output], MessageBody=json.dumps(body))

    assert not cloud.drain().exhausted

    intervals = _overlaps(cloud, run)
    assert len(intervals) == limit * 3
    # Each execution waited inside for `limit` executions to be inside together, and they all came:
    assert all(i["barrier_met"] for i in intervals), intervals
    assert _most_at_once(intervals) == limit


@pytest.mark.parametrize(
    ("response", "failed"),
    [
        (None, set()),
        ({"batchItemFailures": []}, set()),
        ({}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
        ({"batchItemFailures": [{"itemIdentifier": "unknown"}]}, {"a", "b"}),  # invalid: the whole batch fails
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, {"a", "b"}),
        ({"batchItemFailures": "b"}, {"a", "b"}),
        ("not a dict", {"a", "b"}),
    ],
)
def test_partial_batch_responses_are_read_as_lambda_reads_them(response: Any, failed: set[str]) -> None:
    assert _failed_ids(response, ["a", "b"]) == failed
