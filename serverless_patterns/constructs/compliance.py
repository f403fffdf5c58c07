"""Acknowledging a compliance finding: one rule at a time, always with a reason."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def acknowledge(scope: IConstruct, *findings: tuple[str, str]) -> None:
    """Acknowledge ``(rule id, reason)`` pairs on ``scope`` and everything below it.

    Rule ids are as cdk-nag prints them, e.g. ``AwsSolutions::AwsSolutions-IAM5[Resource::*]``.
    """
    Validations.of(scope).acknowledge(*(Acknowledgment(id=rule, reason=reason) for rule, reason in findings))
