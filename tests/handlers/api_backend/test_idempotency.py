"""Idempotent creation: retries with the same Idempotency-Key return the first result."""

from __future__ import annotations

import threading
from typing import Any

import boto3
import pytest

from serverless_patterns.lambdas.api_backend import data_access, logic
from serverless_patterns.lambdas.api_backend.errors import RequestInProgressError
from serverless_patterns.lambdas.api_backend.models import ItemInput
from tests.handlers.api_backend.conftest import IDEMPOTENCY_TABLE, TABLE, call, lambda_context

pytestmark = [
    pytest.mark.usefixtures("aws"),
    # Powertools warns once per container when a request emits no business metric (GETs); expected here.
    pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning"),
]


def _count(table: str) -> int:
    return len(boto3.client("dynamodb").scan(TableName=table)["Items"])


def test_retry_with_the_same_key_returns_the_first_result_without_a_duplicate() -> None:
    body = {"name": "widget", "attributes": {"size": "L"}}
    first = call("POST", "/items", body=body, headers={"Idempotency-Key": "order-42"})
    retry = call("POST", "/items", body=body, headers={"Idempotency-Key": "order-42"})
    assert (first.status, retry.status) == (201, 201)
    assert retry.body == first.body
    assert retry.headers["Location"] == first.headers["Location"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _count(TABLE) == 1
    assert _count(IDEMPOTENCY_TABLE) == 1


def test_the_idempotency_record_expires() -> None:
    call("POST", "/items", body={"name": "w"}, headers={"Idempotency-Key": "k"})
    (record,) = boto3.client("dynamodb").scan(TableName=IDEMPOTENCY_TABLE)["Items"]
    assert record["status"]["S"] == "COMPLETED"
    assert int(record["expiration"]["N"]) > 0


def test_same_key_with_another_body_is_refused() -> None:
    assert call("POST", "/items", body={"name": "a"}, headers={"Idempotency-Key": "k"}).status == 201
    reused = call("POST", "/items", body={"name": "b"}, headers={"Idempotency-Key": "k"})
    assert reused.status == 422
    assert "Idempotency-Key" in reused.body["message"]
    assert _count(TABLE) == 1


def test_keys_are_scoped_to_the_caller() -> None:
    body = {"name": "a"}
    alice = call("POST", "/items", body=body, headers={"Idempotency-Key": "k"})
    bob = call(
        "POST", "/items", body=body, headers={"Idempotency-Key": "k"}, caller_arn="arn:aws:iam::123456789012:user/bob"
    )
    cognito = call("POST", "/items", body=body, headers={"Idempotency-Key": "k"}, caller_arn=None, claims={"sub": "u1"})
    assert len({alice.body["id"], bob.body["id"], cognito.body["id"]}) == 3
    assert _count(TABLE) == 3


def test_without_a_key_every_request_creates() -> None:
    call("POST", "/items", body={"name": "a"})
    call("POST", "/items", body={"name": "a"})
    assert _count(TABLE) == 2
    assert _count(IDEMPOTENCY_TABLE) == 0


@pytest.mark.parametrize("key", ["has space", "x" * 129, "tab\there"])
def test_malformed_keys_are_422(key: str) -> None:
    assert call("POST", "/items", body={"name": "a"}, headers={"Idempotency-Key": key}).status == 422
    assert _count(TABLE) == 0


def test_a_failed_create_does_not_poison_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    original = data_access.ItemRepository.create

    def fail_once(self: data_access.ItemRepository, item: Any) -> None:
        monkeypatch.setattr(data_access.ItemRepository, "create", original)
        raise RuntimeError("transient")

    monkeypatch.setattr(data_access.ItemRepository, "create", fail_once)
    assert call("POST", "/items", body={"name": "a"}, headers={"Idempotency-Key": "k"}).status == 500
    assert call("POST", "/items", body={"name": "a"}, headers={"Idempotency-Key": "k"}).status == 201
    assert _count(TABLE) == 1


def test_a_concurrent_request_with_the_same_key_is_409_then_replays(monkeypatch: pytest.MonkeyPatch) -> None:
    """While the first request holds the key, a duplicate gets 409; afterwards it gets the first result."""
    entered, release = threading.Event(), threading.Event()
    original = data_access.ItemRepository.create

    def slow_create(self: data_access.ItemRepository, item: Any) -> None:
        entered.set()
        assert release.wait(timeout=10)
        original(self, item)

    monkeypatch.setattr(data_access.ItemRepository, "create", slow_create)
    data = ItemInput(name="a")
    results: list[logic.Created] = []

    def first() -> None:
        results.append(logic.create_item(data, idempotency_key="k", principal="p", lambda_context=lambda_context()))

    holder = threading.Thread(target=first)
    holder.start()
    assert entered.wait(timeout=10)
    with pytest.raises(RequestInProgressError):
        logic.create_item(data, idempotency_key="k", principal="p", lambda_context=lambda_context())
    release.set()
    holder.join(timeout=10)
    replay = logic.create_item(data, idempotency_key="k", principal="p", lambda_context=lambda_context())
    assert replay.replayed
    assert replay.item == results[0].item
    assert _count(TABLE) == 1
