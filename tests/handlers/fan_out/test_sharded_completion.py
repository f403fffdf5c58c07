"""Completion shards: a job's chunks counted in S shards, closed once each, aggregated once, no hot item.

The master runs with ``COMPLETION_SHARDS`` set (the construct always sets it); the rest of the
fan-out handler tests run without it and so cover the job-item counter of 0.2, which jobs already
running when 0.3 is deployed still use. Here: the sharded layout, exactly-once completion and
aggregation under concurrency (the last chunk of every shard racing, every delivery recording
before any reads its shard), crashes between the protocol's steps, failures and redrives, and
messages that disagree with their job about its shards.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from serverless_patterns.lambdas.fan_out import contract, data_access, logic
from serverless_patterns.lambdas.fan_out.errors import ChunkRejectedError
from serverless_patterns.lambdas.fan_out.models import ChunkMessage, JobStatus
from tests.handlers.fan_out.conftest import TABLE, FanOutCloud, clear_caches
from tests.handlers.fan_out.test_concurrency import (  # noqa: F401  (atomic_dynamodb_requests is a fixture)
    CLAIM_SECONDS,
    DEADLINE_SECONDS,
    JOIN_TIMEOUT,
    Aggregations,
    _expected,
    _own_store,
    _run_concurrently,
    atomic_dynamodb_requests,
    waiting_before,
)
from tests.handlers.fan_out.test_worker import _outage_for, _redrive, _values

SHARDS = 4


@pytest.fixture
def sharded(cloud: FanOutCloud, monkeypatch: pytest.MonkeyPatch) -> FanOutCloud:
    monkeypatch.setenv("COMPLETION_SHARDS", str(SHARDS))
    clear_caches()
    return cloud


class WriteLog:
    """Every write request a store makes, by the (pk, sk) of the item it writes (failed conditions included)."""

    def __init__(self) -> None:
        self.writes: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def watch(self, store: data_access.JobStore) -> data_access.JobStore:
        update_item, put_item = store._table.update_item, store._table.put_item
        transact = store._client.transact_write_items

        def count(key: dict[str, Any]) -> None:
            with self._lock:
                self.writes[(str(key["pk"]), str(key["sk"]))] += 1

        def updating(**request: Any) -> Any:
            count(request["Key"])
            return update_item(**request)

        def putting(**request: Any) -> Any:
            count(request["Item"])
            return put_item(**request)

        def transacting(**request: Any) -> Any:
            for item in request["TransactItems"]:
                ((kind, operation),) = item.items()
                if kind != "ConditionCheck":
                    count(operation.get("Key") or operation["Item"])
            return transact(**request)

        store._table.update_item = updating  # type: ignore[method-assign]
        store._table.put_item = putting  # type: ignore[method-assign]
        store._client.transact_write_items = transacting  # type: ignore[method-assign]
        return store

    def of(self, pk: str, sk: str) -> int:
        return self.writes[(pk, sk)]


def _submit(cloud: FanOutCloud, values: list[float]) -> tuple[str, list[ChunkMessage]]:
    job_id = cloud.submit({"items": [{"value": value} for value in values]})["job_id"]
    chunks = [ChunkMessage.model_validate_json(message["Body"]) for message in cloud.messages()]
    return job_id, sorted((chunk for chunk in chunks if chunk.job_id == job_id), key=lambda chunk: chunk.chunk_index)


def _job_records(job_id: str, shards: int) -> list[dict[str, Any]]:
    table = boto3.resource("dynamodb").Table(TABLE)
    partitions = [job_id, *(contract.shard_partition_key(job_id, shard) for shard in range(shards))]
    items: list[dict[str, Any]] = []
    for partition in partitions:
        items += table.query(KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": partition})["Items"]
    return items


@pytest.mark.parametrize(("shards", "job_item_writes"), [(SHARDS, 15), (0, 87)])
def test_the_job_item_is_written_per_shard_not_per_chunk(
    cloud: FanOutCloud, monkeypatch: pytest.MonkeyPatch, shards: int, job_item_writes: int
) -> None:
    """40 chunks, delivered one at a time, each once.

    With 4 shards (chunk i in shard i % 4, 10 each), each shard counter is written 1 (created) +
    10 (counts) + 1 (closed) = 12 times, and the job item 15 times: 1 created, 4 dispatch
    watermarks (SendMessageBatch takes 10), 4 shards closed, 4 start attempts (the closers'; the
    last wins), 1 aggregator confirmed, 1 completed. Whatever the number of chunks, the job item
    takes 2 writes per shard plus a constant.

    Without shards (the 0.2 counter) the job item takes 1 + 4 + 40 counts + 40 start attempts
    + 1 + 1 = 87: two writes per chunk, which is what caps a job at DynamoDB's per-item rate.
    """
    monkeypatch.setenv("COMPLETION_SHARDS", str(shards))
    clear_caches()
    log = WriteLog()
    log.watch(data_access.job_store(TABLE))
    job_id = cloud.submit({"items": _values(400)})["job_id"]

    cloud.drain(batch_size=1)

    job = cloud.job(job_id)
    assert (job.status, job.completed_chunks, job.completion_shards) == (JobStatus.SUCCEEDED, 40, shards)
    assert cloud.aggregator_runs == [job_id]
    assert log.of(job_id, contract.JOB_SORT_KEY) == job_item_writes
    records = _job_records(job_id, shards)
    chunk_partitions = {
        int(str(r["sk"]).removeprefix(contract.CHUNK_PREFIX)): r["pk"]
        for r in records
        if str(r["sk"]).startswith(contract.CHUNK_PREFIX)
    }
    assert chunk_partitions == {
        index: contract.shard_partition_key(job_id, index % shards) if shards else job_id for index in range(40)
    }
    shard_items = [r for r in records if r["sk"] == contract.SHARD_SORT_KEY]
    assert sorted((r["pk"], r["expected"], r["completed"], r["closed"]) for r in shard_items) == [
        (contract.shard_partition_key(job_id, shard), 10, 10, True) for shard in range(shards)
    ]
    for shard in range(shards):
        assert log.of(contract.shard_partition_key(job_id, shard), contract.SHARD_SORT_KEY) == 12


def test_a_small_job_gets_at_most_one_shard_per_chunk(sharded: FanOutCloud) -> None:
    job_id = sharded.submit({"items": _values(25)})["job_id"]

    assert {json.loads(m["Body"])["completion_shards"] for m in sharded.messages()} == {3}
    sharded.drain()
    job = sharded.job(job_id)
    assert (job.status, job.completion_shards, job.completed_chunks) == (JobStatus.SUCCEEDED, 3, 3)


def test_progress_counts_the_shards_not_closed_yet(sharded: FanOutCloud) -> None:
    job_id = sharded.submit({"items": _values(80)})["job_id"]
    first_two = sorted(sharded.messages(), key=lambda m: json.loads(m["Body"])["chunk_index"])[:2]

    assert sharded.deliver(first_two) == set()

    status = sharded.status(job_id)
    assert (status["status"], status["completed_chunks"], status["total_chunks"]) == ("RUNNING", 2, 8)


@pytest.mark.parametrize("seed", [3, 4])
@pytest.mark.usefixtures("atomic_dynamodb_requests")
def test_many_concurrent_workers_with_duplicates_close_each_shard_once_and_aggregate_once(
    sharded: FanOutCloud, seed: int
) -> None:
    rng = random.Random(seed)
    values = [rng.randint(-10_000, 10_000) / 100 for _ in range(400)]
    job_id, chunks = _submit(sharded, values)
    deliveries = chunks + rng.sample(chunks, 12) + [chunks[-1]] * 3
    rng.shuffle(deliveries)
    aggregations = Aggregations()

    outcomes = _run_concurrently(deliveries, aggregations)

    assert aggregations.started == [job_id]
    assert sum(outcome.aggregation_started for outcome in outcomes) == 1
    job = _own_store().get_job(job_id)
    assert job is not None
    # A shard closed twice would count its chunks twice: the count is exact, never above the total.
    assert (job.status, job.completed_chunks, job.total_chunks) == (JobStatus.SUCCEEDED, 40, 40)
    assert job.result == _expected(values)
    assert [index for index, _ in _own_store().chunk_results(job_id, SHARDS)] == list(range(40))


@pytest.mark.usefixtures("atomic_dynamodb_requests")
def test_when_every_delivery_records_before_any_reads_its_shard_each_shard_closes_once(sharded: FanOutCloud) -> None:
    """The seed's failure mode, forced on the sharded protocol: every shard looks complete to every
    delivery at once, so every delivery tries to close its shard and then to start the aggregation."""
    values = [float(index) for index in range(120)]
    job_id, chunks = _submit(sharded, values)
    deliveries = chunks + chunks[:4]
    aggregations = Aggregations()
    after_everyone_recorded = waiting_before("shard_state", threading.Barrier(len(deliveries)))
    outcomes = _run_concurrently(deliveries, aggregations, wrap_store=after_everyone_recorded)

    assert aggregations.started == [job_id]
    assert sum(outcome.aggregation_started for outcome in outcomes) == 1
    job = _own_store().get_job(job_id)
    assert job is not None
    assert (job.status, job.completed_chunks) == (JobStatus.SUCCEEDED, 12)
    assert job.result == _expected(values)


@pytest.mark.usefixtures("atomic_dynamodb_requests")
def test_the_last_chunks_of_every_shard_racing_each_other_and_their_duplicates_start_one_aggregation(
    sharded: FanOutCloud,
) -> None:
    values = [float(index) for index in range(160)]
    job_id, chunks = _submit(sharded, values)
    last_of_each_shard = chunks[-SHARDS:]  # chunks 12..15: one per shard
    for chunk in chunks[:-SHARDS]:
        _deliver(chunk, _own_store(), Aggregations())
    aggregations = Aggregations()

    outcomes = _run_concurrently(last_of_each_shard * 3, aggregations)

    assert aggregations.started == [job_id]
    assert sum(outcome.aggregation_started for outcome in outcomes) == 1
    assert sum(not outcome.duplicate for outcome in outcomes) == SHARDS
    job = _own_store().get_job(job_id)
    assert job is not None
    assert (job.status, job.completed_chunks) == (JobStatus.SUCCEEDED, 16)
    assert job.result == _expected(values)


def _deliver(chunk: ChunkMessage, store: data_access.JobStore, trigger: Callable[[str], None]) -> logic.ChunkOutcome:
    return logic.process_chunk(
        chunk,
        store=store,
        trigger=trigger,
        parallelism=2,
        deadline_seconds=DEADLINE_SECONDS,
        claim_seconds=CLAIM_SECONDS,
    )


@pytest.mark.parametrize("step", ["shard_state", "close_shard", "try_start_aggregation"])
def test_a_worker_dying_between_two_steps_is_covered_by_its_redelivery(sharded: FanOutCloud, step: str) -> None:
    """The last chunk's delivery dies after recording its chunk (reading its shard), after that (closing
    the shard) or after closing it (trying the start): the redelivery, a duplicate, finishes the job."""
    values = [float(index) for index in range(40)]
    job_id, chunks = _submit(sharded, values)
    store, aggregations = _own_store(), Aggregations()
    for chunk in chunks[:-1]:
        _deliver(chunk, store, aggregations)
    dying = _own_store()

    def die(*_args: Any, **_kwargs: Any) -> Any:
        raise ConnectionError(f"worker died before {step}")

    setattr(dying, step, die)
    with pytest.raises(ConnectionError):
        _deliver(chunks[-1], dying, aggregations)
    assert aggregations.started == []

    outcome = _deliver(chunks[-1], store, aggregations)

    assert (outcome.duplicate, outcome.aggregation_started) == (True, True)
    assert aggregations.started == [job_id]
    job = store.get_job(job_id)
    assert job is not None
    assert (job.status, job.completed_chunks, job.result) == (JobStatus.SUCCEEDED, 4, _expected(values))


def test_a_redriven_chunk_leaves_the_failure_fields_of_a_job_still_failed_for_another_in_its_shard(
    sharded: FanOutCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks 1 and 5 share shard 1 (of 4): redriving chunk 1 alone must clear it from the job at
    once, though its shard cannot close until chunk 5 is done too."""
    items = _values(80)
    job_id = sharded.submit({"items": items})["job_id"]
    _outage_for(monkeypatch, {1, 5})
    sharded.drain()
    job = sharded.job(job_id)
    assert (job.status, job.failed_chunks, job.completed_chunks) == (JobStatus.FAILED, [1, 5], 6)

    _outage_for(monkeypatch, {5})
    _redrive(sharded, {1})
    sharded.drain()

    status = sharded.status(job_id)
    assert (status["status"], status["completed_chunks"], status["failed_chunks"]) == ("FAILED", 7, [5])
    assert status["failure_reason"] == (
        "chunk 5 failed after 3 attempts: ConnectionError: downstream unavailable for chunk 5"
    )

    monkeypatch.setattr(data_access.JobStore, "record_chunk", _record_chunk)
    _redrive(sharded)
    sharded.drain()

    status = sharded.status(job_id)
    assert (status["status"], status["completed_chunks"], status["failed_chunks"]) == ("SUCCEEDED", 8, [])
    assert status["failure_reason"] is None
    assert sharded.aggregator_runs == [job_id]


_record_chunk = data_access.JobStore.record_chunk


def test_a_message_that_disagrees_with_its_job_about_shards_is_refused_and_never_counted(
    sharded: FanOutCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    sharded_job, chunks = _submit(sharded, [1.0] * 20)
    monkeypatch.setenv("COMPLETION_SHARDS", "0")
    clear_caches()
    plain_job, plain_chunks = _submit(sharded, [2.0] * 20)
    assert (chunks[0].completion_shards, plain_chunks[0].completion_shards) == (2, 0)
    store = _own_store()

    with pytest.raises(ChunkRejectedError):
        _deliver(chunks[0].model_copy(update={"completion_shards": 0}), store, Aggregations())
    with pytest.raises(ChunkRejectedError):
        _deliver(plain_chunks[0].model_copy(update={"completion_shards": 2}), store, Aggregations())
    with pytest.raises(ChunkRejectedError):
        _deliver(chunks[0].model_copy(update={"completion_shards": 1}), store, Aggregations())

    for job_id in (sharded_job, plain_job):
        job = store.get_job(job_id)
        assert job is not None
        assert (job.status, job.completed_chunks) == (JobStatus.RUNNING, 0)
