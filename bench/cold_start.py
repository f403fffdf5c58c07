"""Cold init per handler: a fresh interpreter imports the handler from its staged asset and serves one event.

The deployed Dev app runs in the local cloud (embedded moto) in this process; a moto server
thread exposes the same emulated resources over HTTP, and each child process points its SDK
at it (``AWS_ENDPOINT_URL``). A child gets what Lambda gives a function: its environment
variables from the deployed configuration, the runtime's own variables, the asset's
directory as the code root (no bytecode cache: Lambda's task root is read-only), and a
context object. The floor is a fresh interpreter doing ``import boto3`` and creating one
client, with the same variables. Budget: a handler's median at most 1.5x the floor's.

Children run on the Lambda runtime's Python when ``make bench`` finds it (``--lambda-python``: a
virtualenv of that Python holding only the runtime's SDK and the Powertools layer's packages), else
on this interpreter (``results.json`` says which: the collector, among others, differs between
versions). They start with ``-S`` and, on ``PYTHONPATH`` after the code root, a site-packages of
only what a sandbox has: that virtualenv's, or links to the runtime's SDK and the Powertools layer
in this one, with what they require (``lambda_site_packages``). A Lambda sandbox processes no
``.pth`` files of a development install (this repository's editable-install finder alone costs
~50 ms per interpreter), and scanning the metadata of the ~140 distributions of the development
virtualenv (pydantic looks for plugins on its first model) costs several times what it does in a
sandbox.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import references
from bench.events import Captured
from bench.measure import Check, Command, Timing, python, ratio, time_interleaved
from serverless_patterns.local import LocalCloud

BUDGET_RATIO = 1.5
# What a sandbox's path holds: the runtime's SDK, and the Powertools layer (which brings pydantic).
LAMBDA_DISTRIBUTIONS = ("boto3", "aws-lambda-powertools", "pydantic")
NO_SITE = ("-S",)
FLOOR_CODE = "import boto3\nboto3.client('dynamodb')\n"
# What the Lambda runtime does around the handler: import it, build a context, call it once.
CHILD_CODE = """
import importlib, json, os, sys, time
started = time.perf_counter()
spec, event_file, result_file, invoked_arn = sys.argv[1:5]


class Context:
    def __init__(self):
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
        self.invoked_function_arn = invoked_arn
        self.memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
        self.aws_request_id = "bench-cold-start"
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.identity = self.client_context = self.tenant_id = None
        self._deadline = time.monotonic() + 60

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.monotonic()) * 1000))


module_name, _, function_name = spec.rpartition(".")
handler = getattr(importlib.import_module(module_name), function_name)
imported = time.perf_counter()
with open(event_file) as source:
    event = json.load(source)
result = handler(event, Context())
served = time.perf_counter()
with open(result_file, "w") as sink:
    json.dump({"result": result, "import_s": imported - started, "serve_s": served - imported}, sink, default=str)
"""
# What a given interpreter is: its absolute path (a virtualenv's, not its base's), version and site-packages.
_DESCRIBE_CODE = (
    "import json, platform, sys, sysconfig\n"
    "print(json.dumps([sys.executable, platform.python_version(), sysconfig.get_path('purelib')]))"
)
_IMPORT_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)$")


@dataclass(frozen=True)
class HandlerRun:
    """How to start one handler's cold process, and the phases each run measured itself."""

    path: str
    command: Command
    result_file: Path
    phases: list[tuple[float, float]] = field(default_factory=list)


def _distribution_closure(roots: tuple[str, ...]) -> list[importlib.metadata.Distribution]:
    """The installed distributions ``roots`` name and everything they require (extras left out)."""
    found: dict[str, importlib.metadata.Distribution] = {}
    pending = list(roots)
    while pending:
        name = pending.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in found:
            continue
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue  # a requirement for another Python or platform
        found[key] = distribution
        requirements = (
            re.match(r"[A-Za-z0-9_.-]+", line) for line in distribution.requires or [] if "extra ==" not in line
        )
        pending.extend(match.group(0) for match in requirements if match)
    return list(found.values())


def lambda_site_packages(directory: Path) -> str:
    """A site-packages in ``directory``: links to ``LAMBDA_DISTRIBUTIONS`` and their requirements, nothing else."""
    directory.mkdir(parents=True, exist_ok=True)
    for distribution in _distribution_closure(LAMBDA_DISTRIBUTIONS):
        tops = {path.parts[0] for path in distribution.files or [] if path.parts[0] != ".."}
        for top in sorted(tops):
            link = directory / top
            if not top.endswith(".pth") and not link.exists():
                link.symlink_to(Path(str(distribution.locate_file(top))))
    return str(directory)


