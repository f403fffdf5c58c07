"""Optimistic locking and atomic counters under real concurrency.

DynamoDB applies each conditional write to an item atomically. moto evaluates the
condition and applies the write in separate Python steps, so the fixture serialises
moto's write operations the way DynamoDB serialises writes to one item; everything
above that (our conditional expressions, version arithmetic, error mapping) runs
concurrently and unaltered. A read-then-write implementation would lose updates here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from moto.dynamodb.models import DynamoDBBackend

from serverless_patterns.lambdas.api_backend import logic
from serverless_patterns.lambdas.api_backend.errors import VersionConflictError
from serverless_patterns.lambdas.api_backend.models import Item, ItemInput

WRITERS = 12


@pytest.fixture
def atomic_writes(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    lock = threading.Lock()
    for operation in ("put_item", "update_item", "delete_item"):
        original: Callable[..., Any] = getattr(DynamoDBBackend, operation)

        def serialised(self: DynamoDBBackend, *args: Any, _original: Callable[..., Any] = original, **kw: Any) -> Any:
            with lock:
                return _original(self, *args, **kw)

        monkeypatch.setattr(DynamoDBBackend, operation, serialised)


def _new_item() -> Item:
    return logic.create_item(ItemInput(name="start"), idempotency_key=None, principal="p", lambda_context=None).item


def _run_together(work: Callable[[int], Any]) -> list[Any]:
    """Start every writer at the same barrier so their requests overlap."""
    barrier = threading.Barrier(WRITERS)

    def start(index: int) -> Any:
        barrier.wait(timeout=10)
        try:
            return work(index)
        except VersionConflictError as conflict:
            return conflict

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        return list(pool.map(start, range(WRITERS)))


@pytest.mark.usefixtures("atomic_writes")
def test_concurrent_updates_of_the_same_version_exactly_one_wins() -> None:
    item = _new_item()
    outcomes = _run_together(
        lambda index: logic.replace_item(
            item.id, ItemInput(name=f"writer-{index}"), precondition=logic.Precondition(item.version, from_header=False)
        )
    )
    winners = [outcome for outcome in outcomes if isinstance(outcome, Item)]
    conflicts = [outcome for outcome in outcomes if isinstance(outcome, VersionConflictError)]
    assert len(winners) == 1
    assert len(conflicts) == WRITERS - 1
    assert all(conflict.current == 2 for conflict in conflicts)
    stored = logic.get_item(item.id)
    assert stored.version == 2
    assert stored.name == winners[0].name  # the winner's write is the one kept


@pytest.mark.usefixtures("atomic_writes")
def test_retrying_writers_lose_no_update() -> None:
    item = _new_item()

    def add_my_attribute(index: int) -> int:
        attempts = 0
        while True:
            attempts += 1
            current = logic.get_item(item.id)
            attributes = {**current.attributes, f"writer-{index}": "done"}
            try:
                logic.replace_item(
                    item.id,
                    ItemInput(name="merged", attributes=attributes),
                    precondition=logic.Precondition(current.version, from_header=False),
                )
            except VersionConflictError:
                continue
            return attempts

    attempts = _run_together(add_my_attribute)
    stored = logic.get_item(item.id)
    assert stored.attributes == {f"writer-{index}": "done" for index in range(WRITERS)}
    assert stored.version == 1 + WRITERS
    assert sum(attempts) >= WRITERS


@pytest.mark.usefixtures("atomic_writes")
def test_concurrent_counter_increments_all_count() -> None:
    item = _new_item()
    values = _run_together(lambda index: logic.increment_counter(item.id, "hits", index + 1).value)
    total = sum(range(1, WRITERS + 1))
    assert sorted(values)[-1] == total
    assert len(set(values)) == WRITERS  # every increment saw a distinct running total
    stored = logic.get_item(item.id)
    assert stored.counters == {"hits": total}
    assert stored.version == 1
