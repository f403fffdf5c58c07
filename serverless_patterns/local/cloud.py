"""LocalCloud: deploy a synthesized app into an embedded moto and drive traffic through it."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

import boto3
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID

from serverless_patterns.local import (
    events,
    resources as _resources,  # noqa: F401  (registers the emulators)
    s3_events,
    sfn_redrive,
    sqs,
)
from serverless_patterns.local.apigateway import ApiGateway, load_apis
from serverless_patterns.local.assets import StackArtifact, bootstrap, read_stacks, select_assembly, synthesize
from serverless_patterns.local.async_invoke import AsyncInvoker, destination_sender
from serverless_patterns.local.clock import VirtualClock
from serverless_patterns.local.cloudformation import Deployer, DeploymentState
from serverless_patterns.local.event_sources import SqsPoller
from serverless_patterns.local.inventory import Inventory
from serverless_patterns.local.invocation import Invocation
from serverless_patterns.local.lambda_runtime import LambdaRuntime
from serverless_patterns.local.permissions import AccessControl
from serverless_patterns.local.schedules import Scheduler
from serverless_patterns.local.sqs_redrive import MessageMoveTasks
from serverless_patterns.local.stepfunctions import (
    ExecutionCalls,
    WaitRecorder,
    name_rule_executions,
    running_executions,
    share_parsed_programs,
    share_task_clients,
)
from serverless_patterns.local.timeline import DrainResult, Timeline
from serverless_patterns.scenarios.target import HttpResponse, InvokeResult

if TYPE_CHECKING:
    from aws_cdk import Stage

MOTO_CONFIG: Any = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
    "core": {"reset_boto3_session": True},
}
DEFAULT_MAX_VIRTUAL_SECONDS = 24 * 3600.0
Progress = Callable[[str], None]


def _no_progress(message: str) -> None:
    """Progress sink that drops messages."""


class LocalCloud(Inventory, AccessControl, ExecutionCalls):
    """A synthesized CDK app deployed into an in-process emulated AWS (moto), with its code running.

    Use it as a context manager::

        with LocalCloud.deploy(stage) as cloud:          # or a cloud assembly directory
            cloud.invoke(cloud.outputs["EchoAlias"], {"hello": "world"})
            cloud.api_request("GET", "/items/42")
            cloud.drain()                                # queues, retries, notifications

    Inside it every boto3 client of the process (tests and handlers alike) talks to the
    emulator; on exit the emulator is discarded. Handlers and services call with their roles,
    checked against the deployed policies (``permissions``); the test itself is the account's
    administrator.
    """

    def __init__(
        self,
        source: Stage | str | Path,
        *,
        env: str | None = None,
        progress: Progress | None = None,
        echo_logs: bool = False,
        enforce_permissions: bool = True,
    ) -> None:
        self._source = source
        self._enforce = enforce_permissions
        self._env = env
        self._progress = progress or _no_progress
        self._echo_logs = echo_logs
        self._stack: ExitStack | None = None
        self.account_id = DEFAULT_ACCOUNT_ID
        self.region = ""
        self.clock = VirtualClock()
        self.state = DeploymentState()
        self.stacks: list[StackArtifact] = []
        self.stack_outputs: dict[str, dict[str, str]] = {}
        self.waits = WaitRecorder()
        self._clients: dict[str, Any] = {}
        self._runtime: LambdaRuntime | None = None
        self._async: AsyncInvoker | None = None
        self._poller: SqsPoller | None = None
        self._timeline: Timeline | None = None
        self.move_tasks = MessageMoveTasks(self.clock)
        self.visibility_changes: list[sqs.VisibilityChange] = []  # every ChangeMessageVisibility, in order
        self._api: ApiGateway | None = None

    @classmethod
    def deploy(
        cls,
        source: Stage | str | Path,
        *,
        env: str | None = None,
        progress: Progress | None = None,
        echo_logs: bool = False,
        enforce_permissions: bool = True,
    ) -> LocalCloud:
        """A cloud that deploys ``source`` (a Stage, or a cloud assembly directory) when entered.

        ``env`` picks the nested assembly (``dev``, ``staging``, ``prod``) of a top-level
        ``cdk.out``; ``progress`` receives a line per step; ``echo_logs`` prints every
        invocation's log (they always go to the emulated CloudWatch Logs);
        ``enforce_permissions=False`` lets every call through (no denials, no report).
        """
        return cls(source, env=env, progress=progress, echo_logs=echo_logs, enforce_permissions=enforce_permissions)

    # -- lifecycle -----------------------------------------------------------------------

    def __enter__(self) -> LocalCloud:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> None:
        """Start the emulator and deploy every stack of the assembly."""
        if self._stack is not None:
            raise RuntimeError("this LocalCloud is already running")
        directory = self._assembly_directory()
        stack = ExitStack()
        self._stack = stack
        try:
            region = os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1"
            self.region = region
            stack.enter_context(
                mock.patch.dict(
                    os.environ,
                    {
                        "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing",
                        "AWS_DEFAULT_REGION": region,
                        "AWS_REGION": region,
                    },
                )
            )
            for variable in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
                os.environ.pop(variable, None)  # restored with the rest when the patch ends
            stack.enter_context(mock_aws(config=MOTO_CONFIG))
            self.clock.install(stack)
            sqs.install(stack, self.visibility_changes)
            self.move_tasks.install(stack)
            sfn_redrive.install(stack)
            code_root = Path(tempfile.mkdtemp(prefix="local-cloud-code-"))
            stack.callback(shutil.rmtree, code_root, ignore_errors=True)
            runtime = LambdaRuntime(
                account_id=self.account_id,
                region=region,
                code_root=code_root,
                function_properties=self._function_properties,
                echo_logs=self._echo_logs,
            )
            runtime.install(stack)
            self._runtime = runtime
            runtime.permissions = self._start_permissions(stack, region=region, enforce=self._enforce)
            self.waits.install(stack)
            name_rule_executions(stack)
            share_task_clients(stack, self._state_machine_credentials if self._enforce else None)
            share_parsed_programs(stack)
            s3_events.install(stack, runtime)
            events.install(stack, runtime)
            self._async = AsyncInvoker(
                runtime=runtime,
                clock=self.clock,
                configs=self.state.invoke_configs,
                deliver=destination_sender(self.client),
            )
            runtime.enqueue_async = self._async.enqueue
            self.stacks = read_stacks(directory, account=self.account_id, region=region)
            bootstrap(self.client, self.stacks, region, self._progress)
            deployer = Deployer(client=self.client, state=self.state)
            for artifact in self.stacks:
                self._progress(
                    f"creating stack {artifact.stack_name} ({len(artifact.template.get('Resources', {}))} resources)"
                )
                started = time.perf_counter()
                self.stack_outputs[artifact.stack_name] = deployer.deploy(artifact)
                self._progress(f"  {artifact.stack_name} created in {time.perf_counter() - started:.1f}s")
            for refused in self._read_policies(self.client):
                self._progress(f"  refused by AWS's permission checks: {refused}")
            self._poller = SqsPoller(
                runtime=runtime, clock=self.clock, client=self.client, mappings=self.state.sqs_mappings
            )
            self._timeline = Timeline(
                clock=self.clock,
                account_id=self.account_id,
                region=region,
                poller=self._poller,
                async_invoker=self._async,
                move_tasks=self.move_tasks,
                scheduler=Scheduler(
                    self.clock,
                    account_id=self.account_id,
                    region=region,
                    deliver=lambda rule, event: events.deliver(rule, event, runtime),
                ),
                await_executions=self._await_running_executions,
            )
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stop the emulator (everything in it is discarded)."""
        stack, self._stack = self._stack, None
        if stack is not None:
            stack.close()
        self._clients.clear()

    def _assembly_directory(self) -> Path:
        if isinstance(self._source, str | Path):
            return select_assembly(Path(self._source), self._env)
        self._progress(f"using the cloud assembly of {self._source.node.path}")
        return synthesize(self._source)

    # -- plumbing --------------------------------------------------------------------------

    def client(self, service: str) -> Any:
        """A boto3 client of the emulator (only valid while the cloud runs)."""
        if self._stack is None:
            raise RuntimeError("the local cloud is not running")
        if service not in self._clients:
            self._clients[service] = boto3.client(service, region_name=self.region)  # type: ignore[call-overload]
        return self._clients[service]

    @property
    def runtime(self) -> LambdaRuntime:
        """The in-process Lambda runtime."""
        if self._runtime is None:
            raise RuntimeError("the local cloud is not running")
        return self._runtime

    def _function_properties(self, function_name: str) -> dict[str, Any]:
        record = self.state.by_physical_id(function_name, "AWS::Lambda::Function")
        return record.properties if record else {}

    # -- Lambda ----------------------------------------------------------------------------

    @property
    def invocations(self) -> list[Invocation]:
        """Every handler run so far, in order."""
        return list(self.runtime.invocations)

    def invoke(self, function: str, payload: Any = None, *, qualifier: str | None = None) -> InvokeResult:
        """Invoke through the Lambda API (RequestResponse), as an SDK caller would."""
        kwargs: dict[str, Any] = {"FunctionName": function, "Payload": json.dumps(payload).encode()}
        if qualifier:
            kwargs["Qualifier"] = qualifier
        response = self.client("lambda").invoke(**kwargs)
        body = response["Payload"].read()
        return InvokeResult(
            status_code=int(response["StatusCode"]),
            payload=json.loads(body) if body else None,
            function_error=response.get("FunctionError"),
            executed_version=response.get("ExecutedVersion"),
        )

    def invoke_async(self, function: str, payload: Any = None) -> int:
        """Invoke with InvocationType=Event (runs on the next ``drain``); return the status code (202)."""
        response = self.client("lambda").invoke(
            FunctionName=function, InvocationType="Event", Payload=json.dumps(payload).encode()
        )
        return int(response["StatusCode"])

    # -- API Gateway -----------------------------------------------------------------------

    def api_request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        api: str | None = None,
        claims: dict[str, str] | None = None,
    ) -> HttpResponse:
        """Call a REST API route as a client would (see ``apigateway`` for what is emulated)."""
        if self._api is None:
            self._api = ApiGateway(load_apis(self.state, self.client), self.runtime, self.account_id, self.region)
        return self._api.request(method, path, headers=headers, query=query, body=body, api=api, claims=claims)

    # -- S3 --------------------------------------------------------------------------------

    def put_object(self, bucket: str, key: str, body: bytes | str = b"") -> None:
        """Upload an object (notifications are queued; ``drain`` delivers them)."""
        self.client("s3").put_object(Bucket=bucket, Key=key, Body=body.encode() if isinstance(body, str) else body)

    # -- queues and the drain loop -------------------------------------------------------

    @property
    def poller(self) -> SqsPoller:
        """The SQS event source poller."""
        if self._poller is None:
            raise RuntimeError("the local cloud is not running")
        return self._poller

    @property
    def async_invoker(self) -> AsyncInvoker:
        """The queue of asynchronous invocations."""
        if self._async is None:
            raise RuntimeError("the local cloud is not running")
        return self._async

    @property
    def timeline(self) -> Timeline:
        """The drain loop and what it runs: pollers, async retries, move tasks, schedules."""
        if self._timeline is None:
            raise RuntimeError("the local cloud is not running")
        return self._timeline

    def drain(
        self, *, max_virtual_seconds: float = DEFAULT_MAX_VIRTUAL_SECONDS, max_rounds: int = 10_000
    ) -> DrainResult:
        """Deliver everything pending: SQS batches, async invocations and their retries, S3 notifications.

        Waits for running executions, polls every mapping, runs due async attempts and move
        tasks, fires scheduled rules, and when nothing is ready jumps the virtual clock to the
        next deadline (a message's visibility or delay ending, a retry, a schedule). Stops when
        no work is pending (schedules alone do not count), or after ``max_virtual_seconds`` of
        virtual time (``exhausted``: e.g. a poison message on a queue without a DLQ).
        """
        return self.timeline.drain(max_virtual_seconds=max_virtual_seconds, max_rounds=max_rounds)

    def advance(self, seconds: float, *, max_rounds: int = 100_000) -> DrainResult:
        """Let ``seconds`` of virtual time pass, running everything that falls due meanwhile.

        Scheduled rules fire at their times, messages are received as they become visible,
        retries run, TTLs and idempotency records expire: as if the app had run that long.
        """
        return self.timeline.advance(seconds, max_rounds=max_rounds)

    def settle(self, until: Callable[[], bool] | None = None, *, timeout_seconds: float = 300.0) -> bool:
        """Drain everything pending in virtual time (``timeout_seconds`` is for real targets).

        True once ``until()`` holds, or, without ``until``, when the drain emptied every queue.
        """
        drained = self.drain()
        return until() if until is not None else not drained.exhausted

    def _await_running_executions(self, timeout_seconds: float = 30.0) -> None:
        for arn in running_executions(self.account_id, self.region):
            with contextlib.suppress(TimeoutError):
                self.wait_for_execution(arn, timeout_seconds=timeout_seconds)

    def read_queue(self, queue_url: str, *, delete: bool = False) -> list[dict[str, Any]]:
        """Every message currently visible on a queue (e.g. a DLQ), left visible unless ``delete``."""
        return sqs.read_queue(self.client("sqs"), queue_url, delete=delete)

    def queue_depth(self, queue_url: str) -> dict[str, int]:
        """Visible and in-flight message counts."""
        return sqs.queue_depth(self.client("sqs"), queue_url)
