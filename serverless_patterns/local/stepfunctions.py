"""Step Functions executions that really run, with Retry and Wait delays recorded instead of slept.

moto's ASL interpreter runs executions only in its "parser" backend (enabled by
``execute_state_machine``); state machines from CloudFormation are created there by the
resource emulator. A Retrier's backoff and a Wait state call ``time.sleep`` / wait on an
event; here they return at once and record ``(execution, state, seconds)``, so a test can
assert the 2 s, 4 s backoff of a Retry without waiting for it.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import pkgutil
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from unittest import mock

import boto3
from moto.events import notifications as event_notifications
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.common.retry.retrier_decl import RetrierDecl
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.utils import boto_client
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.models import stepfunctions_parser_backends

from serverless_patterns.scenarios.target import ExecutionResult

POLL_SECONDS = 0.005


@dataclass(frozen=True)
class RecordedWait:
    """A delay that an execution would have waited on AWS."""

    execution_arn: str
    state_name: str
    seconds: float
    kind: str  # "retry" or "wait"


class WaitRecorder:
    """Skips Retry backoffs and Wait states, keeping what they would have waited."""

    def __init__(self) -> None:
        self.waits: list[RecordedWait] = []
        self._env = threading.local()
        self._lock = threading.Lock()

    def install(self, stack: ExitStack) -> None:
        """Patch the interpreter for as long as ``stack`` is open."""
        recorder = self
        original_retry = RetrierDecl._eval_body

        def retry_eval_body(retrier: RetrierDecl, env: Any) -> None:
            recorder._env.current = env
            try:
                original_retry(retrier, env)
            finally:
                recorder._env.current = None

        def record_retry_sleep(seconds: float) -> None:
            recorder._record(getattr(recorder._env, "current", None), seconds, "retry")

        def wait_interval(function: WaitFunction, env: Any, wait_seconds: int) -> None:
            recorder._record(env, float(wait_seconds), "wait")

        stack.enter_context(mock.patch.object(RetrierDecl, "_eval_body", retry_eval_body))
        stack.enter_context(mock.patch.object(retrier_decl, "time", SimpleNamespace(sleep=record_retry_sleep)))
        stack.enter_context(mock.patch.object(WaitFunction, "_wait_interval", wait_interval))
        # The interpreter logs every failed state at ERROR; executions report failures themselves.
        interpreter_log = logging.getLogger("moto.stepfunctions.parser")
        stack.callback(interpreter_log.setLevel, interpreter_log.level)
        interpreter_log.setLevel(logging.CRITICAL)

    def _record(self, env: Any, seconds: float, kind: str) -> None:
        execution_arn, state_name = "", ""
        with contextlib.suppress(AttributeError, KeyError, TypeError):
            data = env.states.context_object.context_object_data
            execution_arn = str(data["Execution"]["Id"])
            state_name = str(data["State"]["Name"])
        with self._lock:
            self.waits.append(RecordedWait(execution_arn, state_name, float(seconds), kind))

    def for_execution(self, execution_arn: str, kind: str | None = None) -> list[RecordedWait]:
        """The recorded waits of one execution (optionally only ``retry`` or ``wait``)."""
        return [w for w in self.waits if w.execution_arn == execution_arn and (kind is None or w.kind == kind)]


def share_task_clients(stack: ExitStack, credentials: Callable[[str], Mapping[str, str]] | None = None) -> None:
    """One boto3 client per (region, service, role) for the interpreter's tasks, for as long as ``stack`` is open.

    moto builds a new client for every Lambda or SQS task, from boto3's default session:
    slow (tens of ms each), and not thread-safe when executions run concurrently. Clients
    themselves are thread-safe, so the tasks of every execution share them. A task calls
    with its state machine's role (or its ``Credentials``): ``credentials(role_arn)`` gives
    that role's credentials, with which the client signs.
    """
    original = boto_client.boto_client_for
    clients: dict[tuple[str, str, str], Any] = {}
    lock = threading.Lock()

    def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        role = str(getattr(state_credentials, "role_arn", "") or "")
        with lock:
            if (region, service, role) not in clients:
                client = original(region=region, service=service)
                if role and credentials is not None:
                    keys = credentials(role)
                    client = boto3.client(
                        service,  # type: ignore[call-overload]
                        region_name=region,
                        aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
                        aws_session_token=keys["AWS_SESSION_TOKEN"],
                        config=client.meta.config,
                    )
                clients[(region, service, role)] = client
            return clients[(region, service, role)]

    _import_task_modules()  # each imports boto_client_for by name: patch every one, not only those loaded so far
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser") and getattr(module, "boto_client_for", None) is original:
            stack.enter_context(mock.patch.object(module, "boto_client_for", client_for))


def _import_task_modules() -> None:
    """Import the interpreter's task modules (moto imports them lazily, on an execution's first task)."""
    from moto.stepfunctions.parser.asl.component.state.exec import state_task

    for module in pkgutil.walk_packages(state_task.__path__, f"{state_task.__name__}."):
        importlib.import_module(module.name)


def share_parsed_programs(stack: ExitStack) -> None:
    """Parse each definition once, not once per execution, for as long as ``stack`` is open.

    moto parses the state machine's definition (ANTLR, pure Python: tens of ms) at the start
    of every execution; a hundred concurrent orders would spend seconds on it. The parsed
    program's components hold no execution state (that lives in each execution's
    environment, keyed by the components' heap keys, which are fixed here before sharing).
    """
    programs: dict[str, EvalComponent] = {}
    lock = threading.Lock()

    def entrypoint(worker: ExecutionWorker) -> EvalComponent:
        definition = worker._evaluation_details.state_machine_details.definition
        with lock:
            if definition not in programs:
                program = AmazonStateLanguageParser.parse(definition)[0]
                _fix_heap_keys(program)
                programs[definition] = program
            return programs[definition]

    stack.enter_context(mock.patch.object(ExecutionWorker, "_get_evaluation_entrypoint", entrypoint))


def _fix_heap_keys(root: Any) -> None:
    """Give every component of a parsed program its heap key now (they are assigned lazily, racily)."""
    seen: set[int] = set()
    pending = [root]
    while pending:
        value = pending.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, EvalComponent):
            _ = value.heap_key
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list | tuple | set | frozenset):
            pending.extend(value)
        elif hasattr(value, "__dict__") and type(value).__module__.startswith("moto.stepfunctions.parser"):
            pending.extend(vars(value).values())


def execution_name() -> str:
    """A unique execution name (moto names unnamed executions ``None``, which collide)."""
    return f"local-{uuid.uuid4()}"


def name_rule_executions(stack: ExitStack) -> None:
    """EventBridge rules targeting a state machine start *named* executions (moto names them "")."""

    def start(account_id: str, region: str, sfn_arn: str, event: Any) -> None:
        backend = stepfunctions_parser_backends[account_id][region]
        backend.start_execution(state_machine_arn=sfn_arn, name=execution_name(), execution_input=json.dumps(event))

    stack.enter_context(mock.patch.object(event_notifications, "_start_sfn_execution", start))


def running_executions(account_id: str, region: str) -> list[str]:
    """ARNs of the executions still running in the executing backend."""
    backend = stepfunctions_parser_backends[account_id][region]
    return [
        execution.execution_arn
        for machine in backend.state_machines
        for execution in machine.executions
        if execution.status == "RUNNING"
    ]


def _execution(execution_arn: str) -> Any:
    """The interpreter's execution object (None when the executing backend does not hold it)."""
    parts = execution_arn.split(":")
    if len(parts) < 6:
        return None
    backend = stepfunctions_parser_backends[parts[4]][parts[3]]
    for machine in list(backend.state_machines):
        for execution in list(machine.executions):
            if execution.execution_arn == execution_arn:
                return execution
    return None


