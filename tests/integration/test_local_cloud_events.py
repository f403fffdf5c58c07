"""EventBridge: rules deliver matched events to state machines (started) and functions (invoked asynchronously)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from serverless_patterns.local import LocalCloud
from serverless_patterns.local.events import select_path, target_input
from tests.integration.fixtures.machinery_stack import ASYNC_RETRIES

SOURCE = "machinery.tests"


@pytest.fixture(scope="module")
def cloud(machinery_assembly: Path) -> Iterator[LocalCloud]:
    """The Machinery stack, permissions off: these tests add rules and targets through the API, with no role or
    Lambda permission for them (the permission side of EventBridge is tests/integration/test_permissions_bite.py's)."""
    with LocalCloud.deploy(machinery_assembly, enforce_permissions=False) as running:
        yield running


@pytest.fixture(scope="module")
def bus(cloud: LocalCloud) -> str:
    """A bus of this module's own, with rules added by each test."""
    name = f"machinery-{uuid.uuid4().hex[:8]}"
    cloud.client("events").create_event_bus(Name=name)
    return name


def _rule(cloud: LocalCloud, bus: str, detail_type: str, *targets: dict[str, Any], state: str = "ENABLED") -> None:
    events = cloud.client("events")
    pattern = {"source": [SOURCE], "detail-type": [detail_type]}
    events.put_rule(Name=detail_type, EventBusName=bus, EventPattern=json.dumps(pattern), State=state)
    events.put_targets(Rule=detail_type, EventBusName=bus, Targets=list(targets))


def _put(cloud: LocalCloud, bus: str, detail_type: str, detail: dict[str, Any]) -> None:
    response = cloud.client("events").put_events(
        Entries=[{"EventBusName": bus, "Source": SOURCE, "DetailType": detail_type, "Detail": json.dumps(detail)}]
    )
    assert response["FailedEntryCount"] == 0


def _executions_with_input(cloud: LocalCloud, execution_input: Any) -> list[dict[str, Any]]:
    sfn = cloud.client("stepfunctions")
    pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=cloud.outputs["StateMachineArn"])
    described = [sfn.describe_execution(executionArn=e["executionArn"]) for page in pages for e in page["executions"]]
    return [d for d in described if json.loads(d["input"]) == execution_input]


def _attempts(cloud: LocalCloud, key: str) -> int:
    item = cloud.client("dynamodb").get_item(TableName=cloud.outputs["TableName"], Key={"pk": {"S": key}})
    return int(item["Item"]["attempts"]["N"]) if "Item" in item else 0


def test_a_matched_event_starts_the_target_state_machine_with_the_input_path(cloud: LocalCloud, bus: str) -> None:
    _rule(
        cloud, bus, "ChargeRequested", {"Id": "sfn", "Arn": cloud.outputs["StateMachineArn"], "InputPath": "$.detail"}
    )
    detail = {"id": f"event-{uuid.uuid4().hex[:8]}", "succeed_on_attempt": 2}

    _put(cloud, bus, "ChargeRequested", detail)
    cloud.drain()

    (execution,) = _executions_with_input(cloud, detail)
    assert execution["status"] == "SUCCEEDED"
    assert execution["name"].startswith("local-")
    assert cloud.retry_waits(execution["executionArn"]) == [2.0]
    assert _attempts(cloud, f"flaky#{detail['id']}") == 2


def test_a_function_target_is_invoked_asynchronously_with_its_retries(cloud: LocalCloud, bus: str) -> None:
    _rule(cloud, bus, "JobFailed", {"Id": "worker", "Arn": cloud.outputs["WorkerAlias"], "InputPath": "$.detail"})
    detail = {"id": f"event-{uuid.uuid4().hex[:8]}", "fail": True}

    _put(cloud, bus, "JobFailed", detail)
    assert _attempts(cloud, f"async#{detail['id']}") == 0  # queued like any asynchronous invocation
    cloud.drain()

    assert _attempts(cloud, f"async#{detail['id']}") == 1 + ASYNC_RETRIES
    runs = [i for i in cloud.invocations if i.event == detail]
    assert {(i.source, i.invocation_type) for i in runs} == {("events", "Event")}
    records = [json.loads(m["Body"]) for m in cloud.read_queue(cloud.outputs["WorkerFailureQueueUrl"], delete=True)]
    assert [r["requestPayload"] for r in records] == [detail]


def test_without_an_input_path_the_target_gets_the_whole_event(cloud: LocalCloud, bus: str) -> None:
    _rule(cloud, bus, "Audited", {"Id": "worker", "Arn": cloud.outputs["WorkerAlias"]})
    detail = {"id": f"event-{uuid.uuid4().hex[:8]}"}

    _put(cloud, bus, "Audited", detail)
    cloud.drain()

    (run,) = [i for i in cloud.invocations if isinstance(i.event, dict) and i.event.get("detail") == detail]
    assert (run.event["source"], run.event["detail-type"]) == (SOURCE, "Audited")
    assert run.event["time"].endswith("Z")  # ISO 8601, as EventBridge sends it
    assert run.error_type is None


