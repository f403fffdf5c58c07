"""Reading the billable inventory out of small CDK-shaped templates."""

from __future__ import annotations

import pytest

from serverless_patterns.cost.inventory import path_matches_logical_id
from serverless_patterns.cost.template import (
    read_inventory,
    references,
    render,
    schedule_per_day,
)
from tests.unit.cost.builders import Resources, function, queue_source, schedule, state_machine, task, template


@pytest.mark.parametrize(
    ("expression", "per_day"),
    [("rate(5 minutes)", 288.0), ("rate(1 minute)", 1440.0), ("rate(2 hours)", 12.0), ("rate(1 day)", 1.0)],
)
def test_rate_schedules_run_a_known_number_of_times_a_day(expression: str, per_day: float) -> None:
    assert schedule_per_day(expression) == per_day


def test_cron_schedules_are_not_guessed() -> None:
    assert schedule_per_day("cron(0 12 * * ? *)") is None


def test_references_are_found_at_any_depth() -> None:
    value = {
        "Fn::Join": ["", [{"Fn::Select": [6, {"Fn::Split": [":", {"Ref": "Alias"}]}]}, {"Fn::GetAtt": ["Q", "Arn"]}]]
    }
    assert list(references(value)) == ["Alias", "Q"]


def test_rendering_joins_strings_and_marks_references() -> None:
    value = {"Fn::Join": ["", ['{"Resource":"', {"Ref": "Alias"}, '","Q":"', {"Fn::GetAtt": ["Queue", "Arn"]}, '"}']]}
    assert render(value) == '{"Resource":"REF(Alias)","Q":"REF(Queue)"}'


@pytest.mark.parametrize(
    ("path", "logical_id", "matches"),
    [
        ("Api/Handler", "ApiHandlerF33F5146", True),
        ("EventPipeline/Process", "EventPipelineProcess8DADE1A2", True),
        ("Api/Handler", "ApiHandlerLogGroup719950EC", False),
        ("Handler", "ApiHandlerF33F5146", False),
    ],
)
def test_logical_ids_are_matched_to_construct_paths(path: str, logical_id: str, matches: bool) -> None:
    assert path_matches_logical_id(path, logical_id) is matches


def test_functions_are_found_by_path_with_or_without_metadata() -> None:
    resources: Resources = {}
    function(resources, "ApiHandlerF33F5146")  # as Template.from_stack writes it: no metadata
    function(resources, "WorkerABCDEF12", path="FanOut/Worker")
    inventory = read_inventory(template(resources))
    api, worker = inventory.function("Api/Handler"), inventory.function("FanOut/Worker")
    assert api is not None
    assert api.logical_id == "ApiHandlerF33F5146"
    assert worker is not None
    assert (worker.logical_id, worker.path) == ("WorkerABCDEF12", "FanOut/Worker")
    assert inventory.function("FanOut/Master") is None


def test_sizing_comes_from_the_function_and_its_alias() -> None:
    resources: Resources = {}
    function(
        resources,
        "ApiHandlerF33F5146",
        memory=512,
        architecture="x86_64",
        traced=True,
        log_group="ApiLogs",
        environment={"TABLE_NAME": "items", "TOKEN": {"Ref": "X"}},  # type: ignore[dict-item]
        provisioned=5,
        max_provisioned=50,
    )
    spec = read_inventory(template(resources)).functions["ApiHandlerF33F5146"]
    assert (spec.memory_mb, spec.memory_gb, spec.architecture) == (512, 0.5, "x86_64")
    assert (spec.provisioned_concurrency, spec.max_provisioned_concurrency) == (5, 50)
    assert spec.traced
    assert spec.log_group == "ApiLogs"
    assert spec.environment == {"TABLE_NAME": "items"}