@dataclass(frozen=True)
class Runner:
    """What runs the cold-start children: an interpreter, its Python version and the site-packages on their path."""

    interpreter: str
    python: str
    site_packages: str


def children_runner(directory: Path, interpreter: str | None = None) -> Runner:
    """``interpreter`` (a virtualenv with only the runtime's SDK and the Powertools layer) and its site-packages;
    without one, this interpreter with links to those packages in ``directory`` (``lambda_site_packages``)."""
    if interpreter is None:
        return Runner(sys.executable, platform.python_version(), lambda_site_packages(directory))
    try:
        found = subprocess.run(  # noqa: S603  (the interpreter the bench was given, never a shell)
            [interpreter, "-c", _DESCRIBE_CODE], capture_output=True, text=True, check=True
        )
        executable, version, site_packages = json.loads(found.stdout)  # the children run elsewhere: absolute
    except (OSError, subprocess.CalledProcessError) as error:
        raise SystemExit(f"--lambda-python {interpreter}: it does not run ({error})") from None
    except (ValueError, TypeError):  # not JSON, or not three values
        raise SystemExit(f"--lambda-python {interpreter}: not a Python ({found.stdout[:200]!r})") from None
    return Runner(executable, version, site_packages)


def base_environment(endpoint: str, region: str, site_packages: str) -> dict[str, str]:
    """What every child gets, floor included: fake credentials, the region, the emulator's endpoint."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108  (a Lambda sandbox's HOME is not used)
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ENDPOINT_URL": endpoint,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": site_packages,
    }


def function_environment(configuration: Mapping[str, Any], code_dir: Path, site_packages: str) -> dict[str, str]:
    """The runtime's variables and the function's own, from its deployed configuration."""
    logging = configuration.get("LoggingConfig", {})
    environment = {
        "_HANDLER": configuration["Handler"],
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{configuration.get('Runtime', 'python3.13')}",
        "AWS_LAMBDA_FUNCTION_NAME": configuration["FunctionName"],
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(configuration.get("MemorySize", 128)),
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",  # the runtime's event endpoint (the child never calls it)
        "AWS_LAMBDA_LOG_GROUP_NAME": logging.get("LogGroup") or f"/aws/lambda/{configuration['FunctionName']}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/01/[$LATEST]bench",
        "LAMBDA_TASK_ROOT": str(code_dir),
        "PYTHONPATH": os.pathsep.join([str(code_dir), site_packages]),
    }
    if logging.get("LogFormat"):
        environment["AWS_LAMBDA_LOG_FORMAT"] = logging["LogFormat"]
    if logging.get("ApplicationLogLevel"):
        environment["AWS_LAMBDA_LOG_LEVEL"] = logging["ApplicationLogLevel"]
    environment.update(configuration.get("Environment", {}).get("Variables", {}))
    return environment


def _checked(path: str, result_file: Path, phases: list[tuple[float, float]]) -> Check:
    """Fail the run unless the handler served its event; keep the import and serve times it measured."""

    def check(_: object) -> None:
        data = json.loads(result_file.read_text())
        outcome = data["result"]
        if isinstance(outcome, dict) and (
            int(outcome.get("statusCode", 200)) >= 500 or outcome.get("batchItemFailures")
        ):
            raise RuntimeError(f"{path} did not serve its event: {json.dumps(outcome)[:500]}")
        phases.append((float(data["import_s"]), float(data["serve_s"])))

    return check


def handler_runs(
    cloud: LocalCloud,
    captured: Mapping[str, Captured],
    code_dirs: Mapping[str, Path],
    base: Mapping[str, str],
    workdir: Path,
    interpreter: str,
) -> dict[str, HandlerRun]:
    """A cold-start command per captured function, its event written to ``workdir``, run by ``interpreter``."""
    lambda_client = cloud.client("lambda")
    runs = {}
    for index, (path, event) in enumerate(captured.items()):
        configuration = lambda_client.get_function_configuration(FunctionName=event.function_name)
        event_file, result_file = workdir / f"event-{index}.json", workdir / f"result-{index}.json"
        event_file.write_text(json.dumps(event.event))
        arn = f"{configuration['FunctionArn']}:live"
        env = {**base, **function_environment(configuration, code_dirs[path], base["PYTHONPATH"])}
        phases: list[tuple[float, float]] = []
        command = python(
            CHILD_CODE,
            event.handler,
            str(event_file),
            str(result_file),
            arn,
            env=env,
            cwd=str(workdir),
            check=_checked(path, result_file, phases),
            flags=NO_SITE,
            interpreter=interpreter,
        )
        runs[path] = HandlerRun(path, command, result_file, phases)
    return runs


def phases(run: HandlerRun) -> dict[str, float]:
    """Median import and serve seconds the child measured itself over the timed runs (warm-up excluded)."""
    timed = run.phases[1:] or run.phases
    return {
        "import_s": round(statistics.median(imported for imported, _ in timed), 4),
        "serve_s": round(statistics.median(served for _, served in timed), 4),
    }


def import_costs(command: Command, *, top: int = 8) -> dict[str, Any]:
    """``python -X importtime``: self time summed per top-level package, and the slowest single modules (ms)."""
    argv = list(command.argv)
    profiled = Command([argv[0], "-X", "importtime", *argv[1:]], env=command.env, cwd=command.cwd)
    result = subprocess.run(  # noqa: S603  (argv built by the bench itself, never a shell)
        profiled.argv, env=dict(profiled.env), cwd=profiled.cwd, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"import profile failed: {result.stderr[-2000:]}")
    per_package: dict[str, float] = defaultdict(float)
    modules: list[tuple[float, str]] = []
    for line in result.stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if not match:
            continue
        self_us, module = int(match.group(1)), match.group(4)
        per_package[module.split(".")[0]] += self_us / 1000
        modules.append((self_us / 1000, module))
    packages = sorted(per_package.items(), key=lambda entry: -entry[1])[:top]
    return {
        "packages_ms": {name: round(ms, 1) for name, ms in packages},
        "slowest_modules_ms": {name: round(ms, 1) for ms, name in sorted(modules, reverse=True)[:top]},
        "total_ms": round(sum(per_package.values()), 1),
    }


def measure(
    cloud: LocalCloud,
    captured: Mapping[str, Captured],
    code_dirs: Mapping[str, Path],
    *,
    endpoint: str,
    runs: int,
    interpreter: str | None = None,
) -> dict[str, Any]:
    """Every handler against the floor, interleaved; ratios, budget breaches and, for breaches, import costs.

    :param interpreter: runs the children (the Lambda runtime's Python, see ``children_runner``); default: this one.
    """
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as directory:
        workdir = Path(directory)
        runner = children_runner(workdir / "site-packages", interpreter)
        base = base_environment(endpoint, cloud.region, runner.site_packages)
        handlers = handler_runs(cloud, captured, code_dirs, base, workdir, runner.interpreter)
        floor_command = python(FLOOR_CODE, env=base, cwd=str(workdir), flags=NO_SITE, interpreter=runner.interpreter)
        reference_commands = references.commands(base, str(workdir), NO_SITE, runner.interpreter)
        samples = time_interleaved(
            {
                "floor": floor_command,
                **reference_commands,
                **{path: run.command for path, run in handlers.items()},
            },
            runs=runs,
        )
        floor: Timing = samples["floor"]
        results: dict[str, Any] = {}
        for path, run in handlers.items():
            timing = samples[path]
            handler_ratio = ratio(timing.wall, floor.wall)
            entry: dict[str, Any] = {
                **timing.wall.as_dict(),
                **phases(run),
                "ratio": handler_ratio,
                "cpu_s": timing.cpu.as_dict(),
                "cpu_ratio": ratio(timing.cpu, floor.cpu),
                "within_budget": handler_ratio <= BUDGET_RATIO,
                "event_source": captured[path].source,
            }
            if not entry["within_budget"]:
                entry["imports"] = import_costs(run.command)
            results[path] = entry
        floor_imports = import_costs(floor_command)
    return {
        "budget_ratio": BUDGET_RATIO,
        "python": runner.python,
        "floor": {
            **floor.wall.as_dict(),
            "cpu_s": floor.cpu.as_dict(),
            "code": FLOOR_CODE.strip().replace("\n", "; "),
            "imports": floor_imports,
        },
        "references": {
            name: {
                **samples[name].wall.as_dict(),
                "ratio": ratio(samples[name].wall, floor.wall),
                "description": references.DESCRIPTIONS[name],
            }
            for name in reference_commands
        },
        "handlers": results,
        "breaches": sorted(path for path, entry in results.items() if not entry["within_budget"]),
    }
