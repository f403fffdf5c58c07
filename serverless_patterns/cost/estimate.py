"""The monthly cost of one environment: its template's resources, a traffic profile, list prices.

The template says what exists and how it is sized: functions (memory, architecture,
provisioned concurrency), SQS event sources (batch size, batching window), schedules
(keep-warm pings, the sweeper), the state machine's definition, tables, alarms, dashboards,
log groups and their retention. The profile says how much work arrives and what each
function does per invocation and per record. Traffic reaches the functions as it does in
the app:

- ``Api/Handler``: one invocation per API request.
- ``EventPipeline/Validate``: one per uploaded file (an S3 notification names one object);
  ``EventPipeline/Process``: the files again, in batches of the uploads that arrive within
  one batching window (at least one, at most the batch size).
- ``FanOut/Master``: one per job, each queueing ``ceil(items / CHUNK_SIZE)`` chunks in
  SendMessageBatch calls; ``FanOut/Worker``: the chunks, in full batches (a job's chunks are
  queued at once); ``FanOut/Aggregator``: one per job, reading every chunk;
  ``FanOut/Status``: the status polls.
- ``OrderWorkflow``: each order is one execution along the definition's happy path, or, for
  the compensated share, along the path where ``UpdateInventory`` fails and is caught; each
  Task state on the path invokes its function once.
- Scheduled rules invoke their targets (keep-warm pings cost ``keep_warm_ping_ms``).

Free tiers, data transfer and taxes are left out; see ``Estimate.notes`` for the rest.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from serverless_patterns.cost.inventory import FunctionSpec, Inventory, QueueSource
from serverless_patterns.cost.prices import Prices
from serverless_patterns.cost.profile import FunctionWork, TrafficProfile, Work
from serverless_patterns.cost.template import SECONDS_PER_DAY
from serverless_patterns.cost.workflow import ExecutionPath, walk

KB_PER_GB = 1024 * 1024
MILLION = 1_000_000
UNRETAINED_LOG_DAYS = 365
ORDER_WORKFLOW = "OrderWorkflow"
COMPENSATED_STATE = "UpdateInventory"
PIPELINE_PROCESS = "EventPipeline/Process"
FAN_OUT_MASTER = "FanOut/Master"
EXPRESS_MEMORY_GB = 64 / 1024
EXPRESS_BILLING_MS = 100


@dataclass(frozen=True)
class LineItem:
    """One priced quantity: ``quantity`` of ``unit`` at ``unit_price`` USD per ``per`` units."""

    service: str
    item: str
    quantity: float
    unit: str
    unit_price: float
    per: float = 1.0
    note: str = ""

    @property
    def monthly_usd(self) -> float:
        """The line's monthly cost."""
        return self.quantity / self.per * self.unit_price

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, with the cost."""
        return {
            "service": self.service,
            "item": self.item,
            "quantity": self.quantity,
            "unit": self.unit,
            "unit_price_usd": self.unit_price,
            "per": self.per,
            "monthly_usd": round(self.monthly_usd, 6),
            "note": self.note,
        }


@dataclass(frozen=True)
class Load:
    """Invocations of one function a day, records per invocation, and the work each does."""

    invocations_per_day: float
    records_per_invocation: float
    work: FunctionWork
    source: str

    def daily_work(self) -> Work:
        """All the work of a day of this load."""
        return self.work.invocation(self.records_per_invocation).times(self.invocations_per_day)


@dataclass(frozen=True)
class FunctionUsage:
    """One function's month: invocations, compute and what it costs in Lambda alone."""

    path: str
    memory_mb: int
    architecture: str
    invocations: float
    records: float
    gb_seconds: float
    provisioned_concurrency: int
    lambda_usd: float
    sources: tuple[str, ...] = ()

    @property
    def average_duration_ms(self) -> float:
        """Mean billed duration of an invocation."""
        if not self.invocations:
            return 0.0
        return self.gb_seconds / (self.memory_mb / 1024) / self.invocations * 1000

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "path": self.path,
            "memory_mb": self.memory_mb,
            "architecture": self.architecture,
            "invocations": round(self.invocations, 3),
            "records": round(self.records, 3),
            "average_duration_ms": round(self.average_duration_ms, 3),
            "gb_seconds": round(self.gb_seconds, 3),
            "provisioned_concurrency": self.provisioned_concurrency,
            "lambda_usd": round(self.lambda_usd, 6),
            "driven_by": list(self.sources),
        }


