"""The estimate against hand-computed cases (round test prices, 30-day month).

Test prices (per unit unless said): Lambda requests $0.20/M, arm64 $0.00001/GB-s,
provisioned $0.000004/GB-s, duration on provisioned $0.000008/GB-s; REST API $3.50/M;
SQS $0.40/M; DynamoDB $1.00/M WRU, $0.25/M RRU; S3 PUT $0.005/1K, GET $0.0004/1K;
Step Functions $0.025/1K transitions, Express $1.00/M + $0.00001/GB-s; logs $0.50/GB
ingested, $0.03/GB-month stored; alarms $0.10/metric ($0.30 high resolution), composite
$0.50, dashboard $3.00; X-Ray $5.00/M traces.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from serverless_patterns.cost.estimate import Estimate, batching_comparison, estimate, records_per_batch
from serverless_patterns.cost.inventory import QueueSource
from serverless_patterns.cost.prices import Prices
from serverless_patterns.cost.profile import (
    ApiTraffic,
    Assumptions,
    FanOutTraffic,
    FunctionWork,
    OrderTraffic,
    PipelineTraffic,
    TrafficProfile,
    Work,
)
from serverless_patterns.cost.template import read_inventory
from tests.unit.cost.builders import Resources, function, queue_source, saga, schedule, template

PRICES = Prices(
    region="test-region",
    as_of="2026-01-01",
    table={
        "lambda": {
            "requests_per_million": 0.20,
            "arm64_gb_second": 0.00001,
            "arm64_provisioned_gb_second": 0.000004,
            "arm64_provisioned_duration_gb_second": 0.000008,
            "snapstart_cache_gb_second": 0.000002,
            "snapstart_restore_gb": 0.0002,
        },
        "apigateway": {"rest_requests_per_million": 3.50},
        "sqs": {"standard_requests_per_million": 0.40},
        "dynamodb": {
            "on_demand_write_request_units_per_million": 1.00,
            "on_demand_read_request_units_per_million": 0.25,
            "storage_gb_month": 0.25,
            "pitr_gb_month": 0.20,
        },
        "stepfunctions": {
            "standard_transitions_per_thousand": 0.025,
            "express_requests_per_million": 1.00,
            "express_gb_second": 0.00001,
        },
        "s3": {
            "put_requests_per_thousand": 0.005,
            "get_requests_per_thousand": 0.0004,
            "standard_storage_gb_month": 0.02,
        },
        "cloudwatch": {
            "dashboard_month": 3.00,
            "standard_alarm_month": 0.10,
            "high_resolution_alarm_month": 0.30,
            "composite_alarm_month": 0.50,
            "logs_ingestion_gb": 0.50,
            "logs_storage_gb_month": 0.03,
            "custom_metric_month": 0.30,
        },
        "kms": {"key_month": 1.00},
        "secretsmanager": {"secret_month": 0.40},
        "xray": {"traces_recorded_per_million": 5.00},
        "eventbridge": {"custom_events_per_million": 1.00},
    },
)
GB = 1024 * 1024  # KB


def profile(**changes: Any) -> TrafficProfile:
    """Nothing but what a test sets (30-day month, default assumptions without storage or metrics)."""
    return dataclasses.replace(TrafficProfile(name="test"), **changes)


def run(resources: Resources, traffic: TrafficProfile) -> Estimate:
    return estimate(read_inventory(template(resources)), traffic, PRICES, environment="Test")


def usd(result: Estimate, service: str, item: str) -> float:
    (line,) = [line for line in result.items if line.service == service and line.item.startswith(item)]
    return line.monthly_usd


def quantity(result: Estimate, service: str, item: str) -> float:
    (line,) = [line for line in result.items if line.service == service and line.item.startswith(item)]
    return line.quantity


def test_an_api_function_costs_requests_duration_api_calls_and_logs() -> None:
    resources: Resources = {"Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {}}}
    function(resources, "ApiHandlerF33F5146", log_group="ApiLogs", role="ApiBackend/api")  # 1024 MB; logs kept 30 days
    work = FunctionWork(per_invocation=Work(duration_ms=100, dynamodb_read_units=1, log_kb=1))
    result = run(resources, profile(api=ApiTraffic(10_000), work={"Api/Handler": work}))

    # 10,000 a day for 30 days = 300,000 invocations of 0.1 s at 1 GB.
    assert usd(result, "Lambda", "Requests") == pytest.approx(0.06)  # 0.3 M x $0.20
    assert quantity(result, "Lambda", "Duration, on demand") == pytest.approx(30_000)  # GB-s
    assert usd(result, "Lambda", "Duration, on demand") == pytest.approx(0.30)
    assert usd(result, "API Gateway", "REST API requests") == pytest.approx(1.05)  # 0.3 M x $3.50
    # 1 KB written + 0.5 KB platform lines per invocation = 450,000 KB.
    assert quantity(result, "CloudWatch", "Logs ingestion") == pytest.approx(450_000 / GB)
    assert usd(result, "CloudWatch", "Logs ingestion") == pytest.approx(450_000 / GB * 0.50)
    # Stored: a day's 15,000 KB x 30 days of retention x 0.15 compressed.
    assert usd(result, "CloudWatch", "Logs storage") == pytest.approx(15_000 * 30 / GB * 0.15 * 0.03)
    # No table in the template: the reads are not priced.
    assert "DynamoDB" not in result.by_service()
    assert result.total_usd == pytest.approx(0.06 + 0.30 + 1.05 + 450_000 / GB * 0.5 + 15_000 * 30 / GB * 0.15 * 0.03)
    (usage,) = result.functions
    assert (usage.path, usage.invocations, usage.average_duration_ms) == ("ApiHandlerF33F5146", 300_000, 100)


def test_provisioned_concurrency_is_paid_all_month_and_serves_what_fits() -> None:
    resources: Resources = {}
    function(resources, "ApiHandlerF33F5146", provisioned=2, max_provisioned=10, role="ApiBackend/api")
    work = FunctionWork(per_invocation=Work(duration_ms=200))
    result = run(resources, profile(api=ApiTraffic(1_000_000), work={"Api/Handler": work}))

    # 30 M invocations x 0.2 s x 1 GB = 6 M GB-s; a month is 2,592,000 s, so the average
    # concurrency is 6 M / 2.592 M = 2.31 > 2 provisioned: 2 x 2,592,000 / 6 M = 86.4 % fits.
    assert usd(result, "Lambda", "Requests") == pytest.approx(6.00)
    assert quantity(result, "Lambda", "Provisioned concurrency") == pytest.approx(5_184_000)
    assert usd(result, "Lambda", "Provisioned concurrency") == pytest.approx(20.736)
    assert usd(result, "Lambda", "Duration on provisioned concurrency") == pytest.approx(5_184_000 * 0.000008)
    assert usd(result, "Lambda", "Duration, on demand") == pytest.approx(816_000 * 0.00001)
    (usage,) = result.functions
    assert usage.lambda_usd == pytest.approx(6.00 + 20.736 + 41.472 + 8.16)


def test_snapstart_pays_the_snapshot_cache_all_month_and_a_restore_per_new_environment() -> None:
    resources: Resources = {}
    function(resources, "ApiHandlerF33F5146", memory=512, snap_start=True, role="ApiBackend/api")
    work = FunctionWork(per_invocation=Work(duration_ms=100))
    result = run(resources, profile(api=ApiTraffic(100_000), work={"Api/Handler": work}))

    # Cache: 0.5 GB x 2,592,000 s = 1,296,000 GB-s at $0.000002. Restores: 1 % of 3 M invocations
    # (assumptions.snapstart_restore_share) restore 0.5 GB each = 15,000 GB at $0.0002.
    assert quantity(result, "Lambda", "SnapStart snapshot cache") == pytest.approx(1_296_000)
    assert usd(result, "Lambda", "SnapStart snapshot cache") == pytest.approx(2.592)
    assert quantity(result, "Lambda", "SnapStart restores") == pytest.approx(15_000)
    assert usd(result, "Lambda", "SnapStart restores") == pytest.approx(3.00)
    (usage,) = result.functions
    assert usage.lambda_usd == pytest.approx(0.60 + 150_000 * 0.00001 + 2.592 + 3.00)


@pytest.mark.parametrize(
    ("per_day", "batch", "window", "burstiness", "expected"),
    [
        (86_400, 10, 5, 1.0, 5.0),  # one a second, five within the window
        (864_000, 10, 5, 1.0, 10.0),  # more than a batch arrives: full batches
        (8_640, 10, 5, 1.0, 1.0),  # a tenth a second: every file alone
        (8_640, 10, 5, 20.0, 10.0),  # the same files in bursts: batches fill
        (864_000, 10, 0, 1.0, 1.0),  # no batching window: invoked as soon as anything is there
    ],
)
def test_records_per_batch_are_those_arriving_within_one_window(
    per_day: float, batch: int, window: int, burstiness: float, expected: float
) -> None:
    source = QueueSource(function="F", queue="Q", batch_size=batch, batching_window_seconds=window)
    assert records_per_batch(per_day, source, burstiness) == expected


def pipeline(resources: Resources) -> None:
    resources["Uploads"] = {"Type": "AWS::S3::Bucket", "Properties": {}}
    resources["Table"] = {"Type": "AWS::DynamoDB::Table", "Properties": {"BillingMode": "PAY_PER_REQUEST"}}
    function(resources, "Validate", path="EventPipeline/Validate", memory=256, role="EventPipeline/validate")
    process = function(resources, "Process", path="EventPipeline/Process", role="EventPipeline/process")
    queue_source(resources, process, "Queue", batch_size=10, window=5)


PIPELINE_WORK = {
    "EventPipeline/Validate": FunctionWork(
        per_record=Work(duration_ms=50, s3_get_requests=2, sqs_requests=1),
    ),
    "EventPipeline/Process": FunctionWork(
        per_invocation=Work(duration_ms=10),
        per_record=Work(duration_ms=100, s3_get_requests=1, s3_put_requests=1, dynamodb_write_units=2),
    ),
}


def test_the_pipeline_validates_each_file_and_processes_them_in_batches() -> None:
    resources: Resources = {}
    pipeline(resources)
    result = run(resources, profile(pipeline=PipelineTraffic(files_per_day=86_400), work=PIPELINE_WORK))

    # 2,592,000 files a month. Validate: one invocation each, 50 ms at 0.25 GB = 32,400 GB-s.
    # Process: one file a second, 5 s window -> batches of 5: 518,400 invocations of
    # 10 + 5 x 100 = 510 ms at 1 GB = 264,384 GB-s.
    by_path = {usage.path: usage for usage in result.functions}
    assert by_path["EventPipeline/Validate"].invocations == 2_592_000
    assert by_path["EventPipeline/Process"].invocations == pytest.approx(518_400)
    assert by_path["EventPipeline/Process"].records == pytest.approx(2_592_000)
    assert quantity(result, "Lambda", "Requests") == pytest.approx(3_110_400)
    assert quantity(result, "Lambda", "Duration, on demand") == pytest.approx(32_400 + 264_384)
    # SQS: validate sends one message per file; each batch is received and deleted (2 requests);
    # 5 pollers long-poll every 20 s: 21,600 a day.
    assert quantity(result, "SQS", "Messages sent") == pytest.approx(2_592_000)
    assert quantity(result, "SQS", "Batches received") == pytest.approx(2 * 518_400)
    assert quantity(result, "SQS", "Event source long polls") == pytest.approx(21_600 * 30)
    # S3: the client's upload and the result are PUTs; validate reads twice, process once.
    assert usd(result, "S3", "PUT requests") == pytest.approx(5_184_000 / 1_000 * 0.005)
    assert usd(result, "S3", "GET requests") == pytest.approx(7_776_000 / 1_000 * 0.0004)
    assert usd(result, "DynamoDB", "Write request units") == pytest.approx(5.184)


def test_batching_against_one_invocation_per_file() -> None:
    resources: Resources = {}
    pipeline(resources)
    work = FunctionWork(per_invocation=Work(duration_ms=10), per_record=Work(duration_ms=100, log_kb=1))
    comparison = batching_comparison(
        read_inventory(template(resources)), profile(work={"EventPipeline/Process": work}), PRICES, files=1_000
    )
    assert comparison is not None
    batched, single = comparison.batched, comparison.per_item
    # Batches of 10: 100 invocations, 100 x 10 ms + 1,000 x 100 ms = 101 GB-s at 1 GB.
    assert (batched.batch_size, batched.invocations) == (10, 100)
    assert batched.gb_seconds == pytest.approx(101)
    assert batched.lambda_usd == pytest.approx(100 * 0.2e-6 + 101 * 0.00001)
    assert batched.sqs_usd == pytest.approx(200 * 0.4e-6)
    assert batched.logs_usd == pytest.approx((1_000 + 100 * 0.5) / GB * 0.5)
    # One per file: 1,000 invocations, 110 GB-s.
    assert (single.batch_size, single.invocations) == (1, 1_000)
    assert single.gb_seconds == pytest.approx(110)
    assert single.lambda_usd == pytest.approx(1_000 * 0.2e-6 + 110 * 0.00001)
    assert single.sqs_usd == pytest.approx(2_000 * 0.4e-6)
    assert comparison.invocations_saved_share == pytest.approx(0.9)
    assert comparison.cost_saved_share == pytest.approx(1 - batched.total_usd / single.total_usd)
    assert 0.4 < comparison.cost_saved_share < 0.45


def test_fan_out_jobs_become_chunks_for_the_workers() -> None:
    resources: Resources = {}
    function(resources, "Master", path="FanOut/Master", environment={"CHUNK_SIZE": "100"}, role="FanOut/master")
    worker = function(resources, "Worker", path="FanOut/Worker", role="FanOut/worker")
    queue_source(resources, worker, "Chunks", batch_size=1)
    function(resources, "Aggregator", path="FanOut/Aggregator", role="FanOut/aggregator")
    function(resources, "Status", path="FanOut/Status", role="FanOut/status")
    traffic = FanOutTraffic(jobs_per_day=10, items_per_job=1_001, status_polls_per_job=5)
    result = run(resources, profile(fan_out=traffic))

    # 1,001 items in chunks of 100 = 11 chunks a job: 110 worker invocations a day.
    invocations = {usage.path: usage.invocations / 30 for usage in result.functions}
    assert invocations == {
        "FanOut/Master": 10,
        "FanOut/Worker": 110,
        "FanOut/Aggregator": 10,
        "FanOut/Status": 50,
    }
    # The master queues each job's 11 chunks in ceil(11 / 10) = 2 SendMessageBatch calls.
    assert quantity(result, "SQS", "Messages sent") == pytest.approx(20 * 30)


ORDER_WORK = {
    f"OrderWorkflow/{name}": FunctionWork(per_invocation=Work(duration_ms=ms))
    for name, ms in (
        ("ValidateOrder", 60),
        ("ChargePayment", 80),
        ("UpdateInventory", 70),
        ("SendConfirmation", 60),
        ("RefundPayment", 80),
    )
}


def test_orders_walk_the_definition_and_the_compensated_share_is_refunded() -> None:
    resources: Resources = {}
    saga(resources, log_level="ALL")
    result = run(resources, profile(orders=OrderTraffic(1_000, compensated_share=0.1), work=ORDER_WORK))

    # 900 orders a day enter 5 states (4 tasks + OrderConfirmed); 100 fail at UpdateInventory
    # and enter 5 (3 tasks + RefundPayment + OrderFailed): 5,000 transitions a day.
    assert quantity(result, "Step Functions", "Standard state transitions") == pytest.approx(150_000)
    assert usd(result, "Step Functions", "Standard state transitions") == pytest.approx(3.75)
    invocations = {usage.path: round(usage.invocations / 30) for usage in result.functions}
    assert invocations == {
        "OrderWorkflow/ValidateOrder": 1_000,
        "OrderWorkflow/ChargePayment": 1_000,
        "OrderWorkflow/UpdateInventory": 1_000,
        "OrderWorkflow/SendConfirmation": 900,
        "OrderWorkflow/RefundPayment": 100,
    }
    # Level ALL logs every transition (0.8 KB each), next to the functions' platform lines.
    platform_kb = 4_000 * 30 * 0.5
    assert quantity(result, "CloudWatch", "Logs ingestion") == pytest.approx((150_000 * 0.8 + platform_kb) / GB)


def test_express_workflows_pay_per_execution_and_duration() -> None:
    resources: Resources = {}
    saga(resources, machine_type="EXPRESS")
    result = run(resources, profile(orders=OrderTraffic(1_000, compensated_share=0.1), work=ORDER_WORK))

    # 30,000 executions; both paths take 270 or 290 ms of tasks, billed as 300 ms at 64 MB.
    assert usd(result, "Step Functions", "Express requests") == pytest.approx(0.03)
    assert quantity(result, "Step Functions", "Express duration") == pytest.approx(30_000 * 0.3 * 0.0625)
    assert not [line for line in result.items if "transitions" in line.item]


def test_keep_warm_pings_and_schedules_invoke_their_functions() -> None:
    resources: Resources = {}
    warm = function(resources, "Api", path="Api/Handler", memory=512, role="ApiBackend/api")
    sweeper = function(resources, "Sweeper", path="FanOut/Sweeper", memory=256, role="FanOut/sweeper")
    schedule(resources, "KeepWarm", warm, "rate(5 minutes)", keep_warm=True)
    schedule(resources, "Sweep", sweeper, "rate(1 hour)")
    sweep = FunctionWork(per_invocation=Work(duration_ms=40, dynamodb_read_units=0.5))
    result = run(resources, profile(work={"FanOut/Sweeper": sweep}))

    by_path = {usage.path: usage for usage in result.functions}
    # 288 pings a day x 30 at 2 ms and 0.5 GB; the sweeper's 24 runs a day do its work.
    assert by_path["Api/Handler"].invocations == 8_640
    assert by_path["Api/Handler"].gb_seconds == pytest.approx(8_640 * 0.002 * 0.5)
    assert by_path["FanOut/Sweeper"].invocations == 720
    assert (by_path["Api/Handler"].sources, by_path["FanOut/Sweeper"].sources) == (("keep-warm pings",), ("schedule",))
    assert by_path["FanOut/Sweeper"].gb_seconds == pytest.approx(720 * 0.04 * 0.25)


def test_monitoring_is_priced_per_alarm_metric_dashboard_and_custom_metric() -> None:
    metric = {"Namespace": "AWS/Lambda", "MetricName": "Errors"}
    resources: Resources = {
        "A1": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Period": 60, **metric}},
        "A2": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Period": 300, **metric}},
        "Fast": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Period": 10, **metric}},
        "Any": {"Type": "AWS::CloudWatch::CompositeAlarm", "Properties": {}},
        "Board": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {}},
        "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
    }
    function(resources, "Idle", role="ApiBackend/api")  # no requests: its requests and duration cost nothing
    result = run(resources, profile(assumptions=Assumptions(custom_metrics=10)))
    assert usd(result, "CloudWatch", "Alarm metrics (standard") == pytest.approx(0.20)
    assert usd(result, "CloudWatch", "Alarm metrics (high") == pytest.approx(0.30)
    assert usd(result, "CloudWatch", "Composite alarms") == pytest.approx(0.50)
    assert usd(result, "CloudWatch", "Dashboards") == pytest.approx(3.00)
    assert usd(result, "CloudWatch", "Custom metrics") == pytest.approx(3.00)
    assert usd(result, "KMS", "Customer managed keys") == pytest.approx(1.00)
    assert result.total_usd == pytest.approx(0.20 + 0.30 + 0.50 + 3.00 + 3.00 + 1.00)


def test_traces_follow_the_default_sampling_rule() -> None:
    resources: Resources = {}
    function(resources, "ApiHandlerF33F5146", traced=True, role="ApiBackend/api")
    result = run(resources, profile(api=ApiTraffic(172_800)))
    # Two a second: the first each second (86,400) and 5 % of the other 86,400 = 90,720 a day.
    assert quantity(result, "X-Ray", "Traces recorded") == pytest.approx(90_720 * 30)
    assert usd(result, "X-Ray", "Traces recorded") == pytest.approx(90_720 * 30 / 1e6 * 5)


def test_storage_and_point_in_time_recovery_follow_the_tables() -> None:
    resources: Resources = {
        "WithPitr": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "BillingMode": "PAY_PER_REQUEST",
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            },
        },
        "WithoutPitr": {"Type": "AWS::DynamoDB::Table", "Properties": {"BillingMode": "PAY_PER_REQUEST"}},
    }
    result = run(resources, profile(assumptions=Assumptions(dynamodb_storage_gb=10)))
    assert usd(result, "DynamoDB", "Storage") == pytest.approx(2.50)
    # Half the tables have PITR: half the storage is backed up continuously.
    assert usd(result, "DynamoDB", "Point-in-time recovery") == pytest.approx(5 * 0.20)


def test_what_the_model_cannot_price_is_said() -> None:
    resources: Resources = {"Http": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {}}}
    alias = function(resources, "Nightly", role="FanOut/sweeper")
    schedule(resources, "Cron", alias, "cron(0 3 * * ? *)")
    result = run(resources, profile(work={"Api/Handler": FunctionWork()}))
    notes = "\n".join(result.notes)
    assert "1 HTTP API(s) not priced" in notes
    assert "cron(0 3 * * ? *)" in notes
    assert "profile work for Api/Handler: no such function" in notes
    assert result.total_usd == 0


def test_the_json_form_carries_totals_and_items() -> None:
    resources: Resources = {"Board": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {}}}
    document = run(resources, profile()).as_dict()
    assert document["total_usd"] == 3.0
    assert document["by_service_usd"] == {"CloudWatch": 3.0}
    assert document["items"][0]["monthly_usd"] == 3.0
