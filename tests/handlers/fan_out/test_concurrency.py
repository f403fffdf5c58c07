"""Race-free fan-in: real worker logic on many threads against moto DynamoDB, with duplicate deliveries.

Each thread is one worker container: its own boto3 session and JobStore, running
``logic.process_chunk`` on one delivery. Moto executes a request in several Python steps (a
transaction deep-copies and restores whole tables), so two threads inside moto at once could
corrupt each other's writes, which DynamoDB never does; one lock around each DynamoDB request
restores DynamoDB's per-request atomicity. Between requests the threads interleave freely, and
that is where the seed's ``allChunksComplete`` race lives.
"""

from __future__ import annotations

import functools
import random
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import boto3
import pytest
from moto.dynamodb.responses import DynamoHandler

from serverless_patterns.lambdas.fan_out import data_access, logic
from serverless_patterns.lambdas.fan_out.models import ChunkMessage, JobStatus
from tests.handlers.fan_out.conftest import TABLE, FanOutCloud

DEADLINE_SECONDS = 1800
CLAIM_SECONDS = 10
JOIN_TIMEOUT = 60


@pytest.fixture
def atomic_dynamodb_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    lock = threading.Lock()
    call_action = DynamoHandler.call_action

    def one_request_at_a_time(self: DynamoHandler) -> Any:
        with lock:
            return call_action(self)

    monkeypatch.setattr(DynamoHandler, "call_action", one_request_at_a_time)


@functools.cache
def _session() -> boto3.session.Session:
    return boto3.session.Session()


def _own_store() -> data_access.JobStore:
    """A worker container's store: its own resource and client (made here, on the main thread)."""
    return data_access.JobStore(TABLE, client=_session().client("dynamodb"))


