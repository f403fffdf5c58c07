"""The traffic profile: how much work arrives, and what each function does per request.

One JSON file (``profile.json`` here is the default). A profile of your own only needs the
values that differ: it is merged over the default, and ``--set api.requests_per_day=2e6``
changes single values. Unknown keys are errors, so a typo never silently prices the default.

Functions are placed by the pattern role their construct records in the template
(``serverless_patterns.roles``), in any app. The traffic sections (``api``, ``pipeline``,
``fan_out``, ``orders``) are what each instance of a pattern receives (ApiBackend, EventPipeline,
FanOut, OrderWorkflow); ``instances`` changes it for one instance, named by its construct path
or the path's end (``{"Thumbnails": {"traffic": {"jobs_per_day": 5}}}``).

``work`` says what one invocation costs beyond its request (``per_invocation``) and what each
record of its batch adds (``per_record``): duration, DynamoDB request units (a transactional or
>1 KB write counts its real units), S3 and SQS requests the code makes, EventBridge events, and
log KB written. Its keys are ``Pattern/role`` (``FanOut/worker``: every FanOut's worker) or a
function's construct path (``Api/Handler``: that one function, as profiles before 0.3 said);
``instances.<name>.work.<role>`` is one instance's. A function no pattern records (your own
``lambda.Function``) is priced with ``unplaced``: so many invocations a day of its work, with a
note saying so; a construct-path key in ``work`` gives it its own work.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

PROFILE_FILE = Path(__file__).with_name("profile.json")
T = TypeVar("T")


@dataclass(frozen=True)
class Work:
    """Resources one invocation (or one record of it) consumes."""

    duration_ms: float = 0.0
    dynamodb_read_units: float = 0.0
    dynamodb_write_units: float = 0.0
    s3_get_requests: float = 0.0
    s3_put_requests: float = 0.0
    sqs_requests: float = 0.0
    events_published: float = 0.0
    log_kb: float = 0.0

    def plus(self, other: Work, times: float = 1.0) -> Work:
        """This work and ``times`` the ``other``."""
        return Work(
            **{f.name: getattr(self, f.name) + times * getattr(other, f.name) for f in dataclasses.fields(self)}
        )

    def times(self, factor: float) -> Work:
        """``factor`` times this work."""
        return Work().plus(self, factor)


@dataclass(frozen=True)
class FunctionWork:
    """What one invocation of a function costs: a fixed part plus a part per record of its batch."""

    per_invocation: Work = field(default_factory=Work)
    per_record: Work = field(default_factory=Work)

    def invocation(self, records: float) -> Work:
        """One invocation handling ``records`` records."""
        return self.per_invocation.plus(self.per_record, records)


@dataclass(frozen=True)
class ApiTraffic:
    """Requests to the items API."""

    requests_per_day: float = 0.0


@dataclass(frozen=True)
class PipelineTraffic:
    """Files uploaded to the event pipeline.

    ``arrival_burstiness``: 1 means uploads spread evenly over the day; N means the day's
    uploads arrive within 1/N of it. Only arrivals within one batching window share a batch.
    """

    files_per_day: float = 0.0
    file_kb: float = 0.0
    arrival_burstiness: float = 1.0


@dataclass(frozen=True)
class FanOutTraffic:
    """Jobs submitted to the fan-out, their size, and how often clients poll their status."""

    jobs_per_day: float = 0.0
    items_per_job: float = 0.0
    status_polls_per_job: float = 0.0


@dataclass(frozen=True)
class OrderTraffic:
    """Orders placed; ``compensated_share`` of them fail after the charge and are refunded."""

    orders_per_day: float = 0.0
    compensated_share: float = 0.0


@dataclass(frozen=True)
class Assumptions:
    """Constants of the model that are not traffic; each one is a named, overridable guess."""

    keep_warm_ping_ms: float = 2.0
    snapstart_restore_share: float = 0.01
    platform_log_kb_per_invocation: float = 0.5
    api_access_log_kb_per_request: float = 0.6
    state_machine_log_kb_per_transition: float = 0.8
    log_stored_share: float = 0.15
    sqs_pollers_per_event_source: float = 5.0
    sqs_long_poll_seconds: float = 20.0
    fan_out_sqs_send_batch: float = 10.0
    xray_reservoir_per_second: float = 1.0
    xray_sampled_share: float = 0.05
    custom_metrics: float = 0.0
    dynamodb_storage_gb: float = 0.0
    s3_storage_gb: float = 0.0
    default_chunk_size: float = 100.0


@dataclass(frozen=True)
class InstanceProfile:
    """One pattern instance's traffic (fields of its pattern's section) and work per role."""

    traffic: Mapping[str, float] = field(default_factory=dict)
    work: Mapping[str, FunctionWork] = field(default_factory=dict)


@dataclass(frozen=True)
class UnplacedFunction:
    """What a function that no pattern records is assumed to do: never nothing."""

    invocations_per_day: float = 1_000.0
    work: FunctionWork = field(default_factory=lambda: FunctionWork(per_invocation=Work(duration_ms=100.0, log_kb=1.0)))


@dataclass(frozen=True)
class TrafficProfile:
    """Traffic and per-function work for a month of one environment."""

    name: str = "custom"
    description: str = ""
    days_per_month: float = 30.0
    api: ApiTraffic = field(default_factory=ApiTraffic)
    pipeline: PipelineTraffic = field(default_factory=PipelineTraffic)
    fan_out: FanOutTraffic = field(default_factory=FanOutTraffic)
    orders: OrderTraffic = field(default_factory=OrderTraffic)
    work: Mapping[str, FunctionWork] = field(default_factory=dict)
    instances: Mapping[str, InstanceProfile] = field(default_factory=dict)
    unplaced: UnplacedFunction = field(default_factory=UnplacedFunction)
    assumptions: Assumptions = field(default_factory=Assumptions)

    def __post_init__(self) -> None:
        if self.days_per_month <= 0:
            raise ValueError("days_per_month must be > 0")
        if not 0 <= self.orders.compensated_share <= 1:
            raise ValueError("orders.compensated_share must be between 0 and 1")
        if self.pipeline.arrival_burstiness < 1:
            raise ValueError("pipeline.arrival_burstiness must be >= 1 (1 = spread evenly over the day)")
        if not 0 <= self.assumptions.xray_sampled_share <= 1 or not 0 < self.assumptions.log_stored_share <= 1:
            raise ValueError("assumptions.xray_sampled_share must be 0..1 and log_stored_share in (0, 1]")
        for where, value in _numbers(self):
            if value < 0:
                raise ValueError(f"{where} must be >= 0, got {value}")

    def work_of(self, key: str) -> FunctionWork:
        """The work declared under ``key`` (``Pattern/role`` or a construct path; none declared: zero work)."""
        return self.work.get(key, FunctionWork())


def _numbers(value: Any, where: str = "") -> Iterable[tuple[str, float]]:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _numbers(getattr(value, f.name), f"{where}.{f.name}".strip("."))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _numbers(item, f"{where}.{key}")
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield where, float(value)


def _build(cls: type[T], data: Any, where: str) -> T:
    """``cls`` from JSON ``data``; unknown keys and wrong types are errors naming their place."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{where or 'profile'}: expected an object, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{where or 'profile'}: unknown key(s) {unknown}; known: {sorted(known)}")
    values: dict[str, Any] = {}
    for name, raw in data.items():
        values[name] = _convert(hints[name], raw, f"{where}.{name}".strip("."))
    return cls(**values)


