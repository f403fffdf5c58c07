"""The process handler under moto: every message ends processed, parked, retried or dead-lettered."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from serverless_patterns.lambdas.event_pipeline.errors import InvalidContentError, RetryLaterError
from serverless_patterns.lambdas.event_pipeline.formats import ByteStream
from serverless_patterns.lambdas.event_pipeline.layout import DEFERRALS_ATTRIBUTE
from serverless_patterns.lambdas.event_pipeline.models import PipelineMessage
from serverless_patterns.lambdas.event_pipeline.process import build_handler
from serverless_patterns.lambdas.shared.circuit_breaker import CircuitOpenError
from serverless_patterns.lambdas.shared.warmup import WARMUP_EVENT, WARMUP_RESPONSE

from .conftest import MAX_RECEIVE_COUNT, FakeContext, Pipeline, create_table, lambda_context

CSV = b"id,name,amount\n1,ann,10\n2,bob,12.5\n"


def _validated(pipeline: Pipeline, key: str, body: bytes = CSV) -> dict[str, Any]:
    """Upload and validate; return the queued message body."""
    assert pipeline.validate(pipeline.upload(key, body))["accepted"] == 1
    bodies = [body for body in pipeline.queued_bodies() if body["key"] == key]
    return bodies[0]


def test_valid_upload_is_summarised_into_processed_key_json(pipeline: Pipeline) -> None:
    message = _validated(pipeline, "incoming/sales 2025.csv")
    response = pipeline.poll()
    assert response == {"batchItemFailures": []}
    result = pipeline.record("processed/incoming/sales 2025.csv.json")
    assert result["status"] == "processed"
    assert result["source"]["versionId"] == message["versionId"]
    assert result["uploadRequestId"] == message["uploadRequestId"]
    assert result["summary"]["rows"] == 2
    assert result["summary"]["columns"] == ["id", "name", "amount"]
    assert result["summary"]["fields"]["amount"]["numeric"] == {"min": 10.0, "max": 12.5, "mean": 11.25}
    assert pipeline.tags("incoming/sales 2025.csv") == {"pipeline-status": "processed"}
    assert pipeline.depth(pipeline.queue_url) == 0


def test_duplicate_deliveries_produce_no_second_result(pipeline: Pipeline) -> None:
    message = _validated(pipeline, "incoming/a.csv")
    pipeline.send(json.dumps(message))  # S3 and the validator may both deliver twice
    assert pipeline.poll() == {"batchItemFailures": []}
    pipeline.send(json.dumps(message))  # a redelivery after success
    assert pipeline.poll() == {"batchItemFailures": []}
    assert pipeline.record_versions("processed/incoming/a.csv.json") == 1
    assert pipeline.depth(pipeline.queue_url) == 0


def test_duplicate_after_the_idempotency_record_expired_still_writes_nothing(pipeline: Pipeline) -> None:
    message = _validated(pipeline, "incoming/a.csv")
    pipeline.poll()
    (saved,) = pipeline.dynamodb.scan(TableName=pipeline.table)["Items"]
    assert saved["id"]["S"].startswith("event-pipeline#")
    assert saved["status"]["S"] == "COMPLETED"
    assert saved["data"]["S"] == '"processed"'
    for item in pipeline.dynamodb.scan(TableName=pipeline.table)["Items"]:
        pipeline.dynamodb.delete_item(TableName=pipeline.table, Key={"id": item["id"]})
    pipeline.send(json.dumps(message))
    assert pipeline.poll() == {"batchItemFailures": []}
    assert pipeline.record_versions("processed/incoming/a.csv.json") == 1


def test_an_older_version_arriving_late_does_not_overwrite_the_newer_result(pipeline: Pipeline) -> None:
    older = _validated(pipeline, "incoming/a.csv", b"id\n1\n")
    pipeline.poll()  # consumes the older message too; re-send it after the newer one
    newer = _validated(pipeline, "incoming/a.csv", b"id\n1\n2\n")
    pipeline.poll()
    pipeline.send(json.dumps(older))
    pipeline.dynamodb.delete_table(TableName=pipeline.table)  # no idempotency help: the sequencer decides
    create_table(pipeline.dynamodb, pipeline.table)
    assert pipeline.poll() == {"batchItemFailures": []}
    result = pipeline.record("processed/incoming/a.csv.json")
    assert result["source"]["versionId"] == newer["versionId"]
    assert result["summary"]["rows"] == 2


def test_content_found_invalid_while_streaming_is_parked_not_retried(pipeline: Pipeline) -> None:
    body = b"id,note\n" + b"".join(b"%d,fine\n" % i for i in range(400)) + b"broken\n"
    _validated(pipeline, "incoming/late-error.csv", body)  # the sample looked fine
    assert pipeline.poll() == {"batchItemFailures": []}
    rejection = pipeline.record("rejected/incoming/late-error.csv.json")
    assert rejection["stage"] == "process"
    assert rejection["reason"] == {"code": "malformed", "detail": "line 402: 1 fields where the header has 2"}
    assert pipeline.tags("incoming/late-error.csv") == {"pipeline-status": "rejected"}
    assert pipeline.results("processed/") == []
    assert pipeline.depth(pipeline.queue_url) == 0


def test_an_upload_deleted_before_processing_is_parked_as_vanished(pipeline: Pipeline) -> None:
    message = _validated(pipeline, "incoming/a.csv")
    pipeline.s3.delete_object(Bucket=message["bucket"], Key=message["key"], VersionId=message["versionId"])
    assert pipeline.poll() == {"batchItemFailures": []}
    assert pipeline.record("rejected/incoming/a.csv.json")["reason"]["code"] == "vanished"


def test_transient_failure_backs_off_by_receive_count_then_succeeds(pipeline: Pipeline) -> None:
    attempts: list[int] = []

    def flaky(message: PipelineMessage, stream: ByteStream) -> Mapping[str, Any]:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("downstream reset the connection")
        return {"bytes": len(stream.read(1 << 20))}

    handler = build_handler(flaky)
    _validated(pipeline, "incoming/a.csv")
    first = pipeline.poll(handler)
    assert first is not None
    assert len(first["batchItemFailures"]) == 1
    assert pipeline.poll(handler) is None  # hidden for its backoff, not the queue's visibility timeout
    pipeline.clock.advance(pipeline.hold_backs[-1])
    pipeline.poll(handler)
    pipeline.clock.advance(pipeline.hold_backs[-1])
    assert pipeline.poll(handler) == {"batchItemFailures": []}
    # base 10 s: receive 1 -> 5..10 s, receive 2 -> 10..20 s
    assert 5 <= pipeline.hold_backs[0] <= 10
    assert 10 <= pipeline.hold_backs[1] <= 20
    assert pipeline.record("processed/incoming/a.csv.json")["summary"] == {"bytes": len(CSV)}
    assert pipeline.dead_letters() == []


def test_a_failed_record_stays_hidden_while_its_batch_still_runs(pipeline: Pipeline) -> None:
    def broken(message: PipelineMessage, stream: ByteStream) -> Mapping[str, Any]:
        raise RuntimeError("processor bug")

    _validated(pipeline, "incoming/a.csv")
    pipeline.poll(build_handler(broken), context=FakeContext(remaining_ms=119_200))
    assert pipeline.hold_backs == [120]  # not the 5..10 s backoff of a first receive


def test_poison_message_reaches_the_dlq_after_max_receive_count_and_nothing_else_fails(pipeline: Pipeline) -> None:
    calls: list[str] = []

    def picky(message: PipelineMessage, stream: ByteStream) -> Mapping[str, Any]:
        calls.append(message.key)
        if "poison" in message.key:
            raise RuntimeError("processor bug")
        return {"ok": True}

    handler = build_handler(picky)
    for name in ("good-1", "poison", "good-2"):
        _validated(pipeline, f"incoming/{name}.csv")
    first = pipeline.poll(handler)
    assert first is not None
    assert len(first["batchItemFailures"]) == 1  # only the poison record goes back
    pipeline.drain(handler)
    assert calls.count("incoming/poison.csv") == MAX_RECEIVE_COUNT
    assert sorted(pipeline.results("processed/")) == [
        "processed/incoming/good-1.csv.json",
        "processed/incoming/good-2.csv.json",
    ]
    (dead,) = pipeline.dead_letters()
    assert json.loads(dead["Body"])["key"] == "incoming/poison.csv"


def test_a_message_that_is_not_a_pipeline_message_ends_in_the_dlq(pipeline: Pipeline) -> None:
    pipeline.send('{"hello": "world"}')
    pipeline.drain()
    (dead,) = pipeline.dead_letters()
    assert json.loads(dead["Body"]) == {"hello": "world"}
    assert pipeline.results("") == []


def test_retry_later_is_held_back_then_requeued_instead_of_dead_lettered(pipeline: Pipeline) -> None:
    outage = {"on": True}

    def enrich(message: PipelineMessage, stream: ByteStream) -> Mapping[str, Any]:
        if outage["on"]:
            raise RetryLaterError("enrichment circuit open", retry_after_seconds=30)
        return {"enriched": True}

    handler = build_handler(enrich)
    _validated(pipeline, "incoming/a.csv")
    for _ in range(MAX_RECEIVE_COUNT):
        pipeline.poll(handler)
        pipeline.clock.advance(30)
    # Held back twice for the breaker's 30 s; on its last receive it was re-queued, not dead-lettered.
    assert pipeline.hold_backs == [30, 30]
    assert pipeline.depth(pipeline.dlq_url) == 0
    requeued = pipeline.sqs.receive_message(
        QueueUrl=pipeline.queue_url, MessageAttributeNames=["All"], AttributeNames=["All"], VisibilityTimeout=0
    )["Messages"]
    assert requeued[0]["MessageAttributes"][DEFERRALS_ATTRIBUTE]["StringValue"] == "1"
    assert requeued[0]["Attributes"]["ApproximateReceiveCount"] == "1"  # a fresh message
    outage["on"] = False
    pipeline.drain(handler)
    assert pipeline.record("processed/incoming/a.csv.json")["summary"] == {"enriched": True}


def test_an_open_circuit_breaker_defers_for_its_cooldown(pipeline: Pipeline) -> None:
    def enrich(message: PipelineMessage, stream: ByteStream) -> Mapping[str, Any]:
        raise CircuitOpenError("enrichment", retry_after_seconds=42.5)

    _validated(pipeline, "incoming/a.csv")
    response = pipeline.poll(build_handler(enrich))
    assert response is not None
    assert len(response["batchItemFailures"]) == 1
    assert pipeline.hold_backs == [43]
    assert pipeline.results("") == []


def test_an_endless_outage_ends_in_the_dlq_after_max_deferrals(pipeline: Pipeline) -> None:
    def down(message: PipelineMessage, stream: ByteStream) -> Mapping[str, Any]:
        raise RetryLaterError("still down")

    handler = build_handler(down)
    _validated(pipeline, "incoming/a.csv")
    pipeline.drain(handler)
    (dead,) = pipeline.dead_letters()  # MAX_DEFERRALS=1: one re-queue, then kept in the DLQ
    assert dead["MessageAttributes"][DEFERRALS_ATTRIBUTE]["StringValue"] == "1"
    assert pipeline.results("") == []


def test_user_processor_can_park_content_it_refuses(pipeline: Pipeline) -> None:
    def strict(message: PipelineMessage, stream: ByteStream) -> Mapping[str, Any]:
        raise InvalidContentError("amount must be positive on line 3")

    _validated(pipeline, "incoming/a.csv")
    assert pipeline.poll(build_handler(strict)) == {"batchItemFailures": []}
    assert pipeline.record("rejected/incoming/a.csv.json")["reason"]["detail"] == "amount must be positive on line 3"


def test_warmup_event_does_no_work(pipeline: Pipeline) -> None:
    from serverless_patterns.lambdas.event_pipeline import process

    _validated(pipeline, "incoming/a.csv")
    assert process.handler(WARMUP_EVENT, lambda_context()) == WARMUP_RESPONSE
    assert pipeline.results("") == []


@pytest.mark.parametrize("batch", [1, 10])
def test_counts_add_up_from_upload_to_results_and_dlq(pipeline: Pipeline, batch: int) -> None:
    """N valid + M invalid + K poison uploads -> N results, M parked with reasons, K dead letters."""

    def summarise_unless_poison(message: PipelineMessage, stream: ByteStream) -> Mapping[str, Any]:
        content = stream.read(1 << 20)
        if b"POISON" in content:
            raise RuntimeError("cannot handle this one")
        return {"bytes": len(content)}

    valid = [pipeline.upload(f"incoming/valid-{i}.csv", CSV) for i in range(7)]
    invalid = [
        pipeline.upload("incoming/invalid-empty.csv", b""),
        pipeline.upload("incoming/invalid-type.exe", b"MZ"),
        pipeline.upload("incoming/invalid-rows.csv", b"a,b\n1\n"),
    ]
    poison = [pipeline.upload(f"incoming/poison-{i}.csv", b"id\nPOISON\n") for i in range(2)]
    records = valid + invalid + poison
    for start in range(0, len(records), 4):  # S3 batches notifications as it likes
        pipeline.validate(*records[start : start + 4])
    pipeline.validate(valid[0], valid[1])  # duplicate notifications
    handler = build_handler(summarise_unless_poison)
    while pipeline.poll(handler, batch=batch) is not None or pipeline.depth(pipeline.queue_url):
        pipeline.clock.advance(300)

    processed = pipeline.results("processed/")
    rejected = pipeline.results("rejected/")
    dead = pipeline.dead_letters()
    assert len(processed) == len(valid)
    assert len(rejected) == len(invalid)
    assert len(dead) == len(poison)
    assert len(processed) + len(rejected) + len(dead) == len(records)
    assert all(pipeline.record_versions(key) == 1 for key in processed)
    assert {pipeline.record(key)["reason"]["code"] for key in rejected} == {"empty", "unsupported_type", "malformed"}
