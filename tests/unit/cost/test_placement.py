"""Functions placed by the pattern role their construct records, in any app; what cannot be placed is still priced."""

from __future__ import annotations

import pytest

from serverless_patterns.cost.estimate import Estimate, estimate
from serverless_patterns.cost.profile import (
    ApiTraffic,
    FanOutTraffic,
    FunctionWork,
    InstanceProfile,
    TrafficProfile,
    UnplacedFunction,
    Work,
)
from serverless_patterns.cost.template import read_inventory
from serverless_patterns.roles import PatternRole, names_instance, recognize
from tests.unit.cost.builders import Resources, function, queue_source, template
from tests.unit.cost.test_estimate import PRICES


def run(resources: Resources, traffic: TrafficProfile) -> Estimate:
    return estimate(read_inventory(template(resources)), traffic, PRICES, environment="Test")


def invocations_per_day(result: Estimate) -> dict[str, float]:
    return {usage.path: round(usage.invocations / 30, 6) for usage in result.functions}


def test_a_pattern_function_is_placed_by_its_recorded_role_whatever_its_construct_id() -> None:
    resources: Resources = {"Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {}}}
    function(
        resources, "FrontDoorFn0A1B2C3D", path="Shop/FrontDoor/Fn", role="ApiBackend/api", instance="Shop/FrontDoor"
    )
    work = FunctionWork(per_invocation=Work(duration_ms=50))
    result = run(resources, TrafficProfile(api=ApiTraffic(1_000), work={"ApiBackend/api": work}))
    assert invocations_per_day(result) == {"Shop/FrontDoor/Fn": 1_000}
    (usage,) = result.functions
    assert usage.average_duration_ms == 50
    assert not [note for note in result.notes if "no pattern records" in note]


def fan_outs(resources: Resources) -> None:
    for instance in ("Jobs", "Reports"):
        function(resources, f"{instance}Master", path=f"{instance}/Master", role="FanOut/master", instance=instance)
        worker = function(
            resources, f"{instance}Worker", path=f"{instance}/Worker", role="FanOut/worker", instance=instance
        )
        queue_source(resources, worker, f"{instance}Chunks", batch_size=1)
        function(
            resources, f"{instance}Agg", path=f"{instance}/Aggregator", role="FanOut/aggregator", instance=instance
        )


def test_each_instance_of_a_pattern_gets_its_traffic_and_may_have_its_own() -> None:
    resources: Resources = {}
    fan_outs(resources)
    slow = FunctionWork(per_record=Work(duration_ms=1_000))
    traffic = TrafficProfile(
        fan_out=FanOutTraffic(jobs_per_day=10, items_per_job=200),  # 2 chunks of the default 100
        work={"FanOut/worker": FunctionWork(per_record=Work(duration_ms=100))},
        instances={"Reports": InstanceProfile(traffic={"jobs_per_day": 1}, work={"worker": slow})},
    )
    result = run(resources, traffic)
    assert invocations_per_day(result) == {
        "Jobs/Master": 10,
        "Jobs/Worker": 20,
        "Jobs/Aggregator": 10,
        "Reports/Master": 1,
        "Reports/Worker": 2,
        "Reports/Aggregator": 1,
    }
    by_path = {usage.path: usage for usage in result.functions}
    assert by_path["Jobs/Worker"].average_duration_ms == 100
    assert by_path["Reports/Worker"].average_duration_ms == 1_000


def test_an_instance_override_must_name_a_deployed_instance_and_its_patterns_traffic() -> None:
    resources: Resources = {}
    fan_outs(resources)
    unknown = TrafficProfile(instances={"Nightly": InstanceProfile(traffic={"jobs_per_day": 1})})
    assert "profile instance Nightly: no such pattern instance in this template" in run(resources, unknown).notes
    wrong = TrafficProfile(instances={"Reports": InstanceProfile(traffic={"requests_per_day": 1})})
    with pytest.raises(ValueError, match=r"instances.Reports.traffic: unknown key\(s\) \['requests_per_day'\]"):
        run(resources, wrong)


def test_a_function_no_pattern_records_is_priced_by_default_and_said_never_free() -> None:
    resources: Resources = {}
    function(resources, "Mine", path="Team/Mine", memory=1024)
    function(resources, "Tuned", path="Team/Tuned", memory=1024)
    traffic = TrafficProfile(
        unplaced=UnplacedFunction(invocations_per_day=100, work=FunctionWork(per_invocation=Work(duration_ms=200))),
        work={"Team/Tuned": FunctionWork(per_invocation=Work(duration_ms=50))},
    )
    result = run(resources, traffic)
    by_path = {usage.path: usage for usage in result.functions}
    assert (by_path["Team/Mine"].invocations, by_path["Team/Mine"].average_duration_ms) == (3_000, 200)
    assert by_path["Team/Tuned"].average_duration_ms == 50
    assert all(usage.lambda_usd > 0 for usage in result.functions)
    notes = "\n".join(result.notes)
    assert "Team/Mine: no pattern records this function; priced at 100 invocations/day with the default work" in notes
    assert "Team/Tuned: no pattern records this function; priced at 100 invocations/day with its work" in notes


def test_custom_resource_handlers_run_at_deployment_only() -> None:
    resources: Resources = {}
    function(resources, "NotificationsHandler")
    resources["Notifications"] = {
        "Type": "Custom::S3BucketNotifications",
        "Properties": {"ServiceToken": {"Fn::GetAtt": ["NotificationsHandler", "Arn"]}},
    }
    result = run(resources, TrafficProfile())
    assert [usage.invocations for usage in result.functions] == [0]
    assert "1 custom resource handler(s) run at deployment only: not priced" in result.notes


def test_the_role_record_is_read_in_one_place() -> None:
    record = {"pattern": "FanOut", "instance": "Dev/Service/Reports", "role": "worker"}
    resource = {"Type": "AWS::Lambda::Function", "Metadata": {"ServerlessPatterns": record}}
    assert recognize(resource) == PatternRole("FanOut", "Dev/Service/Reports", "worker")
    assert recognize({**resource, "Type": "AWS::SQS::Queue"}) is None
    assert (
        recognize({"Type": "AWS::Lambda::Function", "Metadata": {"ServerlessPatterns": {**record, "role": ""}}}) is None
    )
    assert recognize({"Type": "AWS::Lambda::Function"}) is None
    assert names_instance("Reports", "Dev/Service/Reports")
    assert names_instance("Service/Reports", "Dev/Service/Reports")
    assert not names_instance("ports", "Dev/Service/Reports")
