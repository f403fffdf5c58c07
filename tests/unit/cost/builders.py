"""Small CloudFormation templates shaped like CDK's output, for the estimator's tests."""

from __future__ import annotations

import json
from typing import Any

from serverless_patterns.lambdas.shared.warmup import WARMUP_EVENT
from serverless_patterns.roles import METADATA_KEY

Resources = dict[str, dict[str, Any]]


def function(
    resources: Resources,
    logical_id: str,
    *,
    memory: int = 1024,
    architecture: str = "arm64",
    path: str | None = None,
    traced: bool = False,
    log_group: str | None = None,
    environment: dict[str, str] | None = None,
    provisioned: int = 0,
    max_provisioned: int = 0,
    reserved: int | None = None,
    references: dict[str, str] | None = None,
    role: str | None = None,
    instance: str | None = None,
    snap_start: bool = False,
) -> str:
    """A function and its ``live`` alias (CDK's ``ServerlessFunction`` shape); returns the alias id.

    ``references`` are environment variables set to a ``Ref`` of another resource (name -> logical
    id). ``role`` (``"FanOut/worker"``) records the pattern role as the constructs do, for the
    pattern instance at construct path ``instance`` (default ``Prod/Service/<pattern>``).
    """
    properties: dict[str, Any] = {"MemorySize": memory, "Architectures": [architecture], "Timeout": 10}
    if reserved is not None:
        properties["ReservedConcurrentExecutions"] = reserved
    if traced:
        properties["TracingConfig"] = {"Mode": "Active"}
    if snap_start:
        properties["SnapStart"] = {"ApplyOn": "PublishedVersions"}
    if log_group:
        properties["LoggingConfig"] = {"LogGroup": {"Ref": log_group}, "LogFormat": "JSON"}
        resources[log_group] = {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 30}}
    variables: dict[str, Any] = {**(environment or {}), **{k: {"Ref": v} for k, v in (references or {}).items()}}
    if variables:
        properties["Environment"] = {"Variables": variables}
    resource: dict[str, Any] = {"Type": "AWS::Lambda::Function", "Properties": properties}
    metadata: dict[str, Any] = {}
    if path:
        metadata["aws:cdk:path"] = f"Prod/Service/{path}/Resource"
    if role:
        pattern, role_name = role.split("/")
        metadata[METADATA_KEY] = {
            "pattern": pattern,
            "instance": instance or f"Prod/Service/{pattern}",
            "role": role_name,
        }
    if metadata:
        resource["Metadata"] = metadata
    resources[logical_id] = resource
    alias = f"{logical_id}Alias"
    alias_properties: dict[str, Any] = {"FunctionName": {"Ref": logical_id}, "Name": "live"}
    if provisioned:
        alias_properties["ProvisionedConcurrencyConfig"] = {"ProvisionedConcurrentExecutions": provisioned}
    resources[alias] = {"Type": "AWS::Lambda::Alias", "Properties": alias_properties}
    if max_provisioned:
        resources[f"{alias}Scaling"] = {
            "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
            "Properties": {
                "MinCapacity": provisioned,
                "MaxCapacity": max_provisioned,
                "ResourceId": {
                    "Fn::Join": ["", ["function:", {"Fn::Select": [6, {"Fn::Split": [":", {"Ref": alias}]}]}, ":live"]]
                },
            },
        }
    return alias


def queue_source(
    resources: Resources, alias: str, queue: str, *, batch_size: int, window: int = 0, max_concurrency: int = 0
) -> None:
    """A queue and an SQS event source mapping on ``alias``, as CDK writes it."""
    resources[queue] = {"Type": "AWS::SQS::Queue", "Properties": {}}
    properties: dict[str, Any] = {
        "BatchSize": batch_size,
        "EventSourceArn": {"Fn::GetAtt": [queue, "Arn"]},
        "FunctionName": {"Fn::Join": ["", [{"Fn::Select": [6, {"Fn::Split": [":", {"Ref": alias}]}]}, ":live"]]},
    }
    if window:
        properties["MaximumBatchingWindowInSeconds"] = window
    if max_concurrency:
        properties["ScalingConfig"] = {"MaximumConcurrency": max_concurrency}
    resources[f"{alias}{queue}Source"] = {"Type": "AWS::Lambda::EventSourceMapping", "Properties": properties}