def await_execution(client: Any, execution_arn: str, timeout_seconds: float) -> ExecutionResult:
    """Wait until the execution ends (real time: the interpreter runs in threads), then describe it.

    The wait watches the interpreter's execution object, not ``DescribeExecution``: a test
    awaiting a hundred concurrent executions would otherwise spend its CPU on API calls.
    """
    deadline = time.monotonic() + timeout_seconds
    execution = _execution(execution_arn)
    while True:
        if execution is not None and execution.status == "RUNNING":
            if time.monotonic() > deadline:
                raise TimeoutError(f"{execution_arn} still running after {timeout_seconds} s")
            time.sleep(POLL_SECONDS)
            continue
        described = client.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            output = described.get("output")
            return ExecutionResult(
                execution_arn=execution_arn,
                status=described["status"],
                output=json.loads(output) if output else None,
                error=described.get("error"),
                cause=described.get("cause"),
            )
        if time.monotonic() > deadline:
            raise TimeoutError(f"{execution_arn} still running after {timeout_seconds} s")
        time.sleep(POLL_SECONDS)


class ExecutionCalls:
    """The Step Functions calls of ``LocalCloud``: start, await, run an execution; its Retry waits."""

    waits: WaitRecorder
    client: Callable[[str], Any]

    def start_execution(self, state_machine_arn: str, execution_input: Any = None, *, name: str | None = None) -> str:
        """Start an execution (always named: moto's unnamed executions collide); return its ARN."""
        response = self.client("stepfunctions").start_execution(
            stateMachineArn=state_machine_arn, name=name or execution_name(), input=json.dumps(execution_input or {})
        )
        return str(response["executionArn"])

    def wait_for_execution(self, execution_arn: str, *, timeout_seconds: float = 30.0) -> ExecutionResult:
        """Block until the execution ends (Retry and Wait delays are skipped, not slept)."""
        return await_execution(self.client("stepfunctions"), execution_arn, timeout_seconds)

    def run_execution(
        self,
        state_machine_arn: str,
        execution_input: Any = None,
        *,
        name: str | None = None,
        timeout_seconds: float = 30.0,
    ) -> ExecutionResult:
        """Start an execution and wait for its result."""
        arn = self.start_execution(state_machine_arn, execution_input, name=name)
        return self.wait_for_execution(arn, timeout_seconds=timeout_seconds)

    def retry_waits(self, execution_arn: str) -> list[float]:
        """The Retry backoffs the execution would have waited on AWS, in order."""
        return [w.seconds for w in self.waits.for_execution(execution_arn, "retry")]
