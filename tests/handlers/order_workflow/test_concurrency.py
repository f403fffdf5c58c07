"""100 concurrent orders against a stock of 10, through the real handlers.

moto applies a DynamoDB transaction by copying and restoring whole tables, which is
not safe across threads; DynamoDB itself serializes conflicting writes. The fixture
serializes moto's DynamoDB operations (one at a time, as DynamoDB orders them per
item) and records the stock after every write, so "never below zero" is observed,
not inferred. Races between our requests stay fully exposed.
"""

from __future__ import annotations

import functools
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType

from serverless_patterns.lambdas.order_workflow import data
from serverless_patterns.lambdas.shared.observability import logger, metrics
from tests.handlers.order_workflow import saga
from tests.handlers.order_workflow.conftest import INVENTORY_TABLE, Cloud, LambdaContext, order_request

ORDERS = 100
STOCK = 10
HOT_SKU = "SKU-HOT"

_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")
_READS = ("get_item", "query", "scan")


@pytest.fixture
def stock_seen(cloud: Cloud, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    lock = threading.RLock()
    seen: list[int] = []

    def serialized(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def call(backend: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
            with lock:
                try:
                    return method(backend, *args, **kwargs)
                finally:
                    if name in _WRITES and INVENTORY_TABLE in backend.tables:
                        item = backend.tables[INVENTORY_TABLE].get_item(DynamoType({"S": HOT_SKU}))
                        if item is not None:
                            seen.append(int(item.attrs["stock"].value))

        return call

    for name in (*_WRITES, *_READS):
        monkeypatch.setattr(DynamoDBBackend, name, serialized(name, getattr(DynamoDBBackend, name)))
    # The shared Powertools metric set is per container in Lambda; here every thread shares it.
    metrics_lock = threading.Lock()
    for name in ("add_metric", "flush_metrics"):
        method = getattr(metrics.provider, name)
        monkeypatch.setattr(metrics.provider, name, _locked(metrics_lock, method))
    # Only errors are formatted: Powertools' formatter state is per container, not per thread.
    level = logger.log_level
    logger.setLevel("ERROR")
    yield seen
    logger.setLevel(level)


def _locked(lock: threading.Lock, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return method(*args, **kwargs)

    return call


def test_a_hundred_orders_for_ten_units(cloud: Cloud, context: LambdaContext, stock_seen: list[int]) -> None:
    cloud.seed_stock(**{HOT_SKU: STOCK})
    data.dynamodb_client()  # create the shared clients before the threads race to
    data.events_client()
    requests = [
        order_request(f"order-{n:03d}", lines=[{"sku": HOT_SKU, "quantity": 1, "unit_price_cents": 999}])
        for n in range(ORDERS)
    ]

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(lambda request: saga.run(request, context), requests))

    ends = Counter((outcome.end_state, outcome.error) for outcome in outcomes)
    assert ends == {("OrderConfirmed", None): STOCK, ("OrderFailed", "OutOfStock"): ORDERS - STOCK}
    assert cloud.stock(HOT_SKU) == 0
    assert min(stock_seen) == 0
    assert stock_seen == sorted(stock_seen, reverse=True)

    ledger = Counter((entry["order_id"], entry["entry"]) for entry in cloud.all_ledger_entries())
    assert all(count == 1 for count in ledger.values())
    for outcome, request in zip(outcomes, requests, strict=True):
        order_id = request["order_id"]
        status = cloud.order(order_id)["status"]
        charged = (order_id, "CHARGE") in ledger
        refunded = (order_id, "REFUND") in ledger
        if outcome.end_state == "OrderConfirmed":
            assert (status, charged, refunded) == ("CONFIRMED", True, False)
        else:
            assert (status, charged, refunded) == ("FAILED", True, True)
    assert len(cloud.events()) == STOCK
