"""Which pattern, instance and role a function of a synthesized template plays.

Every pattern records on each of its ``AWS::Lambda::Function`` resources
``Metadata.ServerlessPatterns = {"pattern": "FanOut", "instance": "<construct path>", "role": "worker",
"cold_start": "none"}`` (the cold-start strategy: ``provisioned``, ``snapstart``, ``keep_warm`` or ``none``)
(``constructs/function.py``). The tools that read templates (the cost estimate, the capacity
model, the local dev server's log lines) recognise functions by that record, in any app, never
by construct ids: ``recognize`` is the one place that reads it. A function without it (your own
``lambda.Function``, or a template synthesized before the constructs recorded it) is not placed.

Nothing here imports aws_cdk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

METADATA_KEY = "ServerlessPatterns"  # constructs.function.METADATA_KEY (that module imports aws_cdk)
FUNCTION_TYPE = "AWS::Lambda::Function"


@dataclass(frozen=True, order=True)
class PatternRole:
    """A function's place: the pattern's class, the instance's construct path, the role in it."""

    pattern: str
    instance: str
    role: str

    def describe(self) -> str:
        """``EventPipeline process, Dev/Service/EventPipeline``."""
        return f"{self.pattern} {self.role}, {self.instance}"


def recognize(resource: Mapping[str, Any]) -> PatternRole | None:
    """The pattern role a template resource records (None: not a pattern's function, or no record)."""
    if resource.get("Type", FUNCTION_TYPE) != FUNCTION_TYPE:
        return None
    metadata = resource.get("Metadata")
    recorded = metadata.get(METADATA_KEY) if isinstance(metadata, Mapping) else None
    if not isinstance(recorded, Mapping):
        return None
    values = [recorded.get(key) for key in ("pattern", "instance", "role")]
    if not all(isinstance(value, str) and value for value in values):
        return None
    pattern, instance, role = (str(value) for value in values)
    return PatternRole(pattern, instance, role)


def pattern_roles(template: Mapping[str, Any]) -> dict[str, PatternRole]:
    """Logical id -> pattern role, for every function of ``template`` that records one."""
    resources = template.get("Resources") or {}
    found = {logical_id: recognize(resource) for logical_id, resource in resources.items()}
    return {logical_id: role for logical_id, role in found.items() if role is not None}


def names_instance(key: str, instance: str) -> bool:
    """``key`` names the instance: its construct path, or the path's end (``Images`` names ``Dev/Service/Images``)."""
    wanted = key.strip("/")
    return bool(wanted) and ("/" + instance.strip("/")).endswith("/" + wanted)
