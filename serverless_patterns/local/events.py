"""EventBridge as the app uses it: custom event buses, and rules that deliver to Lambda and Step Functions.

moto's CloudFormation model of ``AWS::Events::EventBus`` names the bus after the logical
resource and its Ref gives the model object; here the bus is created through
``CreateEventBus`` with the template's ``Name``, and Ref / GetAtt resolve as on AWS (Ref and
``Name`` = the name, ``Arn`` = the ARN).

moto matches ``PutEvents`` entries against each rule's pattern but delivers only to log
groups, SQS queues, archives and other buses, and raises for any other target. Here a
matched event also reaches:

* a **state machine**: ``StartExecution`` with the target's input (``InputPath``, ``Input``
  or ``InputTransformer`` applied; the whole event otherwise), named like EventBridge's
  executions; a start that fails goes to the target's dead-letter queue, with the
  ``ERROR_CODE`` (``RESOURCE_NOT_FOUND``, ``SDK_CLIENT_ERROR``), ``ERROR_MESSAGE``, ``RULE_ARN``
  and ``TARGET_ARN`` message attributes EventBridge sets;
* a **Lambda function**: an *asynchronous* invocation, as EventBridge makes it (so the
  function's EventInvokeConfig retries and destinations apply on the next drain).

Disabled rules deliver nothing. Scheduled rules fire on the virtual clock (``schedules``).
Permissions (when the cloud enforces them): a state machine is started with the target's
``RoleArn`` (``states:StartExecution``; a denied start is dead-lettered with ``ERROR_CODE``
``NO_PERMISSIONS``), a function is invoked only with an ``AWS::Lambda::Permission`` for
``events.amazonaws.com`` and the rule's ARN, a queue or topic (targets and dead-letter queues)
takes the event only when its policy lets EventBridge send for the rule.
Not simulated: the target's ``RetryPolicy`` (a start that fails is dead-lettered at once),
archives/replays beyond moto's.
"""

from __future__ import annotations

import copy
import datetime
import json
import re
from contextlib import ExitStack
from typing import Any, cast
from unittest import mock

from moto.events.models import Rule
from moto.sqs.models import sqs_backends
from moto.stepfunctions.parser.models import stepfunctions_parser_backends

from serverless_patterns.local.cloudformation import Emulated, ResourceContext, emulates
from serverless_patterns.local.lambda_runtime import LambdaRuntime
from serverless_patterns.local.permissions.enforcer import AccessDeniedError, Enforcer
from serverless_patterns.local.permissions.services import may_deliver, may_invoke
from serverless_patterns.local.stepfunctions import execution_name

_PATH_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]|\['([^']*)'\]")


@emulates("AWS::Events::EventBus")
def event_bus(ctx: ResourceContext) -> Emulated:
    """CreateEventBus with the template's name; Ref is the name, as on AWS."""
    props = ctx.properties
    name = str(props.get("Name") or ctx.physical_name)
    kwargs: dict[str, Any] = {"Name": name}
    for key in ("Description", "KmsKeyIdentifier", "DeadLetterConfig", "EventSourceName"):
        if props.get(key):
            kwargs[key] = props[key]
    if props.get("Tags"):
        kwargs["Tags"] = props["Tags"]
    arn = ctx.client("events").create_event_bus(**kwargs)["EventBusArn"]
    if props.get("Policy"):
        ctx.client("events").put_permission(EventBusName=name, Policy=json.dumps(props["Policy"]))
    return Emulated(name, {"Arn": arn, "Name": name})


def select_path(document: Any, path: str) -> Any:
    """The value at a simple JSONPath (``$``, ``$.detail``, ``$.detail.lines[0]``); None when absent."""
    if not path.startswith("$"):
        raise ValueError(f"InputPath must start with '$': {path!r}")
    value, position = document, 1
    while position < len(path):
        step = _PATH_STEP.match(path, position)
        if step is None:
            raise ValueError(f"unsupported InputPath {path!r} (only $.a.b[0] paths are emulated)")
        key, index, quoted = step.groups()
        if index is not None:
            value = value[int(index)] if isinstance(value, list) and int(index) < len(value) else None
        else:
            value = value.get(key if key is not None else quoted) if isinstance(value, dict) else None
        position = step.end()
    return value


def target_input(target: dict[str, Any], event: dict[str, Any]) -> str:
    """What EventBridge passes to the target, as JSON text."""
    if "Input" in target:
        return str(target["Input"])
    if "InputPath" in target:
        return json.dumps(select_path(event, str(target["InputPath"])))
    transformer = target.get("InputTransformer")
    if transformer:
        from moto.events.utils import EventTemplateParser

        return json.dumps(
            EventTemplateParser.parse(
                input_template=transformer.get("InputTemplate"),
                input_paths_map=transformer.get("InputPathsMap", {}),
                event=event,  # type: ignore[arg-type]
            )
        )
    return json.dumps(event)


