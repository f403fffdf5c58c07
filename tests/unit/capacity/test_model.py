"""The capacity model on small templates, each case worked by hand in its docstring.

Quotas are the defaults of ``quotas.json`` (Lambda 1,000 concurrent, 10 requests/s per unit of
concurrency; API Gateway 10,000 requests/s; DynamoDB 1,000 write units/s per partition and
40,000 per table; Step Functions Standard 300 starts/s and 5,000 transitions/s, Express 6,000
starts/s) unless a test overrides one.
"""

from __future__ import annotations

import pytest

from serverless_patterns.capacity.analysis import account_checks
from serverless_patterns.capacity.api import analyse_api
from serverless_patterns.capacity.fan_out import analyse_fan_out, job_completions_per_second
from serverless_patterns.capacity.model import Context, PatternCapacity
from serverless_patterns.capacity.orders import analyse_orders
from serverless_patterns.capacity.patterns import recognize_patterns
from serverless_patterns.capacity.pipeline import analyse_pipeline
from serverless_patterns.capacity.quotas import Quotas
from serverless_patterns.cost.profile import FanOutTraffic, TrafficProfile
from serverless_patterns.cost.template import read_inventory
from tests.unit.capacity import builders
from tests.unit.capacity.builders import FAN_OUT_JOBS, NO_COMPENSATION, QUOTAS, profile, work
from tests.unit.cost.builders import Resources, function, template


def _context(resources: Resources, work_profile: TrafficProfile, quotas: Quotas = QUOTAS) -> Context:
    return Context(
        inventory=read_inventory(template(resources)), quotas=quotas, profile=work_profile, environment="Prod"
    )


def _only(context: Context) -> PatternCapacity:
    (instance,) = recognize_patterns(context.inventory)
    analyse = {
        "ApiBackend": analyse_api,
        "EventPipeline": analyse_pipeline,
        "FanOut": analyse_fan_out,
        "OrderWorkflow": analyse_orders,
    }[instance.pattern]
    return analyse(instance, context)


def _ceilings(capacity: PatternCapacity) -> dict[str, float]:
    return {limit.name: round(limit.ceiling, 2) for limit in capacity.limits}


def test_an_api_behind_a_stage_throttle_is_capped_by_the_stage_first() -> None:
    """Stage 1,000/s; handler 200 reserved at 40 ms, counted as 100 ms (10 requests/s per unit of
    concurrency): 200 / 0.1 s = 2,000/s; API Gateway's account 10,000/s; the items table 40,000
    write units / 0.5 per request = 80,000/s and 40,000 read units / 1 = 40,000/s.
    Ceiling 1,000 (the stage), then 2,000 (the handler's reserved concurrency)."""
    resources: Resources = {}
    builders.api(resources, reserved=200, rate=1_000)
    capacity = _only(_context(resources, profile({"Api/Handler": work(40, writes=0.5, reads=1)})))

    assert _ceilings(capacity) == {
        "API stage throttle": 1_000,
        "Lambda reserved concurrency (api)": 2_000,
        "API Gateway account throttle": 10_000,
        "DynamoDB table read throughput": 40_000,
        "DynamoDB table write throughput": 80_000,
    }
    assert (capacity.ceiling, capacity.first.kind) == (1_000, "setting")
    assert capacity.first.raise_by == "PROD.api.throttle_rate (and api.throttle_burst) (stacks/environments.py)"
    assert capacity.second is not None
    assert capacity.second.raise_by == 'PROD.functions["api"].reserved_concurrency (stacks/environments.py)'


def test_a_slow_handler_binds_before_a_generous_stage() -> None:
    """300 reserved at 250 ms: 300 / 0.25 s = 1,200/s, below the stage's 5,000/s."""
    resources: Resources = {}
    builders.api(resources, reserved=300, rate=5_000)
    capacity = _only(_context(resources, profile({"Api/Handler": work(250)})))

    assert (capacity.first.name, round(capacity.ceiling)) == ("Lambda reserved concurrency (api)", 1_200)
    assert capacity.second is not None
    assert (capacity.second.name, capacity.second.ceiling) == ("API stage throttle", 5_000)


def test_without_reserved_concurrency_the_account_pool_binds_and_an_overridden_quota_lifts_it() -> None:
    """No reserved concurrency anywhere: the pool is the account's 1,000; at 250 ms a request that is
    1,000 / 0.25 = 4,000/s. The account raised to 3,000: 3,000 / 0.25 = 12,000/s (and API Gateway's
    10,000/s binds instead)."""
    resources: Resources = {}
    builders.api(resources, reserved=None, rate=50_000)
    slow = profile({"Api/Handler": work(250)})

    default = _only(_context(resources, slow))
    raised = _only(_context(resources, slow, QUOTAS.overlaid({"lambda": {"account_concurrency": 3_000}}, origin="t")))

    assert (default.first.name, default.ceiling) == ("Lambda account concurrency (unreserved)", 4_000)
    assert default.first.raise_by == "quota Lambda: Concurrent executions"
    assert _ceilings(raised)["Lambda account concurrency (unreserved)"] == 12_000
    assert (raised.first.name, raised.ceiling) == ("API Gateway account throttle", 10_000)


