"""The template-wide checks themselves, on small hand-written templates: they must be able to fail."""

from __future__ import annotations

import json
from typing import Any

from tests.infrastructure.observability_checks import (
    alarms_not_notifying,
    alarms_outside_composites,
    unobserved_resources,
)


def _dashboard(*parts: Any) -> dict[str, Any]:
    return {"Type": "AWS::CloudWatch::Dashboard", "Properties": {"DashboardBody": {"Fn::Join": ["", list(parts)]}}}


def _metric_body(dimension: str, value: str) -> str:
    return json.dumps({"widgets": [{"properties": {"metrics": [["AWS/SQS", "X", dimension, value]]}}]})


def _template(**resources: dict[str, Any]) -> dict[str, Any]:
    return {"Resources": resources}


FUNCTION = {"Type": "AWS::Lambda::Function", "Properties": {}}
TABLE = {"Type": "AWS::DynamoDB::GlobalTable", "Properties": {}}
NAMED_QUEUE = {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "Dev-Work"}}
NAMED_DLQ = {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "Dev-WorkDlq"}}
API = {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "Items"}}
STATE_MACHINE = {"Type": "AWS::StepFunctions::StateMachine", "Properties": {}}


def test_resources_shown_by_ref_getatt_or_literal_name_are_observed() -> None:
    template = _template(
        Fn=FUNCTION,
        Table=TABLE,
        Work=NAMED_QUEUE,
        Api=API,
        Machine=STATE_MACHINE,
        Board=_dashboard(
            '{"widgets":[["',
            {"Ref": "Fn"},
            '"],["',
            {"Fn::GetAtt": ["Table", "Arn"]},
            '"],["',
            {"Fn::GetAtt": "Machine.Name"},
            '"]]}',
            _metric_body("QueueName", "Dev-Work"),
            _metric_body("ApiName", "Items"),
        ),
    )
    assert unobserved_resources(template) == {}


def test_every_unshown_resource_is_reported_with_its_type() -> None:
    template = _template(
        Fn=FUNCTION,
        Table=TABLE,
        Work=NAMED_QUEUE,
        WorkDlq=NAMED_DLQ,
        Api=API,
        Machine=STATE_MACHINE,
        # "Dev-Work" is a prefix of "Dev-WorkDlq": a name counts only as a whole JSON string.
        Board=_dashboard(_metric_body("QueueName", "Dev-Work")),
    )
    assert unobserved_resources(template) == {
        "Fn": "AWS::Lambda::Function",
        "Table": "AWS::DynamoDB::GlobalTable",
        "WorkDlq": "AWS::SQS::Queue",
        "Api": "AWS::ApiGateway::RestApi",
        "Machine": "AWS::StepFunctions::StateMachine",
    }


def test_references_outside_a_dashboard_do_not_count() -> None:
    alarm = {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Dimensions": [{"Value": {"Ref": "Fn"}}]}}
    assert unobserved_resources(_template(Fn=FUNCTION, Alarm=alarm)) == {"Fn": "AWS::Lambda::Function"}


def test_cdk_framework_functions_and_ignored_ids_are_not_expected() -> None:
    template = _template(
        BucketNotificationsHandler050a0587b7544547bf325f094a3db8347ECC3691=FUNCTION,
        Legacy=FUNCTION,
        Fn=FUNCTION,
    )
    assert unobserved_resources(template, ignore=["Legacy"]) == {"Fn": "AWS::Lambda::Function"}


def test_alarms_without_the_topic_as_alarm_and_ok_action_are_reported() -> None:
    topic = {"Ref": "Topic"}
    template = _template(
        Good={"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmActions": [topic], "OKActions": [topic]}},
        NoOk={"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmActions": [topic]}},
        Other={"Type": "AWS::CloudWatch::CompositeAlarm", "Properties": {"AlarmActions": [{"Ref": "Else"}]}},
        Muted={
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {"AlarmActions": [topic], "OKActions": [topic], "ActionsEnabled": False},
        },
    )
    assert alarms_not_notifying(template, "Topic") == {
        "NoOk": "OKActions",
        "Other": "AlarmActions, OKActions",
        "Muted": "ActionsEnabled",
    }


def test_alarms_no_composite_watches_are_reported() -> None:
    template = _template(
        Watched={"Type": "AWS::CloudWatch::Alarm", "Properties": {}},
        Forgotten={"Type": "AWS::CloudWatch::Alarm", "Properties": {}},
        Health={
            "Type": "AWS::CloudWatch::CompositeAlarm",
            "Properties": {"AlarmRule": {"Fn::Join": ["", ['ALARM("', {"Fn::GetAtt": ["Watched", "Arn"]}, '")']]}},
        },
    )
    assert alarms_outside_composites(template) == {"Forgotten"}
