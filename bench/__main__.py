"""``make bench`` (``python -m bench``): cold init, synth, asset size and warm overhead, as ratios; and the
capacity model's shape under a load on Prod in the local cloud.

Writes ``bench/results.json`` and prints the tables. Takes a few minutes: three full synths,
local-cloud deployments of Dev and Prod, and a fresh process per handler per run.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import platform
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import capacity, cold_start, report, warm
from bench.events import capture
from bench.measure import python, run_once
from bench.strategies import cold_start_strategies
from bench.synth_and_assets import (
    ASSET_BUDGET_BYTES,
    ROOT,
    app_code,
    asset_sizes,
    function_assets,
    synth_section,
    time_synths,
)

SECTIONS = ("cold", "synth", "assets", "warm", "capacity")
RESULTS_FILE = Path(__file__).with_name("results.json")


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh processes per handler and for the floor")
    parser.add_argument(
        "--lambda-python",
        help="the Python of a virtualenv holding only the runtime's SDK and the Powertools layer's packages, on the "
        "functions' runtime version, to run the cold starts (make bench makes .venv/lambda); default: this one",
    )
    parser.add_argument("--synth-runs", type=int, default=3, help="synths of each app")
    parser.add_argument("--warm-runs", type=int, default=20, help="warm invocations per handler")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS), help="sections to measure")
    parser.add_argument("--assembly", type=Path, help="reuse this synthesized cloud assembly (no synth timing)")
    parser.add_argument("--output", type=Path, default=RESULTS_FILE, help="where to write the results")
    return parser.parse_args(argv)


def _progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _local_cloud_sections(assembly: Path, arguments: argparse.Namespace, results: dict[str, Any]) -> None:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as missing:  # flask comes with moto's "server" extra
        raise SystemExit(
            f"the cold-start bench needs moto's server extra (pip install 'moto[server]'): {missing}"
        ) from None

    from serverless_patterns.local import LocalCloud

    code_dirs = {path: directory for path, (_, directory) in function_assets(assembly, "Dev").items()}
    _progress("deploying Dev into the local cloud and capturing one event per function")
    with LocalCloud.deploy(assembly, env="dev") as cloud:
        captured = capture(cloud)
        if "cold" in arguments.only:
            logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request the children make
            server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            server.start()
            try:
                host, port = server.get_host_and_port()
                _progress(f"cold starts: {len(captured)} handlers + floor, {arguments.runs} runs each")
                results["cold_start"] = cold_start.measure(
                    cloud,
                    captured,
                    code_dirs,
                    endpoint=f"http://{host}:{port}",
                    runs=arguments.runs,
                    interpreter=arguments.lambda_python,
                )
            finally:
                server.stop()
        if "warm" in arguments.only:
            _progress(f"warm invocations: {arguments.warm_runs} per handler")
            results["warm"] = warm.measure(cloud, captured, runs=arguments.warm_runs)


def run(arguments: argparse.Namespace) -> dict[str, Any]:
    """Measure the chosen sections; the results document."""
    results: dict[str, Any] = {
        "generated_at": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_before": _load(),
        },
    }
    with tempfile.TemporaryDirectory(prefix="bench-") as directory:
        assembly: Path = arguments.assembly
        if assembly is None and "synth" in arguments.only:
            _progress(
                f"synth: full app, empty app, full app without gates, L2 baseline; {arguments.synth_runs} runs each"
            )
            synths = time_synths(arguments.synth_runs, Path(directory))
            results["synth"] = synth_section(synths)
            assembly = synths.assembly
        elif assembly is None:
            _progress("synthesizing the app (not timed)")
            assembly = Path(directory) / "full"
            run_once(python(app_code(assembly, full=True), env=dict(os.environ), cwd=str(ROOT)))
        if "cold" in arguments.only:
            results["cold_start_strategies"] = cold_start_strategies(assembly)
        if "assets" in arguments.only:
            results["assets"] = {"budget_bytes": ASSET_BUDGET_BYTES, "functions": asset_sizes(assembly)}
        if {"cold", "warm"} & set(arguments.only):
            _local_cloud_sections(assembly, arguments, results)
        if "capacity" in arguments.only:
            from serverless_patterns.local import LocalCloud

            _progress("capacity: Prod in the local cloud under a burst per pattern, against the model")
            with LocalCloud.deploy(assembly, env="prod") as cloud:
                results["capacity"] = capacity.measure(cloud)
    results["machine"]["load_after"] = _load()
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, write the results file, print the tables."""
    arguments = _arguments(argv)
    results = run(arguments)
    arguments.output.write_text(json.dumps(results, indent=2) + "\n")
    print(report.render(results))
    print(f"\nResults: {arguments.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
