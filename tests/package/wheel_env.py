"""Building the wheel, installing it into a fresh venv, running things there: the package tests' helpers.

The wheel is built offline from the files a clone of the repository has (tracked and
not-ignored files, copied to a temporary directory), installed with ``--no-deps`` into a
venv that borrows this interpreter's third-party packages (aws-cdk-lib, constructs, cdk-nag)
through a ``.pth`` line. Nothing from the working tree is importable there: what an app gets
is what the wheel ships.

``python -m venv --system-site-packages`` would not do here: run from this project's
.venv, it links the *base* interpreter's site-packages (which lacks aws-cdk-lib and holds
other versions of boto3), not the .venv's. The ``.pth`` line gives the same reuse without
the base interpreter's packages, and without the .venv's editable install of this project
(``.pth`` files found through a ``.pth`` line are not processed).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "catalog_service"
BOX_OFFICE = ROOT / "examples" / "box_office"
PROBE = Path(__file__).with_name("installed_probe.py")
NODE_BIN = ROOT / "node_modules" / ".bin"
# Where this interpreter's third-party packages live (aws-cdk-lib, constructs, cdk-nag, boto3...).
THIRD_PARTY = Path(sysconfig.get_path("purelib"))
PACKAGE = "serverless_patterns"
# pyproject's build-system: SPDX license strings (77) and wheels without the separate `wheel` package (70.1).
MIN_SETUPTOOLS = (77, 0)

CATALOG_TABLE = "catalog-items-test"
PAGER_TOPIC = "arn:aws:sns:us-east-1:111122223333:catalog-oncall"
OPS_EMAIL = "catalog-team@example.com"
EXAMPLE_CONTEXT = {
    "catalog_table": CATALOG_TABLE,
    "currency": "usd",
    "ops_email": OPS_EMAIL,
    "pager_topic_arn": PAGER_TOPIC,
}


def run(command: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run ``command``; fail the test with its output when it fails."""
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(command[:4])} ... exited {result.returncode}\n"
            f"--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}"
        )
    return result.stdout


def isolated_env(python: Path) -> dict[str, str]:
    """The environment of a shell with ``python``'s venv activated: nothing of this checkout on the path."""
    env = {key: value for key, value in os.environ.items() if key not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env["PATH"] = os.pathsep.join([str(python.parent), str(NODE_BIN), env.get("PATH", "")])
    env["VIRTUAL_ENV"] = str(python.parent.parent)
    env["JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def clone_files(destination: Path) -> Path:
    """The files a clone would have (tracked, plus new files not ignored), copied to ``destination``."""
    listed = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT)
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is listed too
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def new_venv(path: Path, requirement: str) -> Path:
    """A venv at ``path`` with ``requirement`` installed offline, without dependencies; its python."""
    venv.EnvBuilder(with_pip=False, symlinks=True).create(path)
    python = path / "bin" / "python"
    purelib = run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=path).strip()
    (Path(purelib) / "_borrowed_site_packages.pth").write_text(f"{THIRD_PARTY}\n")
    run(
        [
            sys.executable,
            *("-m", "pip", "--python", str(python), "install", "--quiet", "--disable-pip-version-check"),
            *("--no-index", "--no-deps", "--no-build-isolation", requirement),
        ],
        cwd=path,
    )
    return python


def probe(python: Path, cwd: Path, *options: str) -> dict[str, Any]:
    command = [str(python), str(PROBE), *options]
    facts: dict[str, Any] = json.loads(run(command, cwd=cwd, env=isolated_env(python)))
    return facts


def copy_example(example: Path, workspace: Path) -> Path:
    """``example``'s folder copied into ``workspace``, outside the repository (no caches, no cdk.out)."""
    app_dir = workspace / example.name
    shutil.copytree(example, app_dir, ignore=shutil.ignore_patterns("__pycache__", "cdk.out", ".pytest_cache"))
    return app_dir


def synthesize_example(python: Path, app_dir: Path, outdir: Path, context: dict[str, str]) -> Path:
    """Run the app in ``app_dir`` as ``npx cdk synth -c ...`` would, with ``python``: its cloud assembly."""
    cdk_json = json.loads((app_dir / "cdk.json").read_text())
    env = isolated_env(python)
    # What `npx cdk synth -c name=value` hands the app: cdk.json's context plus the -c values.
    env["CDK_CONTEXT_JSON"] = json.dumps({**cdk_json.get("context", {}), **context})
    env["CDK_OUTDIR"] = str(outdir)
    command = cdk_json["app"].split()
    assert command[0] == "python3", "the example's cdk.json runs the app with the venv's python3"
    run([str(python), *command[1:]], cwd=app_dir, env=env)
    return outdir
