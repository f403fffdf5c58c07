"""The CI bootstrap stack: who may assume its roles, and what they may do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, assertions, aws_sqs as sqs

from serverless_patterns.stacks.ci_bootstrap import CiBootstrapStack, add_ci_bootstrap
from serverless_patterns.stacks.environments import DEV, PROD
from tests.conftest import ROOT
from tests.infrastructure.ci_bootstrap_template import REPOSITORY, roles_by_name, synthesized

GITHUB = "token.actions.githubusercontent.com"
EXISTING_PROVIDER = f"arn:aws:iam::111122223333:oidc-provider/{GITHUB}"


def bootstrap_role(qualifier: str, kind: str) -> dict[str, str]:
    account, region = "${AWS::AccountId}", "${AWS::Region}"
    return {"Fn::Sub": f"arn:${{AWS::Partition}}:iam::{account}:role/cdk-{qualifier}-{kind}-role-{account}-{region}"}


def trust(federated: Any, subject: str | list[str]) -> dict[str, Any]:
    return {
        "Statement": [
            {
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com", f"{GITHUB}:sub": subject}},
                "Effect": "Allow",
                "Principal": {"Federated": federated},
            }
        ],
        "Version": "2012-10-17",
    }


def may_assume(*resources: dict[str, str]) -> list[dict[str, Any]]:
    statement = {
        "Action": ["sts:AssumeRole", "sts:TagSession"],
        "Effect": "Allow",
        "Resource": resources[0] if len(resources) == 1 else list(resources),
    }
    return [
        {"PolicyDocument": {"Statement": [statement], "Version": "2012-10-17"}, "PolicyName": "AssumeCdkBootstrapRoles"}
    ]


@pytest.fixture(scope="module")
def template(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> assertions.Template:
    return synthesized(cdk_context, str(tmp_path_factory.mktemp("ci")))[1]


def test_creates_githubs_oidc_provider_for_sts(template: assertions.Template) -> None:
    template.resource_count_is("AWS::IAM::OIDCProvider", 1)
    template.has_resource_properties(
        "AWS::IAM::OIDCProvider", {"Url": f"https://{GITHUB}", "ClientIdList": ["sts.amazonaws.com"]}
    )


def test_deploy_roles_trust_only_this_repositorys_jobs_in_their_github_environment(
    template: assertions.Template,
) -> None:
    (provider,) = template.find_resources("AWS::IAM::OIDCProvider")
    roles = roles_by_name(template)
    for name in ("Dev", "Staging", "Prod"):
        role = roles[f"serverless-patterns-ci-deploy-{name.lower()}"]
        assert role["AssumeRolePolicyDocument"] == trust({"Ref": provider}, f"repo:{REPOSITORY}:environment:{name}")


def test_deploy_roles_may_only_assume_the_cdk_bootstrap_roles(template: assertions.Template) -> None:
    roles = roles_by_name(template)
    for name in ("dev", "staging", "prod"):
        role = roles[f"serverless-patterns-ci-deploy-{name}"]
        assert role["Policies"] == may_assume(
            *(bootstrap_role("hnb659fds", kind) for kind in ("deploy", "file-publishing", "image-publishing", "lookup"))
        )
        assert "ManagedPolicyArns" not in role
    template.resource_count_is("AWS::IAM::Policy", 0)
    template.resource_count_is("AWS::IAM::ManagedPolicy", 0)


def test_diff_roles_trust_pull_requests_and_main_and_may_only_read(template: assertions.Template) -> None:
    (provider,) = template.find_resources("AWS::IAM::OIDCProvider")
    roles = roles_by_name(template)
    assert len(roles) == 6
    for name in ("dev", "staging", "prod"):
        role = roles[f"serverless-patterns-ci-diff-{name}"]
        assert role["AssumeRolePolicyDocument"] == trust(
            {"Ref": provider}, [f"repo:{REPOSITORY}:pull_request", f"repo:{REPOSITORY}:ref:refs/heads/main"]
        )
        assert role["Policies"] == may_assume(bootstrap_role("hnb659fds", "lookup"))


def test_existing_provider_qualifier_branch_and_environments(cdk_context: dict[str, Any], tmp_path: Path) -> None:
    _, template = synthesized(
        cdk_context,
        str(tmp_path),
        environment_names=["prod"],
        branch="release",
        qualifier="team42",
        existing_oidc_provider_arn=EXISTING_PROVIDER,
    )
    template.resource_count_is("AWS::IAM::OIDCProvider", 0)
    roles = roles_by_name(template)
    assert sorted(roles) == ["serverless-patterns-ci-deploy-prod", "serverless-patterns-ci-diff-prod"]
    deploy, diff = roles["serverless-patterns-ci-deploy-prod"], roles["serverless-patterns-ci-diff-prod"]
    assert deploy["AssumeRolePolicyDocument"] == trust(EXISTING_PROVIDER, f"repo:{REPOSITORY}:environment:Prod")
    assert diff["AssumeRolePolicyDocument"] == trust(
        EXISTING_PROVIDER, [f"repo:{REPOSITORY}:pull_request", f"repo:{REPOSITORY}:ref:refs/heads/release"]
    )
    assert diff["Policies"] == may_assume(bootstrap_role("team42", "lookup"))
    assert template.to_json()["Outputs"]["GitHubOidcProviderArn"]["Value"] == EXISTING_PROVIDER


@pytest.mark.parametrize(
    ("options", "prop"),
    [
        ({"repository": "serverless-patterns"}, "repository"),
        ({"repository": "org/team/repo"}, "repository"),
        ({"repository": "-org/repo"}, "repository"),
        ({"repository": "org/.."}, "repository"),
        ({"repository": "org/repo:environment:Prod"}, "repository"),
        ({"environments": []}, "environments"),
        ({"environments": [DEV, DEV]}, "environments"),
        ({"branch": "release/*"}, "branch"),
        ({"branch": "a..b"}, "branch"),
        ({"qualifier": "far-too-long"}, "qualifier"),
        ({"qualifier": "has space"}, "qualifier"),
        (
            {"existing_oidc_provider_arn": "arn:aws:iam::111122223333:oidc-provider/accounts.google.com"},
            "existing_oidc_provider_arn",
        ),
    ],
)
def test_bad_props_are_refused_by_name(options: dict[str, Any], prop: str) -> None:
    props: dict[str, Any] = {"repository": REPOSITORY, "environments": [DEV, PROD], **options}
    with pytest.raises(ValueError, match=f"^{prop} "):
        CiBootstrapStack(App(), "CiBootstrap", **props)


def test_repository_is_required() -> None:
    with pytest.raises(ValueError, match="repository is required"):
        add_ci_bootstrap(App(), repository=None)


def test_compliance_gates_run_on_the_stack(cdk_context: dict[str, Any], tmp_path: Path) -> None:
    app = App(context=cdk_context, outdir=str(tmp_path))
    stack = add_ci_bootstrap(app, repository=REPOSITORY)
    sqs.Queue(stack, "Unacknowledged")
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()


def test_app_py_reads_the_ci_context_and_refuses_bad_values_in_one_line(tmp_path: Path) -> None:
    context = {"ci_bootstrap": "true", "repository": REPOSITORY, "ci_environments": "staging, qa"}
    environment = {**os.environ, "CDK_OUTDIR": str(tmp_path), "CDK_CONTEXT_JSON": json.dumps(context)}
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=environment, capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "app.py: unknown environment 'qa'; choose one of ['dev', 'prod', 'staging']"
    )
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "manifest.json").exists()
