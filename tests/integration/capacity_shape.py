"""What the local cloud can confirm of the capacity model's shape, for the pattern modules' load tests.

The emulator delivers SQS batches concurrently up to ``MaximumConcurrency`` and the function's
reserved concurrency, never more: with a backlog, the consumer the model says saturates first
runs exactly at its cap (``PatternCapacity.concurrency``, the concurrent executions at the
ceiling), and its peak is visible. Every DynamoDB write request can be counted per item, so the
model's hot keys (a job's completion count) can be seen spreading. What it cannot show is time:
an invocation takes no virtual time, so queues never grow while consumers are capped and rates
are not measured (``make bench`` runs a larger load; the model computes the rates).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from aws_cdk import assertions
from moto.dynamodb.models import DynamoDBBackend

from serverless_patterns.capacity.analysis import analyse
from serverless_patterns.capacity.model import PatternCapacity
from serverless_patterns.capacity.quotas import Quotas
from serverless_patterns.cost.prices import Prices
from serverless_patterns.cost.profile import load_profile
from serverless_patterns.cost.template import read_inventory
from serverless_patterns.local import LocalCloud


def capacity_of(template: assertions.Template, pattern: str) -> PatternCapacity:
    """The capacity model of ``pattern`` in ``template`` (default quotas and traffic profile)."""
    analysis = analyse(
        read_inventory(template.to_json()),
        quotas=Quotas.load(),
        profile=load_profile(),
        prices=Prices.load(),
        environment="Test",
    )
    return next(capacity for capacity in analysis.patterns if capacity.pattern == pattern)


def peak_concurrency(cloud: LocalCloud, queue_construct: str) -> int:
    """The most batches the event source of the queue at ``queue_construct`` ever had in flight at once."""
    arn = cloud.client("sqs").get_queue_attributes(
        QueueUrl=cloud.resource(queue_construct, "AWS::SQS::Queue").physical_id, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    (mapping,) = [m for m in cloud.poller.mappings if m.queue_arn == arn]
    return cloud.poller.peak_concurrency[mapping.uuid]


class ItemWrites:
    """Write requests per DynamoDB item ``(table, pk, sk)`` as the emulator's backend receives them: single
    writes and each write of a transaction (moto applies those one by one; a cancelled transaction's writes
    are counted too, as DynamoDB charges them). ``updates`` counts each item's updates by expression."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.writes: Counter[tuple[str, str, str]] = Counter()
        self.updates: Counter[tuple[tuple[str, str, str], str]] = Counter()
        for name in ("put_item", "update_item"):
            monkeypatch.setattr(DynamoDBBackend, name, self._noting(getattr(DynamoDBBackend, name)))

    def _noting(self, method: Any) -> Any:
        def noted(backend: DynamoDBBackend, table_name: str, *args: Any, **kwargs: Any) -> Any:
            key = kwargs.get("key") or kwargs.get("item_attrs") or (args[0] if args else {})
            item = (table_name, str(key.get("pk", {}).get("S")), str(key.get("sk", {}).get("S")))
            self.writes[item] += 1
            if kwargs.get("update_expression"):
                self.updates[(item, str(kwargs["update_expression"]))] += 1
            return method(backend, table_name, *args, **kwargs)

        return noted

    def updated(self, item: tuple[str, str, str], expression_start: str) -> int:
        """How many updates of ``item`` had an expression starting with ``expression_start``."""
        return sum(
            n
            for (where, expression), n in self.updates.items()
            if where == item and expression.startswith(expression_start)
        )