def test_event_sources_and_schedules_are_linked_through_aliases() -> None:
    resources: Resources = {}
    process = function(resources, "ProcessFn")
    sweeper = function(resources, "SweeperFn")
    queue_source(resources, process, "Queue", batch_size=10, window=5)
    schedule(resources, "Sweep", sweeper, "rate(5 minutes)")
    schedule(resources, "KeepWarm", process, "rate(5 minutes)", keep_warm=True)
    schedule(resources, "Nightly", sweeper, "cron(0 3 * * ? *)")
    inventory = read_inventory(template(resources))
    (source,) = inventory.queue_sources
    assert (source.function, source.queue, source.batch_size, source.batching_window_seconds) == (
        "ProcessFn",
        "Queue",
        10,
        5,
    )
    assert inventory.queue_source("ProcessFn") == source
    assert {(s.function, s.per_day, s.keep_warm) for s in inventory.schedules} == {
        ("SweeperFn", 288.0, False),
        ("ProcessFn", 288.0, True),
    }
    assert inventory.unsupported_schedules == ("Nightly: cron(0 3 * * ? *)",)


def test_state_machine_definitions_are_rendered_with_their_references() -> None:
    resources: Resources = {}
    alias = function(resources, "ValidateFn")
    definition = {"StartAt": "Validate", "States": {"Validate": task(alias, None)}}
    state_machine(resources, "Machine", definition, path="OrderWorkflow", log_level="ALL")
    inventory = read_inventory(template(resources))
    machine = inventory.state_machine("OrderWorkflow")
    assert machine is not None
    assert machine.definition["States"]["Validate"]["Resource"] == f"REF({alias})"
    assert (machine.machine_type, machine.log_level, machine.log_group) == ("STANDARD", "ALL", "MachineLogs")
    assert inventory.function_behind(alias) == "ValidateFn"
    assert inventory.function_behind("ValidateFn") == "ValidateFn"
    assert inventory.function_behind("Machine") is None


def test_tables_alarms_and_the_rest_are_counted() -> None:
    metric = {"Namespace": "AWS/Lambda", "MetricName": "Errors"}
    resources: Resources = {
        "Items": {
            "Type": "AWS::DynamoDB::GlobalTable",
            "Properties": {
                "BillingMode": "PAY_PER_REQUEST",
                "Replicas": [{"PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}}],
            },
        },
        "Legacy": {"Type": "AWS::DynamoDB::Table", "Properties": {"ProvisionedThroughput": {}}},
        "Simple": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Period": 60, **metric}},
        "Math": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "Metrics": [
                    {"Id": "e", "Expression": "a/b*100"},
                    {"Id": "a", "MetricStat": {"Metric": metric, "Period": 60}},
                    {"Id": "b", "MetricStat": {"Metric": metric, "Period": 60}},
                ]
            },
        },
        "Fast": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Period": 10, **metric}},
        "Composite": {"Type": "AWS::CloudWatch::CompositeAlarm", "Properties": {}},
        "Board": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {}},
        "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
        "Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {}},
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {}},
        "AccessLogs": {"Type": "AWS::Logs::LogGroup", "Properties": {}},
        "Stage": {
            "Type": "AWS::ApiGateway::Stage",
            "Properties": {"AccessLogSetting": {"DestinationArn": {"Fn::GetAtt": ["AccessLogs", "Arn"]}}},
        },
    }
    inventory = read_inventory(template(resources))
    assert [(t.logical_id, t.on_demand, t.point_in_time_recovery) for t in inventory.tables] == [
        ("Items", True, True),
        ("Legacy", False, False),
    ]
    assert sorted((a.metrics, a.high_resolution) for a in inventory.alarms) == [(1, False), (1, True), (2, False)]
    assert (inventory.composite_alarms, inventory.dashboards, inventory.kms_keys, inventory.secrets) == (1, 1, 1, 1)
    assert (inventory.buckets, inventory.rest_apis, inventory.rest_api_access_log_groups) == (1, 1, ("AccessLogs",))
    assert inventory.log_groups == {"AccessLogs": None}
