"""Every scenario ``make local`` runs, run against the deployed stage instead (``pytest -m aws``)."""

from __future__ import annotations

import pytest

from serverless_patterns.scenarios import Scenario, ScenarioResult, discover, run_scenario
from serverless_patterns.scenarios.aws_target import AwsTarget

pytestmark = pytest.mark.aws

SCENARIOS = discover()


def report(result: ScenarioResult) -> str:
    """The scenario's checks, failed ones marked, as ``make local`` prints them."""
    lines = [f"{result.scenario.name} ({result.seconds:.1f}s):"]
    for check in result.checks:
        counted = f" [{check.count}]" if check.count is not None else ""
        detail = f" -- {check.detail}" if check.detail else ""
        lines.append(f"  {'ok  ' if check.passed else 'FAIL'} {check.name}{counted}{detail}")
    return "\n".join(lines)


@pytest.mark.parametrize("item", SCENARIOS, ids=[f"{s.pattern}.{s.function.__name__}" for s in SCENARIOS])
def test_the_scenario_passes_on_the_deployed_stage(aws_target: AwsTarget, item: Scenario) -> None:
    if not aws_target.has_construct(item.pattern):
        pytest.skip(f"{item.pattern} is not part of {aws_target.stack.stack_name}")
    result = run_scenario(aws_target, item)
    assert result.passed, report(result)


def test_every_alarm_and_the_dashboard_exist(aws_target: AwsTarget) -> None:
    """The observability the stage promises is there: each synthesized alarm and the dashboard."""
    alarms = [r.physical_id for r in aws_target.find("AWS::CloudWatch::Alarm")]
    composites = [r.physical_id for r in aws_target.find("AWS::CloudWatch::CompositeAlarm")]
    cloudwatch = aws_target.client("cloudwatch")
    found: set[str] = set()
    for start in range(0, len(alarms + composites), 100):  # DescribeAlarms takes at most 100 names
        names = (alarms + composites)[start : start + 100]
        described = cloudwatch.describe_alarms(AlarmNames=names, AlarmTypes=["MetricAlarm", "CompositeAlarm"])
        found |= {a["AlarmName"] for a in described["MetricAlarms"] + described["CompositeAlarms"]}
    assert alarms, "the stage has alarms"
    assert sorted(set(alarms + composites) - found) == []
    (dashboard,) = aws_target.find("AWS::CloudWatch::Dashboard", under="Observability")
    body = cloudwatch.get_dashboard(DashboardName=dashboard.physical_id)["DashboardBody"]
    assert '"widgets"' in body
    assert aws_target.outputs["DashboardUrl"].endswith(dashboard.physical_id)