def test_the_largest_api_item_takes_a_write_unit_per_kb_so_its_counters_bind_far_below_the_api() -> None:
    """One item takes 1,000 write units/s; the largest item the API allows is ~20.6 KB (name 200 B,
    description 2,000 B, 32 attributes of 64 + 256 B, 100 counters of 64 + 21 B, 200 B of server
    fields = 21,140 B), so 21 units a write: 1,000 / 21 = 47.6 writes/s, below the 1,000/s ceiling."""
    resources: Resources = {}
    builders.api(resources, reserved=200, rate=1_000)
    capacity = _only(_context(resources, profile({"Api/Handler": work(40)})))

    (hot,) = capacity.hot_keys
    assert (round(hot.per_second, 1), hot.binds) == (47.6, True)
    assert "429" in hot.mitigation


def test_a_pipeline_is_capped_by_its_event_source_concurrency() -> None:
    """Validator 20 + 60 ms per file = 80 ms, counted as 100 ms. Processor: batches of 10 at
    10 + 10 x 150 = 1,510 ms. Event source: 5 batches x 10 files / 1.51 s = 33.11 files/s.
    Account pool (nothing reserved): 1,000 / (1 x 0.1 s + 0.1 x 1.51 s) = 1,000 / 0.251 = 3,984.06.
    S3: only the upload itself is a request per file (the profile has no other): 3,500 PUTs/s."""
    resources: Resources = {}
    builders.pipeline(resources, max_concurrency=5)
    work_profile = profile(
        {
            "EventPipeline/Validate": work(20, per_record_ms=60),
            "EventPipeline/Process": work(10, per_record_ms=150),
        }
    )
    capacity = _only(_context(resources, work_profile))

    assert _ceilings(capacity) == {
        "SQS event source concurrency (process)": 33.11,
        "S3 PUT requests per prefix": 3_500,
        "Lambda account concurrency (unreserved)": 3_984.06,
    }
    assert capacity.first.raise_by == "PROD.pipeline.max_concurrency (at most 1,000) (stacks/environments.py)"


FAN_OUT_WORK = {"FanOut/Worker": work(5, per_record_ms=120), "FanOut/Master": work(80), "FanOut/Aggregator": work(50)}


def test_fan_out_workers_are_capped_by_their_event_source_then_their_reserved_concurrency() -> None:
    """Worker: one chunk of 100 items per batch, 5 + 120 = 125 ms. Event source: 10 batches x 100
    items / 0.125 s = 8,000 items/s; reserved 20: 20 / (1/100 invocation per item x 0.125 s) =
    16,000 items/s; a job's completions in 8 shards: 8 x 1,000 write units/s / 4 per chunk = 2,000
    chunks/s = 200,000 items/s."""
    resources: Resources = {}
    builders.fan_out(resources, worker_reserved=20, max_concurrency=10, shards=8)
    capacity = _only(_context(resources, profile(FAN_OUT_WORK, fan_out=FAN_OUT_JOBS)))

    ceilings = _ceilings(capacity)
    assert (ceilings["SQS event source concurrency (worker)"], ceilings["Lambda reserved concurrency (worker)"]) == (
        8_000,
        16_000,
    )
    assert ceilings["One job's completions (DynamoDB partition)"] == 200_000
    assert capacity.second is not None
    assert (capacity.first.name, capacity.second.name) == (
        "SQS event source concurrency (worker)",
        "Lambda reserved concurrency (worker)",
    )


COMPLETIONS = "One job's completions (DynamoDB partition)"


@pytest.mark.parametrize(
    ("shards", "first", "ceiling", "per_job"),
    [
        (0, COMPLETIONS, 20_000, 200),
        (8, COMPLETIONS, 200_000, 2_000),
        (32, "SQS event source concurrency (worker)", 640_000, 8_000),
    ],
)
def test_with_workers_raised_the_job_counter_binds_until_it_has_enough_shards(
    shards: int, first: str, ceiling: float, per_job: float
) -> None:
    """Workers raised (event source 800, reserved 850): 800 x 100 / 0.125 s = 640,000 items/s.
    One counter on the job item: the job's partition takes 1,000 units/s / 5 per chunk (record 2,
    count 2, start attempt 1) = 200 chunks/s = 20,000 items/s, the first limit: the hot key.
    8 shards: 8 x 1,000 / 4 = 2,000 chunks/s = 200,000 items/s per job, still first; 32 shards:
    8,000 chunks/s = 800,000 items/s, and the workers bind again."""
    resources: Resources = {}
    builders.fan_out(resources, worker_reserved=850, max_concurrency=800, shards=shards)
    capacity = _only(_context(resources, profile(FAN_OUT_WORK, fan_out=FAN_OUT_JOBS)))

    assert (capacity.first.name, round(capacity.ceiling)) == (first, ceiling)
    (hot,) = capacity.hot_keys
    assert (hot.before_per_second, hot.per_second, hot.binds) == (200, per_job, first == COMPLETIONS)


