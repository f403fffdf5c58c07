"""The master: valid jobs are recorded and queued in chunks; bad jobs get a clear error and create nothing."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from serverless_patterns.lambdas.fan_out import data_access
from serverless_patterns.lambdas.fan_out.errors import DispatchFailedError
from serverless_patterns.lambdas.fan_out.models import ChunkMessage, JobStatus
from serverless_patterns.lambdas.shared.warmup import WARMUP_EVENT, WARMUP_RESPONSE
from tests.handlers.fan_out.conftest import BUCKET, CHUNK_SIZE, MAX_ITEMS, MAX_SOURCE_BYTES, FanOutCloud, emf_metrics


def _items(count: int) -> list[dict[str, Any]]:
    return [{"id": f"item-{index}", "value": index} for index in range(count)]


def _chunks(cloud: FanOutCloud) -> list[ChunkMessage]:
    chunks = [ChunkMessage.model_validate_json(message["Body"]) for message in cloud.messages()]
    return sorted(chunks, key=lambda chunk: chunk.chunk_index)


def test_inline_job_is_recorded_and_queued_in_chunks(cloud: FanOutCloud, capsys: pytest.CaptureFixture[str]) -> None:
    items = _items(45)
    response = cloud.submit({"items": items})

    assert response["created"] is True
    assert response["status"] == "RUNNING"
    assert (response["total_items"], response["total_chunks"]) == (45, 5)
    job = cloud.job(response["job_id"])
    assert (job.status, job.total_chunks, job.completed_chunks) == (JobStatus.RUNNING, 5, 0)
    chunks = _chunks(cloud)
    assert [chunk.chunk_index for chunk in chunks] == [0, 1, 2, 3, 4]
    assert [chunk.first_item for chunk in chunks] == [0, 10, 20, 30, 40]
    assert [item for chunk in chunks for item in chunk.items] == items
    assert {chunk.job_id for chunk in chunks} == {response["job_id"]}
    metrics = emf_metrics(capsys.readouterr().out)
    assert metrics["JobsSubmitted"] == 1
    assert metrics["ItemsSubmitted"] == 45


@pytest.mark.parametrize(
    ("key", "body"),
    [
        ("jobs/lines.jsonl", "\n".join(json.dumps(item) for item in _items(23)) + "\n\n"),
        ("jobs/array.json", json.dumps(_items(23))),
    ],
)
def test_items_from_an_s3_object(cloud: FanOutCloud, key: str, body: str) -> None:
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=body.encode())

    response = cloud.submit({"source": {"key": key}})

    assert (response["total_items"], response["total_chunks"]) == (23, 3)
    assert [item for chunk in _chunks(cloud) for item in chunk.items] == _items(23)


def test_items_from_a_given_object_version(cloud: FanOutCloud) -> None:
    s3 = boto3.client("s3")
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=BUCKET, Key="jobs/v.jsonl", Body=json.dumps({"value": 1}).encode())["VersionId"]
    s3.put_object(Bucket=BUCKET, Key="jobs/v.jsonl", Body=b'{"value": 2}\n{"value": 3}\n')

    response = cloud.submit({"source": {"key": "jobs/v.jsonl", "version_id": first}})

    assert response["total_items"] == 1
    assert _chunks(cloud)[0].items == [{"value": 1}]


BAD_JOBS: list[tuple[str, Any, str]] = [
    ("neither items nor source", {}, "InvalidRequest"),
    ("both items and source", {"items": [{"value": 1}], "source": {"key": "k"}}, "InvalidRequest"),
    ("not an object", ["value", 1], "InvalidRequest"),
    ("items that are not objects", {"items": [1, 2]}, "InvalidRequest"),
    ("an unknown field", {"items": [{"value": 1}], "priority": "high"}, "InvalidRequest"),
    ("a malformed job id", {"job_id": "../etc", "items": [{"value": 1}]}, "InvalidRequest"),
    ("no items", {"items": []}, "InvalidJob"),
    ("too many items", {"items": _items(MAX_ITEMS + 1)}, "InvalidJob"),
    ("a chunk over SQS's size limit", {"items": [{"value": 1, "blob": "x" * 300_000}]}, "InvalidJob"),
    ("a missing items object", {"source": {"key": "jobs/missing.jsonl"}}, "InvalidJob"),
]


@pytest.mark.parametrize(("case", "event", "error"), BAD_JOBS, ids=[case for case, _, _ in BAD_JOBS])
def test_bad_jobs_get_a_clear_error_and_create_nothing(
    cloud: FanOutCloud, capsys: pytest.CaptureFixture[str], case: str, event: Any, error: str
) -> None:
    response = cloud.submit(event)

    assert response["error"] == error, case
    assert response["status_code"] == 400
    assert response["message"]
    assert cloud.table.scan()["Count"] == 0
    assert cloud.messages() == []
    assert emf_metrics(capsys.readouterr().out)["JobsRejected"] == 1
    assert "blob" not in json.dumps(response)  # the request's values are never echoed


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b'{"value": 1}\nnot json\n[1]\n', "line 2: not valid JSON"),
        (b'[{"value": 1}, 2]', "item 1: not a JSON object"),
        (b"[{", "not valid JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b"x" * (MAX_SOURCE_BYTES + 1), f"the limit is {MAX_SOURCE_BYTES}"),
    ],
)
def test_bad_items_objects_are_refused_with_the_reason(cloud: FanOutCloud, body: bytes, detail: str) -> None:
    boto3.client("s3").put_object(Bucket=BUCKET, Key="jobs/bad", Body=body)

    response = cloud.submit({"source": {"key": "jobs/bad"}})

    assert response["error"] == "InvalidJob"
    assert detail in response["message"] + " ".join(response["details"])
    assert cloud.table.scan()["Count"] == 0


def test_a_caller_job_id_makes_submission_idempotent(cloud: FanOutCloud) -> None:
    first = cloud.submit({"job_id": "nightly-2024-06-01", "items": _items(15)})
    again = cloud.submit({"job_id": "nightly-2024-06-01", "items": _items(15)})

    assert first["job_id"] == again["job_id"] == "nightly-2024-06-01"
    assert (first["created"], again["created"]) == (True, False)
    assert len(cloud.messages()) == 2  # queued once

    conflict = cloud.submit({"job_id": "nightly-2024-06-01", "items": _items(16)})
    assert (conflict["error"], conflict["status_code"]) == ("JobConflict", 409)


def test_a_dispatch_failure_fails_the_job_and_the_invocation(
    cloud: FanOutCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[int] = []

    def refuse_second_batch(self: data_access.ChunkQueue, entries: list[Any]) -> None:
        if sent:
            raise DispatchFailedError("SQS did not accept 2 chunk messages after 3 attempts")
        sent.append(len(entries))

    monkeypatch.setattr(data_access.ChunkQueue, "_send_batch", refuse_second_batch)

    with pytest.raises(DispatchFailedError):
        cloud.submit({"job_id": "doomed", "items": _items(2 * 10 * CHUNK_SIZE)})

    job = cloud.job("doomed")
    assert job.status is JobStatus.FAILED
    assert job.failure_reason is not None
    assert job.failure_reason.startswith("dispatch failed: DispatchFailedError: SQS did not accept")


def test_warmup_returns_at_once(cloud: FanOutCloud) -> None:
    assert cloud.submit(WARMUP_EVENT) == WARMUP_RESPONSE
    assert cloud.table.scan()["Count"] == 0
