"""``VersionedRepository`` on a table of the user's own: another key, other values, counters in another map."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from moto.dynamodb.parsing import executors

from serverless_patterns.lambdas.api_backend.cursor import encode_cursor
from serverless_patterns.lambdas.api_backend.errors import (
    CounterLimitError,
    InvalidCursorError,
    ItemNotFoundError,
    PreconditionFailedError,
    VersionConflictError,
)
from serverless_patterns.lambdas.api_backend.preconditions import Precondition
from serverless_patterns.lambdas.api_backend.repository import VersionedRepository
from serverless_patterns.lambdas.api_backend.resources import cursor_signing_key

PRODUCTS = "products"


@pytest.fixture(scope="module")
def products_table(emulated_account: Any) -> Iterator[str]:
    emulated_account.create_table(
        TableName=PRODUCTS,
        KeySchema=[{"AttributeName": "sku", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "sku", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield PRODUCTS
    emulated_account.delete_table(TableName=PRODUCTS)


@pytest.fixture
def products(aws: None, products_table: str, emulated_account: Any) -> VersionedRepository:
    for image in emulated_account.scan(TableName=products_table, ProjectionExpression="sku")["Items"]:
        emulated_account.delete_item(TableName=products_table, Key={"sku": image["sku"]})
    return VersionedRepository(products_table, key="sku", kind="product")


def test_items_round_trip_with_their_own_key_and_numbers(products: VersionedRepository) -> None:
    products.create({"sku": "p-1", "price": 12.5, "stock": 3, "tags": ["a"], "dimensions": {"w": 0.25}, "gone": None})
    assert products.get("p-1") == {
        "sku": "p-1",
        "price": 12.5,
        "stock": 3,
        "tags": ["a"],
        "dimensions": {"w": 0.25},
        "version": 1,
    }
    with pytest.raises(ValueError, match="a new product needs its key 'sku'"):
        products.create({"id": "p-2"})


def test_replace_bumps_the_version_and_names_the_kind(products: VersionedRepository) -> None:
    products.create({"sku": "p-1", "price": 1.0, "note": "old"})
    stored = products.replace("p-1", {"price": 2.0, "note": None}, precondition=Precondition(1, from_header=False))
    assert (stored["version"], stored["price"], "note" in stored) == (2, 2, False)
    with pytest.raises(VersionConflictError, match="product 'p-1' is at version 2, not 1") as conflict:
        products.replace("p-1", {"price": 3.0}, precondition=Precondition(1, from_header=False))
    assert not isinstance(conflict.value, PreconditionFailedError)
    with pytest.raises(PreconditionFailedError):
        products.replace("p-1", {"price": 3.0}, precondition=Precondition(1, from_header=True))
    with pytest.raises(ItemNotFoundError, match="product 'p-9' not found"):
        products.replace("p-9", {"price": 3.0}, precondition=Precondition(1, from_header=True))
    with pytest.raises(ValueError, match="'sku' and 'version' are the repository's"):
        products.replace("p-1", {"version": 7}, precondition=Precondition(2, from_header=False))


def test_delete_with_and_without_a_precondition(products: VersionedRepository) -> None:
    products.create({"sku": "p-1"})
    with pytest.raises(PreconditionFailedError):
        products.delete("p-1", precondition=Precondition(2, from_header=True))
    products.delete("p-1")
    with pytest.raises(ItemNotFoundError):
        products.delete("p-1")


def test_counters_in_a_map_of_the_users_naming(products: VersionedRepository) -> None:
    products.create({"sku": "p-1", "views": {}})
    assert [products.increment("p-1", "daily", 2, max_counters=1, attribute="views") for _ in range(2)] == [2, 4]
    with pytest.raises(CounterLimitError, match="already has 1 counters, the most a product may have"):
        products.increment("p-1", "weekly", 1, max_counters=1, attribute="views")
    assert products.get("p-1") == {"sku": "p-1", "views": {"daily": 4}, "version": 1}


def test_pages_resume_from_signed_cursors_of_this_key_only(products: VersionedRepository) -> None:
    for index in range(5):
        products.create({"sku": f"p-{index}"})
    seen: list[str] = []
    cursor: str | None = None
    while True:
        rows, cursor = products.scan_page(2, cursor)
        seen += [row["sku"] for row in rows]
        if cursor is None:
            break
    assert sorted(seen) == [f"p-{index}" for index in range(5)]
    items_cursor = encode_cursor({"id": "p-1"}, cursor_signing_key())  # signed, but for a table keyed by id
    with pytest.raises(InvalidCursorError):
        products.scan_page(2, items_cursor)


@pytest.mark.parametrize("key", ["", "k" * 2_049, "\ud800"])
def test_a_key_dynamodb_cannot_store_names_no_item(products: VersionedRepository, key: str) -> None:
    assert products.get(key) is None
    with pytest.raises(ItemNotFoundError):
        products.replace(key, {"price": 1}, precondition=Precondition(1, from_header=True))
    with pytest.raises(ItemNotFoundError):
        products.delete(key)
    with pytest.raises(ItemNotFoundError):
        products.increment(key, "c", 1, max_counters=1)


def test_a_reader_never_sees_a_new_version_beside_old_fields(
    products: VersionedRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto applies an update's actions one by one (DynamoDB atomically): slowed down, a reader sees them in between.

    The version is set last, so a read in between shows new fields under the old version (a write
    based on it then fails its condition), never the new version beside old fields (a retrying
    writer would then overwrite an update it never saw).
    """
    original = executors.SetExecutor.execute

    def slow(self: executors.SetExecutor, item: Any) -> None:
        original(self, item)
        time.sleep(0.001)

    monkeypatch.setattr(executors.SetExecutor, "execute", slow)
    products.create({"sku": "p", "label": 1})
    done = threading.Event()
    seen: list[tuple[int, int]] = []

    def read() -> None:
        while not done.is_set():
            row = products.get("p") or {}
            seen.append((row["version"], row["label"]))
            time.sleep(0.0005)  # yield the GIL: a spinning reader starves the writer (minutes under load)

    reader = threading.Thread(target=read)
    reader.start()
    for version in range(1, 25):
        fields = {"label": version + 1, "a": version, "b": version}
        products.replace("p", fields, precondition=Precondition(version, from_header=False))
    done.set()
    reader.join(timeout=10)
    assert len(seen) > 10
    assert all(label >= version for version, label in seen), [pair for pair in seen if pair[1] < pair[0]][:3]
