"""The AWS side of CI's trust: GitHub's OIDC provider and two roles per environment.

Deployed once per account with ``make bootstrap-ci`` (``app.py`` with ``-c ci_bootstrap=true``),
after ``cdk bootstrap``. The workflows in ``.github/workflows`` assume these roles through
GitHub's OIDC provider, so no AWS keys are stored in GitHub:

- ``serverless-patterns-ci-deploy-<env>``: trusted only by this repository's jobs that run in the
  GitHub environment of the same name (``Dev``, ``Staging``, ``Prod``), where reviewers and branch
  rules apply; it may only assume the CDK bootstrap roles that deploy and publish assets.
- ``serverless-patterns-ci-diff-<env>``: trusted only by this repository's pull requests and
  pushes to its main branch; it may only assume the CDK lookup role, which reads (``cdk diff
  --method template``) and cannot change anything.

Both are limited to this account's bootstrap roles of the stack's region, with the given qualifier.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from aws_cdk import App, CfnOutput, DefaultStackSynthesizer, Environment, Fn, Stack, aws_iam as iam
from constructs import Construct

from serverless_patterns.config import EnvironmentConfig
from serverless_patterns.stacks.compliance import add_compliance_checks
from serverless_patterns.stacks.environments import ENVIRONMENTS, environment

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com"
ROLE_NAME_PREFIX = "serverless-patterns-ci"
STACK_NAME = "ServerlessPatternsCi"

# The bootstrap roles a deploy needs (CloudFormation runs with its own execution role, which
# the deploy role passes), and the read-only one a diff needs; ARNs as DefaultStackSynthesizer names them.
DEPLOY_BOOTSTRAP_ROLES = (
    DefaultStackSynthesizer.DEFAULT_DEPLOY_ROLE_ARN,
    DefaultStackSynthesizer.DEFAULT_FILE_ASSET_PUBLISHING_ROLE_ARN,
    DefaultStackSynthesizer.DEFAULT_IMAGE_ASSET_PUBLISHING_ROLE_ARN,
    DefaultStackSynthesizer.DEFAULT_LOOKUP_ROLE_ARN,
)
DIFF_BOOTSTRAP_ROLES = (DefaultStackSynthesizer.DEFAULT_LOOKUP_ROLE_ARN,)

_REPOSITORY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")
_BRANCH = re.compile(r"[A-Za-z0-9._/-]{1,255}")
_QUALIFIER = re.compile(r"[A-Za-z0-9_-]{1,10}")


def deploy_role_name(environment_name: str) -> str:
    """The role a deploy job of GitHub environment ``environment_name`` (``Prod``) assumes."""
    return f"{ROLE_NAME_PREFIX}-deploy-{environment_name.lower()}"


def diff_role_name(environment_name: str) -> str:
    """The read-only role CI's ``cdk diff`` of ``environment_name`` assumes."""
    return f"{ROLE_NAME_PREFIX}-diff-{environment_name.lower()}"


def deploy_subject(repository: str, environment_name: str) -> str:
    """The OIDC ``sub`` of a job of ``repository`` that runs in GitHub environment ``environment_name``."""
    return f"repo:{repository}:environment:{environment_name}"


def diff_subjects(repository: str, branch: str) -> list[str]:
    """The OIDC ``sub`` values of ``repository``'s pull requests and of pushes to ``branch``."""
    return [f"repo:{repository}:pull_request", f"repo:{repository}:ref:refs/heads/{branch}"]


