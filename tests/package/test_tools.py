"""The tools the wheel installs, used on the example app from outside: the pytest plugin and the CLI."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.package.wheel_env import isolated_env


def _run(command: list[str], cwd: Path, python: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        command, cwd=cwd, env=isolated_env(python), capture_output=True, text=True, timeout=300, check=False
    )


def test_the_examples_own_tests_run_on_the_local_cloud_through_the_pytest_plugin(
    wheel_python: Path, example_app: Path, example_assembly: Path
) -> None:
    result = _run(
        [str(wheel_python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--local-cloud-app", str(example_assembly)],
        example_app,
        wheel_python,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "3 passed" in result.stdout


def test_the_console_script_prices_the_example_by_its_pattern_roles(
    wheel_python: Path, example_app: Path, example_assembly: Path
) -> None:
    command = [str(wheel_python.parent / "serverless-patterns"), "cost", "--app", str(example_assembly), "--json"]
    result = _run(command, example_app, wheel_python)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["environment"] == "CatalogService"
    priced = {function["path"]: function for function in document["functions"]}
    placed = [path for path in priced if path.startswith(("CatalogApi/", "PriceLists/"))]
    assert len(placed) == 3  # the API handler, the validator and the team's own processor
    assert all(priced[path]["lambda_usd"] > 0 for path in placed)
    assert document["batching"]["function"] == "PriceLists/Process"
    assert not [note for note in document["notes"] if "no such function" in note]
    assert "1 custom resource handler(s) run at deployment only: not priced" in document["notes"]


def test_the_console_script_refuses_bad_input_in_one_line(wheel_python: Path, example_app: Path) -> None:
    script = str(wheel_python.parent / "serverless-patterns")
    assert "serve" in _run([script, "--help"], example_app, wheel_python).stdout
    refused = _run([script, "redrive", "--dlq", "not-an-arn"], example_app, wheel_python)
    assert refused.returncode == 2
    assert refused.stderr.strip().count("\n") == 0, refused.stderr
    assert "not an SQS queue ARN" in refused.stderr
