"""The master: valid jobs are recorded and queued in chunks; bad jobs get a clear error and create nothing."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from serverless_patterns.lambdas.fan_out import data_access, services
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
    ("an items object outside the input prefix", {"source": {"key": "other/items.jsonl"}}, "InvalidJob"),
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


class _MasterKilled(BaseException):
    """The master's invocation ending mid-dispatch (a timeout or a crash): no except clause runs."""


def _fail_batch(monkeypatch: pytest.MonkeyPatch, number: int, error: BaseException) -> None:
    """Make the ``number``-th SendMessageBatch call (1-based) of the next dispatch fail with ``error``."""
    send_batch = services.ChunkQueue._send_batch
    calls: list[int] = []

    def failing(self: services.ChunkQueue, entries: list[Any]) -> None:
        calls.append(len(entries))
        if len(calls) == number:
            raise error
        send_batch(self, entries)

    monkeypatch.setattr(services.ChunkQueue, "_send_batch", failing)


def _submit_with_failing_batch(cloud: FanOutCloud, event: dict[str, Any], number: int, error: BaseException) -> None:
    with pytest.MonkeyPatch.context() as patch:
        _fail_batch(patch, number, error)
        cloud.submit(event)


def _chunk_indexes(cloud: FanOutCloud) -> list[int]:
    return sorted(chunk.chunk_index for chunk in _chunks(cloud))


def test_a_dispatch_failure_leaves_the_job_resumable_and_the_invocation_names_it(cloud: FanOutCloud) -> None:
    items = _items(50 * CHUNK_SIZE)
    refusal = DispatchFailedError("SQS did not accept 10 chunk messages after 3 attempts")
    with pytest.raises(DispatchFailedError, match=r"job 'resumable': 10 of 50 chunks queued.*submit the job again"):
        _submit_with_failing_batch(cloud, {"job_id": "resumable", "items": items}, 2, refusal)

    job = cloud.job("resumable")
    assert (job.status, job.dispatched_chunks, job.dispatch_lease_until) == (JobStatus.RUNNING, 10, None)
    assert _chunk_indexes(cloud) == list(range(10))

    again = cloud.submit({"job_id": "resumable", "items": items})

    assert (again["created"], again["status"], again["queued_chunks"]) == (False, "RUNNING", 40)
    assert _chunk_indexes(cloud) == list(range(50))  # exactly the 40 never queued, none twice
    assert cloud.job("resumable").dispatched_chunks == 50
    assert cloud.submit({"job_id": "resumable", "items": items})["queued_chunks"] == 0
    cloud.drain()
    status = cloud.status("resumable")
    assert (status["status"], status["completed_chunks"], status["result"]["count"]) == ("SUCCEEDED", 50, 500)


def test_a_master_killed_mid_dispatch_is_resumed_once_its_lease_expired(cloud: FanOutCloud) -> None:
    items = _items(50 * CHUNK_SIZE)
    with pytest.raises(_MasterKilled):
        _submit_with_failing_batch(cloud, {"job_id": "killed", "items": items}, 2, _MasterKilled())
    job = cloud.job("killed")
    assert (job.dispatched_chunks, job.dispatch_lease_until is not None) == (10, True)

    # Within the dead invocation's lease (its remaining time), a resubmission cannot tell it from a slow one.
    assert cloud.submit({"job_id": "killed", "items": items})["queued_chunks"] == 0
    assert len(cloud.messages()) == 10

    cloud.table.update_item(
        Key={"pk": "killed", "sk": "JOB"},
        UpdateExpression="SET dispatch_lease_until = :past",
        ExpressionAttributeValues={":past": 1},
    )
    assert cloud.submit({"job_id": "killed", "items": items})["queued_chunks"] == 40
    assert _chunk_indexes(cloud) == list(range(50))


def test_a_resubmission_of_a_source_object_resumes_from_the_object(cloud: FanOutCloud) -> None:
    boto3.client("s3").put_object(Bucket=BUCKET, Key="jobs/big.jsonl", Body=json.dumps(_items(250)).encode())
    with pytest.raises(DispatchFailedError):
        _submit_with_failing_batch(
            cloud, {"job_id": "from-s3", "source": {"key": "jobs/big.jsonl"}}, 2, DispatchFailedError("throttled")
        )

    assert cloud.submit({"job_id": "from-s3", "source": {"key": "jobs/big.jsonl"}})["queued_chunks"] == 15
    assert _chunk_indexes(cloud) == list(range(25))


def test_only_one_of_two_resumers_claims_the_dispatch(cloud: FanOutCloud) -> None:
    with pytest.raises(DispatchFailedError):
        _submit_with_failing_batch(
            cloud, {"job_id": "contended", "items": _items(30)}, 1, DispatchFailedError("throttled")
        )
    store = data_access.job_store(cloud.table.name)

    claims = [store.claim_dispatch("contended", dispatched=0, now=100, lease_until=10**10) for _ in range(2)]

    assert claims == [True, False]


def test_warmup_returns_at_once(cloud: FanOutCloud) -> None:
    assert cloud.submit(WARMUP_EVENT) == WARMUP_RESPONSE
    assert cloud.table.scan()["Count"] == 0
