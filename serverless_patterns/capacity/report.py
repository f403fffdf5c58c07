"""The tables ``make capacity`` prints: a section per pattern instance, then a summary of them all."""

from __future__ import annotations

from serverless_patterns.capacity.analysis import Analysis
from serverless_patterns.capacity.model import SECONDS_PER_DAY, PatternCapacity, number
from serverless_patterns.cost.estimate import Estimate
from serverless_patterns.cost.report import quantity, text_table


def _usd(estimate: Estimate | None) -> str:
    return "-" if estimate is None else f"{estimate.total_usd:,.0f}"


def render_pattern(capacity: PatternCapacity, cost: Estimate | None) -> str:
    """One pattern instance: its ceiling, every limit in order (how it is computed, what raises it), hot keys."""
    unit = capacity.unit
    lines = [
        f"{capacity.pattern} ({capacity.instance}): {number(capacity.ceiling)} {unit}s/s "
        f"({quantity(capacity.ceiling * SECONDS_PER_DAY)} a day); first limit: {capacity.first.name}; "
        f"at the ceiling all month: ${_usd(cost)}/month",
        "",
    ]
    rows = [
        [str(rank), limit.name, number(limit.ceiling), limit.kind, limit.raise_by]
        for rank, limit in enumerate(capacity.limits, start=1)
    ]
    lines += text_table(["#", "Limit", f"{unit}s/s", "Kind", "What to raise"], rows, [True, False, True, False, False])
    lines += ["", "How each is computed:"]
    lines += [f"  {rank}. {limit.detail}" for rank, limit in enumerate(capacity.limits, start=1)]
    if capacity.hot_keys:
        lines += ["", "Hot keys (one DynamoDB item or partition):"]
        for hot in capacity.hot_keys:
            before = "" if hot.before_per_second is None else f" (before: {number(hot.before_per_second)})"
            verdict = "BINDS at the ceiling" if hot.binds else "above the ceiling"
            lines.append(f"  - {hot.item}: {number(hot.per_second)} {hot.unit}{before}, {verdict}. {hot.detail}.")
            if hot.mitigation:
                lines.append(f"    {hot.mitigation}")
    if capacity.checked:
        lines += ["", "Checked, far from binding:", *(f"  - {line}" for line in capacity.checked)]
    busy = ", ".join(f"{role} {number(value)}" for role, value in capacity.concurrency.items())
    notes = [f"concurrent executions at the ceiling: {busy}", *capacity.notes] if busy else list(capacity.notes)
    if notes:
        lines += ["", "Notes:", *(f"  - {line}" for line in notes)]
    return "\n".join(lines)


def render_summary(analysis: Analysis) -> str:
    """Every pattern instance in one table: ceiling, first and second limit, what to raise, cost at the ceiling."""
    rows = [
        [
            capacity.pattern,
            capacity.instance,
            f"{number(capacity.ceiling)} {capacity.unit}s/s",
            capacity.first.name,
            capacity.second.name if capacity.second else "-",
            capacity.first.raise_by,
            _usd(cost),
        ]
        for capacity, cost in zip(analysis.patterns, analysis.costs, strict=True)
    ]
    header = ["Pattern", "Instance", "Ceiling", "First limit", "Second limit", "Raise the first", "USD/month"]
    return "\n".join(
        [
            f"Summary: {analysis.environment} (USD/month: that pattern at its ceiling all month, the others idle, "
            f"fixed costs of ${analysis.fixed_cost.total_usd:,.0f}/month included)",
            *text_table(header, rows, [False, False, True, False, False, False, True]),
        ]
    )


def render(analysis: Analysis) -> str:
    """The whole report."""
    quotas = analysis.quotas
    overridden = ", ".join(f"{q.key}={number(q.value)}" for q in quotas.overridden) or "none"
    header = [
        f"Capacity: {analysis.environment} (AWS default quotas as of {quotas.as_of}, {quotas.region}; "
        f"overridden: {overridden})",
        "Each ceiling is the sustained rate the pattern takes before its first limit, the others idle.",
        "",
        "Account:",
        *(f"  - {line}" for line in analysis.account),
    ]
    sections = [
        render_pattern(capacity, cost) for capacity, cost in zip(analysis.patterns, analysis.costs, strict=True)
    ]
    return "\n\n".join(["\n".join(header), *sections, render_summary(analysis)])
