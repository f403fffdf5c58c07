"""The wheel built once, installed once, the example synthesized once, for every test of tests/package."""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.package.wheel_env import (
    EXAMPLE,
    EXAMPLE_CONTEXT,
    MIN_SETUPTOOLS,
    clone_files,
    isolated_env,
    new_venv,
    probe,
    run,
)


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("package")


@pytest.fixture(scope="session")
def clone(workspace: Path) -> Path:
    return clone_files(workspace / "clone")


@pytest.fixture(scope="session")
def wheel(clone: Path, workspace: Path) -> Path:
    # Building offline (no build isolation) uses this venv's setuptools, which must build wheels by itself.
    setuptools_version = tuple(int(part) for part in importlib.metadata.version("setuptools").split(".")[:2])
    if setuptools_version < MIN_SETUPTOOLS:
        pytest.fail(f"setuptools {setuptools_version} is too old to build the wheel offline: see requirements-dev.txt")
    dist = workspace / "dist"
    run(
        [
            *(sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check"),
            *("--no-index", "--no-deps", "--no-build-isolation", "--wheel-dir", str(dist), str(clone)),
        ],
        cwd=workspace,
    )
    (built,) = dist.glob("serverless_patterns-*.whl")
    return built


@pytest.fixture(scope="session")
def wheel_python(wheel: Path, workspace: Path) -> Path:
    return new_venv(workspace / "venv-wheel", str(wheel))


@pytest.fixture(scope="session")
def wheel_facts(wheel_python: Path, workspace: Path) -> dict[str, Any]:
    return probe(wheel_python, workspace)


@pytest.fixture(scope="session")
def example_app(workspace: Path) -> Path:
    """The example app, copied outside the repository (its cdk.json, stack, own package and tests)."""
    app_dir = workspace / "catalog_service"
    shutil.copytree(EXAMPLE, app_dir, ignore=shutil.ignore_patterns("__pycache__", "cdk.out", ".pytest_cache"))
    return app_dir


@pytest.fixture(scope="session")
def example_assembly(wheel_python: Path, workspace: Path, example_app: Path) -> Path:
    """The example app synthesized with the wheel's venv."""
    outdir = workspace / "catalog.out"
    cdk_json = json.loads((example_app / "cdk.json").read_text())
    env = isolated_env(wheel_python)
    # What `npx cdk synth -c name=value` hands the app: cdk.json's context plus the -c values.
    env["CDK_CONTEXT_JSON"] = json.dumps({**cdk_json["context"], **EXAMPLE_CONTEXT})
    env["CDK_OUTDIR"] = str(outdir)
    command = cdk_json["app"].split()
    assert command[0] == "python3", "the example's cdk.json runs the app with the venv's python3"
    run([str(wheel_python), *command[1:]], cwd=example_app, env=env)
    return outdir


@pytest.fixture(scope="session")
def template(example_assembly: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((example_assembly / "CatalogService.template.json").read_text())
    return loaded
