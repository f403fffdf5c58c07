"""Synth time against an empty app's and a plain-L2 baseline's, and the zipped size of every function's asset."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import baseline_app
from bench.measure import Command, Timing, python, ratio, time_interleaved
from serverless_patterns.local.assets import read_stacks, select_assembly, zip_directory

ROOT = Path(__file__).resolve().parent.parent
ASSET_BUDGET_BYTES = 64 * 1024
SYNTH_BUDGET_RATIO = 2.5
BASELINE_BUDGET_RATIO = 1.2
ENVIRONMENTS = ("Dev", "Staging", "Prod")

# Every app gets cdk.json's context and construct-path metadata, as `cdk synth` runs them.
_APP = """import json
from aws_cdk import App
context = {**json.load(open("cdk.json"))["context"], "aws:cdk:enable-path-metadata": True}
app = App(context=context, outdir=OUTDIR)
"""
_ENVIRONMENTS = "from serverless_patterns.stacks.app import add_environments\nadd_environments(app{})\n"


def app_code(outdir: Path, *, full: bool, compliance_gates: bool = True) -> str:
    """The Python of the empty app, or of the full app (Dev, Staging, Prod), synthesizing into ``outdir``.

    :param compliance_gates: ``False``: the full app without its compliance gates (cdk-nag and our pack).
    """
    environments = _ENVIRONMENTS.format("" if compliance_gates else ", compliance_gates=False")
    return _APP.replace("OUTDIR", repr(str(outdir))) + (environments if full else "") + "app.synth()\n"


@dataclass(frozen=True)
class SynthTimings:
    """The four synths, timed in the same rounds, and what the baseline was built to match."""

    full: Timing
    empty: Timing
    no_gates: Timing
    baseline: Timing
    assembly: Path  # the full app's
    resources: dict[str, int]  # CloudFormation type -> count over the three environments: ours
    baseline_resources: dict[str, int]  # the same of the baseline


def stack_resources(assembly: Path, environment: str) -> dict[str, int]:
    """CloudFormation type -> number of resources over the stacks of one environment."""
    counts: Counter[str] = Counter()
    for stack in read_stacks(select_assembly(assembly, environment), account="111111111111", region="us-east-1"):
        counts.update(baseline_app.resource_counts(stack.template))
    return dict(counts)


def baseline_shapes(assembly: Path) -> dict[str, baseline_app.Shape]:
    """Per environment, the resource counts and function code directories of our synthesized app."""
    return {
        environment: {
            "resources": stack_resources(assembly, environment),
            "code": [str(directory) for _, directory in function_assets(assembly, environment).values()],
        }
        for environment in ENVIRONMENTS
    }


def _total(assembly: Path) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for environment in ENVIRONMENTS:
        counts.update(stack_resources(assembly, environment))
    return dict(sorted(counts.items()))


def time_synths(runs: int, outdir: Path) -> SynthTimings:
    """Full three-environment synth, empty app, full app without gates, baseline: fresh processes, same rounds.

    The baseline is generated from the full app's assembly of the first round (it runs after it).
    """
    dirs = {name: outdir / name for name in ("full", "empty", "no_gates", "baseline")}
    env = dict(os.environ)

    def baseline() -> Command:
        code = baseline_app.app_code(dirs["baseline"], baseline_shapes(dirs["full"]), _APP)
        return python(code, env=env, cwd=str(ROOT))

    samples = time_interleaved(
        {
            "full": python(app_code(dirs["full"], full=True), env=env, cwd=str(ROOT)),
            "empty": python(app_code(dirs["empty"], full=False), env=env, cwd=str(ROOT)),
            "no_gates": python(app_code(dirs["no_gates"], full=True, compliance_gates=False), env=env, cwd=str(ROOT)),
            "baseline": baseline,
        },
        runs=runs,
        warmup=0,
    )
    return SynthTimings(
        full=samples["full"],
        empty=samples["empty"],
        no_gates=samples["no_gates"],
        baseline=samples["baseline"],
        assembly=dirs["full"],
        resources=_total(dirs["full"]),
        baseline_resources=_total(dirs["baseline"]),
    )


def synth_section(synths: SynthTimings) -> dict[str, Any]:
    """The ``synth`` section of the results: ratios against the empty app and the baseline, the gates' share.

    ``ratio`` (full / empty, target ``budget_ratio``) is what it always was; ``baseline_ratio`` is the
    full app without its gates over the baseline (target ``baseline_budget_ratio``); ``gates`` is what
    the compliance gates add (full minus no gates), in seconds and as a share of the full synth.
    """

    def timing(sample: Timing) -> dict[str, Any]:
        return {**sample.wall.as_dict(), "cpu_s": sample.cpu.as_dict()}

    full, empty, no_gates, baseline = synths.full, synths.empty, synths.no_gates, synths.baseline
    synth_ratio = ratio(full.wall, empty.wall)
    baseline_ratio = ratio(no_gates.wall, baseline.wall)
    gates_s = full.wall.median - no_gates.wall.median
    return {
        "full": timing(full),
        "empty": timing(empty),
        "no_gates": timing(no_gates),
        "baseline": timing(baseline),
        "ratio": synth_ratio,
        "cpu_ratio": ratio(full.cpu, empty.cpu),
        "budget_ratio": SYNTH_BUDGET_RATIO,
        "within_budget": synth_ratio <= SYNTH_BUDGET_RATIO,
        "baseline_ratio": baseline_ratio,
        "baseline_cpu_ratio": ratio(no_gates.cpu, baseline.cpu),
        "baseline_budget_ratio": BASELINE_BUDGET_RATIO,
        "baseline_within_budget": baseline_ratio <= BASELINE_BUDGET_RATIO,
        "gates": {
            "s": round(gates_s, 3),
            "cpu_s": round(full.cpu.median - no_gates.cpu.median, 3),
            "share": round(gates_s / full.wall.median, 3),
        },
        "resources": {"ours": sum(synths.resources.values()), "baseline": sum(synths.baseline_resources.values())},
        "resources_by_type": {
            kind: {"ours": synths.resources.get(kind, 0), "baseline": synths.baseline_resources.get(kind, 0)}
            for kind in sorted(set(synths.resources) | set(synths.baseline_resources))
        },
    }


def function_assets(assembly: Path, environment: str) -> dict[str, tuple[str, Path]]:
    """Construct path (``Api/Handler``) -> (asset id, staged directory) of each function of one environment."""
    found: dict[str, tuple[str, Path]] = {}
    for stack in read_stacks(select_assembly(assembly, environment), account="111111111111", region="us-east-1"):
        by_key = {asset.object_key: asset for asset in stack.assets}
        for logical_id, resource in stack.template.get("Resources", {}).items():
            if resource.get("Type") != "AWS::Lambda::Function":
                continue
            key = resource.get("Properties", {}).get("Code", {}).get("S3Key")
            asset = by_key.get(key) if isinstance(key, str) else None
            if asset is None or not asset.source.is_dir():
                continue  # inline code (a CDK custom resource)
            parts = stack.construct_paths.get(logical_id, logical_id).strip("/").split("/")
            while parts and parts[-1] == "Resource":  # ServerlessFunction/Resource (Function)/Resource (Cfn)
                parts.pop()
            found["/".join(parts[2:]) or logical_id] = (asset.asset_id, asset.source)  # below Stage/Stack
    return found


def asset_sizes(assembly: Path) -> dict[str, dict[str, Any]]:
    """Zipped bytes of each function's asset (deterministic zips, as deployed), largest over the environments."""
    sizes: dict[str, dict[str, Any]] = {}
    for environment in ENVIRONMENTS:
        for path, (asset_id, directory) in function_assets(assembly, environment).items():
            size = len(zip_directory(directory))
            if path not in sizes or size > sizes[path]["zipped_bytes"]:
                sizes[path] = {
                    "zipped_bytes": size,
                    "files": sum(1 for p in directory.rglob("*") if p.is_file()),
                    "asset": asset_id[:12],
                    "within_budget": size <= ASSET_BUDGET_BYTES,
                }
    return dict(sorted(sizes.items()))
