"""Proof that the local cloud's permission checks bite: the Dev template minus one needed grant fails.

One mutant of the synthesized Dev template (deployed once for the module, to keep
``make test`` cheap) lacks a sample of grants the scenarios need, one per pattern and one
of each other kind: an execution role's statement in every pattern (ApiBackend's table
access, EventPipeline's send to its queue, FanOut's invoke of the aggregator, the
OrderWorkflow state machine's invoke of its functions), an event source mapping's consume
grant, an ``AWS::Lambda::Permission`` (EventBridge on the sweep schedule) and a key-policy entry
(CloudWatch on the alarm topic's key). Each entry point that needs the missing grant fails
the way AWS fails, and the denial names the caller, the action and the resource; entry
points whose grants are intact keep working. The unmodified templates passing with every
check on is ``test_local_cloud_app.py`` (and ``make local`` in each environment).
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from serverless_patterns.local import LocalCloud
from serverless_patterns.local.permissions import Denial
from serverless_patterns.scenarios.fan_out import FanOutApp, numbered_items
from serverless_patterns.scenarios.order_workflow import OrderApp, order, seed_stock
from serverless_patterns.stacks.stage import ServiceStage

Template = dict[str, Any]


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement.get("Action", [])
    return [action] if isinstance(action, str) else list(action)


def remove_statement(template: Template, policy_prefix: str, action: str, resource_fragment: str = "") -> Any:
    """Remove the statement granting ``action`` (on a resource mentioning ``resource_fragment``) from a policy."""
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] not in ("AWS::IAM::Policy", "AWS::KMS::Key") or not logical_id.startswith(policy_prefix):
            continue
        key = "PolicyDocument" if resource["Type"] == "AWS::IAM::Policy" else "KeyPolicy"
        statements = resource["Properties"][key]["Statement"]
        for statement in statements:
            if action in _actions(statement) and resource_fragment in json.dumps(statement):
                statements.remove(statement)
                return statement
    raise LookupError(f"no statement granting {action} in {policy_prefix}*")


def remove_resource(template: Template, logical_prefix: str, resource_type: str) -> str:
    """Remove one resource (and the DependsOn naming it); return its logical id."""
    (logical_id,) = [
        lid for lid, r in template["Resources"].items() if lid.startswith(logical_prefix) and r["Type"] == resource_type
    ]
    del template["Resources"][logical_id]
    for resource in template["Resources"].values():
        depends = resource.get("DependsOn")
        if isinstance(depends, list) and logical_id in depends:
            depends.remove(logical_id)
        elif depends == logical_id:
            del resource["DependsOn"]
    return str(logical_id)


def mutant_assembly(source: Path, name: str, mutate: Callable[[Template], None]) -> Path:
    """A copy of a stage's cloud assembly (beside it, so asset paths still resolve) with its template mutated."""
    target = source.parent / f"{source.name}-{name}"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    (template_path,) = target.glob("*Service*.template.json")
    template = json.loads(template_path.read_text())
    mutate(template)
    template_path.write_text(json.dumps(template))
    return target


def _mutate(template: Template) -> None:
    remove_statement(template, "ApiHandlerServiceRoleDefaultPolicy", "dynamodb:PutItem", "ApiTable")
    remove_statement(template, "EventPipelineValidateServiceRoleDefaultPolicy", "sqs:SendMessage", "EventPipelineQueue")
    remove_statement(template, "FanOutWorkerServiceRoleDefaultPolicy", "lambda:InvokeFunction")
    remove_statement(template, "OrderWorkflowRoleDefaultPolicy", "lambda:InvokeFunction")
    remove_statement(template, "OrderWorkflowSendConfirmationServiceRoleDefaultPolicy", "sqs:ReceiveMessage")
    remove_resource(template, "FanOutSweepScheduleAllowEventRule", "AWS::Lambda::Permission")
    remove_statement(template, "AlarmTopicKey", "kms:GenerateDataKey*", "cloudwatch.amazonaws.com")


@pytest.fixture(scope="module")
def mutant(stages: dict[str, ServiceStage]) -> Iterator[LocalCloud]:
    source = Path(stages["dev"].synth().directory)
    with LocalCloud.deploy(mutant_assembly(source, "missing-grants", _mutate)) as cloud:
        yield cloud


def _denials_during(cloud: LocalCloud, action: Callable[[], object]) -> list[Denial]:
    before = len(cloud.denials)
    action()
    return cloud.denials[before:]


def _names(denials: list[Denial]) -> set[tuple[str, str]]:
    return {(d.action, d.resource.rsplit(":", 1)[-1].rsplit("/", 1)[-1]) for d in denials}