def test_a_disabled_rule_delivers_nothing(cloud: LocalCloud, bus: str) -> None:
    _rule(cloud, bus, "Ignored", {"Id": "worker", "Arn": cloud.outputs["WorkerAlias"]}, state="DISABLED")
    detail = {"id": f"event-{uuid.uuid4().hex[:8]}"}

    _put(cloud, bus, "Ignored", detail)
    cloud.drain()

    assert _attempts(cloud, f"async#{detail['id']}") == 0


def test_a_start_that_fails_goes_to_the_targets_dead_letter_queue(cloud: LocalCloud, bus: str) -> None:
    sqs = cloud.client("sqs")
    dlq_url = sqs.create_queue(QueueName=f"events-dlq-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    missing = cloud.outputs["StateMachineArn"] + "-deleted"
    _rule(cloud, bus, "Orphaned", {"Id": "gone", "Arn": missing, "DeadLetterConfig": {"Arn": dlq_arn}})

    _put(cloud, bus, "Orphaned", {"id": "lost"})

    (message,) = cloud.read_queue(dlq_url, delete=True)
    assert json.loads(message["Body"])["detail"] == {"id": "lost"}
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes["TARGET_ARN"] == missing
    assert attributes["RULE_ARN"].endswith(f"rule/{bus}/Orphaned")
    assert attributes["ERROR_CODE"] == "RESOURCE_NOT_FOUND"
    assert attributes["ERROR_MESSAGE"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", {"detail": {"lines": [{"sku": "A"}, {"sku": "B"}], "id": "1"}}),
        ("$.detail", {"lines": [{"sku": "A"}, {"sku": "B"}], "id": "1"}),
        ("$.detail.lines[1].sku", "B"),
        ("$.detail['id']", "1"),
        ("$.detail.missing", None),
        ("$.detail.lines[5]", None),
    ],
)
def test_input_paths_select_like_jsonpath(path: str, expected: Any) -> None:
    event = {"detail": {"lines": [{"sku": "A"}, {"sku": "B"}], "id": "1"}}
    assert select_path(event, path) == expected
    assert json.loads(target_input({"InputPath": path}, event)) == expected


def test_constant_input_and_unsupported_paths() -> None:
    assert target_input({"Input": '{"fixed": true}'}, {"detail": {}}) == '{"fixed": true}'
    with pytest.raises(ValueError, match="unsupported InputPath"):
        select_path({}, "$..sku")


def _scheduled(cloud: LocalCloud, name: str, expression: str, *, state: str = "ENABLED") -> str:
    """A scheduled rule on the default bus invoking the Echo alias with a constant input; its ARN."""
    events = cloud.client("events")
    arn = events.put_rule(Name=name, ScheduleExpression=expression, State=state)["RuleArn"]
    target = {"Id": "echo", "Arn": cloud.outputs["EchoAlias"], "Input": json.dumps({"schedule": name})}
    events.put_targets(Rule=name, Targets=[target])
    return str(arn)


def _scheduled_runs(cloud: LocalCloud, name: str) -> list[Any]:
    return [i for i in cloud.invocations if i.source == "events" and i.event == {"schedule": name}]


def test_scheduled_rules_fire_on_the_virtual_clock_and_only_while_enabled(cloud: LocalCloud) -> None:
    run = uuid.uuid4().hex[:8]
    rate, cron, off = f"rate-{run}", f"cron-{run}", f"off-{run}"
    rate_arn = _scheduled(cloud, rate, "rate(2 minutes)")
    _scheduled(cloud, cron, "cron(0/5 * * * ? *)")
    _scheduled(cloud, off, "rate(1 minute)", state="DISABLED")

    assert cloud.drain().virtual_seconds == 0  # schedules are not pending work: a drain does not wait for them
    started = cloud.clock.now()
    result = cloud.advance(10 * 60)

    assert result.virtual_seconds == 10 * 60
    assert len(_scheduled_runs(cloud, rate)) == 5  # every 2 minutes after the rule was created
    fired = cloud.timeline.scheduler.firings(rate_arn)
    assert [t - started for t in fired] == [120.0, 240.0, 360.0, 480.0, 600.0]
    assert len(_scheduled_runs(cloud, cron)) == 2  # at minutes divisible by 5
    assert _scheduled_runs(cloud, off) == []
    assert all(i.invocation_type == "Event" for i in _scheduled_runs(cloud, rate))  # EventBridge invokes async

    cloud.client("events").disable_rule(Name=rate)
    cloud.advance(5 * 60)
    assert len(_scheduled_runs(cloud, rate)) == 5
    cloud.client("events").disable_rule(Name=cron)  # the module's later tests move the clock too


def test_dynamodb_ttl_deletes_expired_items_as_the_clock_passes_them(cloud: LocalCloud) -> None:
    dynamodb, table = cloud.client("dynamodb"), f"ttl-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"})
    now = int(cloud.clock.wall())
    for pk, expires in (("soon", now + 100), ("later", now + 1000)):
        dynamodb.put_item(TableName=table, Item={"pk": {"S": pk}, "ttl": {"N": str(expires)}})

    cloud.advance(200)

    remaining = sorted(item["pk"]["S"] for item in dynamodb.scan(TableName=table)["Items"])
    assert remaining == ["later"]
