#!/usr/bin/env python3
"""CDK entry point; the only place that reads context and the process environment.

``npx cdk synth '**'`` synthesizes Dev, Staging and Prod; ``-c env=prod`` just one.
Account and region come from ``-c account=... -c region=...`` or CDK_DEFAULT_*;
with neither, the stacks are environment-agnostic and still synthesize.

``-c ci_bootstrap=true`` synthesizes only the CI trust stack instead (``make bootstrap-ci``):
``-c repository=<owner>/<name>``, optionally ``-c ci_environments=dev,staging``,
``-c ci_branch=main``, ``-c oidc_provider_arn=<existing provider>``.
"""

import os

from aws_cdk import App

from serverless_patterns.stacks.app import add_environments
from serverless_patterns.stacks.ci_bootstrap import add_ci_bootstrap

app = App()
account = app.node.try_get_context("account") or os.environ.get("CDK_DEFAULT_ACCOUNT")
region = app.node.try_get_context("region") or os.environ.get("CDK_DEFAULT_REGION")
try:
    if str(app.node.try_get_context("ci_bootstrap")).lower() == "true":
        environments = app.node.try_get_context("ci_environments")
        add_ci_bootstrap(
            app,
            repository=app.node.try_get_context("repository"),
            environment_names=[name.strip() for name in environments.split(",")] if environments else None,
            branch=app.node.try_get_context("ci_branch"),
            qualifier=app.node.try_get_context("@aws-cdk/core:bootstrapQualifier"),
            existing_oidc_provider_arn=app.node.try_get_context("oidc_provider_arn"),
            account=account,
            region=region,
        )
    else:
        add_environments(app, only=app.node.try_get_context("env"), account=account, region=region)
except ValueError as error:
    raise SystemExit(f"app.py: {error}") from None
app.synth()
