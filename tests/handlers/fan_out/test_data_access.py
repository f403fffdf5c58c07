"""The data-access layer's own guarantees: SQS batch limits and retries, transaction conflicts retried."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from serverless_patterns.lambdas.fan_out import data_access, services
from serverless_patterns.lambdas.fan_out.errors import ChunkRejectedError, DispatchFailedError, InvalidJobError
from serverless_patterns.lambdas.fan_out.models import JobStatus, NewJob
from tests.handlers.fan_out.conftest import TABLE, FanOutCloud


class _RecordingSqs:
    """Wraps the moto SQS client, recording batches and failing chosen entries once."""

    def __init__(self, fail_once: set[str] | None = None, sender_fault: bool = False) -> None:
        self._client: Any = boto3.client("sqs")
        self.batches: list[list[str]] = []
        self._fail_once = set(fail_once or ())
        self._sender_fault = sender_fault

    def send_message_batch(self, **request: Any) -> dict[str, Any]:
        entries: list[dict[str, Any]] = request["Entries"]
        self.batches.append([entry["Id"] for entry in entries])
        failing = [entry for entry in entries if entry["Id"] in self._fail_once]
        self._fail_once -= {entry["Id"] for entry in failing}
        accepted = [entry for entry in entries if entry not in failing]
        response: dict[str, Any] = (
            self._client.send_message_batch(QueueUrl=request["QueueUrl"], Entries=accepted)
            if accepted
            else {"Successful": []}
        )
        response["Failed"] = [
            {"Id": entry["Id"], "SenderFault": self._sender_fault, "Code": "InternalError"} for entry in failing
        ]
        return response


def test_batches_respect_the_entry_and_byte_limits(cloud: FanOutCloud) -> None:
    sqs = _RecordingSqs()
    queue = services.ChunkQueue(cloud.queue_url, client=sqs)  # type: ignore[arg-type]
    bodies = ["x" * 100_000] * 5 + ["small"] * 23

    queue.send(bodies)

    assert [len(batch) for batch in sqs.batches] == [2, 2, 10, 10, 4]
    assert len(cloud.messages()) == 28


def test_entries_sqs_fails_on_its_side_are_retried(cloud: FanOutCloud) -> None:
    sqs = _RecordingSqs(fail_once={"chunk-3", "chunk-7"})
    services.ChunkQueue(cloud.queue_url, client=sqs).send(["a"] * 12)  # type: ignore[arg-type]

    assert sqs.batches == [[f"chunk-{index}" for index in range(10)], ["chunk-3", "chunk-7"], ["chunk-10", "chunk-11"]]
    assert len(cloud.messages()) == 12


def test_entries_refused_for_the_senders_fault_fail_the_dispatch(cloud: FanOutCloud) -> None:
    sqs = _RecordingSqs(fail_once={"chunk-0"}, sender_fault=True)
    with pytest.raises(DispatchFailedError, match="InternalError"):
        services.ChunkQueue(cloud.queue_url, client=sqs).send(["a"])  # type: ignore[arg-type]


def _new_job(job_id: str, chunks: int = 2) -> NewJob:
    return NewJob(
        job_id=job_id,
        total_items=chunks,
        total_chunks=chunks,
        chunk_size=1,
        request_digest="d",
        created_at="2024-01-01T00:00:00.000+00:00",
        deadline_at=2_000_000_000,
        expires_at=2_100_000_000,
        dispatch_lease_until=0,
    )


def _conflict() -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
            "CancellationReasons": [{"Code": "None"}, {"Code": "TransactionConflict"}],
        },
        "TransactWriteItems",
    )


def test_transaction_conflicts_on_the_hot_job_item_are_retried(cloud: FanOutCloud) -> None:
    delays: list[float] = []
    store = data_access.JobStore(TABLE, sleep=delays.append)
    store.create_job(_new_job("hot"))
    transact = store._client.transact_write_items
    conflicts = [_conflict(), _conflict()]

    def conflicting(**kwargs: Any) -> Any:
        if conflicts:
            raise conflicts.pop()
        return transact(**kwargs)

    store._client.transact_write_items = conflicting  # type: ignore[method-assign]

    assert store.record_chunk("hot", 0, result={"n": 1}, item_count=1, now_iso="t", expires_at=1) is True
    assert len(delays) == 2
    job = store.get_job("hot")
    assert job is not None
    assert job.completed_chunks == 1


def test_single_item_writes_conflicting_with_a_transaction_are_retried(cloud: FanOutCloud) -> None:
    delays: list[float] = []
    store = data_access.JobStore(TABLE, sleep=delays.append)
    store.create_job(_new_job("hot", chunks=1))
    store.record_chunk("hot", 0, result={"n": 1}, item_count=1, now_iso="t", expires_at=1)
    update_item = store._table.update_item
    conflicts = [ClientError({"Error": {"Code": "TransactionConflictException", "Message": "busy"}}, "UpdateItem")]

    def conflicting(**kwargs: Any) -> Any:
        if conflicts:
            raise conflicts.pop()
        return update_item(**kwargs)

    store._table.update_item = conflicting  # type: ignore[method-assign]

    assert store.try_start_aggregation("hot", 0, now=1, deadline_at=2, now_iso="t").started is True
    assert len(delays) == 1


def test_endless_conflicts_surface(cloud: FanOutCloud) -> None:
    store = data_access.JobStore(TABLE, sleep=lambda _: None)
    store.create_job(_new_job("hot"))

    def always_conflicting(**_kwargs: Any) -> Any:
        raise _conflict()

    store._client.transact_write_items = always_conflicting  # type: ignore[method-assign]
    with pytest.raises(ClientError, match="conflict"):
        store.record_chunk("hot", 0, result={"n": 1}, item_count=1, now_iso="t", expires_at=1)


def test_a_chunk_outside_the_job_is_rejected(cloud: FanOutCloud) -> None:
    store = data_access.JobStore(TABLE)
    store.create_job(_new_job("small", chunks=2))

    with pytest.raises(ChunkRejectedError, match="no chunk 2"):
        store.record_chunk("small", 2, result={}, item_count=1, now_iso="t", expires_at=1)
    job = store.get_job("small")
    assert job is not None
    assert (job.status, job.completed_chunks) == (JobStatus.RUNNING, 0)


def test_access_errors_reading_items_are_not_mistaken_for_bad_input(cloud: FanOutCloud) -> None:
    class _Denied:
        def get_object(self, **_kwargs: Any) -> Any:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetObject")

        def list_objects_v2(self, **_kwargs: Any) -> Any:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "ListObjectsV2")

    reader = services.ItemsObjectReader("bucket", client=_Denied())  # type: ignore[arg-type]
    with pytest.raises(ClientError, match="AccessDenied"):
        reader.read("jobs/x", None, max_bytes=10)


@pytest.mark.parametrize(("listed", "missing"), [([], True), ([{"Key": "jobs/x.jsonl"}], False)])
def test_a_403_for_a_key_is_missing_only_when_listing_the_key_finds_nothing(
    listed: list[dict[str, str]], missing: bool
) -> None:
    """With ListBucket granted per prefix, S3 may answer a missing key 403: the key's own listing decides."""

    class _PrefixListing:
        def get_object(self, **_kwargs: Any) -> Any:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetObject")

        def list_objects_v2(self, **kwargs: Any) -> Any:
            assert kwargs == {"Bucket": "bucket", "Prefix": "jobs/x.jsonl", "MaxKeys": 1}
            return {"Contents": listed}

    reader = services.ItemsObjectReader("bucket", prefix="jobs/", client=_PrefixListing())  # type: ignore[arg-type]
    if missing:
        with pytest.raises(InvalidJobError, match="does not exist"):
            reader.read("jobs/x.jsonl", None, max_bytes=10)
    else:
        with pytest.raises(ClientError, match="AccessDenied"):
            reader.read("jobs/x.jsonl", None, max_bytes=10)


def test_keys_outside_the_input_prefix_are_refused_before_any_call() -> None:
    reader = services.ItemsObjectReader("bucket", prefix="jobs/", client=object())  # type: ignore[arg-type]
    with pytest.raises(InvalidJobError, match="outside the input prefix 'jobs/'"):
        reader.read("private/secrets.json", None, max_bytes=10)
