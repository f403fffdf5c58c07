"""Compliance gates: cdk-nag's AwsSolutions and Serverless packs and our own pack on every stack."""

from __future__ import annotations

from aws_cdk import Stage, Validations
from constructs import Construct

from serverless_patterns.stacks.template_checks import ServerlessPatternsChecks


def add_compliance_checks(scope: Stage | Construct) -> None:
    """Fail synthesis of ``scope`` (an App or Stage) on any unacknowledged finding.

    The packs: cdk-nag's ``AwsSolutions`` and ``Serverless``, and ``ServerlessPatterns``
    (``stacks/template_checks.py``: every DynamoDB table, GlobalTable included, has point-in-time
    recovery and deletion protection; every service principal in a resource policy is bound to a
    source account or ARN).
    """
    # Imported here: loading cdk-nag's jsii assembly takes about 0.2 s, part of the gates' cost (an app built
    # without them, as ``bench`` times it, does not pay it).
    from cdk_nag import AwsSolutionsChecks, ServerlessChecks

    Validations.of(scope).add_plugins(AwsSolutionsChecks(), ServerlessChecks(), ServerlessPatternsChecks())