class CiBootstrapStack(Stack):
    """GitHub's OIDC provider (created, or an existing one) and a deploy and a diff role per environment."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        repository: str,
        environments: Sequence[EnvironmentConfig],
        branch: str = "main",
        qualifier: str = DefaultStackSynthesizer.DEFAULT_QUALIFIER,
        existing_oidc_provider_arn: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Roles for ``environments`` that only ``repository``'s workflows can assume.

        :param repository: ``<owner>/<name>`` of the GitHub repository whose workflows deploy.
        :param environments: the environments deployed into this account (one deploy and one
            diff role each); their names are the GitHub environments the deploy jobs run in.
        :param branch: the branch whose pushes may run ``cdk diff`` (deploys are limited by the
            GitHub environments' branch rules).
        :param qualifier: the ``cdk bootstrap --qualifier`` of this account and region.
        :param existing_oidc_provider_arn: an account has one provider per URL: pass the ARN of
            an existing ``token.actions.githubusercontent.com`` provider to use it instead of creating one.
        """
        if not _REPOSITORY.fullmatch(repository) or repository.split("/")[1] in {".", ".."}:
            raise ValueError(f"repository must be '<owner>/<name>' of a GitHub repository, got {repository!r}")
        if not environments:
            raise ValueError("environments must name at least one environment")
        names = [config.name for config in environments]
        if len(set(names)) != len(names):
            raise ValueError(f"environments must not repeat an environment, got {names}")
        if not _BRANCH.fullmatch(branch) or ".." in branch:
            raise ValueError(f"branch must be a git branch name without wildcards, got {branch!r}")
        if not _QUALIFIER.fullmatch(qualifier):
            raise ValueError(f"qualifier must be 1-10 letters, digits, '-' or '_' (cdk bootstrap), got {qualifier!r}")
        if existing_oidc_provider_arn is not None and not existing_oidc_provider_arn.endswith(
            f":oidc-provider/{GITHUB_OIDC_HOST}"
        ):
            raise ValueError(
                f"existing_oidc_provider_arn must be the ARN of the {GITHUB_OIDC_HOST} provider, "
                f"got {existing_oidc_provider_arn!r}"
            )
        super().__init__(scope, construct_id, **kwargs)
        self.repository = repository

        if existing_oidc_provider_arn is None:
            provider = iam.OidcProviderNative(
                self, "GitHubOidcProvider", url=f"https://{GITHUB_OIDC_HOST}", client_ids=[GITHUB_OIDC_AUDIENCE]
            )
            self.oidc_provider_arn = provider.oidc_provider_arn
        else:
            self.oidc_provider_arn = existing_oidc_provider_arn
        CfnOutput(self, "GitHubOidcProviderArn", value=self.oidc_provider_arn)

        self.deploy_roles: dict[str, iam.Role] = {}
        self.diff_roles: dict[str, iam.Role] = {}
        for name in names:
            self.deploy_roles[name] = self._role(
                f"{name}DeployRole",
                role_name=deploy_role_name(name),
                subjects=[deploy_subject(repository, name)],
                bootstrap_roles=DEPLOY_BOOTSTRAP_ROLES,
                qualifier=qualifier,
                description=f"GitHub Actions: deploys {name} from {repository}'s {name} environment",
            )
            self.diff_roles[name] = self._role(
                f"{name}DiffRole",
                role_name=diff_role_name(name),
                subjects=diff_subjects(repository, branch),
                bootstrap_roles=DIFF_BOOTSTRAP_ROLES,
                qualifier=qualifier,
                description=f"GitHub Actions: read-only cdk diff of {name} for {repository} (pull requests, {branch})",
            )

    def _role(
        self,
        construct_id: str,
        *,
        role_name: str,
        subjects: list[str],
        bootstrap_roles: Sequence[str],
        qualifier: str,
        description: str,
    ) -> iam.Role:
        """A role for GitHub's tokens with ``subjects``, allowed only to assume ``bootstrap_roles``."""
        trusted = iam.WebIdentityPrincipal(
            self.oidc_provider_arn,
            conditions={
                "StringEquals": {
                    f"{GITHUB_OIDC_HOST}:aud": GITHUB_OIDC_AUDIENCE,
                    f"{GITHUB_OIDC_HOST}:sub": subjects[0] if len(subjects) == 1 else subjects,
                }
            },
        )
        # sts:TagSession too: the CDK CLI may pass session tags when it assumes a bootstrap role.
        assume_bootstrap_roles = iam.PolicyStatement(
            actions=["sts:AssumeRole", "sts:TagSession"],
            resources=[Fn.sub(arn.replace("${Qualifier}", qualifier)) for arn in bootstrap_roles],
        )
        role = iam.Role(
            self,
            construct_id,
            role_name=role_name,
            assumed_by=trusted,
            description=description,
            inline_policies={"AssumeCdkBootstrapRoles": iam.PolicyDocument(statements=[assume_bootstrap_roles])},
        )
        CfnOutput(self, f"{construct_id}Arn", value=role.role_arn)
        return role


def add_ci_bootstrap(
    app: App,
    *,
    repository: str | None,
    environment_names: Sequence[str] | None = None,
    branch: str | None = None,
    qualifier: str | None = None,
    existing_oidc_provider_arn: str | None = None,
    account: str | None = None,
    region: str | None = None,
) -> CiBootstrapStack:
    """The CI bootstrap stack for ``environment_names`` (default: all), with the compliance gates.

    Arguments as ``app.py`` reads them from context; ``None`` takes the default.
    """
    if not repository:
        raise ValueError("repository is required: -c repository=<owner>/<name> (make bootstrap-ci REPOSITORY=...)")
    names = list(environment_names) if environment_names else list(ENVIRONMENTS)
    stack = CiBootstrapStack(
        app,
        "CiBootstrap",
        stack_name=STACK_NAME,
        description="serverless-patterns CI: GitHub OIDC provider and the deploy and diff roles of GitHub Actions",
        env=Environment(account=account, region=region),
        repository=repository,
        environments=[environment(name) for name in names],
        branch=branch or "main",
        qualifier=qualifier or DefaultStackSynthesizer.DEFAULT_QUALIFIER,
        existing_oidc_provider_arn=existing_oidc_provider_arn or None,
    )
    add_compliance_checks(stack)
    return stack
