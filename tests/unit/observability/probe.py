"""Handlers written the way the patterns write theirs, run in a fresh process as in a new Lambda container.

The shared observability module reads its ``POWERTOOLS_*`` configuration once, at import, so
each configuration is exercised in its own interpreter: ``run_probe(env, invocations)`` starts
``python -m tests.unit.observability.probe``, which imports the handlers under that environment,
invokes them in order with a Lambda-like context and returns what they wrote to stdout (the log
and EMF lines CloudWatch would receive) plus each invocation's outcome.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class ProbeRun:
    """What one container wrote: JSON lines from stdout, and one outcome per invocation."""

    lines: list[dict[str, Any]]
    outcomes: list[dict[str, Any]]
    raw_stdout: str

    @property
    def emf(self) -> list[dict[str, Any]]:
        """The EMF lines (metrics)."""
        return [line for line in self.lines if "_aws" in line]

    @property
    def logs(self) -> list[dict[str, Any]]:
        """The structured log lines."""
        return [line for line in self.lines if "_aws" not in line]


@dataclass(frozen=True)
class LambdaContext:
    """The attributes of Lambda's context object Powertools reads."""

    function_name: str
    aws_request_id: str
    memory_limit_in_mb: int = 256
    function_version: str = "1"
    invoked_function_arn: str = field(default="")

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def run_probe(env: Mapping[str, str], invocations: Sequence[tuple[str, Any]]) -> ProbeRun:
    """Invoke ``(handler name, event)`` pairs in one fresh container configured by ``env``."""
    child_env = {key: value for key, value in os.environ.items() if not key.startswith(("POWERTOOLS_", "AWS_LAMBDA_"))}
    child_env.update(env)
    child_env["PYTHONPATH"] = str(ROOT)
    completed = subprocess.run(
        [sys.executable, "-m", "tests.unit.observability.probe"],
        input=json.dumps(list(invocations)),
        capture_output=True,
        text=True,
        env=child_env,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    outcomes = [json.loads(line) for line in completed.stderr.splitlines() if line.startswith('{"outcome"')]
    lines = [json.loads(line) for line in completed.stdout.splitlines() if line.strip()]
    return ProbeRun(lines=lines, outcomes=outcomes, raw_stdout=completed.stdout)


def _main() -> None:
    from tests.unit.observability import probe_handlers

    function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "probe")
    for number, (name, event) in enumerate(json.load(sys.stdin)):
        context = LambdaContext(
            function_name=function_name,
            aws_request_id=f"request-{number}",
            invoked_function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}:live",
        )
        try:
            result = getattr(probe_handlers, name)(event, context)
            outcome = {"outcome": "ok", "result": result}
        except Exception as error:
            outcome = {"outcome": "error", "error": type(error).__name__}
        sys.stderr.write(json.dumps(outcome) + "\n")


if __name__ == "__main__":
    _main()
