"""The model on the real synthesized environments: its limits follow the settings in ``stacks/environments.py``."""

from __future__ import annotations

import pytest
from aws_cdk import assertions

from serverless_patterns.capacity.analysis import Analysis, analyse
from serverless_patterns.capacity.model import PatternCapacity
from serverless_patterns.capacity.quotas import Quotas
from serverless_patterns.config import FanOutSettings
from serverless_patterns.cost.prices import Prices
from serverless_patterns.cost.profile import TrafficProfile, load_profile
from serverless_patterns.cost.template import read_inventory
from serverless_patterns.stacks.environments import ENVIRONMENTS, PROD

PROFILE = load_profile()


@pytest.fixture(scope="module")
def analyses(templates: dict[str, assertions.Template]) -> dict[str, Analysis]:
    return {
        name: analyse(
            read_inventory(template.to_json()),
            quotas=Quotas.load(),
            profile=PROFILE,
            prices=Prices.load(),
            environment=ENVIRONMENTS[name].name,
        )
        for name, template in templates.items()
    }


def _pattern(analysis: Analysis, name: str) -> PatternCapacity:
    return next(capacity for capacity in analysis.patterns if capacity.pattern == name)


def _duration_ms(profile: TrafficProfile, path: str, records: float) -> float:
    return profile.work_of(path).invocation(records).duration_ms


def test_every_environment_has_its_four_patterns_each_with_a_cost_at_its_ceiling(analyses: dict[str, Analysis]) -> None:
    for analysis in analyses.values():
        assert [p.pattern for p in analysis.patterns] == ["ApiBackend", "EventPipeline", "FanOut", "OrderWorkflow"]
        assert all(cost is not None and cost.total_usd > analysis.fixed_cost.total_usd for cost in analysis.costs)
        assert "OK" in analysis.account[0]


def test_prods_api_is_held_by_its_stage_throttle_then_its_reserved_concurrency(analyses: dict[str, Analysis]) -> None:
    """PROD: stage 1,000 requests/s; the handler's 200 reserved at 40 ms (counted as 100 ms) = 2,000."""
    api = _pattern(analyses["prod"], "ApiBackend")
    reserved = PROD.function("api").reserved_concurrency
    assert reserved is not None

    assert (api.first.name, api.ceiling) == ("API stage throttle", PROD.api.throttle_rate)
    assert api.second is not None
    expected = reserved / (max(_duration_ms(PROFILE, "ApiBackend/api", 1), 100) / 1000)
    assert (api.second.name, api.second.ceiling) == ("Lambda reserved concurrency (api)", expected)


def test_prods_pipeline_and_fan_out_are_held_by_their_event_sources(analyses: dict[str, Analysis]) -> None:
    """Pipeline: max_concurrency batches x batch_size files / the batch's duration. FanOut:
    worker_max_concurrency x chunk_size items / a chunk's duration, then the worker's reserved
    concurrency; a job's completions in the default shards stay far above both."""
    pipeline, fan_out = _pattern(analyses["prod"], "EventPipeline"), _pattern(analyses["prod"], "FanOut")
    settings, chunks = PROD.pipeline, PROD.fan_out

    batch_seconds = _duration_ms(PROFILE, "EventPipeline/process", settings.batch_size) / 1000
    assert pipeline.first.name == "SQS event source concurrency (process)"
    assert pipeline.ceiling == pytest.approx(settings.max_concurrency * settings.batch_size / batch_seconds)
    chunk_seconds = _duration_ms(PROFILE, "FanOut/worker", chunks.worker_batch_size) / 1000
    assert fan_out.first.name == "SQS event source concurrency (worker)"
    assert fan_out.ceiling == pytest.approx(chunks.worker_max_concurrency * chunks.chunk_size / chunk_seconds)
    assert fan_out.second is not None
    assert fan_out.second.name == "Lambda reserved concurrency (worker)"
    (completions,) = [limit for limit in fan_out.limits if limit.name.startswith("One job's completions")]
    assert completions.ceiling == FanOutSettings().completion_shards * 250 * chunks.chunk_size


def test_prods_orders_are_held_by_standard_start_execution_and_express_is_suggested(
    analyses: dict[str, Analysis],
) -> None:
    orders = _pattern(analyses["prod"], "OrderWorkflow")

    assert (orders.first.name, orders.ceiling) == ("Step Functions StartExecution (Standard)", 300)
    assert any(note.startswith("Express is the right type") and "Express fits" in note for note in orders.notes)


def test_devs_small_throttle_and_unreserved_pool(analyses: dict[str, Analysis]) -> None:
    from serverless_patterns.stacks.environments import DEV

    api = _pattern(analyses["dev"], "ApiBackend")
    assert (api.first.name, api.ceiling) == ("API stage throttle", DEV.api.throttle_rate)
    assert "Lambda account concurrency (unreserved)" in [limit.name for limit in api.limits]
