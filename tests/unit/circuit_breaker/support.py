"""Test helpers shared by the breaker's unit and handler tests: clock, API call log, EMF lines."""

from __future__ import annotations

import json
from typing import Any

from serverless_patterns.lambdas.shared.breaker_state import DynamoDBStateStore
from serverless_patterns.lambdas.shared.circuit_breaker import BreakerPolicy, CircuitBreaker

TABLE = "breaker-state"
NAME = "payment-gateway"
POLICY = BreakerPolicy(
    failure_threshold=3, window_seconds=60, cooldown_seconds=30, cache_seconds=5, trial_lease_seconds=10
)


class Clock:
    """Epoch seconds that move only when a test says so."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class ApiCalls:
    """The DynamoDB operations a client made, in order (a botocore ``before-call`` handler)."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def __call__(self, **kwargs: Any) -> None:
        self.names.append(kwargs["model"].name)


def create_table(dynamodb: Any, name: str = TABLE) -> None:
    """The state table as the construct creates it: string partition key ``pk``."""
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def container(
    dynamodb: Any, clock: Clock, *, store: DynamoDBStateStore | None = None, policy: BreakerPolicy = POLICY
) -> CircuitBreaker:
    """One Lambda container's breaker: its own cache, the shared table."""
    return CircuitBreaker(NAME, store=store or DynamoDBStateStore(TABLE, dynamodb), policy=policy, clock=clock)


def emitted(output: str) -> list[dict[str, Any]]:
    """The EMF documents among the lines printed to stdout (log lines are JSON too, without ``_aws``)."""
    documents = []
    for line in output.splitlines():
        if line.startswith("{"):
            document = json.loads(line)
            if "_aws" in document:
                documents.append(document)
    return documents


def metric_names(output: str) -> list[str]:
    """The metric names of the EMF documents, in the order they were printed."""
    return [
        metric["Name"]
        for document in emitted(output)
        for directive in document["_aws"]["CloudWatchMetrics"]
        for metric in directive["Metrics"]
    ]


def stored(dynamodb: Any, name: str = NAME) -> dict[str, Any]:
    """The breaker's item as DynamoDB holds it."""
    item: dict[str, Any] = dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": name}}, ConsistentRead=True)["Item"]
    return item