def test_a_job_has_at_most_one_completion_shard_per_chunk() -> None:
    """A job of 300 items is 3 chunks: 3 shards of the 8 configured, 3 x 250 = 750 chunks/s = 75,000
    items/s, and raising the setting would not help (a design limit)."""
    resources: Resources = {}
    builders.fan_out(resources, worker_reserved=20, max_concurrency=10, shards=8)
    small_jobs = profile(FAN_OUT_WORK, fan_out=FanOutTraffic(jobs_per_day=1, items_per_job=300))
    capacity = _only(_context(resources, small_jobs))

    (limit,) = [limit for limit in capacity.limits if limit.name.startswith("One job")]
    assert (limit.ceiling, limit.kind) == (75_000, "design")
    assert [job_completions_per_second(shards, 1_000) for shards in (0, 1, 99)] == [200, 250, 24_750]


ORDER_WORK = {
    "OrderWorkflow/ValidateOrder": work(60),
    "OrderWorkflow/ChargePayment": work(80, writes=4),
    "OrderWorkflow/UpdateInventory": work(70, writes=6),
    "OrderWorkflow/SendConfirmation": work(60),
    "OrderWorkflow/RefundPayment": work(80),
}


def test_a_standard_workflow_is_capped_by_start_execution_and_express_would_lift_it() -> None:
    """The happy path enters 5 states (4 tasks and OrderConfirmed). Standard: 300 starts/s; 5,000
    transitions/s / 5 = 1,000 orders/s. Lambda: 4 invocations, each counted as 100 ms: 1,000 / 0.4 s
    = 2,500 orders/s. Express: 6,000 starts/s and no transition quota, so Lambda's 2,500 binds.
    One SKU takes 1,000 units/s / 2 per transactional write = 500 orders/s."""
    resources: Resources = {}
    builders.orders(resources)
    capacity = _only(_context(resources, profile(ORDER_WORK, orders=NO_COMPENSATION)))

    assert _ceilings(capacity) == {
        "Step Functions StartExecution (Standard)": 300,
        "Step Functions state transitions (Standard)": 1_000,
        "Lambda account concurrency (unreserved)": 2_500,
        "DynamoDB table write throughput": 4_000,  # 40,000 / (4 + 6 write units per order)
    }
    (hot,) = capacity.hot_keys
    assert (hot.per_second, hot.binds) == (500, False)
    assert any("its ceiling would be 2,500 orders/s" in note and "Express fits" in note for note in capacity.notes)

    context = _context(resources, profile(ORDER_WORK, orders=NO_COMPENSATION))
    express = analyse_orders(recognize_patterns(context.inventory)[0], context, express=True)
    assert (express.first.name, express.ceiling) == ("Lambda account concurrency (unreserved)", 2_500)
    assert express.hot_keys[0].binds  # 500 orders/s of one SKU < 2,500


def test_express_is_only_suggested_when_executions_fit_in_five_minutes() -> None:
    resources: Resources = {}
    builders.orders(resources, timeout_seconds=3_600)
    capacity = _only(_context(resources, profile(ORDER_WORK, orders=NO_COMPENSATION)))

    assert any("only if executions end within 300 s (this one allows 3600)" in note for note in capacity.notes)


def test_a_provisioned_table_caps_at_its_capacity_as_a_setting() -> None:
    """A table provisioned at 500 write units/s, 0.5 per request: 1,000 requests/s."""
    resources: Resources = {}
    builders.api(resources, reserved=200, rate=5_000)
    builders.table(resources, "ApiTableDB4CD73A", write_capacity=500)
    capacity = _only(_context(resources, profile({"Api/Handler": work(40, writes=0.5)})))

    (writes,) = [limit for limit in capacity.limits if limit.name == "DynamoDB table write throughput"]
    assert (writes.ceiling, writes.kind) == (1_000, "setting")


def test_reserving_more_than_the_account_allows_is_flagged() -> None:
    """1,000 - 100 kept unreserved = 900 may be reserved; 950 is refused by Lambda."""
    resources: Resources = {}
    function(resources, "OneFunction", reserved=600)
    function(resources, "OtherFunction", reserved=350)
    context = _context(resources, profile({}))

    assert "TOO MUCH" in account_checks(context)[0]
    assert context.unreserved_pool == 50


def test_unknown_work_is_zero_duration_counted_at_lambdas_100_ms_floor() -> None:
    """A handler the profile does not know runs 0 ms, still 100 ms of concurrency: 200 / 0.1 = 2,000."""
    resources: Resources = {}
    builders.api(resources, reserved=200, rate=50_000)
    capacity = _only(_context(resources, TrafficProfile()))

    assert _ceilings(capacity)["Lambda reserved concurrency (api)"] == 2_000
