"""The worker under moto: chunks counted once, aggregation started once, failing chunks bounded and reported."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import boto3
import pytest

from serverless_patterns.lambdas.fan_out import data_access, worker
from serverless_patterns.lambdas.fan_out.models import JobStatus
from tests.handlers.fan_out.conftest import MAX_RECEIVE_COUNT, FanOutCloud, emf_metrics, lambda_context, sqs_record


def _values(count: int, poison_at: int | None = None) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [{"id": f"i{index}", "value": index * 3 - 7} for index in range(count)]
    if poison_at is not None:
        items[poison_at] = {"id": f"i{poison_at}", "value": "seven"}
    return items


def _expected(items: list[dict[str, Any]]) -> dict[str, Any]:
    values = [Decimal(item["value"]) for item in items]
    total = sum(values, Decimal(0))
    return {
        "count": len(values),
        "sum": int(total),
        "min": int(min(values)),
        "max": int(max(values)),
        "mean": float((total / len(values)).quantize(Decimal("0.000001"))),
    }


def test_a_job_completes_with_the_right_result(cloud: FanOutCloud, capsys: pytest.CaptureFixture[str]) -> None:
    items = _values(95)
    job_id = cloud.submit({"items": items})["job_id"]

    report = cloud.drain(batch_size=3)

    assert report.deliveries == 10
    assert report.failed_deliveries == 0
    assert cloud.aggregator_runs == [job_id]
    status = cloud.status(job_id)
    assert status["status"] == "SUCCEEDED"
    assert (status["completed_chunks"], status["total_chunks"]) == (10, 10)
    assert status["result"] == _expected(items)
    metrics = emf_metrics(capsys.readouterr().out)
    assert metrics["ChunksCompleted"] == 10
    assert metrics["AggregationsStarted"] == 1
    assert metrics["JobsSucceeded"] == 1


def test_duplicate_deliveries_are_counted_once(cloud: FanOutCloud, capsys: pytest.CaptureFixture[str]) -> None:
    items = _values(60)
    job_id = cloud.submit({"items": items})["job_id"]

    report = cloud.drain(batch_size=4, duplicate=lambda _: True)

    assert report.deliveries == 12
    assert cloud.aggregator_runs == [job_id]
    job = cloud.job(job_id)
    assert (job.status, job.completed_chunks) == (JobStatus.SUCCEEDED, 6)
    assert cloud.status(job_id)["result"] == _expected(items)
    chunk_records = [item for item in cloud.items_of(job_id) if item["sk"].startswith("CHUNK#")]
    assert len(chunk_records) == 6
    metrics = emf_metrics(capsys.readouterr().out)
    assert (metrics["ChunksCompleted"], metrics["DuplicateChunkDeliveries"]) == (6, 6)


def test_the_same_chunk_twice_in_one_batch_is_counted_once(cloud: FanOutCloud) -> None:
    job_id = cloud.submit({"items": _values(20)})["job_id"]
    first, second = sorted(cloud.messages(), key=lambda message: json.loads(message["Body"])["chunk_index"])

    assert cloud.deliver([first, first, first]) == set()
    assert cloud.job(job_id).completed_chunks == 1
    assert cloud.deliver([second, first, second]) == set()

    assert cloud.job(job_id).status is JobStatus.SUCCEEDED
    assert cloud.aggregator_runs == [job_id]


def test_a_poison_chunk_is_retried_then_fails_the_job_and_lands_in_the_dlq(
    cloud: FanOutCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    items = _values(50, poison_at=27)
    job_id = cloud.submit({"items": items})["job_id"]

    report = cloud.drain(batch_size=10)

    assert report.failed_deliveries == MAX_RECEIVE_COUNT
    job = cloud.job(job_id)
    assert job.status is JobStatus.FAILED
    assert job.failure_reason == "chunk 2 failed after 3 attempts: item 27: 'value' must be a number"
    assert job.failed_chunks == [2]
    assert job.completed_chunks == 4  # the other chunks were still processed
    assert cloud.aggregator_runs == []
    dead = cloud.messages(cloud.dlq_url)
    assert [json.loads(message["Body"])["chunk_index"] for message in dead] == [2]
    failure = [item for item in cloud.items_of(job_id) if item["sk"].startswith("FAILURE#")]
    assert [(item["sk"], item["attempts"]) for item in failure] == [("FAILURE#0000002", MAX_RECEIVE_COUNT)]
    status = cloud.status(job_id)
    assert (status["status"], status["failure_reason"], status["failed_chunks"]) == (
        "FAILED",
        job.failure_reason,
        [2],
    )
    metrics = emf_metrics(capsys.readouterr().out)
    assert metrics["ChunkAttemptsFailed"] == MAX_RECEIVE_COUNT
    assert metrics["ChunksFailed"] == 1
    # Nothing silently dropped: every chunk is either counted or in the DLQ.
    assert job.completed_chunks + len(dead) == job.total_chunks


def test_attempts_before_the_last_leave_the_job_running(cloud: FanOutCloud) -> None:
    job_id = cloud.submit({"items": _values(5, poison_at=0)})["job_id"]
    (message,) = cloud.messages()

    for attempt in range(1, MAX_RECEIVE_COUNT):
        with pytest.raises(Exception, match="failed processing"):
            _deliver_with_count(cloud, message, attempt)
        assert cloud.job(job_id).status is JobStatus.RUNNING

    with pytest.raises(Exception, match="failed processing"):
        _deliver_with_count(cloud, message, MAX_RECEIVE_COUNT)
    assert cloud.job(job_id).status is JobStatus.FAILED


def test_redriving_failed_chunks_after_a_fix_lets_the_job_complete(
    cloud: FanOutCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = _values(30)
    job_id = cloud.submit({"items": items})["job_id"]
    record_chunk = data_access.JobStore.record_chunk

    _outage_for(monkeypatch, {1})
    cloud.drain()
    job = cloud.job(job_id)
    assert job.status is JobStatus.FAILED
    assert job.failure_reason == "chunk 1 failed after 3 attempts: ConnectionError: downstream unavailable for chunk 1"

    # The fix is deployed; the operator redrives the DLQ into the work queue.
    monkeypatch.setattr(data_access.JobStore, "record_chunk", record_chunk)
    _redrive(cloud)
    cloud.drain()

    status = cloud.status(job_id)
    assert status["status"] == "SUCCEEDED"
    assert (status["failure_reason"], status["failed_chunks"]) == (None, [])
    assert status["result"] == _expected(items)
    assert cloud.aggregator_runs == [job_id]


def test_a_redriven_chunk_leaves_the_failure_fields_of_a_job_still_failed_for_another(
    cloud: FanOutCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = cloud.submit({"items": _values(50)})["job_id"]
    _outage_for(monkeypatch, {1, 3})
    cloud.drain()
    job = cloud.job(job_id)
    assert (job.failed_chunks, str(job.failure_reason).startswith("chunk 1 failed")) == ([1, 3], True)

    # Chunk 1's cause is fixed, chunk 3's is not: the operator redrives chunk 1 only.
    _outage_for(monkeypatch, {3})
    _redrive(cloud, {1})
    cloud.drain()

    status = cloud.status(job_id)
    assert (status["status"], status["completed_chunks"], status["failed_chunks"]) == ("FAILED", 4, [3])
    assert (
        status["failure_reason"]
        == "chunk 3 failed after 3 attempts: ConnectionError: downstream unavailable for chunk 3"
    )


def test_a_last_attempt_failing_after_another_delivery_completed_the_chunk_fails_nothing(
    cloud: FanOutCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = cloud.submit({"items": _values(20)})["job_id"]
    first, _ = sorted(cloud.messages(), key=lambda message: json.loads(message["Body"])["chunk_index"])
    assert cloud.deliver([first]) == set()  # delivery A completes chunk 0

    # Delivery B had started before A recorded the chunk, and fails on its last attempt.
    monkeypatch.setattr(data_access.JobStore, "chunk_recorded", lambda *_args: False)
    monkeypatch.setattr(data_access.JobStore, "record_chunk", _raise_timeout)
    with pytest.raises(Exception, match="failed processing"):
        _deliver_with_count(cloud, first, MAX_RECEIVE_COUNT)

    job = cloud.job(job_id)
    assert (job.status, job.completed_chunks, job.failure_reason) == (JobStatus.RUNNING, 1, None)


def test_a_chunk_of_an_unknown_job_is_refused(cloud: FanOutCloud) -> None:
    cloud.submit({"items": _values(5)})
    (message,) = cloud.messages()
    orphan = {**message, "Body": message["Body"].replace(json.loads(message["Body"])["job_id"], "no-such-job")}

    assert cloud.deliver([orphan]) == {message["MessageId"]}
    assert cloud.table.get_item(Key={"pk": "no-such-job", "sk": "JOB"}).get("Item") is None


def test_a_malformed_message_fails_without_touching_jobs(cloud: FanOutCloud) -> None:
    cloud.submit({"items": _values(5)})
    (message,) = cloud.messages()
    before = cloud.table.scan()["Items"]

    assert cloud.deliver([{**message, "Body": '{"job_id": "x"}'}, message]) == {message["MessageId"]}
    assert cloud.deliver([{**message, "Body": "not json"}]) == {message["MessageId"]}
    assert len(cloud.table.scan()["Items"]) == len(before) + 1  # only the valid delivery recorded its chunk


_RECORD_CHUNK = data_access.JobStore.record_chunk


def _outage_for(monkeypatch: pytest.MonkeyPatch, chunks: set[int]) -> None:
    """Recording these chunks fails, as if a downstream were unavailable for them (and others' succeeds)."""

    def outage(self: data_access.JobStore, job: str, chunk_index: int, **kwargs: Any) -> bool:
        if chunk_index in chunks:
            raise ConnectionError(f"downstream unavailable for chunk {chunk_index}")
        return _RECORD_CHUNK(self, job, chunk_index, **kwargs)

    monkeypatch.setattr(data_access.JobStore, "record_chunk", outage)


def _redrive(cloud: FanOutCloud, chunks: set[int] | None = None) -> None:
    """Move the DLQ's messages (of ``chunks`` only, if given) back to the work queue, as an operator would."""
    sqs = boto3.client("sqs")
    for message in cloud.messages(cloud.dlq_url):
        if chunks is None or json.loads(message["Body"])["chunk_index"] in chunks:
            sqs.send_message(QueueUrl=cloud.queue_url, MessageBody=message["Body"])
            sqs.delete_message(QueueUrl=cloud.dlq_url, ReceiptHandle=message["ReceiptHandle"])


def _raise_timeout(*_args: Any, **_kwargs: Any) -> bool:
    raise TimeoutError("DynamoDB timed out")


def _deliver_with_count(cloud: FanOutCloud, message: dict[str, Any], receive_count: int) -> Any:
    event = {"Records": [sqs_record(message, cloud.queue_url, receive_count=receive_count)]}
    return worker.handler(event, lambda_context())
