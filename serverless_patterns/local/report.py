"""The readable report ``make local`` prints at the end."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from serverless_patterns.local.cloudformation import FAILED, RECORDED, SKIPPED
from serverless_patterns.local.permissions import Acknowledgement
from serverless_patterns.scenarios import Check, ScenarioResult

if TYPE_CHECKING:
    from serverless_patterns.local.cloud import LocalCloud


def render(
    cloud: LocalCloud,
    results: Sequence[ScenarioResult],
    *,
    title: str,
    absent: Sequence[str] = (),
    acknowledged: Iterable[Acknowledgement] = (),
) -> str:
    """Resources by type and outcome, skipped and failed resources, every scenario's checks, permissions, the verdict.

    ``acknowledged``: the grants kept on purpose although unused (see ``permissions.report``).
    """
    lines = [f"== {title} ==", ""]
    records = cloud.resources
    by_outcome = Counter(r.outcome for r in records)
    lines.append(
        f"Resources: {len(records)} in {len(cloud.stacks)} stack(s) ("
        + ", ".join(f"{count} {outcome}" for outcome, count in sorted(by_outcome.items()))
        + ")"
    )
    for (resource_type, outcome), count in sorted(cloud.resource_counts().items()):
        lines.append(f"  {count:>4}  {resource_type:<44} {outcome}")
    for label, outcome in (
        ("Recorded only (references resolve; no local behaviour)", RECORDED),
        ("Skipped (not supported locally)", SKIPPED),
        ("Failed", FAILED),
    ):
        affected = [r for r in records if r.outcome == outcome]
        if affected:
            lines.append(f"{label}: {len(affected)}")
            lines += [f"  - {r.resource_type} {r.path}: {r.detail}" for r in affected]
    lines.append("")
    if not results:
        lines.append("Scenarios: none registered for the deployed patterns")
    for result in results:
        verdict = "PASS" if result.passed else "FAIL"
        lines.append(f"[{verdict}] {result.scenario.name}  ({result.scenario.pattern}, {result.seconds:.2f}s)")
        for check in result.checks:
            counted = f" [{check.count}]" if check.count is not None else ""
            detail = f" -- {check.detail}" if check.detail else ""
            lines.append(f"    {'ok  ' if check.passed else 'FAIL'} {check.name}{counted}{detail}")
        lines += [f"    note {note}" for note in result.notes]
    if absent:
        lines.append(f"Not deployed (scenarios skipped): {', '.join(sorted(set(absent)))}")
    checks = [c for r in results for c in r.checks]
    failed_checks = sum(not c.passed for c in checks)
    access = cloud.access_report(acknowledged)
    lines += ["", *access.render()]
    lines += [
        "",
        f"Invocations: {len(cloud.invocations)} ({sum(i.failed for i in cloud.invocations)} with a function error)",
        f"Result: {'PASS' if passed(cloud, results) else 'FAIL'} -- "
        f"{len(checks) - failed_checks}/{len(checks)} checks passed in {len(results)} scenario(s), "
        f"{by_outcome.get(FAILED, 0)} resource(s) failed, {by_outcome.get(SKIPPED, 0)} skipped, "
        f"{len(access.denials)} request(s) denied, {len(access.unused)} unused grant(s) (warnings)",
    ]
    return "\n".join(lines)


def passed(cloud: LocalCloud, results: Sequence[ScenarioResult]) -> bool:
    """No failed resource, no denied request, and every scenario passed."""
    return not cloud.failed and not cloud.denials and all(r.passed for r in results)


def with_permission_check(cloud: LocalCloud, result: ScenarioResult, denials_before: int) -> ScenarioResult:
    """The scenario's result with a failed check for each request denied while it ran (a denial fails it)."""
    denied = cloud.denials[denials_before:]
    if not denied:
        return result
    detail = "; ".join(str(d) for d in denied[:3]) + (f" (+{len(denied) - 3} more)" if len(denied) > 3 else "")
    check = Check("every AWS request was allowed by the deployed policies", False, detail, count=len(denied))
    return dataclasses.replace(result, checks=(*result.checks, check))