@dataclass(frozen=True)
class Estimate:
    """Line items, per-function usage and notes for a month of one environment."""

    environment: str
    profile: str
    region: str
    prices_as_of: str
    days_per_month: float
    items: tuple[LineItem, ...]
    functions: tuple[FunctionUsage, ...]
    notes: tuple[str, ...] = ()

    @property
    def total_usd(self) -> float:
        """The month's total."""
        return sum(item.monthly_usd for item in self.items)

    def by_service(self) -> dict[str, float]:
        """Subtotals per service, largest first."""
        totals: dict[str, float] = defaultdict(float)
        for item in self.items:
            totals[item.service] += item.monthly_usd
        return dict(sorted(totals.items(), key=lambda entry: -entry[1]))

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "environment": self.environment,
            "profile": self.profile,
            "region": self.region,
            "prices_as_of": self.prices_as_of,
            "days_per_month": self.days_per_month,
            "total_usd": round(self.total_usd, 2),
            "by_service_usd": {service: round(usd, 2) for service, usd in self.by_service().items()},
            "items": [item.as_dict() for item in self.items],
            "functions": [usage.as_dict() for usage in self.functions],
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class BatchScenario:
    """Processing a number of queued files with one batch size."""

    batch_size: int
    invocations: int
    gb_seconds: float
    lambda_usd: float
    sqs_usd: float
    logs_usd: float

    @property
    def total_usd(self) -> float:
        """Lambda, SQS and log ingestion together."""
        return self.lambda_usd + self.sqs_usd + self.logs_usd


@dataclass(frozen=True)
class BatchingComparison:
    """The configured batch size against one invocation per file, for ``files`` files."""

    function: str
    files: int
    batched: BatchScenario
    per_item: BatchScenario

    @property
    def invocations_saved_share(self) -> float:
        """Share of invocations batching avoids."""
        return 1 - self.batched.invocations / self.per_item.invocations

    @property
    def cost_saved_share(self) -> float:
        """Share of the cost batching avoids."""
        if not self.per_item.total_usd:
            return 0.0
        return 1 - self.batched.total_usd / self.per_item.total_usd

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""

        def scenario(s: BatchScenario) -> dict[str, Any]:
            return {
                "batch_size": s.batch_size,
                "invocations": s.invocations,
                "gb_seconds": round(s.gb_seconds, 3),
                "lambda_usd": round(s.lambda_usd, 6),
                "sqs_usd": round(s.sqs_usd, 6),
                "logs_usd": round(s.logs_usd, 6),
                "total_usd": round(s.total_usd, 6),
            }

        return {
            "function": self.function,
            "files": self.files,
            "batched": scenario(self.batched),
            "one_per_file": scenario(self.per_item),
            "invocations_saved_share": round(self.invocations_saved_share, 4),
            "cost_saved_share": round(self.cost_saved_share, 4),
        }


def records_per_batch(records_per_day: float, source: QueueSource, burstiness: float = 1.0) -> float:
    """Average records an SQS invocation receives: those arriving within one batching window.

    At least one (a poll returns what is there), at most the batch size; without a batching
    window Lambda invokes as soon as a poll returns anything.
    """
    arriving = records_per_day * burstiness / SECONDS_PER_DAY * source.batching_window_seconds
    return float(min(source.batch_size, max(1.0, arriving)))


@dataclass
class _Traffic:
    """What the traffic model produced for one environment."""

    loads: dict[str, list[Load]] = field(default_factory=lambda: defaultdict(list))
    sqs_sends: float = 0.0
    client_uploads: float = 0.0
    api_requests: float = 0.0
    transitions: float = 0.0
    executions: float = 0.0
    express_gb_seconds: float = 0.0
    state_machine_log_kb: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    notes: list[str] = field(default_factory=list)