def test_a_handler_without_its_table_grant_gets_access_denied_and_answers_an_error(mutant: LocalCloud) -> None:
    denials = _denials_during(mutant, lambda: mutant.api_request("POST", "/items", body={"name": "x"}))
    table = mutant.resource("Api/Table", "AWS::DynamoDB::GlobalTable").physical_id
    handler_role = mutant.permissions.store.function_roles[mutant.resource("Api/Handler/Resource").physical_id]
    assert [(d.action, d.principal) for d in denials] == [("dynamodb:PutItem", handler_role)]
    assert denials[0].resource.endswith(f":table/{table}")
    assert "no identity-based policy allows the dynamodb:PutItem action" in denials[0].reason


def test_eventbridge_without_the_lambda_permission_cannot_run_the_scheduled_sweeper(mutant: LocalCloud) -> None:
    sweeper = mutant.resource("FanOut/Sweeper/Resource", "AWS::Lambda::Function").physical_id
    runs = sum(i.function_name == sweeper for i in mutant.invocations)
    denials = _denials_during(mutant, lambda: mutant.advance(3600))
    assert denials
    assert {(d.principal, d.action) for d in denials} == {("events.amazonaws.com", "lambda:InvokeFunction")}
    assert all(d.resource.endswith(f"function:{sweeper}:live") for d in denials)
    assert sum(i.function_name == sweeper for i in mutant.invocations) == runs  # the schedule never ran it


def test_the_validator_without_its_queue_grant_cannot_hand_uploads_on(mutant: LocalCloud) -> None:
    bucket = mutant.resource("EventPipeline/Uploads", "AWS::S3::Bucket").physical_id

    def upload() -> None:
        mutant.put_object(bucket, f"incoming/{uuid.uuid4().hex}/a.csv", b"id,amount\n1,2\n")
        mutant.drain()

    denials = _denials_during(mutant, upload)
    assert ("sqs:SendMessage", "DevService-EventPipeline-1EE00B73-Queue") in _names(denials)
    assert all(d.caller.startswith("function Dev-Service-EventPipelineValidate") for d in denials)


def test_a_worker_without_the_aggregator_grant_cannot_start_the_aggregation(mutant: LocalCloud) -> None:
    app = FanOutApp.of(mutant)
    job_id = f"bite-{uuid.uuid4().hex[:8]}"
    denials = _denials_during(
        mutant, lambda: (mutant.invoke(app.master, {"job_id": job_id, "items": numbered_items(3)}), mutant.drain())
    )
    by_worker = [d for d in denials if "FanOutWorker" in d.caller]  # (the sweep schedule's denials go on meanwhile)
    assert by_worker, denials
    assert all(d.action == "lambda:InvokeFunction" and "FanOutAggregator" in d.resource for d in by_worker)


def test_a_state_machine_without_its_invoke_grant_fails_its_first_task(mutant: LocalCloud) -> None:
    app = OrderApp.of(mutant)
    seed_stock(mutant, app, {"bite-sku": 5})
    result = None

    def run() -> None:
        nonlocal result
        result = mutant.run_execution(app.state_machine_arn, order(f"bite-{uuid.uuid4().hex[:8]}", {"bite-sku": 1}))

    denials = _denials_during(mutant, run)
    assert result is not None
    assert result.status == "FAILED"
    assert "is not authorized to perform: lambda:InvokeFunction" in str(result.cause)
    (denial,) = denials
    assert denial.caller.startswith("state machine Dev-Service-OrderWorkflow")
    assert (denial.action, denial.resource.split(":")[-1]) == ("lambda:InvokeFunction", "live")
    assert "OrderWorkflowValidateOrder" in denial.resource


def test_an_event_source_mapping_whose_role_may_not_receive_is_refused_at_deployment(mutant: LocalCloud) -> None:
    (failed,) = mutant.failed
    assert failed.resource_type == "AWS::Lambda::EventSourceMapping"
    assert "does not have permissions to call ReceiveMessage on SQS" in failed.detail
    confirmation = mutant.resource("OrderWorkflow/ConfirmationQueue", "AWS::SQS::Queue").physical_id
    assert confirmation not in {mutant.poller.queue_url(arn) for arn in mutant.poller.queue_arns()}


def test_an_alarm_cannot_notify_a_topic_whose_key_policy_leaves_cloudwatch_out(mutant: LocalCloud) -> None:
    alarm = mutant.find("AWS::CloudWatch::Alarm")[0].physical_id
    cloudwatch = mutant.client("cloudwatch")
    denials = _denials_during(
        mutant, lambda: cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="bite test")
    )
    key = mutant.resource("AlarmTopic/Key/Resource", "AWS::KMS::Key").physical_id
    assert [(d.principal, d.action, d.resource.rsplit("/", 1)[-1]) for d in denials] == [
        ("cloudwatch.amazonaws.com", "kms:GenerateDataKey", key)
    ]
    assert "key policy" in denials[0].reason
