"""Paths through a state machine's definition: the states one execution enters, the functions it runs.

Step Functions Standard bills every state entered (a state transition). The estimate follows
the definition: from ``StartAt`` along ``Next``, a Choice's ``Default``, every branch of a Parallel
and one iteration of a Map, until an end state. A failure path takes the failing
state's first catch-all Catch (``States.ALL``, else its first Catch), so the compensation
an execution runs is priced from the definition itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

MAX_STATES = 1_000
_REFERENCE = re.compile(r"REF\(([^)]+)\)")


@dataclass(frozen=True)
class ExecutionPath:
    """States entered in order, and the functions the Task states among them invoke."""

    states: tuple[str, ...]
    functions: tuple[str, ...]

    @property
    def transitions(self) -> int:
        """Billed state transitions: one per state entered (retries not counted)."""
        return len(self.states)


def task_function(state: Mapping[str, Any], resolve: Callable[[str], str | None]) -> str | None:
    """The function a Task invokes: its Resource, or ``lambda:invoke``'s FunctionName parameter."""
    candidates = [str(state.get("Resource", ""))]
    parameters = state.get("Parameters") or state.get("Arguments") or {}
    if isinstance(parameters, Mapping):
        candidates.append(str(parameters.get("FunctionName", "")))
    for candidate in candidates:
        for logical_id in _REFERENCE.findall(candidate):
            function = resolve(logical_id)
            if function:
                return function
    return None


def _catch_target(state: Mapping[str, Any]) -> str | None:
    catches = state.get("Catch") or []
    for catch in catches:
        if "States.ALL" in catch.get("ErrorEquals", []):
            return str(catch["Next"])
    return str(catches[0]["Next"]) if catches else None


def walk(
    definition: Mapping[str, Any],
    *,
    resolve: Callable[[str], str | None],
    failing_state: str | None = None,
) -> ExecutionPath:
    """The path of one execution; with ``failing_state``, that state fails once and is caught.

    ``resolve`` maps a logical id found in a Task (a function or an alias) to the function's
    logical id, or None when it is not a function.
    """
    states_by_name: Mapping[str, Mapping[str, Any]] = definition.get("States", {})
    if failing_state is not None and failing_state not in states_by_name:
        raise KeyError(f"no state named {failing_state!r} in the definition")
    entered: list[str] = []
    functions: list[str] = []
    name: str | None = str(definition["StartAt"])
    failing = failing_state
    while name is not None:
        if len(entered) >= MAX_STATES:
            raise ValueError(f"the path does not end within {MAX_STATES} states (a loop?)")
        state = states_by_name[name]
        entered.append(name)
        kind = state.get("Type")
        if kind == "Task":
            function = task_function(state, resolve)
            if function:
                functions.append(function)
        elif kind == "Parallel":
            for branch in state.get("Branches", []):
                nested = walk(branch, resolve=resolve)
                entered += nested.states
                functions += nested.functions
        elif kind == "Map":
            processor = state.get("ItemProcessor") or state.get("Iterator")
            if processor:
                nested = walk(processor, resolve=resolve)
                entered += nested.states
                functions += nested.functions
        if name == failing:
            failing = None
            name = _catch_target(state)
            continue
        if kind in ("Succeed", "Fail") or state.get("End"):
            break
        if kind == "Choice":
            choices = state.get("Choices") or [{}]
            name = state.get("Default") or choices[0].get("Next")
            continue
        name = state.get("Next")
    return ExecutionPath(states=tuple(entered), functions=tuple(functions))