class _Model:
    """Turns the profile's traffic into loads on the inventory's functions."""

    def __init__(self, inventory: Inventory, profile: TrafficProfile) -> None:
        self.inventory = inventory
        self.profile = profile
        self.traffic = _Traffic()
        self.work: dict[str, FunctionWork] = {}
        for key, work in profile.work.items():
            spec = inventory.function(key)
            if spec is None:
                self.traffic.notes.append(f"profile work for {key}: no such function in this template")
            else:
                self.work[spec.logical_id] = work

    def add(self, path: str, invocations_per_day: float, records: float, source: str) -> FunctionSpec | None:
        spec = self.inventory.function(path)
        if spec is None or invocations_per_day <= 0:
            return spec
        work = self.work.get(spec.logical_id, FunctionWork())
        self.traffic.loads[spec.logical_id].append(Load(invocations_per_day, records, work, source))
        return spec

    def build(self) -> _Traffic:
        self._api()
        self._pipeline()
        self._fan_out()
        self._orders()
        self._schedules()
        return self.traffic

    def _api(self) -> None:
        requests = self.profile.api.requests_per_day
        if self.add("Api/Handler", requests, 1, "api requests") and self.inventory.rest_apis:
            self.traffic.api_requests += requests

    def _pipeline(self) -> None:
        files = self.profile.pipeline.files_per_day
        if files <= 0:
            return
        if self.add("EventPipeline/Validate", files, 1, "uploads"):
            self.traffic.client_uploads += files
        process = self.inventory.function(PIPELINE_PROCESS)
        if process is None:
            return
        source = self.inventory.queue_source(process.logical_id)
        batch = records_per_batch(files, source, self.profile.pipeline.arrival_burstiness) if source else 1.0
        self.add(PIPELINE_PROCESS, files / batch, batch, "processing queue")

    def _fan_out(self) -> None:
        traffic = self.profile.fan_out
        master = self.inventory.function(FAN_OUT_MASTER)
        if master is None or traffic.jobs_per_day <= 0:
            return
        chunk_size = float(master.environment.get("CHUNK_SIZE") or self.profile.assumptions.default_chunk_size)
        chunks_per_job = float(math.ceil(traffic.items_per_job / chunk_size)) if traffic.items_per_job else 0.0
        jobs = traffic.jobs_per_day
        self.add(FAN_OUT_MASTER, jobs, chunks_per_job, "jobs")
        send_batch = max(1.0, self.profile.assumptions.fan_out_sqs_send_batch)
        self.traffic.sqs_sends += jobs * math.ceil(chunks_per_job / send_batch)
        worker = self.inventory.function("FanOut/Worker")
        if worker is not None and chunks_per_job:
            source = self.inventory.queue_source(worker.logical_id)
            batch = float(min(source.batch_size, chunks_per_job)) if source else 1.0
            self.add("FanOut/Worker", jobs * chunks_per_job / batch, batch, "chunk queue")
        self.add("FanOut/Aggregator", jobs, chunks_per_job, "completed jobs")
        self.add("FanOut/Status", jobs * traffic.status_polls_per_job, 1, "status polls")

    def _orders(self) -> None:
        orders = self.profile.orders.orders_per_day
        machine = self.inventory.state_machine(ORDER_WORKFLOW)
        if machine is None or orders <= 0:
            return
        compensated = orders * self.profile.orders.compensated_share
        resolve = self.inventory.function_behind
        paths: list[tuple[float, ExecutionPath, bool]] = [
            (orders - compensated, walk(machine.definition, resolve=resolve), False)
        ]
        if compensated and COMPENSATED_STATE in machine.definition.get("States", {}):
            failed = walk(machine.definition, resolve=resolve, failing_state=COMPENSATED_STATE)
            paths.append((compensated, failed, True))
        assumptions = self.profile.assumptions
        for executions, path, compensating in paths:
            self.traffic.executions += executions
            for function in path.functions:
                work = self.work.get(function, FunctionWork())
                self.traffic.loads[function].append(Load(executions, 1, work, "order executions"))
            if machine.machine_type == "EXPRESS":
                duration_ms = sum(self.work.get(f, FunctionWork()).invocation(1).duration_ms for f in path.functions)
                billed_s = math.ceil(max(duration_ms, 1) / EXPRESS_BILLING_MS) * EXPRESS_BILLING_MS / 1000
                self.traffic.express_gb_seconds += executions * billed_s * EXPRESS_MEMORY_GB
            else:
                self.traffic.transitions += executions * path.transitions
            # Level ALL logs every state; ERROR only the executions that met an error.
            logged = machine.log_level == "ALL" or (machine.log_level == "ERROR" and compensating)
            if machine.log_group and logged:
                kb = executions * path.transitions * assumptions.state_machine_log_kb_per_transition
                self.traffic.state_machine_log_kb[machine.log_group] += kb

    def _schedules(self) -> None:
        ping = FunctionWork(per_invocation=Work(duration_ms=self.profile.assumptions.keep_warm_ping_ms))
        for schedule in self.inventory.schedules:
            if schedule.keep_warm:
                load = Load(schedule.per_day, 0, ping, "keep-warm pings")
            else:
                load = Load(schedule.per_day, 0, self.work.get(schedule.function, FunctionWork()), "schedule")
            self.traffic.loads[schedule.function].append(load)


