"""Compliance gates: cdk-nag's AwsSolutions and Serverless packs and our own pack on every stack."""

from __future__ import annotations

from aws_cdk import Stage, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks
from constructs import Construct

from serverless_patterns.stacks.template_checks import ServerlessPatternsChecks


def add_compliance_checks(scope: Stage | Construct) -> None:
    """Fail synthesis of ``scope`` (an App or Stage) on any unacknowledged finding.

    The packs: cdk-nag's ``AwsSolutions`` and ``Serverless``, and ``ServerlessPatterns``
    (``stacks/template_checks.py``: every DynamoDB table, GlobalTable included, has point-in-time
    recovery and deletion protection; every service principal in a resource policy is bound to a
    source account or ARN).
    """
    Validations.of(scope).add_plugins(AwsSolutionsChecks(), ServerlessChecks(), ServerlessPatternsChecks())
