"""What an estimate is made of: line items, per-function usage, the batching comparison."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LineItem:
    """One priced quantity: ``quantity`` of ``unit`` at ``unit_price`` USD per ``per`` units."""

    service: str
    item: str
    quantity: float
    unit: str
    unit_price: float
    per: float = 1.0
    note: str = ""

    @property
    def monthly_usd(self) -> float:
        """The line's monthly cost."""
        return self.quantity / self.per * self.unit_price

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, with the cost."""
        return {
            "service": self.service,
            "item": self.item,
            "quantity": self.quantity,
            "unit": self.unit,
            "unit_price_usd": self.unit_price,
            "per": self.per,
            "monthly_usd": round(self.monthly_usd, 6),
            "note": self.note,
        }


@dataclass(frozen=True)
class FunctionUsage:
    """One function's month: invocations, compute and what it costs in Lambda alone."""

    path: str
    memory_mb: int
    architecture: str
    invocations: float
    records: float
    gb_seconds: float
    provisioned_concurrency: int
    lambda_usd: float
    sources: tuple[str, ...] = ()

    @property
    def average_duration_ms(self) -> float:
        """Mean billed duration of an invocation."""
        if not self.invocations:
            return 0.0
        return self.gb_seconds / (self.memory_mb / 1024) / self.invocations * 1000

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "path": self.path,
            "memory_mb": self.memory_mb,
            "architecture": self.architecture,
            "invocations": round(self.invocations, 3),
            "records": round(self.records, 3),
            "average_duration_ms": round(self.average_duration_ms, 3),
            "gb_seconds": round(self.gb_seconds, 3),
            "provisioned_concurrency": self.provisioned_concurrency,
            "lambda_usd": round(self.lambda_usd, 6),
            "driven_by": list(self.sources),
        }


@dataclass(frozen=True)
class Estimate:
    """Line items, per-function usage and notes for a month of one environment."""

    environment: str
    profile: str
    region: str
    prices_as_of: str
    days_per_month: float
    items: tuple[LineItem, ...]
    functions: tuple[FunctionUsage, ...]
    notes: tuple[str, ...] = ()

    @property
    def total_usd(self) -> float:
        """The month's total."""
        return sum(item.monthly_usd for item in self.items)

    def by_service(self) -> dict[str, float]:
        """Subtotals per service, largest first."""
        totals: dict[str, float] = defaultdict(float)
        for item in self.items:
            totals[item.service] += item.monthly_usd
        return dict(sorted(totals.items(), key=lambda entry: -entry[1]))

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "environment": self.environment,
            "profile": self.profile,
            "region": self.region,
            "prices_as_of": self.prices_as_of,
            "days_per_month": self.days_per_month,
            "total_usd": round(self.total_usd, 2),
            "by_service_usd": {service: round(usd, 2) for service, usd in self.by_service().items()},
            "items": [item.as_dict() for item in self.items],
            "functions": [usage.as_dict() for usage in self.functions],
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class BatchScenario:
    """Processing a number of queued files with one batch size."""

    batch_size: int
    invocations: int
    gb_seconds: float
    lambda_usd: float
    sqs_usd: float
    logs_usd: float

    @property
    def total_usd(self) -> float:
        """Lambda, SQS and log ingestion together."""
        return self.lambda_usd + self.sqs_usd + self.logs_usd


@dataclass(frozen=True)
class BatchingComparison:
    """The configured batch size against one invocation per file, for ``files`` files."""

    function: str
    files: int
    batched: BatchScenario
    per_item: BatchScenario

    @property
    def invocations_saved_share(self) -> float:
        """Share of invocations batching avoids."""
        return 1 - self.batched.invocations / self.per_item.invocations

    @property
    def cost_saved_share(self) -> float:
        """Share of the cost batching avoids."""
        if not self.per_item.total_usd:
            return 0.0
        return 1 - self.batched.total_usd / self.per_item.total_usd

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""

        def scenario(s: BatchScenario) -> dict[str, Any]:
            return {
                "batch_size": s.batch_size,
                "invocations": s.invocations,
                "gb_seconds": round(s.gb_seconds, 3),
                "lambda_usd": round(s.lambda_usd, 6),
                "sqs_usd": round(s.sqs_usd, 6),
                "logs_usd": round(s.logs_usd, 6),
                "total_usd": round(s.total_usd, 6),
            }

        return {
            "function": self.function,
            "files": self.files,
            "batched": scenario(self.batched),
            "one_per_file": scenario(self.per_item),
            "invocations_saved_share": round(self.invocations_saved_share, 4),
            "cost_saved_share": round(self.cost_saved_share, 4),
        }
