"""The wheel built once, installed once, each example synthesized once, for every test of tests/package."""

from __future__ import annotations

import importlib.metadata
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.package.wheel_env import (
    BOX_OFFICE,
    EXAMPLE,
    EXAMPLE_CONTEXT,
    MIN_SETUPTOOLS,
    clone_files,
    copy_example,
    new_venv,
    probe,
    run,
    synthesize_example,
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
    """The catalog example, copied outside the repository (its cdk.json, stack, own package and tests)."""
    return copy_example(EXAMPLE, workspace)


@pytest.fixture(scope="session")
def example_assembly(wheel_python: Path, workspace: Path, example_app: Path) -> Path:
    """The catalog example synthesized with the wheel's venv."""
    return synthesize_example(wheel_python, example_app, workspace / "catalog.out", EXAMPLE_CONTEXT)


@pytest.fixture(scope="session")
def template(example_assembly: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((example_assembly / "CatalogService.template.json").read_text())
    return loaded


@pytest.fixture(scope="session")
def box_office_app(workspace: Path) -> Path:
    """The box office example (all five patterns, its own code in every role), copied outside the repository."""
    return copy_example(BOX_OFFICE, workspace)


@pytest.fixture(scope="session")
def box_office_assembly(wheel_python: Path, workspace: Path, box_office_app: Path) -> Path:
    """The box office synthesized with the wheel's venv, with no context at all (its cdk.json sets no flags)."""
    return synthesize_example(wheel_python, box_office_app, workspace / "box_office.out", {})


@pytest.fixture(scope="session")
def box_office_template(box_office_assembly: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((box_office_assembly / "BoxOffice.template.json").read_text())
    return loaded
