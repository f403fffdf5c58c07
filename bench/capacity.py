"""The capacity model's shape against a larger load on Prod in the local cloud (``make bench``).

Prod is deployed into the local cloud and each pattern gets a burst of work at once: API
requests from many threads (and increments of one hot counter), uploads, fan-out jobs, orders.
For each, what the emulator can show is set beside what ``serverless_patterns.capacity`` says of
the same template: invocations of each function per unit of work, the concurrency the
saturating consumer peaks at (its event source's cap), and how a job's completions spread over
its DynamoDB items. Rates are not measured (an invocation takes no virtual time in the local
cloud); the wall seconds are shown for information only. ``make test`` runs a small version of
the fan-out and pipeline checks (``tests/integration/capacity_shape.py``).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from serverless_patterns.capacity.analysis import Analysis, analyse
from serverless_patterns.capacity.fan_out import SHARDED_UNITS_PER_CHUNK
from serverless_patterns.capacity.model import PatternCapacity
from serverless_patterns.capacity.quotas import Quotas
from serverless_patterns.cost.prices import Prices
from serverless_patterns.cost.profile import load_profile
from serverless_patterns.cost.template import read_inventory
from serverless_patterns.lambdas.fan_out import contract
from serverless_patterns.local import LocalCloud
from serverless_patterns.scenarios.fan_out import FanOutApp, job_status, numbered_items, submit
from serverless_patterns.scenarios.order_workflow import OrderApp, order, seed_stock

API_REQUESTS = 200
HOT_INCREMENTS = 100
UPLOADS = 200
JOBS, JOB_CHUNKS = 3, 50
ORDERS = 40
THREADS = 20

Row = dict[str, Any]


def _model(cloud: LocalCloud) -> Analysis:
    (service,) = [stack for stack in cloud.stacks if "Service" in stack.stack_name]
    inventory = read_inventory(service.template)
    return analyse(inventory, quotas=Quotas.load(), profile=load_profile(), prices=Prices.load(), environment="Prod")


def _pattern(model: Analysis, name: str) -> PatternCapacity:
    return next(capacity for capacity in model.patterns if capacity.pattern == name)


def _function(cloud: LocalCloud, path: str) -> str:
    return cloud.resource(f"{path}/Resource", "AWS::Lambda::Function").physical_id


def _peak(cloud: LocalCloud, queue_path: str) -> int:
    arn = cloud.client("sqs").get_queue_attributes(
        QueueUrl=cloud.resource(queue_path, "AWS::SQS::Queue").physical_id, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    (mapping,) = [m for m in cloud.poller.mappings if m.queue_arn == arn]
    return cloud.poller.peak_concurrency.get(mapping.uuid, 0)


@contextmanager
def _invocations(cloud: LocalCloud, paths: dict[str, str]) -> Iterator[Callable[[str], int]]:
    """Counts the invocations of each role's function made inside the block."""
    before = len(cloud.invocations)
    names = {_function(cloud, path): role for role, path in paths.items()}
    counts: Counter[str] = Counter()
    yield lambda role: counts[role]
    for invocation in cloud.invocations[before:]:
        if invocation.function_name in names:
            counts[names[invocation.function_name]] += 1


def _row(pattern: str, check: str, model: float, observed: float, *, tolerance: float = 0.0) -> Row:
    return {
        "pattern": pattern,
        "check": check,
        "model": round(model, 4),
        "observed": round(observed, 4),
        "agrees": abs(observed - model) <= tolerance * max(abs(model), 1e-9),
    }


def _parallel(calls: list[Callable[[], Any]]) -> list[Any]:
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(lambda call: call(), calls))


def _api(cloud: LocalCloud, model: PatternCapacity) -> list[Row]:
    with _invocations(cloud, {"api": "Api/Handler"}) as count:
        created = _parallel([lambda: cloud.api_request("POST", "/items", body={"name": "bench"})] * API_REQUESTS)
        item = created[0].json()["id"]
        bumps = _parallel([lambda: cloud.api_request("POST", f"/items/{item}/counters/hot")] * HOT_INCREMENTS)
    value = cloud.api_request("GET", f"/items/{item}").json()["counters"]["hot"]
    statuses = Counter(response.status_code for response in [*created, *bumps])
    return [
        _row(
            "ApiBackend",
            "handler invocations per request",
            model.invocations["api"],
            count("api") / (API_REQUESTS + HOT_INCREMENTS),
        ),
        _row(
            "ApiBackend",
            f"answers 2xx (of {API_REQUESTS + HOT_INCREMENTS})",
            API_REQUESTS + HOT_INCREMENTS,
            statuses[201] + statuses[200],
        ),
        _row("ApiBackend", "one hot counter counts every increment", HOT_INCREMENTS, value),
    ]


