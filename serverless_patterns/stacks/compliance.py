"""Compliance gates: cdk-nag AwsSolutions and Serverless packs on every stack."""

from __future__ import annotations

from aws_cdk import Stage, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks
from constructs import Construct


def add_compliance_checks(scope: Stage | Construct) -> None:
    """Fail synthesis of ``scope`` (an App or Stage) on any unacknowledged finding."""
    Validations.of(scope).add_plugins(AwsSolutionsChecks(), ServerlessChecks())
