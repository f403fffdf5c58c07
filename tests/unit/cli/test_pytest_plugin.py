"""The pytest plugin: loaded everywhere the package is installed, so it must cost nothing until asked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from serverless_patterns.local import pytest_plugin

TEST_USING_THE_CLOUD = "def test_it(local_cloud):\n    assert local_cloud.outputs\n"


def run_pytest(directory: Path, ini: str) -> subprocess.CompletedProcess[str]:
    (directory / "pytest.ini").write_text(f"[pytest]\n{ini}")
    (directory / "test_app.py").write_text(TEST_USING_THE_CLOUD)
    # Only this plugin (the other installed ones would only slow the run down).
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", pytest_plugin.__name__]
    environment = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    return subprocess.run(  # noqa: S603
        command, cwd=directory, env=environment, capture_output=True, text=True, timeout=120, check=False
    )


def test_loading_the_plugin_imports_neither_the_cdk_nor_the_emulator() -> None:
    probe = (
        "import json, sys; import serverless_patterns.local.pytest_plugin; "
        "print(json.dumps([m for m in ('aws_cdk', 'moto', 'boto3', 'time_machine') if m in sys.modules]))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)  # noqa: S603
    assert json.loads(loaded.stdout) == []


def test_it_is_registered_here_and_deploys_nothing_unasked(request: pytest.FixtureRequest) -> None:
    assert request.config.pluginmanager.has_plugin("serverless_patterns")
    manager = request.config.stash.get(pytest_plugin._MANAGER, None)
    assert manager is None or manager.cloud is None


def test_a_test_asking_for_a_cloud_without_an_app_is_told_how_to_name_one(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, "")
    assert result.returncode != 0
    assert "local cloud app: no app: pass --app" in result.stdout + result.stderr


def test_an_unknown_scope_is_refused_before_any_test_runs(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, "local_cloud_scope = weekly\n")
    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    assert "local_cloud_scope must be one of session, module, function, not 'weekly'" in result.stderr
