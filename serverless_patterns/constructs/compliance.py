"""Acknowledging a compliance finding: one rule at a time, always with a reason.

An acknowledgment covers the construct it is put on and everything below it. A wildcard
resource (``Resource: "*"``) is therefore never acknowledged on a role or a function: the few
statements that need one live in a policy of their own (:func:`wildcard_policy`), acknowledged
there alone, so a new ``Resource: "*"`` grant anywhere else fails synthesis.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Acknowledgment, Stack, Validations, aws_iam as iam
from constructs import Construct, IConstruct

WILDCARD_RESOURCE_FINDING = "AwsSolutions::AwsSolutions-IAM5[Resource::*]"
# Actions that support no resource-level permissions (the Service Authorization Reference lists no
# resource type for them): X-Ray's trace upload and sampling, and CloudWatch Logs' vended-log delivery
# (what Step Functions needs to write execution logs).
XRAY_WRITE_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
XRAY_SAMPLING_ACTIONS = ("xray:GetSamplingRules", "xray:GetSamplingTargets")
LOG_DELIVERY_ACTIONS = (
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
)


def acknowledge(scope: IConstruct, *findings: tuple[str, str]) -> None:
    """Acknowledge ``(rule id, reason)`` pairs on ``scope`` and everything below it.

    Rule ids are as cdk-nag prints them, e.g. ``AwsSolutions::AwsSolutions-IAM5[Resource::*]``.
    """
    Validations.of(scope).acknowledge(*(Acknowledgment(id=rule, reason=reason) for rule, reason in findings))


def wildcard_policy(
    scope: Construct, construct_id: str, *, role: iam.IRole, actions: Sequence[str], reason: str
) -> iam.Policy:
    """A policy of ``role`` holding one ``Resource: "*"`` statement for ``actions``, acknowledged on itself only.

    :param actions: actions that support no resource-level permissions (e.g. ``XRAY_WRITE_ACTIONS``).
    :param reason: why the wildcard is needed, recorded with the acknowledgment.
    """
    policy = iam.Policy(
        scope, construct_id, roles=[role], statements=[iam.PolicyStatement(actions=list(actions), resources=["*"])]
    )
    acknowledge(policy, (WILDCARD_RESOURCE_FINDING, reason))
    return policy


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