def schedule(resources: Resources, logical_id: str, alias: str, expression: str, *, keep_warm: bool = False) -> None:
    """A scheduled rule targeting ``alias`` (with the warm-up event as input for keep-warm)."""
    target: dict[str, Any] = {"Arn": {"Ref": alias}, "Id": "Target0"}
    if keep_warm:
        target["Input"] = json.dumps(WARMUP_EVENT)
    resources[logical_id] = {
        "Type": "AWS::Events::Rule",
        "Properties": {"ScheduleExpression": expression, "State": "ENABLED", "Targets": [target]},
    }


def state_machine(
    resources: Resources,
    logical_id: str,
    definition: dict[str, Any],
    *,
    path: str | None = None,
    machine_type: str | None = None,
    log_level: str | None = None,
) -> None:
    """A state machine whose ``"Resource": "@alias"`` entries become ``Ref``s inside an ``Fn::Join``."""
    text = json.dumps(definition)
    parts: list[Any] = []
    for index, chunk in enumerate(text.split('"@')):
        if index == 0:
            parts.append(chunk)
            continue
        reference, rest = chunk.split('"', 1)
        parts += ['"', {"Ref": reference}, '"' + rest]
    properties: dict[str, Any] = {"DefinitionString": {"Fn::Join": ["", parts]}}
    if machine_type:
        properties["StateMachineType"] = machine_type
    if log_level:
        group = f"{logical_id}Logs"
        resources[group] = {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 90}}
        properties["LoggingConfiguration"] = {
            "Level": log_level,
            "Destinations": [{"CloudWatchLogsLogGroup": {"LogGroupArn": {"Fn::GetAtt": [group, "Arn"]}}}],
        }
    resource: dict[str, Any] = {"Type": "AWS::StepFunctions::StateMachine", "Properties": properties}
    if path:
        resource["Metadata"] = {"aws:cdk:path": f"Prod/Service/{path}/Resource"}
    resources[logical_id] = resource


def task(alias: str, following: str | None, **extra: Any) -> dict[str, Any]:
    """A Lambda Task state invoking ``alias`` then going to ``following`` (None: the end)."""
    state: dict[str, Any] = {"Type": "Task", "Resource": f"@{alias}", **extra}
    if following is None:
        state["End"] = True
    else:
        state["Next"] = following
    return state


def template(resources: Resources) -> dict[str, Any]:
    """The template around ``resources``."""
    return {"Resources": resources}


SAGA_ROLES = {
    "ValidateOrder": "validate_order",
    "ChargePayment": "charge_payment",
    "UpdateInventory": "update_inventory",
    "SendConfirmation": "send_confirmation",
    "RefundPayment": "refund_payment",
}
"""The saga's functions and the pattern roles they record."""


def saga(
    resources: Resources,
    *,
    timeout_seconds: int | None = None,
    references: dict[str, str] | None = None,
    roles: bool = True,
    instance: str | None = None,
    **options: Any,
) -> None:
    """The order saga: four tasks in a row, the refund its inventory step falls back to, at ``OrderWorkflow/*``.

    ``references`` are given to every function's environment; ``roles``: the functions record their
    pattern roles as the construct's do (False: a template without that metadata), for the instance
    at construct path ``instance``; ``options`` go
    to ``state_machine``.
    """
    aliases = {
        name: function(
            resources,
            name,
            path=f"OrderWorkflow/{name}",
            memory=256,
            references=references,
            role=f"OrderWorkflow/{role}" if roles else None,
            instance=instance,
        )
        for name, role in SAGA_ROLES.items()
    }
    definition: dict[str, Any] = {
        "StartAt": "ValidateOrder",
        "States": {
            "ValidateOrder": task(aliases["ValidateOrder"], "ChargePayment"),
            "ChargePayment": task(aliases["ChargePayment"], "UpdateInventory"),
            "UpdateInventory": task(
                aliases["UpdateInventory"],
                "SendConfirmation",
                Catch=[{"ErrorEquals": ["States.ALL"], "Next": "RefundPayment"}],
            ),
            "SendConfirmation": task(aliases["SendConfirmation"], "OrderConfirmed"),
            "RefundPayment": task(aliases["RefundPayment"], "OrderFailed"),
            "OrderConfirmed": {"Type": "Succeed"},
            "OrderFailed": {"Type": "Fail"},
        },
    }
    if timeout_seconds is not None:
        definition["TimeoutSeconds"] = timeout_seconds
    state_machine(resources, "Machine", definition, path="OrderWorkflow", **options)
