"""Synth time against an empty app's, and the zipped size of every function's asset."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bench.measure import Timing, python, time_interleaved
from serverless_patterns.local.assets import read_stacks, select_assembly, zip_directory

ROOT = Path(__file__).resolve().parent.parent
ASSET_BUDGET_BYTES = 64 * 1024
SYNTH_BUDGET_RATIO = 2.5
ENVIRONMENTS = ("Dev", "Staging", "Prod")

# Both apps get cdk.json's context and construct-path metadata, as `cdk synth` runs them.
_APP = """import json
from aws_cdk import App
context = {**json.load(open("cdk.json"))["context"], "aws:cdk:enable-path-metadata": True}
app = App(context=context, outdir=OUTDIR)
"""
_ENVIRONMENTS = "from serverless_patterns.stacks.app import add_environments\nadd_environments(app)\n"


def app_code(outdir: Path, *, full: bool) -> str:
    """The Python of the empty app, or of the full app (Dev, Staging, Prod), synthesizing into ``outdir``."""
    return _APP.replace("OUTDIR", repr(str(outdir))) + (_ENVIRONMENTS if full else "") + "app.synth()\n"


def time_synths(runs: int, outdir: Path) -> tuple[Timing, Timing, Path]:
    """(full three-environment synth, empty app synth, the full app's cloud assembly), in fresh processes."""
    full_dir, empty_dir = outdir / "full", outdir / "empty"
    env = dict(os.environ)
    samples = time_interleaved(
        {
            "full": python(app_code(full_dir, full=True), env=env, cwd=str(ROOT)),
            "empty": python(app_code(empty_dir, full=False), env=env, cwd=str(ROOT)),
        },
        runs=runs,
        warmup=0,
    )
    return samples["full"], samples["empty"], full_dir


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
