"""Pattern-shaped templates and exact work profiles for the capacity model's hand-worked tests.

Each function records its pattern role (instance: its stack-relative path), as the constructs do.

The templates use the cost estimator's builders (``tests/unit/cost/builders.py``) and add what
capacity reads on top: API stages, tables, reserved and event-source concurrency. Profiles give
each function a round duration, so the arithmetic in the tests' docstrings is exact.
"""

from __future__ import annotations

from typing import Any

from serverless_patterns.capacity.quotas import Quotas
from serverless_patterns.cost.profile import FanOutTraffic, FunctionWork, OrderTraffic, TrafficProfile, Work
from tests.unit.cost.builders import Resources, function, queue_source, saga

QUOTAS = Quotas.load()


def work(duration_ms: float, *, per_record_ms: float = 0.0, writes: float = 0.0, reads: float = 0.0) -> FunctionWork:
    """A function doing ``duration_ms`` per invocation (and ``per_record_ms`` per record), with DynamoDB units."""
    return FunctionWork(
        per_invocation=Work(duration_ms=duration_ms, dynamodb_write_units=writes, dynamodb_read_units=reads),
        per_record=Work(duration_ms=per_record_ms),
    )


def profile(work_by_path: dict[str, FunctionWork], **traffic: Any) -> TrafficProfile:
    """A profile with exactly this work per function (and the given traffic objects)."""
    return TrafficProfile(name="test", work=work_by_path, **traffic)


def table(resources: Resources, logical_id: str, *, write_capacity: int = 0) -> str:
    """A DynamoDB table, on demand, or provisioned at ``write_capacity`` units a second."""
    properties: dict[str, Any] = {"BillingMode": "PAY_PER_REQUEST"}
    if write_capacity:
        properties = {"ProvisionedThroughput": {"WriteCapacityUnits": write_capacity, "ReadCapacityUnits": 100}}
    resources[logical_id] = {"Type": "AWS::DynamoDB::Table", "Properties": properties}
    return logical_id


def stage(resources: Resources, alias: str, *, rate: float, burst: int) -> None:
    """A REST API whose proxy method integrates ``alias``, and its stage throttled at ``rate``/``burst``."""
    resources["Api9AF3637B"] = {"Type": "AWS::ApiGateway::RestApi", "Properties": {}}
    uri = {"Fn::Join": ["", ["arn:aws:apigateway:lambda:path/functions/", {"Ref": alias}, "/invocations"]]}
    resources["ApiproxyANY"] = {
        "Type": "AWS::ApiGateway::Method",
        "Properties": {"RestApiId": {"Ref": "Api9AF3637B"}, "Integration": {"Type": "AWS_PROXY", "Uri": uri}},
    }
    resources["ApiStage"] = {
        "Type": "AWS::ApiGateway::Stage",
        "Properties": {
            "RestApiId": {"Ref": "Api9AF3637B"},
            "MethodSettings": [
                {"ResourcePath": "/*", "HttpMethod": "*", "ThrottlingRateLimit": rate, "ThrottlingBurstLimit": burst}
            ],
        },
    }


def api(resources: Resources, *, reserved: int | None, rate: float, burst: int = 2_000) -> None:
    """An ApiBackend: its handler (with its items table) behind a throttled stage."""
    items = table(resources, "ApiTableDB4CD73A")
    alias = function(
        resources,
        "ApiHandlerF33F5146",
        reserved=reserved,
        references={"TABLE_NAME": items},
        role="ApiBackend/api",
        instance="Api",
    )
    stage(resources, alias, rate=rate, burst=burst)


def pipeline(resources: Resources, *, max_concurrency: int, batch_size: int = 10) -> None:
    """An EventPipeline: the validator, and the processor behind its queue."""
    function(
        resources,
        "EventPipelineValidateE1CEFF9A",
        environment={"UPLOAD_PREFIX": "incoming/"},
        role="EventPipeline/validate",
        instance="EventPipeline",
    )
    process = function(
        resources, "EventPipelineProcess8DADE1A2", role="EventPipeline/process", instance="EventPipeline"
    )
    queue_source(resources, process, "EventPipelineQueue", batch_size=batch_size, max_concurrency=max_concurrency)


def fan_out(
    resources: Resources, *, worker_reserved: int, max_concurrency: int, shards: int, chunk_size: int = 100
) -> None:
    """A FanOut: master (chunk size, completion shards), worker behind its queue, aggregator."""
    jobs = table(resources, "FanOutJobsF84C0504")
    environment = {"CHUNK_SIZE": str(chunk_size), "COMPLETION_SHARDS": str(shards)}
    function(
        resources,
        "FanOutMaster354B3AB2",
        environment=environment,
        references={"TABLE_NAME": jobs},
        role="FanOut/master",
        instance="FanOut",
    )
    worker = function(
        resources,
        "FanOutWorkerB2942983",
        reserved=worker_reserved,
        references={"TABLE_NAME": jobs},
        role="FanOut/worker",
        instance="FanOut",
    )
    queue_source(resources, worker, "FanOutWorkQueue", batch_size=1, max_concurrency=max_concurrency)
    function(
        resources,
        "FanOutAggregator45474691",
        references={"TABLE_NAME": jobs},
        role="FanOut/aggregator",
        instance="FanOut",
    )


def orders(resources: Resources, *, machine_type: str = "STANDARD", timeout_seconds: int = 300) -> None:
    """An OrderWorkflow (the cost tests' saga) whose functions name its orders table."""
    orders_table = table(resources, "OrderWorkflowOrdersTable263464D1")
    saga(
        resources,
        timeout_seconds=timeout_seconds,
        references={"ORDERS_TABLE": orders_table},
        instance="OrderWorkflow",
        machine_type=machine_type,
    )


FAN_OUT_JOBS = FanOutTraffic(jobs_per_day=1, items_per_job=10_000, status_polls_per_job=0)
NO_COMPENSATION = OrderTraffic(orders_per_day=1, compensated_share=0.0)
