"""SendConfirmation under moto: confirmed once, announced once, and the deferred-queue path."""

from __future__ import annotations

import json
from typing import Any

import pytest

from serverless_patterns.lambdas.order_workflow import charge, confirm, data, inventory, validate
from serverless_patterns.lambdas.order_workflow.errors import OrderStateError, TransientError
from tests.handlers.order_workflow.conftest import Cloud, LambdaContext, order_request


def _reserved(cloud: Cloud, context: LambdaContext, order_id: str = "order-1") -> dict[str, Any]:
    cloud.seed_stock(**{"SKU-A": 50, "SKU-B": 50})
    order: dict[str, Any] = validate.handler(order_request(order_id), context)["order"]
    charge.handler(order, context)
    inventory.handler(order, context)
    return order


def test_confirmation_marks_the_order_and_emits_one_event(cloud: Cloud, context: LambdaContext) -> None:
    order = _reserved(cloud, context)

    assert confirm.handler(order, context) == {"order_id": "order-1", "status": "CONFIRMED", "notified": True}
    assert confirm.handler(order, context)["status"] == "CONFIRMED"

    stored = cloud.order("order-1")
    assert stored["status"] == "CONFIRMED"
    assert "notified_at" in stored
    (event,) = cloud.events()
    assert event["source"] == "serverless-patterns.orders"
    assert event["detail-type"] == "OrderConfirmed"
    assert event["detail"]["order_id"] == "order-1"
    assert event["detail"]["total_cents"] == 3000
    assert event["detail"]["payment_id"] == stored["payment_id"]


class _RejectingBus:
    def __init__(self) -> None:
        self.calls = 0

    def put_events(self, **_: Any) -> dict[str, Any]:
        self.calls += 1
        return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure"}]}


def test_a_failed_announcement_keeps_the_order_confirmed_and_the_retry_sends_it(
    cloud: Cloud, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = _reserved(cloud, context)
    rejecting = _RejectingBus()
    working = data.events_client
    monkeypatch.setattr(data, "events_client", lambda: rejecting)

    with pytest.raises(TransientError, match="InternalFailure"):
        confirm.handler(order, context)
    assert cloud.order("order-1")["status"] == "CONFIRMED"
    assert "notified_at" not in cloud.order("order-1")

    monkeypatch.setattr(data, "events_client", working)
    confirm.handler(order, context)
    assert rejecting.calls == 1
    assert len(cloud.events()) == 1


def test_an_order_that_is_not_reserved_is_not_confirmed(cloud: Cloud, context: LambdaContext) -> None:
    cloud.seed_stock(**{"SKU-A": 5, "SKU-B": 5})
    order = validate.handler(order_request(), context)["order"]

    with pytest.raises(OrderStateError, match="VALIDATED, not RESERVED"):
        confirm.handler(order, context)
    assert cloud.events() == []


def test_the_confirmation_queue_batch_reports_only_failed_records(cloud: Cloud, context: LambdaContext) -> None:
    reserved = _reserved(cloud, context, "order-1")
    unreserved = validate.handler(order_request("order-2"), context)["order"]
    batch = {
        "Records": [
            {"messageId": "m-1", "eventSource": "aws:sqs", "body": json.dumps(reserved)},
            {"messageId": "m-2", "eventSource": "aws:sqs", "body": json.dumps(unreserved)},
            {"messageId": "m-3", "eventSource": "aws:sqs", "body": "not json"},
        ]
    }

    assert confirm.handler(batch, context) == {
        "batchItemFailures": [{"itemIdentifier": "m-2"}, {"itemIdentifier": "m-3"}]
    }
    assert cloud.order("order-1")["status"] == "CONFIRMED"
    assert cloud.order("order-2")["status"] == "VALIDATED"
