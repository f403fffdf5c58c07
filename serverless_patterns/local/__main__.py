"""``python -m serverless_patterns.local [--env dev|staging|prod]``: deploy one environment locally and drive it.

Synthesizes the chosen environment of the real app (with cdk.json's context and the
compliance gates), deploys it into the embedded emulated cloud, runs every registered
scenario whose pattern is deployed, prints the report and exits 1 when a check or a
resource failed or a request was denied by the deployed policies (``--no-permissions``
skips the permission checks; the least-privilege report lists the grants no scenario used).
No AWS account and no Docker are involved.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from serverless_patterns.local.cloud import LocalCloud
from serverless_patterns.local.permissions import load_acknowledgements
from serverless_patterns.local.report import passed, render, with_permission_check
from serverless_patterns.scenarios import ACKNOWLEDGED_GRANTS, discover, run_scenario
from serverless_patterns.stacks.environments import ENVIRONMENTS

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _progress(message: str) -> None:
    print(f"[local] {message}", flush=True)


def cdk_context(start: Path | None = None) -> dict[str, Any]:
    """cdk.json's context (feature flags) from ``start`` (the working directory) or the project root."""
    for directory in (start or Path.cwd(), PROJECT_ROOT):
        path = directory / "cdk.json"
        if path.is_file():
            context: dict[str, Any] = json.loads(path.read_text()).get("context", {})
            return context
    return {}


def main(argv: list[str] | None = None) -> int:
    """Deploy, drive, report; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m serverless_patterns.local", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--env", default="dev", choices=sorted(ENVIRONMENTS), help="environment to deploy (default dev)"
    )
    parser.add_argument("--verbose", action="store_true", help="print every invocation's log")
    parser.add_argument(
        "--no-permissions",
        action="store_true",
        help="do not check calls against the deployed IAM, resource and key policies (on by default)",
    )
    args = parser.parse_args(argv)

    from aws_cdk import App  # the CDK (and its Node.js runtime) is needed only here

    from serverless_patterns.stacks.app import add_environments

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="local-cloud-cdk-out-") as outdir:
        _progress(f"synthesizing {args.env} (compliance gates included)")
        app = App(context=cdk_context(), outdir=outdir)
        (stage,) = add_environments(app, only=args.env)
        app.synth()
        _progress(f"synthesized in {time.perf_counter() - started:.1f}s; starting the emulated cloud")
        with LocalCloud.deploy(
            stage, progress=_progress, echo_logs=args.verbose, enforce_permissions=not args.no_permissions
        ) as cloud:
            scenarios = discover()
            present = [s for s in scenarios if cloud.has_construct(s.pattern)]
            absent = [s.pattern for s in scenarios if s not in present]
            _progress(f"{len(cloud.resources)} resources deployed; {len(present)} scenario(s) to run")
            results = []
            for item in present:
                _progress(f"running: {item.name}")
                before = len(cloud.denials)
                result = with_permission_check(cloud, run_scenario(cloud, item), before)
                _progress(
                    f"  {'PASS' if result.passed else 'FAIL'} ({len(result.checks)} checks, {result.seconds:.2f}s)"
                )
                results.append(result)
            title = f"Local cloud: {stage.stage_name} in {time.perf_counter() - started:.1f}s"
            acknowledged = load_acknowledgements(ACKNOWLEDGED_GRANTS)
            print("\n" + render(cloud, results, title=title, absent=absent, acknowledged=acknowledged), flush=True)
            return 0 if passed(cloud, results) else 1


if __name__ == "__main__":
    sys.exit(main())
