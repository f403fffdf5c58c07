"""Template-wide observability checks, reusable on any synthesized stack (the real app's too).

They look resources up by type in the template, never in a hand-kept list, so a
pattern added later is checked without touching them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from aws_cdk import assertions

# The resource types the dashboard must show, with the property holding a literal physical name:
# metrics name a resource either by a Ref/GetAtt or, when it has a fixed name, by that name.
OBSERVED_TYPES: Mapping[str, str] = {
    "AWS::Lambda::Function": "FunctionName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::DynamoDB::GlobalTable": "TableName",
    "AWS::ApiGateway::RestApi": "Name",
    "AWS::ApiGatewayV2::Api": "Name",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
}
ALARM_TYPES = ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")
# Functions CDK adds to run its own custom resources; they are infrastructure plumbing, not the app's.
CDK_FRAMEWORK_FUNCTION_PREFIXES = (
    "BucketNotificationsHandler",
    "AWS679f53fac002430cb0da5b7982bd2287",  # AwsCustomResource
    "LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8a",
    "CustomS3AutoDeleteObjectsCustomResourceProvider",
    "CustomCDKBucketDeployment",
)


def _resources(template: assertions.Template | Mapping[str, Any]) -> Mapping[str, Any]:
    data = template.to_json() if isinstance(template, assertions.Template) else template
    resources: Mapping[str, Any] = data.get("Resources", {})
    return resources


def _collect(node: Any, refs: set[str], texts: list[str]) -> None:
    """Logical ids referenced (Ref, Fn::GetAtt) and literal strings anywhere under ``node``."""
    if isinstance(node, str):
        texts.append(node)
    elif isinstance(node, list):
        for item in node:
            _collect(item, refs, texts)
    elif isinstance(node, dict):
        if "Ref" in node:
            refs.add(node["Ref"])
        elif "Fn::GetAtt" in node:
            target = node["Fn::GetAtt"]
            refs.add(target[0] if isinstance(target, list) else target.split(".")[0])
        else:
            for value in node.values():
                _collect(value, refs, texts)


def dashboard_references(template: assertions.Template | Mapping[str, Any]) -> tuple[set[str], str]:
    """What the template's dashboards point at: logical ids, and their literal text."""
    refs: set[str] = set()
    texts: list[str] = []
    for resource in _resources(template).values():
        if resource.get("Type") == "AWS::CloudWatch::Dashboard":
            _collect(resource.get("Properties", {}).get("DashboardBody"), refs, texts)
    return refs, "\x00".join(texts)


def unobserved_resources(
    template: assertions.Template | Mapping[str, Any], *, ignore: Iterable[str] = ()
) -> dict[str, str]:
    """Logical id -> type of each function, queue, table, API and state machine no dashboard shows.

    A resource counts as shown when a dashboard body references it (Ref or GetAtt) or names it by
    its literal physical name. CDK's own custom-resource functions and the ``ignore``d logical ids
    are not expected on a dashboard.
    """
    refs, text = dashboard_references(template)
    ignored = set(ignore)
    missing: dict[str, str] = {}
    for logical_id, resource in _resources(template).items():
        kind = resource.get("Type")
        if kind not in OBSERVED_TYPES or logical_id in ignored or logical_id in refs:
            continue
        if kind == "AWS::Lambda::Function" and logical_id.startswith(CDK_FRAMEWORK_FUNCTION_PREFIXES):
            continue
        name = resource.get("Properties", {}).get(OBSERVED_TYPES[kind])
        if isinstance(name, str) and f'"{name}"' in text:
            continue
        missing[logical_id] = kind
    return missing


def alarms_not_notifying(template: assertions.Template | Mapping[str, Any], topic_logical_id: str) -> dict[str, str]:
    """Alarm logical id -> what it lacks, for each alarm without the topic as both ALARM and OK action."""
    expected = {"Ref": topic_logical_id}
    problems: dict[str, str] = {}
    for logical_id, resource in _resources(template).items():
        if resource.get("Type") not in ALARM_TYPES:
            continue
        properties = resource.get("Properties", {})
        lacking = [key for key in ("AlarmActions", "OKActions") if expected not in properties.get(key, [])]
        if properties.get("ActionsEnabled") is False:
            lacking.append("ActionsEnabled")
        if lacking:
            problems[logical_id] = ", ".join(lacking)
    return problems


def alarms_outside_composites(template: assertions.Template | Mapping[str, Any]) -> set[str]:
    """Metric alarms that no composite alarm's rule watches."""
    resources = _resources(template)
    watched: set[str] = set()
    for resource in resources.values():
        if resource.get("Type") == "AWS::CloudWatch::CompositeAlarm":
            _collect(resource.get("Properties", {}).get("AlarmRule"), watched, [])
    return {
        logical_id
        for logical_id, resource in resources.items()
        if resource.get("Type") == "AWS::CloudWatch::Alarm" and logical_id not in watched
    }
