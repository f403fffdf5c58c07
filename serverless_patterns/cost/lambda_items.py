"""Lambda's line items: requests, duration on demand and on provisioned concurrency, SnapStart; usage per function."""

from __future__ import annotations

from collections import defaultdict

from serverless_patterns.cost.prices import Prices
from serverless_patterns.cost.profile import TrafficProfile, Work
from serverless_patterns.cost.results import FunctionUsage, LineItem
from serverless_patterns.cost.template import SECONDS_PER_DAY, Inventory
from serverless_patterns.cost.traffic import Traffic

MILLION = 1_000_000


def lambda_items(
    inventory: Inventory, traffic: Traffic, profile: TrafficProfile, prices: Prices
) -> tuple[list[LineItem], list[FunctionUsage], Work, dict[str, float]]:
    """Lambda line items, per-function usage, the functions' total monthly work, log KB per log group."""
    days = profile.days_per_month
    seconds = days * SECONDS_PER_DAY
    requests: dict[str, float] = defaultdict(float)
    on_demand: dict[str, float] = defaultdict(float)
    provisioned: dict[str, float] = defaultdict(float)
    on_provisioned: dict[str, float] = defaultdict(float)
    snapshot_cache_gbs = restored_gb = 0.0
    usages = []
    total = Work()
    log_kb: dict[str, float] = defaultdict(float)
    for logical_id, spec in sorted(inventory.functions.items(), key=lambda entry: entry[1].path):
        loads = traffic.loads.get(logical_id, [])
        invocations = sum(load.invocations_per_day for load in loads) * days
        records = sum(load.invocations_per_day * load.records_per_invocation for load in loads) * days
        work = Work()
        for load in loads:
            work = work.plus(load.daily_work(), days)
        total = total.plus(work)
        gb_seconds = work.duration_ms / 1000 * spec.memory_gb
        arch = spec.architecture
        price = prices("lambda", f"{arch}_gb_second")
        usd = invocations / MILLION * prices("lambda", "requests_per_million")
        requests[arch] += invocations
        if spec.provisioned_concurrency:
            reserved_gbs = spec.provisioned_concurrency * spec.memory_gb * seconds
            average_concurrency = work.duration_ms / 1000 / seconds
            share = (
                1.0
                if average_concurrency <= spec.provisioned_concurrency
                else (spec.provisioned_concurrency / average_concurrency)
            )
            provisioned[arch] += reserved_gbs
            on_provisioned[arch] += gb_seconds * share
            on_demand[arch] += gb_seconds * (1 - share)
            usd += reserved_gbs * prices("lambda", f"{arch}_provisioned_gb_second")
            usd += gb_seconds * share * prices("lambda", f"{arch}_provisioned_duration_gb_second")
            usd += gb_seconds * (1 - share) * price
        else:
            on_demand[arch] += gb_seconds
            usd += gb_seconds * price
        if spec.snap_start:
            # The live version's snapshot is cached all month; a share of invocations restores one.
            cache_gbs = spec.memory_gb * seconds
            restores_gb = invocations * profile.assumptions.snapstart_restore_share * spec.memory_gb
            snapshot_cache_gbs += cache_gbs
            restored_gb += restores_gb
            usd += cache_gbs * prices("lambda", "snapstart_cache_gb_second")
            usd += restores_gb * prices("lambda", "snapstart_restore_gb")
        group = spec.log_group or f"/aws/lambda/{logical_id}"
        log_kb[group] += work.log_kb + invocations * profile.assumptions.platform_log_kb_per_invocation
        usages.append(
            FunctionUsage(
                path=spec.path,
                memory_mb=spec.memory_mb,
                architecture=arch,
                invocations=invocations,
                records=records,
                gb_seconds=gb_seconds,
                provisioned_concurrency=spec.provisioned_concurrency,
                lambda_usd=usd,
                sources=tuple(dict.fromkeys(load.source for load in loads)),
            )
        )
    items = []
    if snapshot_cache_gbs:
        items.append(
            LineItem(
                "Lambda",
                "SnapStart snapshot cache",
                snapshot_cache_gbs,
                "GB-s",
                prices("lambda", "snapstart_cache_gb_second"),
                note="the live version's snapshot; each code change publishes a version whose snapshot is "
                "billed until it has gone 14 days without an invocation",
            )
        )
        items.append(
            LineItem(
                "Lambda",
                "SnapStart restores",
                restored_gb,
                "GB",
                prices("lambda", "snapstart_restore_gb"),
                note="a share of invocations (assumptions.snapstart_restore_share) starts a new environment",
            )
        )
    for arch in sorted(set(requests) | set(provisioned)):
        items.append(
            LineItem(
                "Lambda",
                f"Requests ({arch})",
                requests[arch],
                "requests",
                prices("lambda", "requests_per_million"),
                MILLION,
            )
        )
        items.append(
            LineItem(
                "Lambda",
                f"Duration, on demand ({arch})",
                on_demand[arch],
                "GB-s",
                prices("lambda", f"{arch}_gb_second"),
            )
        )
        if provisioned[arch]:
            items.append(
                LineItem(
                    "Lambda",
                    f"Provisioned concurrency ({arch})",
                    provisioned[arch],
                    "GB-s",
                    prices("lambda", f"{arch}_provisioned_gb_second"),
                    note="the configured minimum, all month; auto scaling above it is not included",
                )
            )
            items.append(
                LineItem(
                    "Lambda",
                    f"Duration on provisioned concurrency ({arch})",
                    on_provisioned[arch],
                    "GB-s",
                    prices("lambda", f"{arch}_provisioned_duration_gb_second"),
                )
            )
    return items, usages, total, log_kb
