"""SQS event source mapping: partial batch failures, visibility timeouts, redrive to the DLQ."""

from __future__ import annotations

import json
from typing import Any

import pytest

from serverless_patterns.local import LocalCloud
from serverless_patterns.local.event_sources import _failed_ids
from tests.integration.fixtures.machinery_stack import BATCH_SIZE, MAX_CONCURRENCY, MAX_RECEIVE_COUNT

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

    deleted = {
        drained.invocations[i].event["Records"][j]["messageId"]
        for i in range(len(drained.invocations))
        if drained.invocations[i].source == "sqs"
        for j in range(len(drained.invocations[i].event["Records"]))
    }
    batches = [b for b in drained.poller.batches if set(b.message_ids) <= deleted]
    succeeded = {m for b in batches for m in b.message_ids if m not in b.failed_ids}
    assert len(succeeded) + len(dead) == len(ALL) + 1  # + the message of test_sending_does_not_invoke...


def test_batches_respect_size_concurrency_and_visibility_timeout(drained: LocalCloud) -> None:
    batches = drained.poller.batches
    assert all(1 <= len(b.message_ids) <= BATCH_SIZE for b in batches)
    assert max(len(b.message_ids) for b in batches) == BATCH_SIZE  # the batching window fills batches
    (mapping,) = drained.state.sqs_mappings
    assert drained.poller.peak_concurrency[mapping.uuid] == MAX_CONCURRENCY
    per_round: dict[int, int] = {}
    for batch in batches:
        per_round[batch.polling_round] = per_round.get(batch.polling_round, 0) + 1
    assert max(per_round.values()) <= MAX_CONCURRENCY
    first_failure = min(b.at for b in batches if b.failed_ids)
    retries = [b for b in batches if b.at > first_failure]
    assert retries
    assert min(b.at for b in retries) - first_failure >= 60


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
