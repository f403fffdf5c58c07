"""Recognising pattern instances: by the constructs' metadata, else by construct path, else by logical id."""

from __future__ import annotations

from serverless_patterns.capacity.patterns import (
    BY_LOGICAL_ID,
    BY_METADATA,
    BY_PATH,
    SHAPE_BY_NAME,
    canonical_role,
    recognize_patterns,
)
from serverless_patterns.cost.template import read_inventory
from tests.unit.capacity import builders
from tests.unit.cost.builders import Resources, function, template


def _found(resources: Resources) -> dict[tuple[str, str], tuple[str, dict[str, str]]]:
    return {
        (i.pattern, i.instance): (i.recognized_by, {role: spec.logical_id for role, spec in i.functions.items()})
        for i in recognize_patterns(read_inventory(template(resources)))
    }


def test_metadata_names_pattern_instance_and_role_whatever_the_ids() -> None:
    resources: Resources = {}
    for logical_id, role in (("JobsBoss", "master"), ("JobsHand", "Worker"), ("JobsSum", "aggregator")):
        function(resources, logical_id, role=f"FanOut/{role}", instance="Reports/Jobs")

    assert _found(resources) == {
        ("FanOut", "Reports/Jobs"): (BY_METADATA, {"master": "JobsBoss", "worker": "JobsHand", "aggregator": "JobsSum"})
    }


def test_construct_paths_group_functions_under_their_parent_and_a_handler_needs_a_stage() -> None:
    resources: Resources = {}
    function(resources, "A1", path="Nightly/Validate/Resource")
    function(resources, "A2", path="Nightly/Process/Resource")
    function(resources, "B1", path="Widgets/Handler/Resource")  # no stage integrates it: not an ApiBackend
    function(resources, "C1", path="Lonely/Process/Resource")  # no validator: not a pipeline

    assert _found(resources) == {("EventPipeline", "Nightly"): (BY_PATH, {"validate": "A1", "process": "A2"})}


def test_without_path_metadata_the_default_logical_ids_are_recognised() -> None:
    resources: Resources = {}
    builders.api(resources, reserved=10, rate=100)
    builders.pipeline(resources, max_concurrency=5)
    builders.fan_out(resources, worker_reserved=20, max_concurrency=10, shards=8)
    builders.orders(resources)
    function(resources, "SomethingElseAB12CD34")
    for resource in resources.values():  # a template synthesized before the constructs recorded roles
        resource.get("Metadata", {}).pop("ServerlessPatterns", None)

    found = _found(resources)
    assert set(found) == {
        ("ApiBackend", "Api"),
        ("EventPipeline", "EventPipeline"),
        ("FanOut", "FanOut"),
        ("OrderWorkflow", "OrderWorkflow"),
    }
    # The saga's functions carry construct paths (OrderWorkflow/ValidateOrder...); the others only their ids.
    assert {key: by for key, (by, _) in found.items()} == {
        ("ApiBackend", "Api"): BY_LOGICAL_ID,
        ("EventPipeline", "EventPipeline"): BY_LOGICAL_ID,
        ("FanOut", "FanOut"): BY_LOGICAL_ID,
        ("OrderWorkflow", "OrderWorkflow"): BY_PATH,
    }
    assert found[("FanOut", "FanOut")][1] == {
        "master": "FanOutMaster354B3AB2",
        "worker": "FanOutWorkerB2942983",
        "aggregator": "FanOutAggregator45474691",
    }


def test_metadata_wins_over_paths_for_the_functions_that_carry_it() -> None:
    resources: Resources = {}
    function(
        resources,
        "M1",
        path="Old/Validate/Resource",
        role="EventPipeline/validate",
        instance="New",
    )
    function(
        resources,
        "M2",
        path="Old/Process/Resource",
        role="EventPipeline/process",
        instance="New",
    )

    assert _found(resources) == {("EventPipeline", "New"): (BY_METADATA, {"validate": "M1", "process": "M2"})}


def test_roles_are_read_however_the_metadata_spells_them() -> None:
    shape = SHAPE_BY_NAME["OrderWorkflow"]
    assert [canonical_role(shape, role) for role in ("update_inventory", "UpdateInventory", "update-inventory")] == [
        "update_inventory"
    ] * 3
    assert canonical_role(SHAPE_BY_NAME["ApiBackend"], "handler") == "api"
