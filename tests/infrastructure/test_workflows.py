"""The workflows in .github agree with the environments, the Makefile and the CI bootstrap stack.

An environment added to ``stacks/environments.py``, a renamed stage or role, or a workflow edited
by hand fails here before it fails in a deploy. ``make lint`` runs actionlint over the same files.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from aws_cdk import assertions

from serverless_patterns.stacks.environments import ENVIRONMENTS
from tests.conftest import ROOT
from tests.infrastructure.ci_bootstrap_template import REPOSITORY, roles_by_name, synthesized

GITHUB = ROOT / ".github"
STAGE_WORKFLOW = "./.github/workflows/stage.yml"
GITHUB_OIDC_SUB = "token.actions.githubusercontent.com:sub"


def load(path: Path) -> dict[Any, Any]:
    document: dict[Any, Any] = yaml.safe_load(path.read_text())
    return document


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    """The ``on:`` section (YAML 1.1 reads the key ``on`` as True)."""
    section: dict[str, Any] = workflow[True]
    return section


def stage_calls(workflow: dict[Any, Any]) -> dict[str, dict[str, Any]]:
    """The jobs that call stage.yml, by job id, in file order."""
    return {job_id: job for job_id, job in workflow["jobs"].items() if job.get("uses") == STAGE_WORKFLOW}


def make(*arguments: str) -> subprocess.CompletedProcess[str]:
    """``make`` in the repository, outside any make that runs the tests."""
    environment = {
        name: value for name, value in os.environ.items() if name not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}
    }
    make_path = shutil.which("make")
    assert make_path, "make is not on the PATH"
    command = [make_path, "--no-print-directory", *arguments]
    return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, check=False)  # noqa: S603


def commands(result: subprocess.CompletedProcess[str]) -> str:
    """What ``make -n`` would run, spaces collapsed."""
    return " ".join(result.stdout.split())


@pytest.fixture(scope="module")
def deploy() -> dict[Any, Any]:
    return load(GITHUB / "workflows" / "deploy.yml")


@pytest.fixture(scope="module")
def ci() -> dict[Any, Any]:
    return load(GITHUB / "workflows" / "ci.yml")


@pytest.fixture(scope="module")
def stage() -> dict[Any, Any]:
    return load(GITHUB / "workflows" / "stage.yml")


@pytest.fixture(scope="module")
def bootstrap_roles(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    template: assertions.Template = synthesized(cdk_context, str(tmp_path_factory.mktemp("ci")))[1]
    return roles_by_name(template)


def test_deploy_workflow_deploys_every_environment_in_order_on_main(deploy: dict[Any, Any]) -> None:
    assert triggers(deploy)["push"] == {"branches": ["main"]}
    calls = list(stage_calls(deploy).values())
    assert [call["with"]["environment"] for call in calls] == [config.name for config in ENVIRONMENTS.values()]
    assert [call["with"]["env"] for call in calls] == list(ENVIRONMENTS)
    assert all(call["with"]["deploy"] is True for call in calls)
    first, *later = stage_calls(deploy)
    assert "needs" not in deploy["jobs"][first]
    assert deploy["jobs"][first]["if"] == "github.ref == 'refs/heads/main'"
    previous = first
    for job_id in later:
        assert deploy["jobs"][job_id]["needs"] == previous
        previous = job_id


def test_two_deploys_of_one_environment_never_overlap(deploy: dict[Any, Any]) -> None:
    for call in stage_calls(deploy).values():
        assert call["concurrency"] == {"group": f"deploy-{call['with']['environment']}", "cancel-in-progress": False}


@pytest.mark.parametrize("workflow_name", ["deploy", "ci"])
def test_every_environment_uses_its_own_account_variables_and_bootstrap_roles(
    workflow_name: str, request: pytest.FixtureRequest, bootstrap_roles: dict[str, dict[str, Any]]
) -> None:
    workflow = request.getfixturevalue(workflow_name)
    if workflow_name == "ci":
        (call,) = stage_calls(workflow).values()
        assert call["with"]["env"] == "${{ matrix.env }}"
        assert "deploy" not in call["with"]
        assert "deploy-role" not in call["with"]
        calls = call["strategy"]["matrix"]["include"]
    else:
        calls = [call["with"] for call in stage_calls(workflow).values()]
    assert [call["env"] for call in calls] == list(ENVIRONMENTS)
    for call in calls:
        config, prefix = ENVIRONMENTS[call["env"]], call["env"].upper()
        assert call["environment"] == config.name
        assert call["account-id"] == f"${{{{ vars.{prefix}_AWS_ACCOUNT_ID }}}}"
        assert call["region"] == f"${{{{ vars.{prefix}_AWS_REGION }}}}"
        diff_trust = bootstrap_roles[call["diff-role"]]["AssumeRolePolicyDocument"]["Statement"][0]
        assert diff_trust["Condition"]["StringEquals"][GITHUB_OIDC_SUB] == [
            f"repo:{REPOSITORY}:pull_request",
            f"repo:{REPOSITORY}:ref:refs/heads/main",
        ]
        if "deploy-role" in call:
            deploy_trust = bootstrap_roles[call["deploy-role"]]["AssumeRolePolicyDocument"]["Statement"][0]
            # The role trusts jobs in the GitHub environment the deploy job runs in, and only those.
            assert deploy_trust["Condition"]["StringEquals"][GITHUB_OIDC_SUB] == (
                f"repo:{REPOSITORY}:environment:{call['environment']}"
            )


def test_the_deploy_job_runs_in_the_github_environment_with_the_deploy_role(stage: dict[Any, Any]) -> None:
    job = stage["jobs"]["deploy"]
    assert job["environment"] == "${{ inputs.environment }}"
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    (credentials,) = (step for step in job["steps"] if step.get("uses") == "./.github/actions/aws-credentials")
    assert credentials["with"]["role-name"] == "${{ inputs.deploy-role }}"
    assert credentials["with"]["environment"] == "${{ inputs.environment }}"
    (download,) = (step for step in job["steps"] if "download-artifact" in step.get("uses", ""))
    assert download["with"] == {"name": "cloud-assembly-${{ inputs.env }}", "path": "cdk.out"}
    assert job["steps"][-1]["run"] == 'make deploy ENV="$TARGET" CDK_APP=cdk.out REQUIRE_APPROVAL="$REQUIRE_APPROVAL"'
    assert job["env"] == {"TARGET": "${{ inputs.env }}", "REQUIRE_APPROVAL": "${{ inputs.require-approval }}"}
    diff_job = stage["jobs"]["diff"]
    (credentials,) = (step for step in diff_job["steps"] if step.get("uses") == "./.github/actions/aws-credentials")
    assert credentials["with"]["role-name"] == "${{ inputs.diff-role }}"
    assert "environment" not in diff_job  # a diff never waits for reviewers and cannot assume a deploy role


def test_prod_needs_a_person_for_a_security_broadening_change(deploy: dict[Any, Any], stage: dict[Any, Any]) -> None:
    calls = {call["with"]["env"]: call["with"] for call in stage_calls(deploy).values()}
    assert calls["prod"]["require-approval"] == "${{ inputs.allow-broadening && 'never' || 'broadening' }}"
    allow = triggers(deploy)["workflow_dispatch"]["inputs"]["allow-broadening"]
    assert allow["type"] == "boolean"
    assert allow["default"] is False
    assert stage[True]["workflow_call"]["inputs"]["require-approval"]["default"] == "broadening"
    (stop,) = (step for step in stage["jobs"]["diff"]["steps"] if step.get("name", "").startswith("Stop"))
    assert stop["if"] == (
        "inputs.deploy && inputs.require-approval == 'broadening' && steps.broadening.outputs.broadening == 'true'"
    )


@pytest.mark.parametrize("name", list(ENVIRONMENTS))
def test_make_selects_the_environments_stage(name: str) -> None:
    selector = f"'{ENVIRONMENTS[name].name}/*' -c env={name}"
    deploy = make("-n", "deploy", f"ENV={name}", "CDK_APP=cdk.out", "REQUIRE_APPROVAL=broadening")
    assert f"npx cdk deploy {selector} --app 'cdk.out' --require-approval broadening" in commands(deploy)
    diff = make("-n", "diff", f"ENV={name}")
    assert f"npx cdk diff {selector} --fail-on never" in commands(diff)


@pytest.mark.parametrize(
    ("target", "env"), [("destroy", "staging"), ("destroy", "prod"), ("destroy", "Dev"), ("deploy", "qa")]
)
def test_make_refuses_in_one_line(target: str, env: str) -> None:
    result = make(target, f"ENV={env}")
    assert result.returncode != 0
    (line,) = result.stderr.strip().splitlines()
    assert f"ENV={env}" in line
    assert result.stdout == ""


def test_no_stored_keys_and_least_permissions(deploy: dict[Any, Any], ci: dict[Any, Any]) -> None:
    for path in GITHUB.rglob("*.yml"):
        text = path.read_text()
        assert "secrets." not in text, path
        assert "aws-access-key-id" not in text, path
    assert deploy["permissions"] == {}
    assert ci["permissions"] == {"contents": "read"}
    for workflow in (deploy, ci):
        for call in stage_calls(workflow).values():
            assert call["permissions"] == {"contents": "read", "id-token": "write"}


_USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$", re.MULTILINE)


def test_actions_are_pinned_by_commit_with_their_version() -> None:
    found = 0
    for path in GITHUB.rglob("*.yml"):
        for action, comment in _USES.findall(path.read_text()):
            if action.startswith("./"):
                continue
            found += 1
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), f"{path}: {action} is not pinned by commit"
            assert re.fullmatch(r"\s*# v\d+\.\d+\.\d+", comment), f"{path}: {action} lacks its '# vX.Y.Z' comment"
    assert found > 0


def test_composite_action_scripts_are_safe_shell() -> None:
    """actionlint checks workflows' scripts; the composite actions' scripts get the same checks here."""
    shellcheck = Path(sys.executable).parent / "shellcheck"
    scripts = [
        step["run"]
        for path in sorted(GITHUB.glob("actions/*/action.yml"))
        for step in load(path)["runs"]["steps"]
        if "run" in step
    ]
    assert scripts
    for script in scripts:
        assert "${{" not in script  # inputs reach scripts through env:, never by expansion
        command = [str(shellcheck), "--shell=bash", "-"]
        result = subprocess.run(command, input=script, capture_output=True, text=True, check=False)  # noqa: S603
        assert result.returncode == 0, result.stdout
