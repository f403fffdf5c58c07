"""Lambda versions, aliases, EventInvokeConfig, SQS event source mappings; state machines; Application Auto Scaling."""

from __future__ import annotations

import json
from typing import Any

from moto.sqs.models import sqs_backends

from serverless_patterns.local.async_invoke import InvokeConfig
from serverless_patterns.local.cloudformation import Emulated, ResourceContext, emulates
from serverless_patterns.local.event_sources import SqsMapping
from serverless_patterns.local.invocation import split_function
from serverless_patterns.local.resources.common import camel

# -- Lambda ------------------------------------------------------------------------------


@emulates("AWS::Lambda::Version")
def lambda_version(ctx: ResourceContext) -> Emulated:
    """Publish a version; Ref is the version ARN (moto's model returns itself instead)."""
    response = ctx.client("lambda").publish_version(
        FunctionName=ctx.properties["FunctionName"], Description=ctx.properties.get("Description", "")
    )
    detail = ""
    provisioned = ctx.properties.get("ProvisionedConcurrencyConfig", {}).get("ProvisionedConcurrentExecutions")
    if provisioned:
        detail = f"provisioned concurrency {provisioned} (configured, not simulated)"
    return Emulated(
        response["FunctionArn"], {"Version": response["Version"], "FunctionArn": response["FunctionArn"]}, detail=detail
    )


@emulates("AWS::Lambda::Alias")
def lambda_alias(ctx: ResourceContext) -> Emulated:
    """Create the alias; Ref is the alias ARN, and invoking it runs the aliased version."""
    props = ctx.properties
    kwargs: dict[str, Any] = {
        "FunctionName": props["FunctionName"],
        "Name": props["Name"],
        "FunctionVersion": str(props["FunctionVersion"]),
        "Description": props.get("Description", ""),
    }
    if props.get("RoutingConfig"):
        kwargs["RoutingConfig"] = props["RoutingConfig"]
    response = ctx.client("lambda").create_alias(**kwargs)
    provisioned = props.get("ProvisionedConcurrencyConfig", {}).get("ProvisionedConcurrentExecutions")
    detail = f"provisioned concurrency {provisioned} (configured, not simulated)" if provisioned else ""
    return Emulated(response["AliasArn"], {"AliasArn": response["AliasArn"]}, detail=detail)


@emulates("AWS::Lambda::EventInvokeConfig")
def event_invoke_config(ctx: ResourceContext) -> Emulated:
    """Register retries, event age and destinations for the async invoker."""
    name, _ = split_function(str(ctx.properties["FunctionName"]))
    qualifier = str(ctx.properties.get("Qualifier", "$LATEST"))
    config = InvokeConfig.from_properties(ctx.properties)
    ctx.state.invoke_configs[(name, qualifier)] = config
    return Emulated(
        f"{name}:{qualifier}",
        detail=f"{config.max_retry_attempts} retries, on failure -> {config.on_failure or 'nothing'}",
    )


@emulates("AWS::Lambda::EventSourceMapping")
def event_source_mapping(ctx: ResourceContext) -> Any:
    """SQS mappings run on the local poller (moto's synchronous delivery is detached)."""
    source = str(ctx.properties["EventSourceArn"])
    if source.split(":")[2] != "sqs":
        if ctx.moto_create is None:
            raise ValueError(f"no event source support for {source}")
        return ctx.moto_create()
    response = ctx.client("lambda").create_event_source_mapping(
        EventSourceArn=source,
        FunctionName=ctx.properties["FunctionName"],
        BatchSize=int(ctx.properties.get("BatchSize", 10)),
        Enabled=bool(ctx.properties.get("Enabled", True)),
    )
    for queue in sqs_backends[ctx.account_id][ctx.region].queues.values():
        if queue.queue_arn == source:
            queue.lambda_event_source_mappings.clear()
    mapping = SqsMapping.from_properties(response["UUID"], ctx.properties)
    ctx.state.sqs_mappings.append(mapping)
    return Emulated(
        response["UUID"],
        {"Id": response["UUID"], "EventSourceMappingArn": response.get("EventSourceMappingArn", "")},
        detail=f"batch {mapping.batch_size}, window {mapping.batching_window_seconds}s, "
        f"max concurrency {mapping.maximum_concurrency}, partial failures {mapping.report_batch_item_failures}",
    )


# -- Step Functions ----------------------------------------------------------------------


@emulates("AWS::StepFunctions::StateMachine")
def state_machine(ctx: ResourceContext) -> Emulated:
    """Create it in the executing backend, so its executions really run."""
    props = ctx.properties
    definition = props.get("DefinitionString") or json.dumps(props.get("Definition", {}))
    for key, value in (props.get("DefinitionSubstitutions") or {}).items():
        definition = definition.replace("${" + key + "}", str(value))
    name = str(props.get("StateMachineName") or ctx.physical_name)[:80]
    kwargs: dict[str, Any] = {
        "name": name,
        "definition": definition,
        "roleArn": props["RoleArn"],
        "type": props.get("StateMachineType", "STANDARD"),
    }
    if props.get("LoggingConfiguration"):
        kwargs["loggingConfiguration"] = camel(props["LoggingConfiguration"])
    if props.get("TracingConfiguration"):
        kwargs["tracingConfiguration"] = camel(props["TracingConfiguration"])
    arn = ctx.client("stepfunctions").create_state_machine(**kwargs)["stateMachineArn"]
    return Emulated(arn, {"Arn": arn, "Name": name})


@emulates("AWS::ApplicationAutoScaling::ScalableTarget")
def scalable_target(ctx: ResourceContext) -> Emulated:
    """Register the target (scaling itself is not simulated)."""
    props = ctx.properties
    ctx.client("application-autoscaling").register_scalable_target(
        ServiceNamespace=props["ServiceNamespace"],
        ResourceId=props["ResourceId"],
        ScalableDimension=props["ScalableDimension"],
        MinCapacity=int(props["MinCapacity"]),
        MaxCapacity=int(props["MaxCapacity"]),
    )
    physical = f"{props['ResourceId']}|{props['ScalableDimension']}|{props['ServiceNamespace']}"
    return Emulated(physical, detail=f"{props['MinCapacity']}..{props['MaxCapacity']} (not simulated)")


@emulates("AWS::ApplicationAutoScaling::ScalingPolicy")
def scaling_policy(ctx: ResourceContext) -> Emulated:
    """Put the policy on its target (not simulated)."""
    props = ctx.properties
    target = dict(
        zip(
            ("ResourceId", "ScalableDimension", "ServiceNamespace"),
            str(props.get("ScalingTargetId", "||")).split("|"),
            strict=False,
        )
    )
    target.update({k: props[k] for k in ("ResourceId", "ScalableDimension", "ServiceNamespace") if k in props})
    kwargs: dict[str, Any] = {
        "PolicyName": props.get("PolicyName", ctx.logical_id),
        "PolicyType": props["PolicyType"],
        **target,
    }
    if props.get("TargetTrackingScalingPolicyConfiguration"):
        kwargs["TargetTrackingScalingPolicyConfiguration"] = props["TargetTrackingScalingPolicyConfiguration"]
    if props.get("StepScalingPolicyConfiguration"):
        kwargs["StepScalingPolicyConfiguration"] = props["StepScalingPolicyConfiguration"]
    arn = ctx.client("application-autoscaling").put_scaling_policy(**kwargs)["PolicyARN"]
    return Emulated(arn, {"Arn": arn}, detail="not simulated")
