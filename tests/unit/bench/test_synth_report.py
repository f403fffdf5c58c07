"""The synth section of the bench: its ratios, the gates' share, and the table printed from it."""

from __future__ import annotations

import re
from pathlib import Path

from bench import report
from bench.baseline_app import resource_counts
from bench.measure import Sample, Timing
from bench.synth_and_assets import BASELINE_BUDGET_RATIO, SYNTH_BUDGET_RATIO, SynthTimings, app_code, synth_section


def _timing(*seconds: float) -> Timing:
    return Timing(Sample(seconds), Sample(tuple(s * 0.9 for s in seconds)))


def _synths() -> SynthTimings:
    return SynthTimings(
        full=_timing(10.0, 11.0, 12.0),
        empty=_timing(4.0, 4.0, 4.0),
        no_gates=_timing(7.0, 7.5, 8.0),
        baseline=_timing(6.0, 6.0, 6.0),
        assembly=Path("full"),
        resources={"AWS::Lambda::Function": 42, "AWS::WAFv2::WebACL": 2},
        baseline_resources={"AWS::Lambda::Function": 42},
    )


def test_ratios_and_the_gates_share() -> None:
    section = synth_section(_synths())
    assert section["ratio"] == 2.75  # 11 / 4, what the README's figure has always been
    assert section["budget_ratio"] == SYNTH_BUDGET_RATIO
    assert section["within_budget"] is False
    assert section["baseline_ratio"] == 1.25  # 7.5 / 6
    assert section["baseline_budget_ratio"] == BASELINE_BUDGET_RATIO
    assert section["baseline_within_budget"] is False
    assert section["gates"] == {"s": 3.5, "cpu_s": 3.15, "share": round(3.5 / 11, 3)}
    assert section["resources"] == {"ours": 44, "baseline": 42}
    assert section["resources_by_type"]["AWS::WAFv2::WebACL"] == {"ours": 2, "baseline": 0}
    assert section["full"]["runs"] == 3
    assert section["no_gates"]["cpu_s"]["median_s"] == 6.75


def test_report_prints_every_app_and_the_gates() -> None:
    text = "\n".join(report.synth(synth_section(_synths())))
    assert "2.75x (target <= 2.5x): OVER" in text
    assert "without compliance gates" in text
    assert "plain L2 baseline (42 resources; ours 44)" in text
    assert re.search(r"plain L2 baseline .* 1\.25\s+OVER$", text, re.MULTILINE)
    assert "3.5 s of the full synth (32%)" in text


def test_report_reads_results_written_before_the_baseline() -> None:
    section = synth_section(_synths())
    old = {key: section[key] for key in ("full", "empty", "ratio", "cpu_ratio", "budget_ratio", "within_budget")}
    assert report.synth(old) == report.synth(section)[:1]


def test_apps_differ_only_in_what_they_add() -> None:
    gated = app_code(Path("out"), full=True)
    ungated = app_code(Path("out"), full=True, compliance_gates=False)
    assert "add_environments(app)\n" in gated
    assert "add_environments(app, compliance_gates=False)\n" in ungated
    assert "add_environments" not in app_code(Path("out"), full=False)


def test_resource_counts_by_type() -> None:
    template = {"Resources": {"A": {"Type": "AWS::SQS::Queue"}, "B": {"Type": "AWS::SQS::Queue"}}}
    assert resource_counts(template) == {"AWS::SQS::Queue": 2}
    assert resource_counts({}) == {}