def _as_delivered(event: Any) -> dict[str, Any]:
    """The event as AWS delivers it (moto keeps ``time`` as epoch seconds)."""
    delivered: dict[str, Any] = copy.deepcopy(dict(event))
    if isinstance(delivered.get("time"), int | float):
        instant = datetime.datetime.fromtimestamp(float(delivered["time"]), datetime.UTC)
        delivered["time"] = instant.strftime("%Y-%m-%dT%H:%M:%SZ")
    delivered.pop("ingestion-time", None)
    return delivered


def deliver(
    rule: Rule, event: dict[str, Any], runtime: LambdaRuntime, *, raw: Any = None, transform_input: bool = True
) -> None:
    """Send an event (as AWS delivers it; ``raw``: as moto keeps it) to every target of ``rule``."""
    others = []
    enforcer = runtime.permissions
    for target in rule.targets:
        arn = str(target["Arn"])
        service = arn.split(":")[2]
        if service == "states":
            _start_execution(rule, target, target_input(target, event), enforcer)
        elif service == "lambda":
            if runtime.enqueue_async is None:
                raise RuntimeError("EventBridge targets need the cloud's async invoker")
            if may_invoke(enforcer, "events.amazonaws.com", arn, source_arn=rule.arn, role_arn=target.get("RoleArn")):
                continue  # EventBridge may not invoke it: the event is dropped (the denial is recorded)
            runtime.enqueue_async(arn, target_input(target, event), "events")
        elif may_deliver(enforcer, "events.amazonaws.com", arn, source_arn=rule.arn, role_arn=target.get("RoleArn")):
            continue
        else:
            others.append(target)
    if others:
        rest = copy.copy(rule)
        rest.targets = others
        _ORIGINAL_SEND(rest, cast(Any, event if raw is None else raw), transform_input)


_ORIGINAL_SEND = Rule.send_to_targets


def install(stack: ExitStack, runtime: LambdaRuntime) -> None:
    """Route matched events to state machines and functions for as long as ``stack`` is open."""

    def send_to_targets(rule: Rule, original_event: Any, transform_input: bool = True) -> None:
        if rule.state != "ENABLED" or not rule.event_pattern.matches_event(original_event):
            return
        deliver(rule, _as_delivered(original_event), runtime, raw=original_event, transform_input=transform_input)

    stack.enter_context(mock.patch.object(Rule, "send_to_targets", send_to_targets))


def _start_execution(rule: Rule, target: dict[str, Any], execution_input: str, enforcer: Enforcer | None) -> None:
    """StartExecution with the target's role; a failed start goes to the target's DLQ, if EventBridge may send there."""
    arn = str(target["Arn"])
    region, account = arn.split(":")[3], arn.split(":")[4]
    try:
        if enforcer is not None and enforcer.enabled:
            role = target.get("RoleArn")
            if not role:
                raise PermissionError(f"EventBridge needs the target's RoleArn to start {arn}")
            caller = enforcer.role_caller(str(role), "events", f"rule {rule.name} with {str(role).rsplit('/', 1)[-1]}")
            enforcer.require(caller, "states:StartExecution", arn, operation="EventBridge target")
        stepfunctions_parser_backends[account][region].start_execution(
            state_machine_arn=arn, name=execution_name(), execution_input=execution_input
        )
    except Exception as exc:
        dead_letter = (target.get("DeadLetterConfig") or {}).get("Arn")
        if not dead_letter or may_deliver(enforcer, "events.amazonaws.com", str(dead_letter), source_arn=rule.arn):
            return  # EventBridge drops the event after its retries
        _, _, _, queue_region, queue_account, queue_name = str(dead_letter).split(":", 5)
        attributes = {
            "RULE_ARN": rule.arn,
            "TARGET_ARN": arn,
            "ERROR_CODE": _error_code(exc),
            "ERROR_MESSAGE": str(exc)[:256] or type(exc).__name__,
        }
        sqs_backends[queue_account][queue_region].send_message(
            queue_name=queue_name,
            message_body=execution_input,
            message_attributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
        )


def _error_code(exc: Exception) -> str:
    """EventBridge's ERROR_CODE for a target it could not reach."""
    if isinstance(exc, AccessDeniedError | PermissionError):
        return "NO_PERMISSIONS"
    name = type(exc).__name__
    return "RESOURCE_NOT_FOUND" if "NotExist" in name or "NotFound" in name else "SDK_CLIENT_ERROR"
