"""What a synthesized template holds that costs money or sets a capacity (``inventory``), read without deploying it.

Resources are found by type and linked through the template's own references: an event
source mapping or a schedule names an alias, the alias names its function, a function names
its log group. A function is identified by its construct path (``Api/Handler``), read from the
``aws:cdk:path`` metadata when the template carries it (``cdk synth`` does by default) or
recovered from the logical id CDK derives from that path (``ApiHandler`` + 8 hex digits), so a
template without metadata (``Template.from_stack``) is read the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from serverless_patterns.cost.inventory import (
    AlarmSpec,
    FunctionSpec,
    Inventory,
    QueueSource,
    Schedule,
    StageSpec,
    StateMachineSpec,
    TableSpec,
    construct_path,
    path_matches_logical_id,
)
from serverless_patterns.lambdas.shared.warmup import WARMUP_SOURCE
from serverless_patterns.roles import recognize

SECONDS_PER_DAY = 86_400
"""The Metadata key under which a function records its pattern, instance and role."""
_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3_600, "day": 86_400}


def references(value: Any) -> Iterator[str]:
    """Every logical id ``value`` refers to through ``Ref`` or ``Fn::GetAtt``, at any depth."""
    if isinstance(value, Mapping):
        if isinstance(value.get("Ref"), str):
            yield value["Ref"]
        attribute = value.get("Fn::GetAtt")
        if isinstance(attribute, list) and attribute and isinstance(attribute[0], str):
            yield attribute[0]
        elif isinstance(attribute, str):
            yield attribute.split(".", 1)[0]
        for item in value.values():
            yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def render(value: Any) -> str:
    """A string property with CloudFormation functions: ``Fn::Join`` joined, references as ``REF(id)``."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        if "Ref" in value:
            return f"REF({value['Ref']})"
        if "Fn::GetAtt" in value:
            attribute = value["Fn::GetAtt"]
            target = attribute[0] if isinstance(attribute, list) else str(attribute).split(".", 1)[0]
            return f"REF({target})"
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return str(separator).join(render(part) for part in parts)
        if "Fn::Sub" in value:
            template = value["Fn::Sub"]
            text = template if isinstance(template, str) else template[0]
            return re.sub(r"\$\{([^}!]+)\}", lambda match: f"REF({match.group(1)})", text)
    return "TOKEN"


def schedule_per_day(expression: str) -> float | None:
    """Runs a day of a ``rate(...)`` schedule; None for anything else (cron is not estimated)."""
    match = _RATE.match(expression.strip())
    if not match:
        return None
    amount, unit = int(match.group(1)), match.group(2).rstrip("s")
    return SECONDS_PER_DAY / (amount * _UNIT_SECONDS[unit])


def _int(value: Any, default: int = 0) -> int:
    return int(value) if isinstance(value, int | float | str) and str(value).isdigit() else default


def _table_capacity(kind: str, props: Mapping[str, Any], on_demand: bool) -> tuple[int | None, int | None]:
    """(write, read) units a second a table is held to: provisioned, or an on-demand maximum; None: none set."""
    if on_demand:
        limits = props.get("OnDemandThroughput") or {}
        if kind == "AWS::DynamoDB::GlobalTable":
            limits = props.get("WriteOnDemandThroughputSettings") or limits
            replicas = props.get("Replicas") or [{}]
            read = (replicas[0].get("ReadOnDemandThroughputSettings") or {}).get("MaxReadRequestUnits")
            return _int(limits.get("MaxWriteRequestUnits")) or None, _int(read) or None
        return _int(limits.get("MaxWriteRequestUnits")) or None, _int(limits.get("MaxReadRequestUnits")) or None
    if kind == "AWS::DynamoDB::GlobalTable":
        write = (props.get("WriteProvisionedThroughputSettings") or {}).get("WriteCapacityAutoScalingSettings") or {}
        replicas = props.get("Replicas") or [{}]
        read = (replicas[0].get("ReadProvisionedThroughputSettings") or {}).get("ReadCapacityAutoScalingSettings") or {}
        read_units = (replicas[0].get("ReadProvisionedThroughputSettings") or {}).get("ReadCapacityUnits")
        return _int(write.get("MaxCapacity")) or None, _int(read_units) or _int(read.get("MaxCapacity")) or None
    throughput = props.get("ProvisionedThroughput") or {}
    return _int(throughput.get("WriteCapacityUnits")) or None, _int(throughput.get("ReadCapacityUnits")) or None


