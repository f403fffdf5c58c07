"""cfn-lint over every synthesized template; only CDK's redundant DependsOn (W3005) is tolerated.

cfn-lint runs once over the three templates, in the background (``conftest.linter_reports``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.infrastructure.conftest import Report

pytestmark = pytest.mark.xdist_group("linters")  # one worker runs the linters (conftest)


@pytest.fixture(scope="module")
def matches(linter_reports: dict[str, Report], template_files: dict[str, Path]) -> list[dict[str, object]]:
    returncode, output, errors = linter_reports["cfn-lint"].wait()
    assert output.strip(), f"cfn-lint printed no report (exit {returncode}):\n{errors[-2000:]}"
    found: list[dict[str, object]] = json.loads(output)
    # Every match names one of the templates, so none is lost when they are shared out per environment.
    assert {Path(str(match["Filename"])) for match in found} <= set(template_files.values())
    return found


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_template_passes_cfn_lint(env: str, matches: list[dict[str, object]], template_files: dict[str, Path]) -> None:
    mine = [match for match in matches if Path(str(match["Filename"])) == template_files[env]]
    assert [f"{match['Rule']} {match['Message']} at {match['Location']}" for match in mine] == []