def _lambda(
    inventory: Inventory, traffic: _Traffic, profile: TrafficProfile, prices: Prices
) -> tuple[list[LineItem], list[FunctionUsage], Work, dict[str, float]]:
    """Lambda line items, per-function usage, the functions' total monthly work, log KB per log group."""
    days = profile.days_per_month
    seconds = days * SECONDS_PER_DAY
    requests: dict[str, float] = defaultdict(float)
    on_demand: dict[str, float] = defaultdict(float)
    provisioned: dict[str, float] = defaultdict(float)
    on_provisioned: dict[str, float] = defaultdict(float)
    usages = []
    total = Work()
    log_kb: dict[str, float] = defaultdict(float)
    for logical_id, spec in sorted(inventory.functions.items(), key=lambda entry: entry[1].path):
        loads = traffic.loads.get(logical_id, [])
        invocations = sum(load.invocations_per_day for load in loads) * days
        records = sum(load.invocations_per_day * load.records_per_invocation for load in loads) * days
        work = Work()
        for load in loads:
            work = work.plus(load.daily_work(), days)
        total = total.plus(work)
        gb_seconds = work.duration_ms / 1000 * spec.memory_gb
        arch = spec.architecture
        price = prices("lambda", f"{arch}_gb_second")
        usd = invocations / MILLION * prices("lambda", "requests_per_million")
        requests[arch] += invocations
        if spec.provisioned_concurrency:
            reserved_gbs = spec.provisioned_concurrency * spec.memory_gb * seconds
            average_concurrency = work.duration_ms / 1000 / seconds
            share = (
                1.0
                if average_concurrency <= spec.provisioned_concurrency
                else (spec.provisioned_concurrency / average_concurrency)
            )
            provisioned[arch] += reserved_gbs
            on_provisioned[arch] += gb_seconds * share
            on_demand[arch] += gb_seconds * (1 - share)
            usd += reserved_gbs * prices("lambda", f"{arch}_provisioned_gb_second")
            usd += gb_seconds * share * prices("lambda", f"{arch}_provisioned_duration_gb_second")
            usd += gb_seconds * (1 - share) * price
        else:
            on_demand[arch] += gb_seconds
            usd += gb_seconds * price
        group = spec.log_group or f"/aws/lambda/{logical_id}"
        log_kb[group] += work.log_kb + invocations * profile.assumptions.platform_log_kb_per_invocation
        usages.append(
            FunctionUsage(
                path=spec.path,
                memory_mb=spec.memory_mb,
                architecture=arch,
                invocations=invocations,
                records=records,
                gb_seconds=gb_seconds,
                provisioned_concurrency=spec.provisioned_concurrency,
                lambda_usd=usd,
                sources=tuple(dict.fromkeys(load.source for load in loads)),
            )
        )
    items = []
    for arch in sorted(set(requests) | set(provisioned)):
        items.append(
            LineItem(
                "Lambda",
                f"Requests ({arch})",
                requests[arch],
                "requests",
                prices("lambda", "requests_per_million"),
                MILLION,
            )
        )
        items.append(
            LineItem(
                "Lambda",
                f"Duration, on demand ({arch})",
                on_demand[arch],
                "GB-s",
                prices("lambda", f"{arch}_gb_second"),
            )
        )
        if provisioned[arch]:
            items.append(
                LineItem(
                    "Lambda",
                    f"Provisioned concurrency ({arch})",
                    provisioned[arch],
                    "GB-s",
                    prices("lambda", f"{arch}_provisioned_gb_second"),
                    note="the configured minimum, all month; auto scaling above it is not included",
                )
            )
            items.append(
                LineItem(
                    "Lambda",
                    f"Duration on provisioned concurrency ({arch})",
                    on_provisioned[arch],
                    "GB-s",
                    prices("lambda", f"{arch}_provisioned_duration_gb_second"),
                )
            )
    return items, usages, total, log_kb


