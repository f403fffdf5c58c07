#!/usr/bin/env python3
"""CDK entry point of the box office: ``npx cdk synth`` / ``npx cdk deploy`` in this folder.

Context (``-c name=value``) or the defaults below:
    ops_email         a recipient of every alarm (optional)
    production        ``true`` to retain data, keep logs longer and protect tables
Account and region come from the CLI's usual CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION.
This app's cdk.json sets no feature flags: the patterns set what they need themselves.
"""

import os

from aws_cdk import App, Environment
from box_office_stack import BoxOfficeProps, BoxOfficeStack

from serverless_patterns import add_compliance_checks

app = App()
# cdk-nag's AwsSolutions and Serverless packs and the ServerlessPatterns pack: synthesis fails on any
# unacknowledged finding.
add_compliance_checks(app)
context = app.node.try_get_context
props = BoxOfficeProps(
    ops_emails=(context("ops_email"),) if context("ops_email") else (),
    allowed_origins=("https://tickets.example.com",),
    production=str(context("production")).lower() == "true",
)
BoxOfficeStack(
    app,
    "BoxOffice",
    props=props,
    env=Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")),
    description="Shows, ticket orders, seat maps and sales reports, built from serverless-patterns",
)
app.synth()