class _Reader:
    """Walks one template once and links what references what."""

    def __init__(self, template: Mapping[str, Any], paths: Mapping[str, str] | None) -> None:
        self.resources: Mapping[str, Mapping[str, Any]] = template.get("Resources", {})
        self.paths = dict(paths or {})
        self.alias_function: dict[str, str] = {}
        for logical_id, resource in self.of_type("AWS::Lambda::Alias"):
            function = self._first_of(resource["Properties"].get("FunctionName"), "AWS::Lambda::Function")
            if function:
                self.alias_function[logical_id] = function

    def of_type(self, resource_type: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
        for logical_id, resource in self.resources.items():
            if resource.get("Type") == resource_type:
                yield logical_id, resource

    def _first_of(self, value: Any, resource_type: str) -> str | None:
        return next((ref for ref in references(value) if self._type(ref) == resource_type), None)

    def _type(self, logical_id: str) -> str | None:
        resource = self.resources.get(logical_id)
        return None if resource is None else str(resource.get("Type"))

    def path(self, logical_id: str) -> str:
        if logical_id in self.paths:
            return self.paths[logical_id]
        return construct_path(logical_id, self.resources[logical_id])

    def function_of(self, value: Any) -> str | None:
        """The function ``value`` designates, directly or through one of its aliases."""
        for ref in references(value):
            if self._type(ref) == "AWS::Lambda::Function":
                return ref
            if ref in self.alias_function:
                return self.alias_function[ref]
        return None

    def functions(self) -> dict[str, FunctionSpec]:
        provisioned: dict[str, int] = {}
        for _, alias in self.of_type("AWS::Lambda::Alias"):
            function = self.function_of(alias["Properties"].get("FunctionName"))
            config = alias["Properties"].get("ProvisionedConcurrencyConfig") or {}
            if function:
                provisioned[function] = provisioned.get(function, 0) + _int(
                    config.get("ProvisionedConcurrentExecutions")
                )
        scaling_max: dict[str, int] = {}
        for _, target in self.of_type("AWS::ApplicationAutoScaling::ScalableTarget"):
            function = self.function_of(target["Properties"].get("ResourceId"))
            if function:
                scaling_max[function] = _int(target["Properties"].get("MaxCapacity"))
        specs = {}
        for logical_id, resource in self.of_type("AWS::Lambda::Function"):
            props = resource.get("Properties", {})
            variables = props.get("Environment", {}).get("Variables", {})
            pc = provisioned.get(logical_id, 0)
            specs[logical_id] = FunctionSpec(
                logical_id=logical_id,
                path=self.path(logical_id),
                memory_mb=_int(props.get("MemorySize"), 128),
                architecture=(props.get("Architectures") or ["x86_64"])[0],
                timeout_seconds=_int(props.get("Timeout"), 3),
                provisioned_concurrency=pc,
                max_provisioned_concurrency=max(pc, scaling_max.get(logical_id, pc)),
                traced=props.get("TracingConfig", {}).get("Mode") == "Active",
                log_group=self._first_of(props.get("LoggingConfig"), "AWS::Logs::LogGroup"),
                environment={k: v for k, v in variables.items() if isinstance(v, str)},
                reserved_concurrency=(
                    _int(props["ReservedConcurrentExecutions"]) if "ReservedConcurrentExecutions" in props else None
                ),
                environment_references={
                    name: tuple(found) for name, value in variables.items() if (found := list(references(value)))
                },
                role=recognize(resource),
                snap_start=(props.get("SnapStart") or {}).get("ApplyOn") == "PublishedVersions",
            )
        return specs

    def deployment_functions(self) -> frozenset[str]:
        """Functions that serve custom resources (their ``ServiceToken``), directly or behind a provider."""
        tokens = {
            ref
            for _, resource in self.resources.items()
            if str(resource.get("Type", "")).startswith("Custom::")
            or resource.get("Type") == "AWS::CloudFormation::CustomResource"
            for ref in references(resource.get("Properties", {}).get("ServiceToken"))
        }
        return frozenset(ref for ref in tokens if self._type(ref) == "AWS::Lambda::Function")

    def queue_sources(self) -> tuple[QueueSource, ...]:
        sources = []
        for _, mapping in self.of_type("AWS::Lambda::EventSourceMapping"):
            props = mapping["Properties"]
            queue = self._first_of(props.get("EventSourceArn"), "AWS::SQS::Queue")
            function = self.function_of(props.get("FunctionName"))
            if queue and function:
                sources.append(
                    QueueSource(
                        function=function,
                        queue=queue,
                        batch_size=_int(props.get("BatchSize"), 10),
                        batching_window_seconds=_int(props.get("MaximumBatchingWindowInSeconds")),
                        maximum_concurrency=_int((props.get("ScalingConfig") or {}).get("MaximumConcurrency")) or None,
                    )
                )
        return tuple(sources)

    def schedules(self) -> tuple[tuple[Schedule, ...], tuple[str, ...]]:
        schedules, unsupported = [], []
        for logical_id, rule in self.of_type("AWS::Events::Rule"):
            props = rule["Properties"]
            expression = props.get("ScheduleExpression")
            if not isinstance(expression, str) or props.get("State", "ENABLED") != "ENABLED":
                continue
            per_day = schedule_per_day(expression)
            for target in props.get("Targets", []):
                function = self.function_of(target.get("Arn"))
                if function is None:
                    continue
                if per_day is None:
                    unsupported.append(f"{self.path(logical_id)}: {expression}")
                    continue
                keep_warm = WARMUP_SOURCE in str(target.get("Input", ""))
                schedules.append(Schedule(function=function, per_day=per_day, keep_warm=keep_warm))
        return tuple(schedules), tuple(unsupported)

    def state_machines(self) -> tuple[StateMachineSpec, ...]:
        machines = []
        for logical_id, resource in self.of_type("AWS::StepFunctions::StateMachine"):
            props = resource["Properties"]
            if "Definition" in props:
                definition = props["Definition"]
            else:
                text = render(props.get("DefinitionString", "{}"))
                for name, value in (props.get("DefinitionSubstitutions") or {}).items():
                    text = text.replace("${" + name + "}", render(value))
                definition = json.loads(text)
            logging = props.get("LoggingConfiguration") or {}
            machines.append(
                StateMachineSpec(
                    logical_id=logical_id,
                    path=self.path(logical_id),
                    machine_type=str(props.get("StateMachineType", "STANDARD")).upper(),
                    definition=definition,
                    log_level=str(logging.get("Level", "OFF")).upper(),
                    log_group=self._first_of(logging.get("Destinations"), "AWS::Logs::LogGroup"),
                )
            )
        return tuple(machines)

    def tables(self) -> tuple[TableSpec, ...]:
        tables = []
        for logical_id, resource in self.resources.items():
            kind = resource.get("Type")
            if kind not in ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"):
                continue
            props = resource.get("Properties", {})
            if kind == "AWS::DynamoDB::Table":
                pitr = bool(props.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled"))
            else:
                pitr = any(
                    replica.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled")
                    for replica in props.get("Replicas", [])
                )
            on_demand = props.get("BillingMode", "PROVISIONED") == "PAY_PER_REQUEST"
            write, read = _table_capacity(kind, props, on_demand)
            tables.append(
                TableSpec(
                    logical_id=logical_id,
                    on_demand=on_demand,
                    point_in_time_recovery=pitr,
                    write_capacity=write,
                    read_capacity=read,
                )
            )
        return tuple(tables)

    def alarms(self) -> tuple[AlarmSpec, ...]:
        alarms = []
        for _, resource in self.of_type("AWS::CloudWatch::Alarm"):
            props = resource["Properties"]
            queries = props.get("Metrics") or []
            metric_stats = [query for query in queries if "MetricStat" in query]
            metrics = len(metric_stats) if queries else 1
            periods = [_int(query["MetricStat"].get("Period"), 60) for query in metric_stats] or [
                _int(props.get("Period"), 60)
            ]
            alarms.append(AlarmSpec(metrics=max(1, metrics), high_resolution=min(periods) < 60))
        return tuple(alarms)

    def access_log_groups(self) -> tuple[str, ...]:
        groups = []
        for _, stage in self.of_type("AWS::ApiGateway::Stage"):
            destination = stage["Properties"].get("AccessLogSetting", {}).get("DestinationArn")
            group = self._first_of(destination, "AWS::Logs::LogGroup")
            if group:
                groups.append(group)
        return tuple(groups)

    def stages(self) -> tuple[StageSpec, ...]:
        integrated: dict[str, list[str]] = {}
        for _, method in self.of_type("AWS::ApiGateway::Method"):
            props = method["Properties"]
            function = self.function_of((props.get("Integration") or {}).get("Uri"))
            rest_api = self._first_of(props.get("RestApiId"), "AWS::ApiGateway::RestApi")
            if function and rest_api and function not in integrated.setdefault(rest_api, []):
                integrated[rest_api].append(function)
        stages = []
        for logical_id, stage in self.of_type("AWS::ApiGateway::Stage"):
            props = stage["Properties"]
            rest_api = self._first_of(props.get("RestApiId"), "AWS::ApiGateway::RestApi") or ""
            default: Mapping[str, Any] = next(
                (
                    setting
                    for setting in props.get("MethodSettings") or []
                    if setting.get("ResourcePath") == "/*" and setting.get("HttpMethod") == "*"
                ),
                {},
            )
            rate = default.get("ThrottlingRateLimit")
            burst = default.get("ThrottlingBurstLimit")
            stages.append(
                StageSpec(
                    logical_id=logical_id,
                    rest_api=rest_api,
                    rate_limit=float(rate) if isinstance(rate, int | float) else None,
                    burst_limit=int(burst) if isinstance(burst, int | float) else None,
                    functions=tuple(integrated.get(rest_api, ())),
                )
            )
        return tuple(stages)

    def count(self, resource_type: str) -> int:
        return sum(1 for _ in self.of_type(resource_type))


def read_inventory(template: Mapping[str, Any], *, paths: Mapping[str, str] | None = None) -> Inventory:
    """The billable inventory of ``template``; ``paths`` maps logical ids to construct paths if known."""
    reader = _Reader(template, paths)
    schedules, unsupported = reader.schedules()
    return Inventory(
        functions=reader.functions(),
        queue_sources=reader.queue_sources(),
        schedules=schedules,
        unsupported_schedules=unsupported,
        state_machines=reader.state_machines(),
        queues=tuple(logical_id for logical_id, _ in reader.of_type("AWS::SQS::Queue")),
        tables=reader.tables(),
        buckets=reader.count("AWS::S3::Bucket"),
        rest_apis=reader.count("AWS::ApiGateway::RestApi"),
        rest_api_access_log_groups=reader.access_log_groups(),
        http_apis=reader.count("AWS::ApiGatewayV2::Api"),
        dashboards=reader.count("AWS::CloudWatch::Dashboard"),
        alarms=reader.alarms(),
        composite_alarms=reader.count("AWS::CloudWatch::CompositeAlarm"),
        log_groups={
            logical_id: (_int(group["Properties"].get("RetentionInDays")) or None)
            for logical_id, group in reader.of_type("AWS::Logs::LogGroup")
        },
        kms_keys=reader.count("AWS::KMS::Key"),
        secrets=reader.count("AWS::SecretsManager::Secret"),
        event_buses=reader.count("AWS::Events::EventBus"),
        aliases=dict(reader.alias_function),
        stages=reader.stages(),
        deployment_functions=reader.deployment_functions(),
    )


__all__ = [
    "AlarmSpec",
    "FunctionSpec",
    "Inventory",
    "QueueSource",
    "Schedule",
    "StateMachineSpec",
    "TableSpec",
    "construct_path",
    "path_matches_logical_id",
    "read_inventory",
    "references",
    "render",
    "schedule_per_day",
]
