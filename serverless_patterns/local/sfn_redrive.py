"""Step Functions ``RedriveExecution``: restart a failed execution from the state that failed.

moto has no RedriveExecution. Here, as on AWS: a Standard execution that FAILED, TIMED_OUT or
was ABORTED, stopped less than 14 days ago (on the virtual clock), can be redriven; it runs
again under the same ARN, *from its unsuccessful state*, with the input that state had, so
the steps that succeeded are not repeated (their results are what that input carries);
``$$.Execution.Input`` stays the execution's input. The status is RUNNING again, then what
the redriven run ends with; ``DescribeExecution`` reports ``redriveCount``, ``redriveDate``
and ``redriveStatus``; the history keeps the first run's events, then ``ExecutionRedriven``
and the new ones. Anything else answers ``ExecutionNotRedrivable`` (an execution that
succeeded, is running, is Express, or is too old).

Differences: a failed Map or Parallel state is run again whole (AWS re-runs only its
unsuccessful iterations or branches).
"""

from __future__ import annotations

import datetime
import json
from contextlib import ExitStack
from typing import Any
from unittest import mock

from moto.core.common_types import TYPE_RESPONSE
from moto.core.exceptions import JsonRESTError
from moto.stepfunctions.parser.api import ExecutionStatus
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.evaluation_details import EvaluationDetails, StateMachineDetails
from moto.stepfunctions.parser.backend.execution import Execution
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.models import stepfunctions_parser_backends
from moto.stepfunctions.responses import StepFunctionResponse

REDRIVE_WINDOW_SECONDS = 14 * 24 * 3600
_REDRIVABLE = (ExecutionStatus.FAILED, ExecutionStatus.TIMED_OUT, ExecutionStatus.ABORTED)


class ExecutionNotRedrivableError(JsonRESTError):
    """AWS's error for an execution that cannot be redriven."""

    def __init__(self, message: str) -> None:
        super().__init__("ExecutionNotRedrivable", message)


class _RedriveWorker(ExecutionWorker):
    """Runs the definition from the failed state, with that state's input."""

    def __init__(self, *, start_input: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._start_input = start_input

    def _get_evaluation_environment(self) -> Environment:
        env = super()._get_evaluation_environment()
        env.states.reset(input_value=self._start_input)
        return env


def _latest_run(execution: Any) -> list[dict[str, Any]]:
    """The events of the execution's latest run (the first, or the last redrive)."""
    worker = execution.exec_worker
    if worker is None or worker.env is None:
        return []
    return [dict(event) for event in worker.env.event_manager.get_event_history()]


def _failed_state(execution: Any) -> tuple[str, Any]:
    """The top-level state the execution stopped in, and the input it entered it with."""
    states = json.loads(execution.state_machine.definition).get("States", {})
    for event in reversed(_latest_run(execution)):
        details = event.get("stateEnteredEventDetails")
        if details and details.get("name") in states:
            return str(details["name"]), json.loads(details.get("input") or "null")
    raise ExecutionNotRedrivableError(f"Execution {execution.exec_arn} never entered a state: nothing to redrive.")


def _history(execution: Any) -> list[dict[str, Any]]:
    previous: list[dict[str, Any]] = getattr(execution, "_local_previous_history", [])
    return previous


def _combined(execution: Any) -> list[dict[str, Any]]:
    """The whole history: earlier runs (with their ExecutionRedriven events), then the latest run's events."""
    previous = _history(execution)
    latest = _latest_run(execution)
    if not previous:
        return latest
    offset = len(previous)
    return previous + [
        {**event, "id": event["id"] + offset, "previousEventId": event.get("previousEventId", 0) + offset}
        for event in latest
        if event.get("type") != "ExecutionStarted"
    ]


def redrive(execution_arn: str, now: datetime.datetime) -> datetime.datetime:
    """Redrive the execution; its redrive date."""
    parts = execution_arn.split(":")
    backend = stepfunctions_parser_backends[parts[4]][parts[3]]
    execution: Any = backend.describe_execution(execution_arn)
    if execution.sm_type != "STANDARD":
        raise ExecutionNotRedrivableError("Express executions cannot be redriven.")
    if execution.exec_status not in _REDRIVABLE:
        status = execution.exec_status.value if execution.exec_status else "UNKNOWN"
        raise ExecutionNotRedrivableError(f"Execution is {status}: only FAILED, TIMED_OUT or ABORTED can be redriven.")
    if execution.stop_date and (now - execution.stop_date).total_seconds() > REDRIVE_WINDOW_SECONDS:
        raise ExecutionNotRedrivableError("Execution stopped more than 14 days ago.")
    state_name, state_input = _failed_state(execution)
    previous = _combined(execution)
    count = int(getattr(execution, "redrive_count", 0)) + 1
    previous.append(
        {
            "timestamp": now,
            "type": "ExecutionRedriven",
            "id": len(previous) + 1,
            "previousEventId": len(previous),
            "executionRedrivenEventDetails": {"redriveCount": count},
        }
    )
    definition = json.loads(execution.state_machine.definition)
    definition["StartAt"] = state_name
    details = EvaluationDetails(
        aws_execution_details=execution._get_start_aws_execution_details(),
        execution_details=execution.get_start_execution_details(),
        state_machine_details=StateMachineDetails(
            arn=execution.state_machine.arn,
            name=execution.state_machine.name,
            typ=execution.state_machine.sm_type,
            definition=json.dumps(definition),
        ),
    )
    execution._local_previous_history = previous
    execution.redrive_count = count
    execution.redrive_date = now
    execution.error = execution.cause = execution.output = execution.stop_date = None
    worker: Any = _RedriveWorker(
        start_input=state_input,
        evaluation_details=details,
        exec_comm=execution._get_start_execution_worker_comm(),
        cloud_watch_logging_session=execution._cloud_watch_logging_session,
        activity_store=execution._activity_store,
    )
    execution.exec_worker = worker
    execution.exec_status = ExecutionStatus.RUNNING
    worker.start()
    return now


def install(stack: ExitStack) -> None:
    """Serve RedriveExecution and report redrives, for as long as ``stack`` is open."""
    original_describe = StepFunctionResponse.describe_execution
    original_history = Execution.to_history_output

    def redrive_execution(response: StepFunctionResponse) -> TYPE_RESPONSE:
        date = redrive(str(response._get_param("executionArn")), datetime.datetime.now(tz=datetime.UTC))
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps({"redriveDate": date.timestamp()})

    def describe_execution(response: StepFunctionResponse) -> Any:
        result = original_describe(response)
        arn = str(response._get_param("executionArn"))
        parts = arn.split(":")
        execution: Any = stepfunctions_parser_backends[parts[4]][parts[3]].describe_execution(arn)
        body = getattr(result, "result", None)
        if isinstance(body, dict):
            count = int(getattr(execution, "redrive_count", 0))
            body["redriveCount"] = count
            if count:
                body["redriveDate"] = execution.redrive_date
            if execution.exec_status in _REDRIVABLE:
                body["redriveStatus"] = "REDRIVABLE"
            else:
                body["redriveStatus"] = "NOT_REDRIVABLE"
                body["redriveStatusReason"] = f"Execution is {execution.exec_status.value}"
        return result

    def to_history_output(execution: Execution) -> Any:
        output: Any = original_history(execution)
        output["events"] = _combined(execution)
        return output

    stack.enter_context(mock.patch.object(StepFunctionResponse, "redrive_execution", redrive_execution, create=True))
    stack.enter_context(mock.patch.object(StepFunctionResponse, "describe_execution", describe_execution))
    stack.enter_context(mock.patch.object(Execution, "to_history_output", to_history_output))