class Aggregations:
    """The aggregation trigger: records every start and runs the real aggregator logic."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self._lock = threading.Lock()
        self._store = _own_store()

    def __call__(self, job_id: str) -> None:
        with self._lock:
            self.started.append(job_id)
            logic.aggregate_job(job_id, store=self._store)


def _submit(cloud: FanOutCloud, values: list[float]) -> tuple[str, list[ChunkMessage]]:
    job_id = cloud.submit({"items": [{"value": value} for value in values]})["job_id"]
    chunks = [ChunkMessage.model_validate_json(message["Body"]) for message in cloud.messages()]
    return job_id, sorted(chunks, key=lambda chunk: chunk.chunk_index)


def _expected(values: list[float]) -> dict[str, Any]:
    decimals = [Decimal(repr(value)) for value in values]
    total = sum(decimals, Decimal(0))
    return {
        "count": len(decimals),
        "sum": total,
        "min": min(decimals),
        "max": max(decimals),
        "mean": (total / len(decimals)).quantize(Decimal("0.000001")),
    }


def waiting_before(method: str, barrier: threading.Barrier) -> Callable[[data_access.JobStore], data_access.JobStore]:
    """A store wrapper whose ``method`` waits until every delivery has reached it: the race forced."""

    def wrap(store: data_access.JobStore) -> data_access.JobStore:
        call = getattr(store, method)

        def wait_then_call(*args: Any, **kwargs: Any) -> Any:
            barrier.wait(timeout=JOIN_TIMEOUT)
            return call(*args, **kwargs)

        setattr(store, method, wait_then_call)
        return store

    return wrap


def _run_concurrently(
    deliveries: list[ChunkMessage],
    trigger: Aggregations,
    *,
    wrap_store: Callable[[data_access.JobStore], data_access.JobStore] = lambda store: store,
) -> list[logic.ChunkOutcome]:
    """Every delivery on its own thread, released together; the outcomes, or the first error."""
    stores = [wrap_store(_own_store()) for _ in deliveries]
    start = threading.Barrier(len(deliveries))
    outcomes: list[logic.ChunkOutcome] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(message: ChunkMessage, store: data_access.JobStore) -> None:
        try:
            start.wait(timeout=JOIN_TIMEOUT)
            outcome = logic.process_chunk(
                message,
                store=store,
                trigger=trigger,
                parallelism=4,
                deadline_seconds=DEADLINE_SECONDS,
                claim_seconds=CLAIM_SECONDS,
            )
            with lock:
                outcomes.append(outcome)
        except BaseException as error:
            with lock:
                errors.append(error)

    threads = [threading.Thread(target=work, args=pair) for pair in zip(deliveries, stores, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads)
    if errors:
        raise errors[0]
    return outcomes


@pytest.mark.parametrize("seed", [1, 2])
def test_many_concurrent_workers_with_duplicates_aggregate_exactly_once(
    cloud: FanOutCloud, atomic_dynamodb_requests: None, seed: int
) -> None:
    rng = random.Random(seed)
    values = [rng.randint(-10_000, 10_000) / 100 for _ in range(400)]
    job_id, chunks = _submit(cloud, values)
    duplicates = rng.sample(chunks, 15) + [chunks[-1]] * 3
    deliveries = chunks + duplicates
    rng.shuffle(deliveries)
    aggregations = Aggregations()

    outcomes = _run_concurrently(deliveries, aggregations)

    assert aggregations.started == [job_id]
    assert sum(outcome.aggregation_started for outcome in outcomes) == 1
    assert sum(outcome.duplicate for outcome in outcomes) == len(duplicates)
    job = _own_store().get_job(job_id)
    assert job is not None
    assert (job.status, job.completed_chunks, job.total_chunks) == (JobStatus.SUCCEEDED, 40, 40)
    assert job.result == _expected(values)
    assert len(_own_store().chunk_results(job_id)) == 40


def test_when_every_worker_sees_all_chunks_done_only_one_starts_aggregation(
    cloud: FanOutCloud, atomic_dynamodb_requests: None
) -> None:
    """The seed's failure mode, forced: every delivery records its chunk before any checks completion."""
    values = [float(index) for index in range(120)]
    job_id, chunks = _submit(cloud, values)
    deliveries = chunks + chunks[:4]
    aggregations = Aggregations()
    after_everyone_recorded = waiting_before("try_start_aggregation", threading.Barrier(len(deliveries)))
    outcomes = _run_concurrently(deliveries, aggregations, wrap_store=after_everyone_recorded)

    assert aggregations.started == [job_id]
    assert sum(outcome.aggregation_started for outcome in outcomes) == 1
    job = _own_store().get_job(job_id)
    assert job is not None
    assert job.status is JobStatus.SUCCEEDED
    assert job.result == _expected(values)


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_winner_that_dies_before_invoking_the_aggregator_is_covered_by_its_redelivery(cloud: FanOutCloud) -> None:
    values = [1.5, 2.5, 3.5, 4.5, 5.5] * 6
    job_id, chunks = _submit(cloud, values)
    store = _own_store()
    clock = _Clock(1_900_000_000.0)
    aggregations = Aggregations()
    crashed: list[str] = []

    def crashing_trigger(job: str) -> None:
        crashed.append(job)
        raise RuntimeError("worker died between winning the transition and invoking the aggregator")

    def deliver(chunk: ChunkMessage, trigger: Callable[[str], None] = aggregations) -> logic.ChunkOutcome:
        return logic.process_chunk(
            chunk,
            store=store,
            trigger=trigger,
            parallelism=2,
            deadline_seconds=DEADLINE_SECONDS,
            claim_seconds=CLAIM_SECONDS,
            clock=clock,
        )

    deliver(chunks[0])
    deliver(chunks[1])
    with pytest.raises(RuntimeError, match="worker died"):
        deliver(chunks[2], crashing_trigger)  # the message will be redelivered
    job = store.get_job(job_id)
    assert job is not None
    assert (job.status, job.aggregation_trigger, job.aggregation_dispatched) == (JobStatus.AGGREGATING, 2, False)

    assert deliver(chunks[0]).aggregation_started is False  # not the winner's chunk
    clock.now += CLAIM_SECONDS - 1
    assert deliver(chunks[2]).aggregation_started is False  # the winner may still be running
    clock.now += 2
    assert deliver(chunks[2]).aggregation_started is True  # taken over, once
    clock.now += 100
    assert deliver(chunks[2]).aggregation_started is False  # already handed over

    assert crashed == [job_id]
    assert aggregations.started == [job_id]
    job = store.get_job(job_id)
    assert job is not None
    assert (job.status, job.aggregation_dispatched) == (JobStatus.SUCCEEDED, True)
    assert job.result == _expected(values)
