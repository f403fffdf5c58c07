"""Paths through state machine definitions: states entered and functions invoked."""

from __future__ import annotations

from typing import Any

import pytest

from serverless_patterns.cost.workflow import walk

FUNCTIONS = {"REF_A": "A", "REF_B": "B", "REF_R": "R", "AliasC": "C"}


def resolve(logical_id: str) -> str | None:
    return FUNCTIONS.get(logical_id) or FUNCTIONS.get(f"REF_{logical_id}")


SAGA: dict[str, Any] = {
    "StartAt": "Charge",
    "States": {
        "Charge": {"Type": "Task", "Resource": "REF(A)", "Next": "Reserve"},
        "Reserve": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "REF(AliasC)", "Payload.$": "$"},
            "Catch": [
                {"ErrorEquals": ["OutOfStock"], "Next": "Declined"},
                {"ErrorEquals": ["States.ALL"], "Next": "Refund"},
            ],
            "Next": "Check",
        },
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.x", "Next": "Declined"}], "Default": "Done"},
        "Refund": {"Type": "Task", "Resource": "REF(R)", "Next": "Failed"},
        "Declined": {"Type": "Fail"},
        "Failed": {"Type": "Fail"},
        "Done": {"Type": "Succeed"},
    },
}


def test_the_happy_path_follows_next_and_choice_defaults() -> None:
    path = walk(SAGA, resolve=resolve)
    assert path.states == ("Charge", "Reserve", "Check", "Done")
    assert path.functions == ("A", "C")
    assert path.transitions == 4


def test_a_failing_state_takes_its_catch_all() -> None:
    path = walk(SAGA, resolve=resolve, failing_state="Reserve")
    assert path.states == ("Charge", "Reserve", "Refund", "Failed")
    assert path.functions == ("A", "C", "R")


def test_an_unknown_failing_state_is_an_error() -> None:
    with pytest.raises(KeyError, match="Nope"):
        walk(SAGA, resolve=resolve, failing_state="Nope")


def test_every_parallel_branch_is_entered() -> None:
    definition = {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "L", "States": {"L": {"Type": "Task", "Resource": "REF(A)", "End": True}}},
                    {"StartAt": "R", "States": {"R": {"Type": "Task", "Resource": "REF(B)", "End": True}}},
                ],
                "End": True,
            }
        },
    }
    path = walk(definition, resolve=resolve)
    assert path.states == ("Both", "L", "R")
    assert path.functions == ("A", "B")


def test_a_definition_that_never_ends_is_refused() -> None:
    loop = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Next": "P"}}}
    with pytest.raises(ValueError, match="loop"):
        walk(loop, resolve=resolve)
