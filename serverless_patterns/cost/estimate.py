"""The monthly cost of one environment: its template's resources, a traffic profile, list prices.

The template says what exists and how it is sized: functions (memory, architecture,
provisioned concurrency) and the pattern roles they play, SQS event sources (batch size,
batching window), schedules (keep-warm pings, the sweeper), state machine definitions, tables,
alarms, dashboards, log groups and their retention. The profile says how much work arrives and
what each function does per invocation and per record. ``traffic`` turns the traffic into loads
on the functions, pattern instance by pattern instance, as it reaches them in the app;
``services`` prices the loads and the resources; ``results`` holds what comes out.

Free tiers, data transfer and taxes are left out; see ``Estimate.notes`` for the rest.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

from serverless_patterns.cost.lambda_items import lambda_items
from serverless_patterns.cost.prices import Prices
from serverless_patterns.cost.profile import FunctionWork, TrafficProfile
from serverless_patterns.cost.results import (
    BatchingComparison,
    BatchScenario,
    Estimate,
    FunctionUsage,
    LineItem,
)
from serverless_patterns.cost.services import (
    KB_PER_GB,
    MILLION,
    api_gateway_items,
    cloudwatch_items,
    dynamodb_items,
    other_items,
    s3_items,
    sqs_items,
    step_functions_items,
    xray_items,
)
from serverless_patterns.cost.template import FunctionSpec, Inventory
from serverless_patterns.cost.traffic import PIPELINE, Load, TrafficModel, records_per_batch

__all__ = [
    "BatchScenario",
    "BatchingComparison",
    "Estimate",
    "FunctionUsage",
    "LineItem",
    "Load",
    "batching_comparison",
    "batching_comparisons",
    "estimate",
    "records_per_batch",
    "summary",
]


def _notes(inventory: Inventory, profile: TrafficProfile) -> list[str]:
    notes = [
        f"{profile.days_per_month:g}-day month; free tiers, data transfer and taxes left out",
        "provisioned concurrency at its configured minimum; auto scaling above it adds cost with load",
    ]
    if inventory.http_apis:
        notes.append(f"{inventory.http_apis} HTTP API(s) not priced")
    for schedule in inventory.unsupported_schedules:
        notes.append(f"schedule not estimated (only rate(...) is): {schedule}")
    return notes


def estimate(inventory: Inventory, profile: TrafficProfile, prices: Prices, *, environment: str) -> Estimate:
    """The monthly estimate of ``environment`` (its ``inventory``) under ``profile`` at ``prices``."""
    traffic = TrafficModel(inventory, profile).build()
    lambdas, usages, work, function_log_kb = lambda_items(inventory, traffic, profile, prices)
    dynamodb, dynamodb_notes = dynamodb_items(inventory, work, profile, prices)
    items: list[LineItem] = [
        *(item for item in lambdas if item.quantity),
        *api_gateway_items(traffic, profile, prices),
        *sqs_items(inventory, traffic, work, profile, prices),
        *dynamodb,
        *step_functions_items(traffic, profile, prices),
        *s3_items(inventory, traffic, work, profile, prices),
        *cloudwatch_items(inventory, traffic, function_log_kb, profile, prices),
        *xray_items(inventory, traffic, profile, prices),
        *other_items(inventory, work, prices),
    ]
    return Estimate(
        environment=environment,
        profile=profile.name,
        region=prices.region,
        prices_as_of=prices.as_of,
        days_per_month=profile.days_per_month,
        items=tuple(items),
        functions=tuple(usages),
        notes=tuple(_notes(inventory, profile) + dynamodb_notes + traffic.notes),
    )


def _batch_scenario(
    files: int, batch_size: int, work: FunctionWork, spec: FunctionSpec, profile: TrafficProfile, prices: Prices
) -> BatchScenario:
    """``files`` processed in full batches of ``batch_size`` by the function ``spec``."""
    invocations = math.ceil(files / batch_size)
    total = work.per_invocation.times(invocations).plus(work.per_record, files)
    gb_seconds = total.duration_ms / 1000 * spec.memory_gb
    log_kb = total.log_kb + invocations * profile.assumptions.platform_log_kb_per_invocation
    return BatchScenario(
        batch_size=batch_size,
        invocations=invocations,
        gb_seconds=gb_seconds,
        lambda_usd=invocations / MILLION * prices("lambda", "requests_per_million")
        + gb_seconds * prices("lambda", f"{spec.architecture}_gb_second"),
        sqs_usd=2 * invocations / MILLION * prices("sqs", "standard_requests_per_million"),
        logs_usd=log_kb / KB_PER_GB * prices("cloudwatch", "logs_ingestion_gb"),
    )


def batching_comparisons(
    inventory: Inventory, profile: TrafficProfile, prices: Prices, *, files: int = 1_000
) -> list[BatchingComparison]:
    """For each EventPipeline: what its processing queue's batch size saves over one invocation per file."""
    model = TrafficModel(inventory, profile)
    comparisons = []
    for instance in model.instances:
        spec = instance.function("process") if instance.pattern == PIPELINE else None
        source = inventory.queue_source(spec.logical_id) if spec else None
        if spec is None or source is None:
            continue
        work = model.work(spec)
        batched = _batch_scenario(files, source.batch_size, work, spec, profile, prices)
        single = _batch_scenario(files, 1, work, spec, profile, prices)
        comparisons.append(BatchingComparison(function=spec.path, files=files, batched=batched, per_item=single))
    return comparisons


def batching_comparison(
    inventory: Inventory, profile: TrafficProfile, prices: Prices, *, files: int = 1_000
) -> BatchingComparison | None:
    """The first EventPipeline's batching comparison (None: the template has none)."""
    comparisons = batching_comparisons(inventory, profile, prices, files=files)
    return comparisons[0] if comparisons else None


def summary(estimates: Sequence[Estimate]) -> dict[str, dict[str, float]]:
    """Per service, each environment's monthly USD (for a side-by-side table)."""
    services: dict[str, dict[str, float]] = defaultdict(dict)
    for current in estimates:
        for service, usd in current.by_service().items():
            services[service][current.environment] = usd
    return dict(services)