def _xray(inventory: Inventory, traffic: _Traffic, profile: TrafficProfile, prices: Prices) -> list[LineItem]:
    assumptions = profile.assumptions
    reservoir = assumptions.xray_reservoir_per_second * SECONDS_PER_DAY
    traces = 0.0
    for logical_id, spec in inventory.functions.items():
        if not spec.traced:
            continue
        per_day = sum(load.invocations_per_day for load in traffic.loads.get(logical_id, []))
        traces += min(per_day, reservoir) + assumptions.xray_sampled_share * max(0.0, per_day - reservoir)
    if not traces:
        return []
    return [
        LineItem(
            "X-Ray",
            "Traces recorded (default sampling)",
            traces * profile.days_per_month,
            "traces",
            prices("xray", "traces_recorded_per_million"),
            MILLION,
            note="each traced invocation counted as its own trace: an upper bound",
        )
    ]


def _sqs(
    inventory: Inventory, traffic: _Traffic, work: Work, profile: TrafficProfile, prices: Prices
) -> list[LineItem]:
    days = profile.days_per_month
    price = prices("sqs", "standard_requests_per_million")
    batches = 0.0
    for source in inventory.queue_sources:
        batches += sum(load.invocations_per_day for load in traffic.loads.get(source.function, []))
    idle = (
        len(inventory.queue_sources)
        * profile.assumptions.sqs_pollers_per_event_source
        * SECONDS_PER_DAY
        / max(1.0, profile.assumptions.sqs_long_poll_seconds)
    )
    items = [
        LineItem(
            "SQS",
            "Messages sent by functions",
            work.sqs_requests + traffic.sqs_sends * days,
            "requests",
            price,
            MILLION,
        ),
        LineItem(
            "SQS", "Batches received and deleted by event sources", 2 * batches * days, "requests", price, MILLION
        ),
        LineItem(
            "SQS",
            "Event source long polls",
            idle * days,
            "requests",
            price,
            MILLION,
            note=f"{profile.assumptions.sqs_pollers_per_event_source:g} pollers per event source, "
            f"{profile.assumptions.sqs_long_poll_seconds:g} s long polls",
        ),
    ]
    return [item for item in items if item.quantity]


def _dynamodb(
    inventory: Inventory, work: Work, profile: TrafficProfile, prices: Prices
) -> tuple[list[LineItem], list[str]]:
    if not inventory.tables:
        return [], []
    notes = []
    items = [
        LineItem(
            "DynamoDB",
            "Write request units (on demand)",
            work.dynamodb_write_units,
            "WRU",
            prices("dynamodb", "on_demand_write_request_units_per_million"),
            MILLION,
        ),
        LineItem(
            "DynamoDB",
            "Read request units (on demand)",
            work.dynamodb_read_units,
            "RRU",
            prices("dynamodb", "on_demand_read_request_units_per_million"),
            MILLION,
        ),
    ]
    if any(not table.on_demand for table in inventory.tables):
        notes.append("tables with provisioned capacity are priced as on-demand requests; their capacity is not")
    storage = profile.assumptions.dynamodb_storage_gb
    items.append(LineItem("DynamoDB", "Storage", storage, "GB-month", prices("dynamodb", "storage_gb_month")))
    with_pitr = sum(1 for table in inventory.tables if table.point_in_time_recovery)
    if with_pitr:
        items.append(
            LineItem(
                "DynamoDB",
                "Point-in-time recovery",
                storage * with_pitr / len(inventory.tables),
                "GB-month",
                prices("dynamodb", "pitr_gb_month"),
                note=f"{with_pitr} of {len(inventory.tables)} tables",
            )
        )
    return [item for item in items if item.quantity], notes


