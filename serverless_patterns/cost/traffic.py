"""The traffic model: the profile's traffic, as loads on the template's functions, per pattern instance.

Functions are placed by the pattern role their construct recorded (``FunctionSpec.role``, read
by ``serverless_patterns.roles.recognize``), never by construct ids, so any app built from the
constructs is priced. Each instance of a pattern receives its pattern's traffic section (with
``instances.<name>.traffic`` over it) and reaches its functions as it does in the app:

- ApiBackend ``api``: one invocation per API request.
- EventPipeline ``validate``: one per uploaded file (an S3 notification names one object);
  ``process``: the files again, in batches of the uploads that arrive within one batching
  window (at least one, at most the batch size).
- FanOut ``master``: one per job, each queueing ``ceil(items / CHUNK_SIZE)`` chunks in
  SendMessageBatch calls; ``worker``: the chunks, in full batches (a job's chunks are queued at
  once); ``aggregator``: one per job, reading every chunk; ``status``: the status polls.
- OrderWorkflow: each order is one execution of the state machine that invokes the instance's
  functions, along the definition's happy path or, for the compensated share, along the path
  where the ``update_inventory`` task fails and is caught; each Task on the path invokes once.
- Scheduled rules invoke their targets (keep-warm pings cost ``keep_warm_ping_ms``).
- A function no pattern records gets ``unplaced`` (invocations a day and work), and a note.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from serverless_patterns.cost.profile import FunctionWork, TrafficProfile, Work
from serverless_patterns.cost.template import SECONDS_PER_DAY, FunctionSpec, Inventory, QueueSource
from serverless_patterns.cost.workflow import ExecutionPath, task_function, walk
from serverless_patterns.roles import names_instance

API, PIPELINE, FAN_OUT, ORDERS = "ApiBackend", "EventPipeline", "FanOut", "OrderWorkflow"
# The profile section holding each pattern's traffic.
TRAFFIC_SECTIONS = {API: "api", PIPELINE: "pipeline", FAN_OUT: "fan_out", ORDERS: "orders"}
COMPENSATED_ROLE = "update_inventory"
COMPENSATED_STATE = "UpdateInventory"  # the saga's state name, when no Task invokes the role's function
EXPRESS_MEMORY_GB = 64 / 1024
EXPRESS_BILLING_MS = 100


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


def records_per_batch(records_per_day: float, source: QueueSource, burstiness: float = 1.0) -> float:
    """Average records an SQS invocation receives: those arriving within one batching window.

    At least one (a poll returns what is there), at most the batch size; without a batching
    window Lambda invokes as soon as a poll returns anything.
    """
    arriving = records_per_day * burstiness / SECONDS_PER_DAY * source.batching_window_seconds
    return float(min(source.batch_size, max(1.0, arriving)))


@dataclass(frozen=True)
class PatternInstance:
    """One instance of a pattern in the template: its construct path and its functions by role."""

    pattern: str
    instance: str
    functions: dict[str, FunctionSpec]

    def function(self, role: str) -> FunctionSpec | None:
        return self.functions.get(role)


def pattern_instances(inventory: Inventory) -> list[PatternInstance]:
    """Every pattern instance the template's functions record, in construct-path order."""
    found: dict[tuple[str, str], dict[str, FunctionSpec]] = defaultdict(dict)
    for spec in inventory.functions.values():
        if spec.role is not None:
            found[(spec.role.pattern, spec.role.instance)][spec.role.role] = spec
    return [PatternInstance(pattern, instance, functions) for (pattern, instance), functions in sorted(found.items())]


@dataclass
class Traffic:
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


