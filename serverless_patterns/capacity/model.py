"""The capacity model's vocabulary: limits, hot keys, a pattern's capacity, and the Lambda arithmetic.

A *limit* is anything that caps a pattern's sustained throughput, expressed as the largest rate
of the pattern's own unit (API requests, uploaded files, fan-out items, orders a second) it lets
through: a setting of the template (a stage throttle, an event source's maximum concurrency, a
function's reserved concurrency), an AWS quota (Lambda's account concurrency, Step Functions'
StartExecution rate), or the design (S3's per-prefix rate, DynamoDB's per-item rate). A
pattern's *ceiling* is its lowest limit; the second lowest is what binds once the first is
raised. Each pattern assumes the others idle (the functions they reserve concurrency for are
set aside): run them together and they share the account's unreserved concurrency.

Lambda: a function with ``c`` concurrency and invocations of ``d`` seconds runs ``c / d``
invocations a second, and never more than 10 per unit of concurrency (Lambda's request-rate
quota), so an invocation shorter than 100 ms is counted as 100 ms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from serverless_patterns.capacity.patterns import PatternInstance
from serverless_patterns.capacity.quotas import Quotas
from serverless_patterns.cost.inventory import FunctionSpec, Inventory
from serverless_patterns.cost.profile import FunctionWork, TrafficProfile

SECONDS_PER_DAY = 86_400
SETTING = "setting"
QUOTA = "quota"
DESIGN = "design"


def number(value: float) -> str:
    """A rate as the tables print it: thousands separated, fractions only below 100 (and never for whole numbers)."""
    if value >= 100 or value == int(value):
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:,.1f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".") or "0"


@dataclass(frozen=True)
class Limit:
    """One cap on a pattern's throughput: ``ceiling`` units a second, how it was computed, how to raise it."""

    name: str
    ceiling: float
    detail: str
    kind: str
    raise_by: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "limit": self.name,
            "ceiling_per_second": round(self.ceiling, 3),
            "detail": self.detail,
            "kind": self.kind,
            "raise_by": self.raise_by,
        }


@dataclass(frozen=True)
class HotKey:
    """One DynamoDB item (or partition key) written on a hot path: the rate it takes, before and now."""

    item: str
    per_second: float
    unit: str
    detail: str
    binds: bool
    before_per_second: float | None = None
    mitigation: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "item": self.item,
            "per_second": round(self.per_second, 3),
            "unit": self.unit,
            "before_per_second": None if self.before_per_second is None else round(self.before_per_second, 3),
            "binds": self.binds,
            "detail": self.detail,
            "mitigation": self.mitigation,
        }


@dataclass(frozen=True)
class PatternCapacity:
    """A pattern instance's limits, lowest first, with its hot keys and what was checked and found far off."""

    pattern: str
    instance: str
    unit: str
    limits: tuple[Limit, ...]
    hot_keys: tuple[HotKey, ...] = ()
    checked: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    concurrency: Mapping[str, float] = field(default_factory=dict)
    """Concurrent executions each function runs at the ceiling: the one at its cap saturates first."""
    invocations: Mapping[str, float] = field(default_factory=dict)
    """Invocations of each function per unit (per request, file, item, order)."""

    def __post_init__(self) -> None:
        if not self.limits:
            raise ValueError(f"{self.pattern} {self.instance}: no limit found")
        object.__setattr__(self, "limits", tuple(sorted(self.limits, key=lambda limit: limit.ceiling)))

    @property
    def ceiling(self) -> float:
        """The sustained rate the pattern takes before its first limit."""
        return self.limits[0].ceiling

    @property
    def first(self) -> Limit:
        """The binding limit."""
        return self.limits[0]

    @property
    def second(self) -> Limit | None:
        """What binds once the first is raised past it."""
        return self.limits[1] if len(self.limits) > 1 else None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "pattern": self.pattern,
            "instance": self.instance,
            "unit": self.unit,
            "ceiling_per_second": round(self.ceiling, 3),
            "ceiling_per_day": round(self.ceiling * SECONDS_PER_DAY),
            "limits": [limit.as_dict() for limit in self.limits],
            "hot_keys": [hot.as_dict() for hot in self.hot_keys],
            "checked": list(self.checked),
            "notes": list(self.notes),
            "concurrency_at_ceiling": {role: round(value, 3) for role, value in self.concurrency.items()},
            "invocations_per_unit": {role: round(value, 6) for role, value in self.invocations.items()},
        }


@dataclass(frozen=True)
class Step:
    """How the pattern's unit reaches one function: invocations per unit, and how long each runs."""

    role: str
    spec: FunctionSpec
    invocations_per_unit: float
    duration_ms: float