def _pipeline(cloud: LocalCloud, model: PatternCapacity) -> list[Row]:
    bucket = cloud.outputs["UploadBucketName"]
    paths = {"validate": "EventPipeline/Validate", "process": "EventPipeline/Process"}
    with _invocations(cloud, paths) as count:
        for index in range(UPLOADS):
            cloud.put_object(bucket, f"incoming/bench/{index:04d}.csv", b"id,amount\n1,10.5\n2,20\n")
        cloud.drain()
    return [
        _row(
            "EventPipeline",
            "validator invocations per file",
            model.invocations["validate"],
            count("validate") / UPLOADS,
        ),
        _row(
            "EventPipeline",
            "processor invocations per file (full batches in the model)",
            model.invocations["process"],
            count("process") / UPLOADS,
            tolerance=1.0,
        ),
        _row(
            "EventPipeline",
            "processor peak concurrency (its cap)",
            round(model.concurrency["process"]),
            _peak(cloud, "EventPipeline/Queue"),
        ),
    ]


def _fan_out(cloud: LocalCloud, model: PatternCapacity) -> list[Row]:
    app = FanOutApp.of(cloud)
    dynamodb = cloud.client("dynamodb")
    with _invocations(cloud, {"worker": "FanOut/Worker"}) as count:
        for job in range(JOBS):
            submit(cloud, app, {"job_id": f"bench-{job}", "items": numbered_items(JOB_CHUNKS * app.chunk_size)})
        cloud.drain()
    done = [job_status(cloud, app, f"bench-{job}")["status"] == "SUCCEEDED" for job in range(JOBS)]
    shards = {
        int(
            dynamodb.get_item(
                TableName=app.table_name, Key={"pk": {"S": f"bench-{job}"}, "sk": {"S": contract.JOB_SORT_KEY}}
            )["Item"]["completion_shards"]["N"]
        )
        for job in range(JOBS)
    }
    items = JOBS * JOB_CHUNKS * app.chunk_size
    return [
        _row("FanOut", "jobs succeeded", JOBS, sum(done)),
        _row("FanOut", "worker invocations per item", model.invocations["worker"], count("worker") / items),
        _row(
            "FanOut",
            "worker peak concurrency (its cap)",
            round(model.concurrency["worker"]),
            _peak(cloud, "FanOut/WorkQueue"),
        ),
        _row("FanOut", "completion shards per job", min(_shards(model), JOB_CHUNKS), max(shards), tolerance=0),
    ]


def _shards(model: PatternCapacity) -> int:
    """The shards the model counted a job's completions in (its hot key's rate, per shard's)."""
    per_shard = Quotas.load()("dynamodb.partition_write_units") / SHARDED_UNITS_PER_CHUNK
    return round(model.hot_keys[0].per_second / per_shard)


def _orders(cloud: LocalCloud, model: PatternCapacity) -> list[Row]:
    app = OrderApp.of(cloud)
    seed_stock(cloud, app, {"bench-sku": 10 * ORDERS})
    paths = {
        role: f"OrderWorkflow/{name}"
        for role, name in (
            ("validate_order", "ValidateOrder"),
            ("charge_payment", "ChargePayment"),
            ("update_inventory", "UpdateInventory"),
            ("send_confirmation", "SendConfirmation"),
        )
    }
    with _invocations(cloud, paths) as count:
        arns = [
            cloud.start_execution(app.state_machine_arn, order(f"bench-{n}", {"bench-sku": 1}), name=f"bench-{n}")
            for n in range(ORDERS)
        ]
        results = [cloud.wait_for_execution(arn, timeout_seconds=120) for arn in arns]
    rows = [_row("OrderWorkflow", "orders confirmed", ORDERS, sum(result.status == "SUCCEEDED" for result in results))]
    for role in paths:
        # The model weighs in its profile's compensated share; every bench order takes the happy path.
        rows.append(
            _row(
                "OrderWorkflow",
                f"{role} invocations per order",
                model.invocations[role],
                count(role) / ORDERS,
                tolerance=0.05,
            )
        )
    return rows


def measure(cloud: LocalCloud) -> dict[str, Any]:
    """Load each pattern of the deployed Prod and compare what the emulator shows with the model."""
    model = _model(cloud)
    rows: list[Row] = []
    seconds: dict[str, float] = {}
    for name, run in (
        ("ApiBackend", _api),
        ("EventPipeline", _pipeline),
        ("FanOut", _fan_out),
        ("OrderWorkflow", _orders),
    ):
        started = time.perf_counter()
        rows += run(cloud, _pattern(model, name))
        seconds[name] = round(time.perf_counter() - started, 2)
    return {
        "ceilings": {
            p.pattern: {"per_second": round(p.ceiling, 3), "first_limit": p.first.name} for p in model.patterns
        },
        "checks": rows,
        "wall_seconds": seconds,
        "all_agree": all(row["agrees"] for row in rows),
    }
