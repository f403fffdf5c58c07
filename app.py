#!/usr/bin/env python3
"""CDK entry point; the only place that reads context and the process environment.

``npx cdk synth '**'`` synthesizes Dev, Staging and Prod; ``-c env=prod`` just one.
Account and region come from ``-c account=... -c region=...`` or CDK_DEFAULT_*;
with neither, the stacks are environment-agnostic and still synthesize.
"""

import os

from aws_cdk import App

from serverless_patterns.stacks.app import add_environments

app = App()
add_environments(
    app,
    only=app.node.try_get_context("env"),
    account=app.node.try_get_context("account") or os.environ.get("CDK_DEFAULT_ACCOUNT"),
    region=app.node.try_get_context("region") or os.environ.get("CDK_DEFAULT_REGION"),
)
app.synth()
