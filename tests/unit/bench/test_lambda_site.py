"""The cold-start children's site-packages holds what a Lambda sandbox has, and nothing of the development install."""

from __future__ import annotations

import platform
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from bench.cold_start import children_runner, lambda_site_packages
from serverless_patterns.constructs.lambda_code import PYTHON_RUNTIME

MAKEFILE = Path(__file__).resolve().parents[3] / "Makefile"


def test_the_site_holds_the_runtime_sdk_and_the_powertools_layer_only(tmp_path: Path) -> None:
    site = Path(lambda_site_packages(tmp_path / "site-packages"))
    names = {path.name for path in site.iterdir()}

    assert {"boto3", "botocore", "s3transfer", "aws_lambda_powertools", "pydantic", "pydantic_core"} <= names
    assert not names & {"aws_cdk", "moto", "pytest", "serverless_patterns", "jsii"}
    assert not [name for name in names if name.endswith(".pth")]
    imported = subprocess.run(
        [sys.executable, "-S", "-c", "import boto3, pydantic, aws_lambda_powertools.metrics; import aws_cdk"],
        env={"PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert "No module named 'aws_cdk'" in imported.stderr


def test_a_lambda_python_runs_the_children_on_its_own_site_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    interpreter = Path(sys.executable)
    monkeypatch.chdir(interpreter.parent)
    runner = children_runner(tmp_path / "links", f"./{interpreter.name}")  # the children run in another directory
    assert (runner.interpreter, runner.python) == (sys.executable, platform.python_version())
    assert runner.site_packages == sysconfig.get_paths()["purelib"]
    assert not (tmp_path / "links").exists()


def test_without_one_they_run_on_this_interpreter_with_links_to_the_sandbox_packages(tmp_path: Path) -> None:
    runner = children_runner(tmp_path / "links", None)
    assert (runner.interpreter, runner.python) == (sys.executable, platform.python_version())
    assert runner.site_packages == str(tmp_path / "links")
    assert (tmp_path / "links" / "boto3").is_symlink()


def test_a_lambda_python_that_does_not_run_stops_the_bench_with_its_name(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"--lambda-python /nowhere/python3\.13: it does not run"):
        children_runner(tmp_path, "/nowhere/python3.13")


@pytest.mark.parametrize("program", ["/bin/echo", "/bin/true"])
def test_a_lambda_python_that_is_not_a_python_stops_the_bench_with_its_name(tmp_path: Path, program: str) -> None:
    with pytest.raises(SystemExit, match=f"--lambda-python {program}: not a Python"):
        children_runner(tmp_path, program)


def test_make_bench_looks_for_the_python_the_functions_run_on() -> None:
    version = re.search(r"^LAMBDA_PYTHON_VERSION := (\S+)$", MAKEFILE.read_text(), re.MULTILINE)
    assert version is not None
    assert PYTHON_RUNTIME.name == f"python{version.group(1)}"
