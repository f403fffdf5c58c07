"""One environment's capacity: every pattern instance's limits, the account-wide checks, the cost at each ceiling.

The cost comes from the cost estimator (``serverless_patterns.cost``), driven with a traffic
profile in which the pattern runs at its ceiling all month and the other patterns are idle;
the environment's fixed costs (dashboards, alarms, provisioned concurrency...) are included,
and also shown alone (the estimate at no traffic).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from serverless_patterns.capacity.api import analyse_api
from serverless_patterns.capacity.fan_out import analyse_fan_out
from serverless_patterns.capacity.model import SECONDS_PER_DAY, Context, PatternCapacity, number
from serverless_patterns.capacity.orders import analyse_orders
from serverless_patterns.capacity.patterns import PatternInstance, recognize_patterns
from serverless_patterns.capacity.pipeline import analyse_pipeline
from serverless_patterns.capacity.quotas import Quotas
from serverless_patterns.cost.estimate import Estimate, estimate
from serverless_patterns.cost.inventory import Inventory
from serverless_patterns.cost.prices import Prices
from serverless_patterns.cost.profile import ApiTraffic, FanOutTraffic, OrderTraffic, PipelineTraffic, TrafficProfile

Analyse = Callable[[PatternInstance, Context], PatternCapacity]
ANALYSES: dict[str, Analyse] = {
    "ApiBackend": analyse_api,
    "EventPipeline": analyse_pipeline,
    "FanOut": analyse_fan_out,
    "OrderWorkflow": analyse_orders,
}


@dataclass(frozen=True)
class Analysis:
    """The capacity of one environment: per pattern instance, with its cost at the ceiling."""

    environment: str
    quotas: Quotas
    patterns: tuple[PatternCapacity, ...]
    costs: tuple[Estimate | None, ...]
    fixed_cost: Estimate
    account: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "environment": self.environment,
            "quotas_as_of": self.quotas.as_of,
            "region": self.quotas.region,
            "quotas_overridden": [quota.as_dict() for quota in self.quotas.overridden],
            "account": list(self.account),
            "fixed_monthly_usd": round(self.fixed_cost.total_usd, 2),
            "patterns": [
                {**capacity.as_dict(), "monthly_usd_at_ceiling": None if cost is None else round(cost.total_usd, 2)}
                for capacity, cost in zip(self.patterns, self.costs, strict=True)
            ],
        }


def traffic_at(profile: TrafficProfile, capacity: PatternCapacity) -> TrafficProfile | None:
    """``profile`` with only ``capacity``'s pattern running, at its ceiling, all day (None: not priced)."""
    per_day = capacity.ceiling * SECONDS_PER_DAY
    idle = dataclasses.replace(
        profile,
        name=f"{capacity.pattern} at its ceiling",
        api=ApiTraffic(),
        pipeline=dataclasses.replace(profile.pipeline, files_per_day=0.0),
        fan_out=dataclasses.replace(profile.fan_out, jobs_per_day=0.0),
        orders=dataclasses.replace(profile.orders, orders_per_day=0.0),
    )
    if capacity.pattern == "ApiBackend":
        return dataclasses.replace(idle, api=ApiTraffic(requests_per_day=per_day))
    if capacity.pattern == "EventPipeline":
        return dataclasses.replace(idle, pipeline=dataclasses.replace(profile.pipeline, files_per_day=per_day))
    if capacity.pattern == "FanOut" and profile.fan_out.items_per_job:
        jobs = per_day / profile.fan_out.items_per_job
        return dataclasses.replace(idle, fan_out=dataclasses.replace(profile.fan_out, jobs_per_day=jobs))
    if capacity.pattern == "OrderWorkflow":
        return dataclasses.replace(idle, orders=dataclasses.replace(profile.orders, orders_per_day=per_day))
    return None


def no_traffic(profile: TrafficProfile) -> TrafficProfile:
    """``profile`` with every pattern idle: what the environment costs standing still."""
    return dataclasses.replace(
        profile,
        name="no traffic",
        api=ApiTraffic(),
        pipeline=PipelineTraffic(file_kb=profile.pipeline.file_kb),
        fan_out=FanOutTraffic(items_per_job=profile.fan_out.items_per_job),
        orders=OrderTraffic(compensated_share=profile.orders.compensated_share),
    )


def account_checks(context: Context) -> list[str]:
    """What concerns the whole account rather than one pattern."""
    quota = context.account_concurrency
    keep = context.quotas("lambda.unreserved_minimum")
    reserved = context.reserved_total
    verdict = "OK" if reserved <= quota - keep else "TOO MUCH: Lambda refuses to reserve it (deployment fails)"
    return [
        f"reserved concurrency {reserved} of the account's {number(quota)} (at most {number(quota - keep)} may be "
        f"reserved, {number(keep)} stay unreserved): {verdict}",
        f"{number(context.unreserved_pool)} unreserved concurrency is shared by every function without reserved "
        "concurrency, in every pattern and every other stack of the account and Region: each pattern's ceiling "
        "below assumes the others idle",
    ]


def analyse(
    inventory: Inventory,
    *,
    quotas: Quotas,
    profile: TrafficProfile,
    prices: Prices,
    environment: str,
) -> Analysis:
    """The capacity of the environment whose template ``inventory`` was read from."""
    instances = recognize_patterns(inventory)
    if not instances:
        raise ValueError(f"{environment}: no pattern found in the template (looked for {', '.join(ANALYSES)})")
    context = Context(inventory=inventory, quotas=quotas, profile=profile, environment=environment)
    patterns = tuple(ANALYSES[instance.pattern](instance, context) for instance in instances)
    costs = []
    for capacity in patterns:
        at_ceiling = traffic_at(profile, capacity)
        costs.append(None if at_ceiling is None else estimate(inventory, at_ceiling, prices, environment=environment))
    return Analysis(
        environment=environment,
        quotas=quotas,
        patterns=patterns,
        costs=tuple(costs),
        fixed_cost=estimate(inventory, no_traffic(profile), prices, environment=environment),
        account=tuple(account_checks(context)),
    )
