"""Acknowledging a compliance finding: one rule at a time, always with a reason."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct


def acknowledge(scope: IConstruct, *findings: tuple[str, str]) -> None:
    """Acknowledge ``(rule id, reason)`` pairs on ``scope`` and everything below it.

    Rule ids are as cdk-nag prints them, e.g. ``AwsSolutions::AwsSolutions-IAM5[Resource::*]``.
    """
    Validations.of(scope).acknowledge(*(Acknowledgment(id=rule, reason=reason) for rule, reason in findings))


def wildcard_finding(scope: IConstruct, arn: str) -> str:
    """The ``AwsSolutions-IAM5`` finding id cdk-nag prints for a wildcard resource ``arn``.

    Computed from the resolved ARN (``Ref``/``Fn::GetAtt`` as ``<Id.Attr>``, joins flattened), so
    an acknowledgment stays exact for imported resources too.
    """
    return f"AwsSolutions::AwsSolutions-IAM5[Resource::{_nag_form(Stack.of(scope).resolve(arn))}]"


def _nag_form(value: object) -> str:
    """A resolved CloudFormation value written the way cdk-nag names resources in findings."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Ref":
            return f"<{argument}>"
        if function == "Fn::GetAtt":
            return f"<{'.'.join(argument)}>"
        if function == "Fn::Join":
            separator, parts = argument
            return str(separator).join(_nag_form(part) for part in parts)
    raise ValueError(f"no cdk-nag form for {value!r}")