def _convert(hint: Any, raw: Any, where: str) -> Any:
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build(hint, raw, where)
    if typing.get_origin(hint) is Mapping:
        _, value_type = typing.get_args(hint)
        if not isinstance(raw, Mapping):
            raise ValueError(f"{where}: expected an object")
        return {str(key): _convert(value_type, item, f"{where}.{key}") for key, item in raw.items()}
    if hint is float:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise ValueError(f"{where}: expected a number, got {raw!r}")
        return float(raw)
    if hint is str:
        if not isinstance(raw, str):
            raise ValueError(f"{where}: expected a string, got {raw!r}")
        return raw
    raise TypeError(f"{where}: unsupported type {hint!r}")


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` applied: objects merge key by key, anything else replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def parse_setting(setting: str) -> dict[str, Any]:
    """``"api.requests_per_day=2e6"`` as the nested override ``{"api": {"requests_per_day": 2000000.0}}``."""
    path, separator, text = setting.partition("=")
    if not separator or not path.strip():
        raise ValueError(f"expected key.path=value, got {setting!r}")
    try:
        value: Any = json.loads(text)
    except json.JSONDecodeError:
        value = text
    for key in reversed(path.strip().split(".")):
        value = {key: value}
    return dict(value)


def load_profile(
    path: Path | None = None,
    *,
    settings: Iterable[str] = (),
    base: Path = PROFILE_FILE,
) -> TrafficProfile:
    """The default profile, with the file at ``path`` and then each ``key.path=value`` merged over it."""
    data: dict[str, Any] = json.loads(base.read_text())
    if path is not None:
        data = merge(data, json.loads(path.read_text()))
    for setting in settings:
        data = merge(data, parse_setting(setting))
    return _build(TrafficProfile, data, "")
