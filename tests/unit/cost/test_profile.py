"""The traffic profile: the default file, overrides, and refusals of what cannot be right."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from serverless_patterns.cost.profile import PROFILE_FILE, FunctionWork, Work, load_profile, merge, parse_setting


def test_the_default_profile_loads_with_work_for_every_role_of_every_pattern() -> None:
    from serverless_patterns import ApiBackend, EventPipeline, FanOut, OrderWorkflow

    profile = load_profile()
    assert profile.name == "default"
    assert profile.api.requests_per_day > 0
    roles = {
        f"{cls.__name__}/{role}" for cls in (ApiBackend, EventPipeline, FanOut, OrderWorkflow) for role in cls.ROLES
    }
    assert roles == set(profile.work)
    assert all(work.invocation(1).duration_ms > 0 for work in profile.work.values())
    assert profile.unplaced.invocations_per_day > 0
    assert profile.unplaced.work.invocation(1).duration_ms > 0


def test_an_override_file_is_merged_over_the_default(tmp_path: Path) -> None:
    override = tmp_path / "busy.json"
    override.write_text(
        json.dumps(
            {
                "name": "busy",
                "api": {"requests_per_day": 2_000_000},
                "work": {"Api/Handler": {"per_invocation": {"duration_ms": 25}}},
            }
        )
    )
    profile = load_profile(override, settings=["orders.orders_per_day=5e3", "description=peak season"])
    default = load_profile()
    assert profile.name == "busy"
    assert profile.description == "peak season"
    assert profile.api.requests_per_day == 2_000_000
    assert profile.orders.orders_per_day == 5_000
    assert profile.pipeline == default.pipeline
    api = profile.work_of("Api/Handler").per_invocation
    assert api.duration_ms == 25
    assert default.work_of("ApiBackend/api").per_invocation.dynamodb_read_units > 0
    assert api.dynamodb_read_units == 0  # a construct-path key replaces the work of that one function


def test_settings_become_nested_overrides() -> None:
    assert parse_setting("a.b.c=2") == {"a": {"b": {"c": 2}}}
    assert parse_setting("name=x y") == {"name": "x y"}
    with pytest.raises(ValueError, match=r"key\.path=value"):
        parse_setting("no-equals-sign")
    assert merge({"a": {"b": 1, "c": 2}}, {"a": {"b": 3}}) == {"a": {"b": 3, "c": 2}}


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("api.request_per_day=1", "unknown key"),
        ("api.requests_per_day=-1", "must be >= 0"),
        ('api.requests_per_day="many"', "expected a number"),
        ("orders.compensated_share=1.5", "between 0 and 1"),
        ("pipeline.arrival_burstiness=0.5", ">= 1"),
        ("days_per_month=0", "> 0"),
        ("work.Api/Handler.per_invocation.duration=1", "unknown key"),
    ],
)
def test_profiles_that_cannot_be_right_are_refused(setting: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_profile(settings=[setting])


def test_a_function_without_declared_work_does_none() -> None:
    assert load_profile().work_of("Nowhere/Function") == FunctionWork()


def test_work_adds_per_record_work_to_the_invocation() -> None:
    work = FunctionWork(
        per_invocation=Work(duration_ms=10, log_kb=1), per_record=Work(duration_ms=100, s3_get_requests=2)
    )
    assert work.invocation(3) == Work(duration_ms=310, log_kb=1, s3_get_requests=6)
    assert Work(duration_ms=2).times(5) == Work(duration_ms=10)


def test_the_default_file_is_valid_json_with_a_description() -> None:
    raw = json.loads(PROFILE_FILE.read_text())
    assert raw["description"]
