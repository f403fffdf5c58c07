"""Moto-backed tables, bus and environment for the order workflow handlers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from serverless_patterns.lambdas.order_workflow import charge, data, gateway, names
from serverless_patterns.lambdas.shared.observability import metrics
from serverless_patterns.lambdas.shared.settings import load_settings
from tests.handlers.order_workflow.payment_provider import PaymentProvider

ORDERS_TABLE = "orders"
INVENTORY_TABLE = "inventory"
PAYMENTS_TABLE = "payments"
IDEMPOTENCY_TABLE = "idempotency"
EVENT_BUS = "orders-bus"
MAX_CHARGE_CENTS = 100_000


@dataclass
class LambdaContext:
    """What Powertools reads from the Lambda context."""

    function_name: str = "order-workflow-test"
    function_version: str = "1"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:order-workflow-test:live"
    aws_request_id: str = "request-1"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@dataclass
class Cloud:
    """The emulated resources and a way to read what the handlers wrote."""

    dynamodb: Any
    sqs: Any
    events_queue_url: str

    def seed_stock(self, **stock: int) -> None:
        for sku, level in stock.items():
            self.dynamodb.put_item(TableName=INVENTORY_TABLE, Item={"sku": {"S": sku}, "stock": {"N": str(level)}})

    def stock(self, sku: str) -> int:
        item = self.dynamodb.get_item(TableName=INVENTORY_TABLE, Key={"sku": {"S": sku}}, ConsistentRead=True)
        return int(item["Item"]["stock"]["N"])

    def order(self, order_id: str) -> dict[str, Any]:
        item = self.dynamodb.get_item(TableName=ORDERS_TABLE, Key={"order_id": {"S": order_id}}, ConsistentRead=True)
        return data._from_item(item["Item"]) if "Item" in item else {}

    def ledger(self, order_id: str) -> list[dict[str, Any]]:
        response = self.dynamodb.query(
            TableName=PAYMENTS_TABLE,
            KeyConditionExpression="order_id = :id",
            ExpressionAttributeValues={":id": {"S": order_id}},
        )
        return [data._from_item(item) for item in response["Items"]]

    def all_ledger_entries(self) -> list[dict[str, Any]]:
        return [data._from_item(item) for item in self.dynamodb.scan(TableName=PAYMENTS_TABLE)["Items"]]

    def events(self) -> list[dict[str, Any]]:
        received: list[dict[str, Any]] = []
        while True:
            response = self.sqs.receive_message(QueueUrl=self.events_queue_url, MaxNumberOfMessages=10)
            messages = response.get("Messages", [])
            if not messages:
                return received
            for message in messages:
                received.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.events_queue_url, ReceiptHandle=message["ReceiptHandle"])


def _table(client: Any, name: str, *keys: str) -> None:
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": kind} for key, kind in zip(keys, ("HASH", "RANGE"), strict=False)],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"} for key in keys],
        BillingMode="PAY_PER_REQUEST",
    )


def clear_caches() -> None:
    load_settings.cache_clear()
    data.dynamodb_client.cache_clear()
    data.events_client.cache_clear()
    charge.idempotent_charge.cache_clear()
    gateway.payment_gateway.cache_clear()


def use_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The variables the construct sets on the functions, and the metrics they are built with."""
    for name, value in {
        names.ORDERS_TABLE_ENV: ORDERS_TABLE,
        names.INVENTORY_TABLE_ENV: INVENTORY_TABLE,
        names.PAYMENTS_TABLE_ENV: PAYMENTS_TABLE,
        names.IDEMPOTENCY_TABLE_ENV: IDEMPOTENCY_TABLE,
        names.IDEMPOTENCY_TTL_ENV: "86400",
        names.EVENT_BUS_ENV: EVENT_BUS,
        names.PAYMENT_GATEWAY_ENV: "ledger",
        names.MAX_CHARGE_ENV: str(MAX_CHARGE_CENTS),
        "AWS_LAMBDA_FUNCTION_NAME": "order-workflow-test",
    }.items():
        monkeypatch.setenv(name, value)
    # The shared metrics were created at import, whatever POWERTOOLS_* said then: pin what the
    # functions get from the construct (namespace per environment, service dimension).
    monkeypatch.setattr(metrics.provider, "namespace", "ServerlessPatterns/Test")
    monkeypatch.setattr(metrics.provider, "service", names.SERVICE)
    clear_caches()


def create_cloud() -> Cloud:
    """Tables as the construct creates them, the bus with a rule copying events to a queue (moto active)."""
    dynamodb = boto3.client("dynamodb")
    _table(dynamodb, ORDERS_TABLE, "order_id")
    _table(dynamodb, INVENTORY_TABLE, "sku")
    _table(dynamodb, PAYMENTS_TABLE, "order_id", "entry")
    _table(dynamodb, IDEMPOTENCY_TABLE, "id")
    events = boto3.client("events")
    sqs = boto3.client("sqs")
    events.create_event_bus(Name=EVENT_BUS)
    queue_url = sqs.create_queue(QueueName="order-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="all-order-events", EventBusName=EVENT_BUS, EventPattern=f'{{"source": ["{names.EVENT_SOURCE}"]}}'
    )
    events.put_targets(Rule="all-order-events", EventBusName=EVENT_BUS, Targets=[{"Id": "q", "Arn": queue_arn}])
    return Cloud(dynamodb=dynamodb, sqs=sqs, events_queue_url=queue_url)


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch) -> Iterator[Cloud]:
    """A fresh moto account with the workflow's tables and bus, and the functions' environment."""
    use_environment(monkeypatch)
    with mock_aws():
        yield create_cloud()
    clear_caches()


@pytest.fixture
def provider() -> Iterator[PaymentProvider]:
    """The local payment provider (``payment_provider``), serving for one test."""
    provider = PaymentProvider()
    provider.service.start()
    yield provider
    provider.service.stop()


@pytest.fixture
def context() -> LambdaContext:
    return LambdaContext()


def order_request(order_id: str = "order-1", **overrides: Any) -> dict[str, Any]:
    """A valid submitted order: two lines, 2 x 1250 + 1 x 500 = 3000 cents."""
    request: dict[str, Any] = {
        "order_id": order_id,
        "customer_id": "customer-7",
        "currency": "EUR",
        "lines": [
            {"sku": "SKU-A", "quantity": 2, "unit_price_cents": 1250},
            {"sku": "SKU-B", "quantity": 1, "unit_price_cents": 500},
        ],
    }
    request.update(overrides)
    return request
