"""The template linters (checkov, cfn-lint) run in their own processes, both at once, when the first
test that reads their reports asks for them. Those tests are one xdist group (``linters``), so
under ``make test`` one worker runs them while the others go on; at the session's end a linter
still running is stopped with every process it started (checkov's workers included)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from serverless_patterns.stacks.stage import ServiceStage
from tests.conftest import ROOT

CHECKOV = ROOT / ".venv" / "checkov" / "bin" / "checkov"
CFN_LINT_IGNORED_RULES = ("W3005",)  # CDK's redundant DependsOn
CFN_LINT = "import sys; from cfnlint.runner import main; sys.exit(main())"  # its console script, from this venv


@dataclass
class Report:
    """A linter running in the background; ``wait`` gives its exit code and output."""

    process: subprocess.Popen[bytes]
    output: Path
    errors: Path

    def wait(self, timeout: float = 600) -> tuple[int, str, str]:
        returncode = self.process.wait(timeout=timeout)
        return returncode, self.output.read_text(), self.errors.read_text()


def _start(name: str, argv: list[str], directory: Path) -> Report:
    output, errors = directory / f"{name}.out", directory / f"{name}.err"
    with output.open("wb") as stdout, errors.open("wb") as stderr:
        process = subprocess.Popen(  # noqa: S603  (our pinned tools, our files)
            argv, stdout=stdout, stderr=stderr, start_new_session=True
        )
    return Report(process, output, errors)


@pytest.fixture(scope="session")
def template_files(stages: dict[str, ServiceStage], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The service stack's template per environment, as ``<env>.template.json`` in one directory."""
    directory = tmp_path_factory.mktemp("templates")
    files = {}
    for env, stage in stages.items():
        files[env] = directory / f"{env}.template.json"
        shutil.copy(stage.synth().get_stack_artifact(stage.service.artifact_id).template_full_path, files[env])
    return files


@pytest.fixture(scope="session")
def linter_reports(
    template_files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Report]]:
    """checkov and cfn-lint over the templates, started together, read by the tests that need them."""
    directory = tmp_path_factory.mktemp("linters")
    templates = next(iter(template_files.values())).parent
    reports = {
        "cfn-lint": _start(
            "cfn-lint",
            [sys.executable, "-c", CFN_LINT, "--format", "json", "--ignore-checks", *CFN_LINT_IGNORED_RULES, "--"]
            + [str(path) for path in template_files.values()],
            directory,
        )
    }
    if CHECKOV.exists():  # test_checkov fails, saying how to install it, when it is missing
        checkov = [str(CHECKOV), "--directory", str(templates), "--framework", "cloudformation"]
        reports["checkov"] = _start(
            "checkov", [*checkov, "--output", "json", "--quiet", "--compact", "--skip-download"], directory
        )
    yield reports
    for report in reports.values():
        if report.process.poll() is None:
            os.killpg(report.process.pid, signal.SIGKILL)  # its session: the linter and the workers it forked
            report.process.wait()
