"""What a synthesized template holds, as the cost estimate and the capacity model read it.

``template.read_inventory`` fills these from a template; a function or a state machine is
found by its construct path (``Api/Handler``), from the ``aws:cdk:path`` metadata when the
template carries it, else from the logical id CDK derives from that path; a function's pattern
role is what its construct recorded (``serverless_patterns.roles``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from serverless_patterns.roles import PatternRole

_LOGICAL_ID_HASH = r"[0-9A-F]{8}"
# Parts of a construct path that CDK leaves out of logical ids.
_HIDDEN_PATH_PARTS = frozenset({"Resource", "Default"})


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda function as deployed: what its compute costs and its capacity depend on.

    ``reserved_concurrency`` is None for the account's unreserved pool; ``environment_references``
    maps each environment variable set from a reference to the logical ids it names (its tables,
    queues, secrets); ``role`` is the pattern role its construct recorded (``roles.recognize``);
    ``snap_start`` is SnapStart on its published versions.
    """

    logical_id: str
    path: str
    memory_mb: int
    architecture: str
    timeout_seconds: int
    provisioned_concurrency: int = 0
    max_provisioned_concurrency: int = 0
    traced: bool = False
    log_group: str | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    reserved_concurrency: int | None = None
    environment_references: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    role: PatternRole | None = None
    snap_start: bool = False

    @property
    def memory_gb(self) -> float:
        """Lambda bills duration per GB of configured memory (1 GB = 1024 MB)."""
        return self.memory_mb / 1024


@dataclass(frozen=True)
class QueueSource:
    """An SQS event source mapping: how many records one invocation can receive, and how many
    invocations it runs at once (``maximum_concurrency``; None: as many as Lambda scales to)."""

    function: str
    queue: str
    batch_size: int
    batching_window_seconds: int
    maximum_concurrency: int | None = None


@dataclass(frozen=True)
class Schedule:
    """A scheduled rule invoking a function; keep-warm pings do no work."""

    function: str
    per_day: float
    keep_warm: bool


@dataclass(frozen=True)
class StateMachineSpec:
    """A state machine; ``definition`` has references rendered as ``REF(logical id)``."""

    logical_id: str
    path: str
    machine_type: str
    definition: Mapping[str, Any]
    log_level: str
    log_group: str | None


@dataclass(frozen=True)
class AlarmSpec:
    """A metric alarm: CloudWatch bills each metric it evaluates, at its resolution."""

    metrics: int
    high_resolution: bool


@dataclass(frozen=True)
class TableSpec:
    """A DynamoDB table (``Table`` or ``GlobalTable`` with one replica)."""

    logical_id: str
    on_demand: bool
    point_in_time_recovery: bool
    write_capacity: int | None = None
    read_capacity: int | None = None
    """Provisioned units a second, or an on-demand table's maximum; None: on demand up to the account's quota."""


@dataclass(frozen=True)
class StageSpec:
    """A REST API stage: its default method throttle and the functions its methods integrate."""

    logical_id: str
    rest_api: str
    rate_limit: float | None
    burst_limit: int | None
    functions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Inventory:
    """The billable parts of one environment's template."""

    functions: Mapping[str, FunctionSpec]
    queue_sources: tuple[QueueSource, ...] = ()
    schedules: tuple[Schedule, ...] = ()
    unsupported_schedules: tuple[str, ...] = ()
    state_machines: tuple[StateMachineSpec, ...] = ()
    queues: tuple[str, ...] = ()
    tables: tuple[TableSpec, ...] = ()
    buckets: int = 0
    rest_apis: int = 0
    rest_api_access_log_groups: tuple[str, ...] = ()
    http_apis: int = 0
    dashboards: int = 0
    alarms: tuple[AlarmSpec, ...] = ()
    composite_alarms: int = 0
    log_groups: Mapping[str, int | None] = field(default_factory=dict)
    kms_keys: int = 0
    secrets: int = 0
    event_buses: int = 0
    aliases: Mapping[str, str] = field(default_factory=dict)
    stages: tuple[StageSpec, ...] = ()
    deployment_functions: frozenset[str] = frozenset()  # custom resource handlers: they run at deployment only

    def function(self, path: str) -> FunctionSpec | None:
        """The function whose construct path ends with ``path`` (e.g. ``"Api/Handler"``)."""
        found = [spec for spec in self.functions.values() if _designates(path, spec.path, spec.logical_id)]
        if len(found) > 1:
            raise LookupError(f"{len(found)} functions match {path!r}: {[spec.path for spec in found]}")
        return found[0] if found else None

    def queue_source(self, function: str) -> QueueSource | None:
        """The SQS event source of the function with this logical id, if any."""
        return next((source for source in self.queue_sources if source.function == function), None)

    def table(self, logical_id: str) -> TableSpec | None:
        """The table with this logical id, if the template has it."""
        return next((table for table in self.tables if table.logical_id == logical_id), None)

    def function_behind(self, logical_id: str) -> str | None:
        """The function a logical id designates: the function itself or one of its aliases."""
        if logical_id in self.functions:
            return logical_id
        return self.aliases.get(logical_id)

    def state_machine(self, path: str) -> StateMachineSpec | None:
        """The state machine whose construct path ends with ``path`` (e.g. ``"OrderWorkflow"``)."""
        return next((sm for sm in self.state_machines if _designates(path, sm.path, sm.logical_id)), None)


def _designates(path: str, resource_path: str, logical_id: str) -> bool:
    """``path`` names the resource: its construct path ends with it, or (no metadata) its logical id derives from it."""
    if resource_path != logical_id:
        return ("/" + resource_path).endswith("/" + path.strip("/"))
    return path_matches_logical_id(path, logical_id)


def construct_path(logical_id: str, resource: Mapping[str, Any]) -> str:
    """The construct path below the stack (``Api/Handler``); the logical id if there is no metadata."""
    path = resource.get("Metadata", {}).get("aws:cdk:path")
    if not isinstance(path, str):
        return logical_id
    parts = [part for part in path.split("/") if part]
    while parts and parts[-1] in _HIDDEN_PATH_PARTS:
        parts.pop()
    # Drop the stage and stack (``Prod/Service``): construct paths are matched by their end anyway.
    return "/".join(parts[2:] if len(parts) > 2 else parts)


def path_matches_logical_id(path: str, logical_id: str) -> bool:
    """True when CDK would derive ``logical_id`` from construct ``path`` (``Api/Handler`` -> ``ApiHandlerXXXXXXXX``)."""
    prefix = "".join(part for part in path.strip("/").split("/") if part not in _HIDDEN_PATH_PARTS)
    prefix = re.sub(r"[^A-Za-z0-9]", "", prefix)
    return re.fullmatch(re.escape(prefix) + _LOGICAL_ID_HASH, logical_id) is not None