def _step_functions(traffic: _Traffic, profile: TrafficProfile, prices: Prices) -> list[LineItem]:
    days = profile.days_per_month
    items = []
    if traffic.transitions:
        items.append(
            LineItem(
                "Step Functions",
                "Standard state transitions",
                traffic.transitions * days,
                "transitions",
                prices("stepfunctions", "standard_transitions_per_thousand"),
                1_000,
            )
        )
    if traffic.express_gb_seconds:
        items.append(
            LineItem(
                "Step Functions",
                "Express requests",
                traffic.executions * days,
                "requests",
                prices("stepfunctions", "express_requests_per_million"),
                MILLION,
            )
        )
        items.append(
            LineItem(
                "Step Functions",
                "Express duration (64 MB)",
                traffic.express_gb_seconds * days,
                "GB-s",
                prices("stepfunctions", "express_gb_second"),
            )
        )
    return items


def _s3(inventory: Inventory, traffic: _Traffic, work: Work, profile: TrafficProfile, prices: Prices) -> list[LineItem]:
    if not inventory.buckets:
        return []
    days = profile.days_per_month
    items = [
        LineItem(
            "S3",
            "PUT requests (uploads and results)",
            work.s3_put_requests + traffic.client_uploads * days,
            "requests",
            prices("s3", "put_requests_per_thousand"),
            1_000,
        ),
        LineItem(
            "S3", "GET requests", work.s3_get_requests, "requests", prices("s3", "get_requests_per_thousand"), 1_000
        ),
        LineItem(
            "S3",
            "Standard storage",
            profile.assumptions.s3_storage_gb,
            "GB-month",
            prices("s3", "standard_storage_gb_month"),
        ),
    ]
    return [item for item in items if item.quantity]


def _cloudwatch(
    inventory: Inventory,
    traffic: _Traffic,
    function_log_kb: Mapping[str, float],
    profile: TrafficProfile,
    prices: Prices,
) -> list[LineItem]:
    days = profile.days_per_month
    log_kb: dict[str, float] = defaultdict(float, function_log_kb)
    access_kb = traffic.api_requests * days * profile.assumptions.api_access_log_kb_per_request
    for group in inventory.rest_api_access_log_groups[:1]:
        log_kb[group] += access_kb
    for group, kb in traffic.state_machine_log_kb.items():
        log_kb[group] += kb * days
    ingested_gb = sum(log_kb.values()) / KB_PER_GB
    stored_gb = (
        sum(kb / days * (inventory.log_groups.get(group) or UNRETAINED_LOG_DAYS) for group, kb in log_kb.items())
        / KB_PER_GB
        * profile.assumptions.log_stored_share
    )
    standard = sum(alarm.metrics for alarm in inventory.alarms if not alarm.high_resolution)
    high_resolution = sum(alarm.metrics for alarm in inventory.alarms if alarm.high_resolution)
    metrics = profile.assumptions.custom_metrics if inventory.functions else 0
    items = [
        LineItem(
            "CloudWatch", "Dashboards", inventory.dashboards, "dashboards", prices("cloudwatch", "dashboard_month")
        ),
        LineItem(
            "CloudWatch",
            "Alarm metrics (standard resolution)",
            standard,
            "metrics",
            prices("cloudwatch", "standard_alarm_month"),
        ),
        LineItem(
            "CloudWatch",
            "Alarm metrics (high resolution)",
            high_resolution,
            "metrics",
            prices("cloudwatch", "high_resolution_alarm_month"),
        ),
        LineItem(
            "CloudWatch",
            "Composite alarms",
            inventory.composite_alarms,
            "alarms",
            prices("cloudwatch", "composite_alarm_month"),
        ),
        LineItem("CloudWatch", "Logs ingestion", ingested_gb, "GB", prices("cloudwatch", "logs_ingestion_gb")),
        LineItem(
            "CloudWatch",
            "Logs storage (steady state)",
            stored_gb,
            "GB-month",
            prices("cloudwatch", "logs_storage_gb_month"),
            note=f"each group's retention, {profile.assumptions.log_stored_share:g} of the raw size",
        ),
        LineItem("CloudWatch", "Custom metrics (EMF)", metrics, "metrics", prices("cloudwatch", "custom_metric_month")),
    ]
    return [item for item in items if item.quantity]


def _api_gateway(traffic: _Traffic, profile: TrafficProfile, prices: Prices) -> list[LineItem]:
    if not traffic.api_requests:
        return []
    return [
        LineItem(
            "API Gateway",
            "REST API requests",
            traffic.api_requests * profile.days_per_month,
            "requests",
            prices("apigateway", "rest_requests_per_million"),
            MILLION,
        )
    ]