class TrafficModel:
    """Turns the profile's traffic into loads on the inventory's functions."""

    def __init__(self, inventory: Inventory, profile: TrafficProfile) -> None:
        self.inventory = inventory
        self.profile = profile
        self.traffic = Traffic()
        self.instances = pattern_instances(inventory)
        self.by_path: dict[str, FunctionWork] = {}  # logical id -> work named by construct path
        patterns = {instance.pattern for instance in self.instances} | set(TRAFFIC_SECTIONS)
        for key, work in profile.work.items():
            pattern, _, role = key.partition("/")
            if pattern in patterns and role and role.islower():
                continue  # a pattern role: looked up per function
            spec = inventory.function(key)
            if spec is None:
                self.traffic.notes.append(f"profile work for {key}: no such function in this template")
            else:
                self.by_path[spec.logical_id] = work
        for key in profile.instances:
            if not any(names_instance(key, instance.instance) for instance in self.instances):
                self.traffic.notes.append(f"profile instance {key}: no such pattern instance in this template")

    def work(self, spec: FunctionSpec) -> FunctionWork:
        """A function's work: its instance's, its construct path's, its pattern role's, or ``unplaced``."""
        if spec.role is not None:
            for key, instance in self.profile.instances.items():
                if names_instance(key, spec.role.instance) and spec.role.role in instance.work:
                    return instance.work[spec.role.role]
        if spec.logical_id in self.by_path:
            return self.by_path[spec.logical_id]
        if spec.role is not None:
            return self.profile.work_of(f"{spec.role.pattern}/{spec.role.role}")
        return self.profile.unplaced.work

    def section(self, instance: PatternInstance) -> Any:
        """The instance's traffic: its pattern's section with ``instances.<name>.traffic`` over it."""
        default = getattr(self.profile, TRAFFIC_SECTIONS[instance.pattern])
        for key, override in self.profile.instances.items():
            if names_instance(key, instance.instance) and override.traffic:
                known = {f.name for f in dataclasses.fields(default)}
                unknown = sorted(set(override.traffic) - known)
                if unknown:
                    raise ValueError(
                        f"instances.{key}.traffic: unknown key(s) {unknown} for a {instance.pattern}; known: "
                        f"{sorted(known)}"
                    )
                default = dataclasses.replace(default, **override.traffic)
        return default

    def add(self, spec: FunctionSpec | None, invocations_per_day: float, records: float, source: str) -> bool:
        if spec is None:
            return False
        if invocations_per_day > 0:
            self.traffic.loads[spec.logical_id].append(Load(invocations_per_day, records, self.work(spec), source))
        return True

    def build(self) -> Traffic:
        drive = {API: self._api, PIPELINE: self._pipeline, FAN_OUT: self._fan_out, ORDERS: self._orders}
        for instance in self.instances:
            if instance.pattern in drive:
                drive[instance.pattern](instance)
        self._unplaced()
        self._schedules()
        return self.traffic

    def _api(self, instance: PatternInstance) -> None:
        requests = self.section(instance).requests_per_day
        if self.add(instance.function("api"), requests, 1, "api requests") and self.inventory.rest_apis:
            self.traffic.api_requests += requests

    def _pipeline(self, instance: PatternInstance) -> None:
        traffic = self.section(instance)
        files = traffic.files_per_day
        if files <= 0:
            return
        if self.add(instance.function("validate"), files, 1, "uploads"):
            self.traffic.client_uploads += files
        process = instance.function("process")
        if process is None:
            return
        source = self.inventory.queue_source(process.logical_id)
        batch = records_per_batch(files, source, traffic.arrival_burstiness) if source else 1.0
        self.add(process, files / batch, batch, "processing queue")

    def _fan_out(self, instance: PatternInstance) -> None:
        traffic = self.section(instance)
        master = instance.function("master")
        if master is None or traffic.jobs_per_day <= 0:
            return
        chunk_size = float(master.environment.get("CHUNK_SIZE") or self.profile.assumptions.default_chunk_size)
        chunks_per_job = float(math.ceil(traffic.items_per_job / chunk_size)) if traffic.items_per_job else 0.0
        jobs = traffic.jobs_per_day
        self.add(master, jobs, chunks_per_job, "jobs")
        send_batch = max(1.0, self.profile.assumptions.fan_out_sqs_send_batch)
        self.traffic.sqs_sends += jobs * math.ceil(chunks_per_job / send_batch)
        worker = instance.function("worker")
        if worker is not None and chunks_per_job:
            source = self.inventory.queue_source(worker.logical_id)
            batch = float(min(source.batch_size, chunks_per_job)) if source else 1.0
            self.add(worker, jobs * chunks_per_job / batch, batch, "chunk queue")
        self.add(instance.function("aggregator"), jobs, chunks_per_job, "completed jobs")
        self.add(instance.function("status"), jobs * traffic.status_polls_per_job, 1, "status polls")

    def _orders(self, instance: PatternInstance) -> None:
        traffic = self.section(instance)
        orders = traffic.orders_per_day
        resolve = self.inventory.function_behind
        members = {spec.logical_id for spec in instance.functions.values()}
        machine = next(
            (
                sm
                for sm in self.inventory.state_machines
                if members & set(walk(sm.definition, resolve=resolve).functions)
            ),
            None,
        )
        if machine is None or orders <= 0:
            return
        compensated = orders * traffic.compensated_share
        paths: list[tuple[float, ExecutionPath, bool]] = [
            (orders - compensated, walk(machine.definition, resolve=resolve), False)
        ]
        failing = self._compensated_state(machine.definition, instance)
        if compensated and failing:
            paths.append((compensated, walk(machine.definition, resolve=resolve, failing_state=failing), True))
        specs = {spec.logical_id: spec for spec in self.inventory.functions.values()}
        assumptions = self.profile.assumptions
        for executions, path, compensating in paths:
            self.traffic.executions += executions
            for function in path.functions:
                self.traffic.loads[function].append(Load(executions, 1, self.work(specs[function]), "order executions"))
            if machine.machine_type == "EXPRESS":
                duration_ms = sum(self.work(specs[f]).invocation(1).duration_ms for f in path.functions)
                billed_s = math.ceil(max(duration_ms, 1) / EXPRESS_BILLING_MS) * EXPRESS_BILLING_MS / 1000
                self.traffic.express_gb_seconds += executions * billed_s * EXPRESS_MEMORY_GB
            else:
                self.traffic.transitions += executions * path.transitions
            # Level ALL logs every state; ERROR only the executions that met an error.
            logged = machine.log_level == "ALL" or (machine.log_level == "ERROR" and compensating)
            if machine.log_group and logged:
                kb = executions * path.transitions * assumptions.state_machine_log_kb_per_transition
                self.traffic.state_machine_log_kb[machine.log_group] += kb

    def _compensated_state(self, definition: Any, instance: PatternInstance) -> str | None:
        """The Task state that invokes the instance's ``update_inventory`` function (the one that compensates)."""
        states = definition.get("States", {})
        spec = instance.function(COMPENSATED_ROLE)
        for name, state in states.items():
            if spec is not None and task_function(state, self.inventory.function_behind) == spec.logical_id:
                return str(name)
        return COMPENSATED_STATE if COMPENSATED_STATE in states else None

    def _unplaced(self) -> None:
        unplaced = self.profile.unplaced
        for spec in sorted(self.inventory.functions.values(), key=lambda s: s.path):
            if spec.role is not None or spec.logical_id in self.inventory.deployment_functions:
                continue
            self.add(spec, unplaced.invocations_per_day, 1, "unplaced default")
            declared = "its work from the profile" if spec.logical_id in self.by_path else "the default work"
            self.traffic.notes.append(
                f"{spec.path}: no pattern records this function; priced at {unplaced.invocations_per_day:g} "
                f"invocations/day with {declared} (profile 'unplaced'; work['{spec.path}'] for its own)"
            )
        if self.inventory.deployment_functions:
            count = len(self.inventory.deployment_functions)
            self.traffic.notes.append(f"{count} custom resource handler(s) run at deployment only: not priced")

    def _schedules(self) -> None:
        ping = FunctionWork(per_invocation=Work(duration_ms=self.profile.assumptions.keep_warm_ping_ms))
        for schedule in self.inventory.schedules:
            spec = self.inventory.functions[schedule.function]
            if schedule.keep_warm:
                load = Load(schedule.per_day, 0, ping, "keep-warm pings")
            else:
                load = Load(schedule.per_day, 0, self.work(spec), "schedule")
            self.traffic.loads[schedule.function].append(load)
