"""Plain-text tables of an estimate, the batching comparison and a side-by-side of environments."""

from __future__ import annotations

from collections.abc import Sequence

from serverless_patterns.cost.estimate import BatchingComparison, Estimate, LineItem, summary
from serverless_patterns.cost.profile import TrafficProfile

_PER_LABEL = {1.0: "", 1_000.0: " / 1K", 1_000_000.0: " / 1M"}


def quantity(value: float) -> str:
    """A large count in short form: 86.40M, 1.50K, 12."""
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= limit:
            return f"{value / limit:,.2f}{suffix}"
    return f"{value:,.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"


def _price(item: LineItem) -> str:
    per = _PER_LABEL.get(item.per, f" / {item.per:g}")
    return "$" + f"{item.unit_price:.10f}".rstrip("0").rstrip(".") + per


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> list[str]:
    """Plain-text table lines: a header, a rule, the rows; ``right`` aligns each column to the right."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(width) if align else cell.ljust(width)
            for cell, width, align in zip(cells, widths, right, strict=True)
        ).rstrip()

    return [line(header), line(["-" * width for width in widths]), *(line(row) for row in rows)]


def traffic_line(profile: TrafficProfile) -> str:
    """The profile's traffic in one line."""
    return (
        f"{profile.api.requests_per_day:,.0f} API requests/day, {profile.pipeline.files_per_day:,.0f} files/day, "
        f"{profile.fan_out.jobs_per_day:,.0f} jobs/day x {profile.fan_out.items_per_job:,.0f} items, "
        f"{profile.orders.orders_per_day:,.0f} orders/day ({profile.orders.compensated_share:.0%} compensated)"
    )


def render_estimate(estimate: Estimate, profile: TrafficProfile) -> str:
    """Line items per service with subtotals, the total, the per-function table and the notes."""
    lines = [
        f"Monthly cost estimate: {estimate.environment} (profile {estimate.profile!r}; {estimate.region} list prices "
        f"as of {estimate.prices_as_of}; {estimate.days_per_month:g}-day month)",
        f"Traffic: {traffic_line(profile)}",
        "",
    ]
    rows: list[list[str]] = []
    for service, subtotal in estimate.by_service().items():
        for item in (i for i in estimate.items if i.service == service):
            rows.append(
                [
                    service,
                    item.item,
                    f"{quantity(item.quantity)} {item.unit}",
                    _price(item),
                    f"{item.monthly_usd:,.2f}",
                ]
            )
        rows.append(["", f"{service} total", "", "", f"{subtotal:,.2f}"])
    rows.append(["Total", "", "", "", f"{estimate.total_usd:,.2f}"])
    header = ["Service", "Item", "Quantity", "Unit price", "USD/month"]
    lines += text_table(header, rows, [False, False, True, True, True])
    lines += ["", "Per function (Lambda alone):"]
    function_rows = [
        [
            usage.path,
            f"{usage.memory_mb}",
            quantity(usage.invocations),
            quantity(usage.records / usage.invocations) if usage.records else "-",
            f"{usage.average_duration_ms:,.0f}",
            quantity(usage.gb_seconds),
            str(usage.provisioned_concurrency or "-"),
            f"{usage.lambda_usd:,.2f}",
        ]
        for usage in estimate.functions
        if usage.invocations or usage.provisioned_concurrency
    ]
    idle = [usage.path for usage in estimate.functions if not (usage.invocations or usage.provisioned_concurrency)]
    lines += text_table(
        ["Function", "MB", "Invocations", "Records/inv", "Avg ms", "GB-s", "PC", "USD/month"],
        function_rows,
        [False, True, True, True, True, True, True, True],
    )
    if idle:
        lines.append(f"Without traffic in this profile: {', '.join(idle)}")
    if estimate.notes:
        lines += ["", "Notes:", *(f"- {note}" for note in estimate.notes)]
    return "\n".join(lines)


def render_batching(comparison: BatchingComparison) -> str:
    """Invocations and cost of the configured batch size against one invocation per file."""
    rows = [
        [
            label,
            str(scenario.batch_size),
            f"{scenario.invocations:,}",
            f"{scenario.gb_seconds:,.1f}",
            f"{scenario.lambda_usd:.6f}",
            f"{scenario.sqs_usd:.6f}",
            f"{scenario.logs_usd:.6f}",
            f"{scenario.total_usd:.6f}",
        ]
        for label, scenario in (("configured", comparison.batched), ("one per file", comparison.per_item))
    ]
    lines = [
        f"Batching: {comparison.function}, per {comparison.files:,} files (full batches)",
        *text_table(
            ["", "Batch", "Invocations", "GB-s", "Lambda USD", "SQS USD", "Logs USD", "Total USD"],
            rows,
            [False, True, True, True, True, True, True, True],
        ),
        f"Batching saves {comparison.invocations_saved_share:.0%} of the invocations and "
        f"{comparison.cost_saved_share:.0%} of the cost.",
    ]
    return "\n".join(lines)


def render_summary(estimates: Sequence[Estimate]) -> str:
    """Each environment's monthly USD per service, side by side."""
    names = [estimate.environment for estimate in estimates]
    services = summary(estimates)
    rows = [[service, *(f"{usd.get(name, 0.0):,.2f}" for name in names)] for service, usd in services.items()]
    rows.append(["Total", *(f"{estimate.total_usd:,.2f}" for estimate in estimates)])
    return "\n".join(
        ["Monthly USD per environment:", *text_table(["Service", *names], rows, [False, *[True] * len(names)])]
    )
