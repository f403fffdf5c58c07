"""The real app's Dev stage in the local cloud: it deploys completely and its scenarios pass."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from serverless_patterns.local import LocalCloud
from serverless_patterns.local.cloudformation import CREATED, EMULATED, FAILED, RECORDED, SKIPPED
from serverless_patterns.local.permissions import load_acknowledgements
from serverless_patterns.local.report import passed, render
from serverless_patterns.scenarios import ACKNOWLEDGED_GRANTS, discover, run_scenario
from serverless_patterns.stacks.stage import ServiceStage


@pytest.fixture(scope="module")
def dev(stages: dict[str, ServiceStage]) -> Iterator[LocalCloud]:
    with LocalCloud.deploy(stages["dev"]) as cloud:
        yield cloud


def test_every_resource_of_dev_is_created_or_emulated(dev: LocalCloud) -> None:
    (stack,) = dev.stacks
    assert stack.stack_name == "Dev-Service"
    assert len(dev.resources) == len(stack.template["Resources"])
    assert {r.outcome for r in dev.resources} <= {CREATED, EMULATED, RECORDED}, [
        (r.resource_type, r.path, r.detail) for r in dev.resources if r.outcome in (FAILED, SKIPPED)
    ]
    stack_status = dev.client("cloudformation").describe_stacks(StackName="Dev-Service")["Stacks"][0]["StackStatus"]
    assert stack_status == "CREATE_COMPLETE"


def test_the_scenarios_of_the_deployed_patterns_pass(dev: LocalCloud) -> None:
    present = [s for s in discover() if dev.has_construct(s.pattern)]
    assert present, "the alarm topic is always deployed, so at least its scenario runs"
    results = [run_scenario(dev, s) for s in present]
    acknowledged = load_acknowledgements(ACKNOWLEDGED_GRANTS)
    report = render(dev, results, title="Dev", acknowledged=acknowledged)
    assert passed(dev, results), report
    assert "Result: PASS" in report
    # Every call was checked against the deployed policies, none was denied, and every grant is used or acknowledged.
    access = dev.access_report(acknowledged)
    assert access.enforced, report
    assert not access.denials, report
    assert [(g.owner, g.action, g.resource) for g in access.unused] == [], report
    assert sum(g.uses for g in access.grants) > 100


def test_a_failing_check_fails_the_report(dev: LocalCloud) -> None:
    from serverless_patterns.scenarios import Scenario, ScenarioRun
    from serverless_patterns.scenarios.target import Target

    def broken(cloud: Target, run: ScenarioRun) -> None:
        run.equal("topic count", len(cloud.find("AWS::SNS::Topic")), 2)
        raise RuntimeError(json.dumps({"never": "reached"}))

    result = run_scenario(dev, Scenario("broken on purpose", "AlarmTopic", broken))
    assert [c.passed for c in result.checks] == [False, False]
    assert "expected 2, got 1" in result.checks[0].detail
    assert not passed(dev, [result])
    assert "Result: FAIL" in render(dev, [result], title="Dev")


def test_the_order_event_bus_resolves_as_on_aws_and_routes_order_placed_to_the_workflow(dev: LocalCloud) -> None:
    bus = dev.resource("OrderWorkflow/EventBus", "AWS::Events::EventBus")
    events = dev.client("events")
    described = events.describe_event_bus(Name=bus.properties["Name"])
    assert dev.outputs["OrderEventBusName"] == bus.physical_id == described["Name"]  # Ref: the name
    confirm = dev.resource("OrderWorkflow/SendConfirmation/Resource", "AWS::Lambda::Function").physical_id
    variables = dev.client("lambda").get_function_configuration(FunctionName=confirm)["Environment"]["Variables"]
    assert variables["EVENT_BUS_NAME"] == bus.physical_id
    (rule,) = events.list_rules(EventBusName=bus.physical_id)["Rules"]
    assert json.loads(rule["EventPattern"])["detail-type"] == ["OrderPlaced"]
    (target,) = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus.physical_id)["Targets"]
    assert target["Arn"] == dev.outputs["OrderStateMachineArn"]
    assert target["InputPath"] == "$.detail"


def _emf_metrics(logs: str) -> list[dict[str, object]]:
    """The EMF documents among a handler's log lines."""
    documents = []
    for line in logs.splitlines():
        if '"_aws"' in line:
            document = json.loads(line)
            if "CloudWatchMetrics" in document.get("_aws", {}):
                documents.append(document)
    return documents


def test_handlers_emit_emf_metrics_with_the_environment_namespace_and_service(dev: LocalCloud) -> None:
    created = dev.api_request("POST", "/items", body={"name": "emf probe", "attributes": {}})
    assert created.status_code == 201
    (invocation,) = [i for i in dev.invocations if i.function_name.startswith("Dev-Service-ApiHandler")][-1:]
    documents = _emf_metrics(invocation.logs)
    declared = {
        (metric["Name"], directive["Namespace"], tuple(sorted(dimension)))
        for document in documents
        for directive in document["_aws"]["CloudWatchMetrics"]  # type: ignore[index]
        for metric in directive["Metrics"]
        for dimension in directive["Dimensions"]
    }
    assert ("ItemsCreated", "ServerlessPatterns/Dev", ("service",)) in declared
    assert all(document.get("service") == "items-api" for document in documents if "ItemsCreated" in document)
    assert not any("emf probe" in line for line in invocation.logs.splitlines())  # no request bodies in logs
