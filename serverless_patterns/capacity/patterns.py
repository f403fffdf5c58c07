"""Which pattern instances a template holds, and which function plays which role in each.

One function, ``recognize_patterns(inventory)``, for every tool that reads templates (the
capacity model now; the cost estimate, which still names our construct ids, can move to it).
It depends on the inventory alone (``cost.template.read_inventory``).

A function's pattern is read first from the metadata its construct records on it
(``Metadata.ServerlessPatterns = {"pattern": "FanOut", "instance": "<construct path>",
"role": "worker"}``). A template without it (synthesized before the constructs recorded it)
is recognised from construct paths instead: functions under one parent whose ids are a
pattern's (``FanOut/Master``, ``FanOut/Worker``, ``FanOut/Aggregator``...), or, when the
template carries no paths either, from the logical ids CDK derives from the default paths
(``FanOutWorker`` + 8 hex digits). An ``ApiBackend`` found by path must also be integrated by
an API stage, so any construct with a ``Handler`` child is not mistaken for one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from serverless_patterns.cost.inventory import FunctionSpec, Inventory, path_matches_logical_id


@dataclass(frozen=True)
class PatternShape:
    """A pattern's functions: construct id -> role, the roles it cannot lack, its usual instance id."""

    name: str
    default_instance: str
    roles: Mapping[str, str]
    required: frozenset[str]


SHAPES: tuple[PatternShape, ...] = (
    PatternShape("ApiBackend", "Api", {"Handler": "api"}, frozenset({"api"})),
    PatternShape(
        "EventPipeline",
        "EventPipeline",
        {"Validate": "validate", "Process": "process"},
        frozenset({"validate", "process"}),
    ),
    PatternShape(
        "FanOut",
        "FanOut",
        {"Master": "master", "Worker": "worker", "Aggregator": "aggregator", "Sweeper": "sweeper", "Status": "status"},
        frozenset({"master", "worker", "aggregator"}),
    ),
    PatternShape(
        "OrderWorkflow",
        "OrderWorkflow",
        {
            "ValidateOrder": "validate_order",
            "ChargePayment": "charge_payment",
            "UpdateInventory": "update_inventory",
            "SendConfirmation": "send_confirmation",
            "RefundPayment": "refund_payment",
        },
        frozenset({"validate_order", "charge_payment", "update_inventory", "send_confirmation"}),
    ),
)
SHAPE_BY_NAME = {shape.name: shape for shape in SHAPES}
BY_METADATA = "metadata"
BY_PATH = "construct path"
BY_LOGICAL_ID = "logical id"


@dataclass(frozen=True)
class PatternInstance:
    """One instance of a pattern in a template: its functions by role, and how it was recognised."""

    pattern: str
    instance: str
    functions: Mapping[str, FunctionSpec] = field(default_factory=dict)
    recognized_by: str = BY_METADATA

    def function(self, role: str) -> FunctionSpec | None:
        """The function playing ``role`` (e.g. ``"worker"``), if the instance has one."""
        return self.functions.get(role)

    @property
    def default_paths(self) -> dict[str, str]:
        """Role -> the construct path the function has in the service stack (``FanOut/Worker``)."""
        shape = SHAPE_BY_NAME[self.pattern]
        return {role: f"{shape.default_instance}/{child}" for child, role in shape.roles.items()}


def canonical_role(shape: PatternShape, role: str) -> str:
    """A role as metadata may spell it (``worker``, ``Worker``, ``handler``) -> the shape's role name."""
    spelled = role.replace("-", "_").lower()
    for child, canonical in shape.roles.items():
        if spelled in (canonical, child.lower()):
            return canonical
    return spelled


def recognize_patterns(inventory: Inventory) -> tuple[PatternInstance, ...]:
    """Every pattern instance of ``inventory``, by metadata where recorded, else by construct path or id."""
    found: dict[tuple[str, str], dict[str, FunctionSpec]] = {}
    how: dict[tuple[str, str], str] = {}
    unmarked: list[FunctionSpec] = []
    for spec in inventory.functions.values():
        shape = SHAPE_BY_NAME.get(spec.role.pattern) if spec.role else None
        if shape is None or spec.role is None:
            unmarked.append(spec)
            continue
        key = (shape.name, spec.role.instance)
        found.setdefault(key, {})[canonical_role(shape, spec.role.role)] = spec
        how[key] = BY_METADATA
    for key, (functions, by) in _by_path(inventory, unmarked).items():
        if key not in found:
            found[key], how[key] = functions, by
    order = [shape.name for shape in SHAPES]
    return tuple(
        PatternInstance(
            pattern=pattern,
            instance=instance,
            functions=found[(pattern, instance)],
            recognized_by=how[(pattern, instance)],
        )
        for pattern, instance in sorted(found, key=lambda key: (order.index(key[0]), key[1]))
    )


def _by_path(
    inventory: Inventory, functions: list[FunctionSpec]
) -> dict[tuple[str, str], tuple[dict[str, FunctionSpec], str]]:
    """Instances among ``functions`` (without metadata), grouped under their parent construct."""
    children: dict[str, dict[str, FunctionSpec]] = {}
    by: dict[str, str] = {}
    for spec in functions:
        if spec.path != spec.logical_id:
            parent, _, child = spec.path.rpartition("/")
            if parent:
                children.setdefault(parent, {})[child] = spec
                by[parent] = BY_PATH
            continue
        for shape in SHAPES:  # no path metadata: the ids CDK derives from the default paths
            for child in shape.roles:
                if path_matches_logical_id(f"{shape.default_instance}/{child}", spec.logical_id):
                    children.setdefault(shape.default_instance, {})[child] = spec
                    by.setdefault(shape.default_instance, BY_LOGICAL_ID)
    integrated = {function for stage in inventory.stages for function in stage.functions}
    instances: dict[tuple[str, str], tuple[dict[str, FunctionSpec], str]] = {}
    for parent, specs in children.items():
        for shape in SHAPES:
            roles = {shape.roles[child]: spec for child, spec in specs.items() if child in shape.roles}
            if not shape.required <= set(roles):
                continue
            if shape.name == "ApiBackend" and roles["api"].logical_id not in integrated:
                continue
            instances[(shape.name, parent)] = (roles, by[parent])
    return instances
