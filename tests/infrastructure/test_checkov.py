"""The second gate: checkov over the three environments' templates, every finding accepted with a reason.

checkov runs once, in the background, over the templates the session already synthesized
(``conftest.linter_reports``), from its own virtualenv (``.venv/checkov``, made by ``make install``
from ``requirements-checkov.txt``: its exact boto3 pin cannot share the test virtualenv). What it
reports must be accepted, with its reason, in ``compliance/checkov-accepted.yaml``; an acceptance
that no longer matches any finding fails too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT
from tests.infrastructure.conftest import CHECKOV, Report

pytestmark = pytest.mark.xdist_group("linters")  # one worker runs the linters (conftest)

ACCEPTED = ROOT / "compliance" / "checkov-accepted.yaml"
ENVIRONMENTS = ("dev", "staging", "prod")
CHECK_ID = re.compile(r"^CKV2?_AWS_\d+$")


@dataclass(frozen=True)
class Finding:
    check_id: str
    environment: str
    logical_id: str
    check_name: str


@dataclass(frozen=True)
class Acceptance:
    check_id: str
    reason: str
    environments: tuple[str, ...]
    resources: tuple[re.Pattern[str], ...]

    def covers(self, finding: Finding) -> bool:
        return (
            finding.check_id == self.check_id
            and finding.environment in self.environments
            and (not self.resources or any(pattern.search(finding.logical_id) for pattern in self.resources))
        )


def _acceptances() -> list[Acceptance]:
    entries: dict[str, dict[str, Any]] = yaml.safe_load(ACCEPTED.read_text())
    return [
        Acceptance(
            check_id=check_id,
            reason=entry["reason"],
            environments=tuple(entry.get("environments", ENVIRONMENTS)),
            resources=tuple(re.compile(pattern) for pattern in entry.get("resources", ())),
        )
        for check_id, entry in entries.items()
    ]


@pytest.fixture(scope="module")
def findings(linter_reports: dict[str, Report]) -> list[Finding]:
    if "checkov" not in linter_reports:
        pytest.fail(f"checkov is not installed at {CHECKOV}: run make install (requirements-checkov.txt)")
    returncode, stdout, stderr = linter_reports["checkov"].wait()
    assert returncode in (0, 1), stderr[-2000:]  # 1: there are failed checks
    report = json.loads(stdout)
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["resource_count"] > 0
    return [
        Finding(
            check_id=failed["check_id"],
            environment=Path(failed["file_path"]).name.split(".")[0],
            logical_id=failed["resource"].split(".", 1)[1],
            check_name=failed["check_name"],
        )
        for failed in report["results"]["failed_checks"]
    ]


def test_the_accepted_checks_file_is_well_formed() -> None:
    for acceptance in _acceptances():
        assert CHECK_ID.fullmatch(acceptance.check_id), acceptance.check_id
        assert len(acceptance.reason) > 40, f"{acceptance.check_id}: say why it is accepted"
        assert set(acceptance.environments) <= set(ENVIRONMENTS), acceptance.check_id


def test_every_checkov_finding_is_accepted_with_a_reason(findings: list[Finding]) -> None:
    acceptances = _acceptances()
    unexplained = sorted(
        f"{f.environment}: {f.check_id} ({f.check_name}) on {f.logical_id}"
        for f in findings
        if not any(acceptance.covers(f) for acceptance in acceptances)
    )
    assert unexplained == [], f"fix these, or accept them with a reason in {ACCEPTED.relative_to(ROOT)}"


def test_every_acceptance_still_matches_a_finding(findings: list[Finding]) -> None:
    stale = [acceptance.check_id for acceptance in _acceptances() if not any(acceptance.covers(f) for f in findings)]
    assert stale == [], f"remove these from {ACCEPTED.relative_to(ROOT)}: checkov no longer reports them"


def test_the_issues_this_project_fixed_stay_fixed(findings: list[Finding]) -> None:
    """PITR outside Dev and an open API outside Dev are findings no acceptance may cover."""
    assert not [f for f in findings if f.check_id in {"CKV_AWS_165", "CKV_AWS_59"} and f.environment != "dev"]
