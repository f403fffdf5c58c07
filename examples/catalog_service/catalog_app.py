#!/usr/bin/env python3
"""CDK entry point of the catalog service: ``npx cdk synth`` / ``npx cdk deploy`` in this folder.

Context (``-c name=value``) or the defaults below:
    catalog_table     the existing catalog table (default ``catalog-items``)
    currency          the price lists' currency (default ``EUR``)
    ops_email         a recipient of every alarm (optional)
    pager_topic_arn   an existing SNS topic that pages on-call (optional)
    production        ``true`` to retain data and keep logs longer
Account and region come from the CLI's usual CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION.
"""

import os

from aws_cdk import App, Environment
from catalog_stack import CatalogServiceProps, CatalogServiceStack

from serverless_patterns import add_compliance_checks

app = App()
# The cdk-nag AwsSolutions and Serverless packs: synthesis fails on any unacknowledged finding.
add_compliance_checks(app)
context = app.node.try_get_context
props = CatalogServiceProps(
    catalog_table_name=context("catalog_table") or "catalog-items",
    price_list_currency=(context("currency") or "EUR").upper(),
    ops_emails=(context("ops_email"),) if context("ops_email") else (),
    pager_topic_arn=context("pager_topic_arn"),
    allowed_origins=("https://catalog.example.com",),
    production=str(context("production")).lower() == "true",
)
CatalogServiceStack(
    app,
    "CatalogService",
    props=props,
    env=Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")),
    description="Catalog API and supplier price lists, built from serverless-patterns",
)
app.synth()