@dataclass(frozen=True)
class Context:
    """What every pattern's model reads: the template's inventory, the quotas, the work per function."""

    inventory: Inventory
    quotas: Quotas
    profile: TrafficProfile
    environment: str = ""

    @cached_property
    def reserved_total(self) -> int:
        """Concurrency the template's functions reserve, taken out of the account's pool."""
        return sum(spec.reserved_concurrency or 0 for spec in self.inventory.functions.values())

    @property
    def account_concurrency(self) -> float:
        """The account's Lambda concurrency quota."""
        return self.quotas("lambda.account_concurrency")

    @property
    def unreserved_pool(self) -> float:
        """What functions without reserved concurrency share."""
        return max(0.0, self.account_concurrency - self.reserved_total)

    @property
    def minimum_duration_ms(self) -> float:
        """The duration Lambda's request-rate quota charges an invocation at least (100 ms at 10/s)."""
        return 1000 / self.quotas("lambda.requests_per_second_per_concurrency")

    def work(self, instance: PatternInstance, role: str) -> FunctionWork:
        """What one invocation of ``role`` does, from the profile: by its path, its ``Pattern/role``, its usual path."""
        spec = instance.function(role)
        keys = (spec.path if spec else None, f"{instance.pattern}/{role}", instance.default_paths.get(role))
        for key in keys:
            if key and key in self.profile.work:
                return self.profile.work[key]
        return FunctionWork()

    def where(self, setting: str) -> str:
        """Where a setting lives: ``PROD.pipeline.max_concurrency (stacks/environments.py)``."""
        prefix = f"{self.environment.upper()}." if self.environment else ""
        return f"{prefix}{setting} (stacks/environments.py)"

    def quota(self, key: str, service: str) -> str:
        """How to raise a quota: ``quota Lambda: Concurrent executions``."""
        return f"quota {service}: {self.quotas.quota(key).name}"

    def concurrency(self, step: Step) -> float:
        """Concurrency one unit a second of the pattern keeps busy in ``step``'s function."""
        return step.invocations_per_unit * max(step.duration_ms, self.minimum_duration_ms) / 1000

    @staticmethod
    def invocations(steps: Sequence[Step]) -> dict[str, float]:
        """Invocations of each step's function per unit."""
        return {step.role: step.invocations_per_unit for step in steps}

    def busy(self, steps: Sequence[Step], ceiling: float) -> dict[str, float]:
        """Concurrent executions of each step's function at ``ceiling`` units a second."""
        return {step.role: self.concurrency(step) * ceiling for step in steps}


def per(value: float) -> str:
    """How often something happens per unit: ``2``, ``0.5``, or ``1/10,000`` for what is rarer than 1 in 100."""
    return f"1/{number(1 / value)}" if 0 < value < 0.01 else number(value)


def _step_text(context: Context, step: Step) -> str:
    counted = max(step.duration_ms, context.minimum_duration_ms)
    duration = f"{number(step.duration_ms)} ms"
    if counted > step.duration_ms:
        duration += f" counted as {number(counted)} ms"
    return f"{step.role} {per(step.invocations_per_unit)} x {duration}"


def lambda_limits(context: Context, steps: Sequence[Step], unit: str) -> list[Limit]:
    """The concurrency limits of the functions a unit runs through: one per reserved function, one
    for the account's unreserved pool they share."""
    limits = []
    pooled = [step for step in steps if step.spec.reserved_concurrency is None and step.invocations_per_unit]
    for step in steps:
        reserved = step.spec.reserved_concurrency
        if reserved is None or not step.invocations_per_unit:
            continue
        limits.append(
            Limit(
                name=f"Lambda reserved concurrency ({step.role})",
                ceiling=reserved / context.concurrency(step),
                detail=f"{reserved} reserved / ({_step_text(context, step)} per {unit})",
                kind=SETTING,
                raise_by=context.where(f'functions["{step.role}"].reserved_concurrency'),
            )
        )
    if pooled:
        needed = sum(context.concurrency(step) for step in pooled)
        pool = context.unreserved_pool
        limits.append(
            Limit(
                name="Lambda account concurrency (unreserved)",
                ceiling=pool / needed,
                detail=(
                    f"{number(pool)} unreserved ({number(context.account_concurrency)} - "
                    f"{context.reserved_total} reserved) / ({' + '.join(_step_text(context, s) for s in pooled)} "
                    f"per {unit})"
                ),
                kind=QUOTA,
                raise_by=context.quota("lambda.account_concurrency", "Lambda"),
            )
        )
    return limits


def table_limits(
    context: Context, tables: Sequence[str], writes_per_unit: float, reads_per_unit: float, unit: str
) -> list[Limit]:
    """DynamoDB's table-level throughput for the pattern's writes and reads, all counted against its busiest
    table (a conservative simplification: the profile does not split the units by table)."""
    specs = [spec for logical_id in tables if (spec := context.inventory.table(logical_id)) is not None]
    if not specs:
        return []
    limits = []
    for units, per_unit, quota, capacity in (
        (
            "write",
            writes_per_unit,
            "dynamodb.table_write_units",
            min((s.write_capacity or 0 for s in specs), default=0),
        ),
        ("read", reads_per_unit, "dynamodb.table_read_units", min((s.read_capacity or 0 for s in specs), default=0)),
    ):
        if per_unit <= 0:
            continue
        provisioned = [s for s in specs if not s.on_demand]
        limit = capacity if capacity else context.quotas(quota)
        source = "provisioned/maximum" if capacity else "table quota"
        limits.append(
            Limit(
                name=f"DynamoDB table {units} throughput",
                ceiling=limit / per_unit,
                detail=f"{number(limit)} {units} units/s ({source}) / {per(per_unit)} per {unit}"
                + (f"; {len(provisioned)} provisioned table(s)" if provisioned else ""),
                kind=SETTING if capacity else QUOTA,
                raise_by="the table's capacity in its construct" if capacity else context.quota(quota, "DynamoDB"),
            )
        )
    return limits


def tables_of(instance: PatternInstance, context: Context) -> list[str]:
    """The tables the instance's functions name in their environment."""
    known = {table.logical_id for table in context.inventory.tables}
    found: list[str] = []
    for spec in instance.functions.values():
        named = sorted({ref for refs in spec.environment_references.values() for ref in refs})
        found += [ref for ref in named if ref in known and ref not in found]
    return found