def _others(inventory: Inventory, work: Work, prices: Prices) -> list[LineItem]:
    items = [
        LineItem("KMS", "Customer managed keys", inventory.kms_keys, "keys", prices("kms", "key_month")),
        LineItem("Secrets Manager", "Secrets", inventory.secrets, "secrets", prices("secretsmanager", "secret_month")),
        LineItem(
            "EventBridge",
            "Custom events published",
            work.events_published,
            "events",
            prices("eventbridge", "custom_events_per_million"),
            MILLION,
        ),
    ]
    return [item for item in items if item.quantity]


def _notes(inventory: Inventory, profile: TrafficProfile) -> list[str]:
    notes = [
        f"{profile.days_per_month:g}-day month; free tiers, data transfer and taxes left out",
        "provisioned concurrency at its configured minimum; auto scaling above it adds cost with load",
    ]
    if inventory.http_apis:
        notes.append(f"{inventory.http_apis} HTTP API(s) not priced")
    for schedule in inventory.unsupported_schedules:
        notes.append(f"schedule not estimated (only rate(...) is): {schedule}")
    return notes


def estimate(inventory: Inventory, profile: TrafficProfile, prices: Prices, *, environment: str) -> Estimate:
    """The monthly estimate of ``environment`` (its ``inventory``) under ``profile`` at ``prices``."""
    model = _Model(inventory, profile)
    traffic = model.build()
    lambda_items, usages, work, function_log_kb = _lambda(inventory, traffic, profile, prices)
    dynamodb_items, dynamodb_notes = _dynamodb(inventory, work, profile, prices)
    items: list[LineItem] = [
        *(item for item in lambda_items if item.quantity),
        *_api_gateway(traffic, profile, prices),
        *_sqs(inventory, traffic, work, profile, prices),
        *dynamodb_items,
        *_step_functions(traffic, profile, prices),
        *_s3(inventory, traffic, work, profile, prices),
        *_cloudwatch(inventory, traffic, function_log_kb, profile, prices),
        *_xray(inventory, traffic, profile, prices),
        *_others(inventory, work, prices),
    ]
    return Estimate(
        environment=environment,
        profile=profile.name,
        region=prices.region,
        prices_as_of=prices.as_of,
        days_per_month=profile.days_per_month,
        items=tuple(items),
        functions=tuple(usages),
        notes=tuple(_notes(inventory, profile) + dynamodb_notes + traffic.notes),
    )


def batching_comparison(
    inventory: Inventory, profile: TrafficProfile, prices: Prices, *, files: int = 1_000
) -> BatchingComparison | None:
    """What the processing queue's batch size saves over one invocation per file (full batches)."""
    spec = inventory.function(PIPELINE_PROCESS)
    source = inventory.queue_source(spec.logical_id) if spec else None
    if spec is None or source is None:
        return None
    work = profile.work_of(PIPELINE_PROCESS)
    arch = spec.architecture

    def scenario(batch_size: int) -> BatchScenario:
        invocations = math.ceil(files / batch_size)
        total = work.per_invocation.times(invocations).plus(work.per_record, files)
        gb_seconds = total.duration_ms / 1000 * spec.memory_gb
        log_kb = total.log_kb + invocations * profile.assumptions.platform_log_kb_per_invocation
        return BatchScenario(
            batch_size=batch_size,
            invocations=invocations,
            gb_seconds=gb_seconds,
            lambda_usd=invocations / MILLION * prices("lambda", "requests_per_million")
            + gb_seconds * prices("lambda", f"{arch}_gb_second"),
            sqs_usd=2 * invocations / MILLION * prices("sqs", "standard_requests_per_million"),
            logs_usd=log_kb / KB_PER_GB * prices("cloudwatch", "logs_ingestion_gb"),
        )

    return BatchingComparison(
        function=PIPELINE_PROCESS, files=files, batched=scenario(source.batch_size), per_item=scenario(1)
    )


def summary(estimates: Sequence[Estimate]) -> dict[str, dict[str, float]]:
    """Per service, each environment's monthly USD (for a side-by-side table)."""
    services: dict[str, dict[str, float]] = defaultdict(dict)
    for current in estimates:
        for service, usd in current.by_service().items():
            services[service][current.environment] = usd
    return dict(services)
