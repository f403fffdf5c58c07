"""Drives the real handlers the way the state machine routes them (without its waits).

A stand-in for Step Functions until the local cloud runs the synthesized definition:
Catch routing by error name exactly as in the definition, the refund's ``fulfilled``
choice, and Step Functions' Catch payload (``Error`` = the exception's class name,
``Cause`` = the Lambda runtime's error JSON). Retries are not replayed here; the
definition tests assert them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from serverless_patterns.lambdas.order_workflow import charge, confirm, inventory, refund, validate
from serverless_patterns.lambdas.order_workflow.errors import PaymentError, ValidationError

Handler = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class Handlers:
    """The functions behind the payment and confirmation tasks: the built-in ones, or yours (``custom``)."""

    charge: Handler = charge.handler
    refund: Handler = refund.handler
    confirm: Handler = confirm.handler


BUILT_IN = Handlers()


@dataclass
class Outcome:
    """The end state reached, the execution state there, and the error a Fail state reports."""

    end_state: str
    state: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    cause: str | None = None


def caught(error: Exception) -> dict[str, str]:
    """What a Catch with ResultPath puts in the state for a Lambda task's exception."""
    payload = {"errorMessage": str(error), "errorType": type(error).__name__, "stackTrace": []}
    return {"Error": type(error).__name__, "Cause": json.dumps(payload)}


def run(submitted: dict[str, Any], context: Any, handlers: Handlers = BUILT_IN) -> Outcome:
    try:
        state: dict[str, Any] = validate.handler(submitted, context)
    except ValidationError as error:
        return Outcome("ValidationFailed", {**submitted, "failure": caught(error)}, "ValidationError", str(error))
    try:
        state["payment"] = handlers.charge(state["order"], context)
    except PaymentError as error:
        return Outcome("PaymentFailed", {**state, "failure": caught(error)}, "PaymentError", str(error))
    except Exception as error:
        return _compensate({**state, "failure": caught(error)}, context, handlers)
    try:
        state["reservation"] = inventory.handler(state["order"], context)
    except Exception as error:
        return _compensate({**state, "failure": caught(error)}, context, handlers)
    return _confirm(state, context, handlers)


def _compensate(state: dict[str, Any], context: Any, handlers: Handlers) -> Outcome:
    state["compensation"] = handlers.refund({"order": state["order"], "failure": state["failure"]}, context)
    if state["compensation"]["fulfilled"]:
        return _confirm(state, context, handlers)
    return Outcome("OrderFailed", state, state["compensation"]["error"], state["compensation"]["reason"])


def _confirm(state: dict[str, Any], context: Any, handlers: Handlers) -> Outcome:
    try:
        state["confirmation"] = handlers.confirm(state["order"], context)
    except Exception as error:
        return Outcome("ConfirmationQueued", {**state, "confirmation_failure": caught(error)})
    return Outcome("OrderConfirmed", state)
