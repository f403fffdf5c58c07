"""LocalCloud: deploy a synthesized app into an embedded moto and drive traffic through it."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
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
)
from serverless_patterns.local.apigateway import ApiGateway, load_apis
from serverless_patterns.local.assets import BOOTSTRAP_VERSION, StackArtifact, read_stacks, select_assembly, synthesize
from serverless_patterns.local.async_invoke import AsyncInvoker, destination_sender
from serverless_patterns.local.clock import VirtualClock
from serverless_patterns.local.cloudformation import FAILED, SKIPPED, Deployer, DeploymentState, ResourceRecord
from serverless_patterns.local.event_sources import SqsPoller
from serverless_patterns.local.lambda_runtime import Invocation, LambdaRuntime
from serverless_patterns.local.stepfunctions import (
    WaitRecorder,
    await_execution,
    execution_name,
    name_rule_executions,
    running_executions,
    share_parsed_programs,
    share_task_clients,
)
from serverless_patterns.scenarios.target import ExecutionResult, HttpResponse, InvokeResult

if TYPE_CHECKING:
    from aws_cdk import Stage

MOTO_CONFIG: Any = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
    "core": {"reset_boto3_session": True},
}
DEFAULT_MAX_VIRTUAL_SECONDS = 24 * 3600.0
Progress = Callable[[str], None]


@dataclass(frozen=True)
class DrainResult:
    """What one drain did."""

    rounds: int
    records_delivered: int
    async_attempts: int
    virtual_seconds: float
    exhausted: bool


def _no_progress(message: str) -> None:
    """Progress sink that drops messages."""


class LocalCloud:
    """A synthesized CDK app deployed into an in-process emulated AWS (moto), with its code running.

    Use it as a context manager::

        with LocalCloud.deploy(stage) as cloud:          # or a cloud assembly directory
            cloud.invoke(cloud.outputs["EchoAlias"], {"hello": "world"})
            cloud.api_request("GET", "/items/42")
            cloud.drain()                                # queues, retries, notifications

    Inside it every boto3 client of the process (tests and handlers alike) talks to the
    emulator; on exit the emulator is discarded.
    """

    def __init__(
        self,
        source: Stage | str | Path,
        *,
        env: str | None = None,
        progress: Progress | None = None,
        echo_logs: bool = False,
    ) -> None:
        self._source = source
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
        self._api: ApiGateway | None = None

    @classmethod
    def deploy(
        cls,
        source: Stage | str | Path,
        *,
        env: str | None = None,
        progress: Progress | None = None,
        echo_logs: bool = False,
    ) -> LocalCloud:
        """A cloud that deploys ``source`` (a Stage, or a cloud assembly directory) when entered.

        ``env`` picks the nested assembly (``dev``, ``staging``, ``prod``) of a top-level
        ``cdk.out``; ``progress`` receives a line per step; ``echo_logs`` prints every
        invocation's log (they always go to the emulated CloudWatch Logs).
        """
        return cls(source, env=env, progress=progress, echo_logs=echo_logs)

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
            self.waits.install(stack)
            name_rule_executions(stack)
            share_task_clients(stack)
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
            self._bootstrap()
            deployer = Deployer(client=self.client, state=self.state)
            for artifact in self.stacks:
                self._progress(
                    f"creating stack {artifact.stack_name} ({len(artifact.template.get('Resources', {}))} resources)"
                )
                started = time.perf_counter()
                self.stack_outputs[artifact.stack_name] = deployer.deploy(artifact)
                self._progress(f"  {artifact.stack_name} created in {time.perf_counter() - started:.1f}s")
            self._poller = SqsPoller(
                runtime=runtime, clock=self.clock, client=self.client, mappings=self.state.sqs_mappings
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

    def _bootstrap(self) -> None:
        """What ``cdk bootstrap`` and the asset publishing of ``cdk deploy`` leave behind."""
        s3, ssm = self.client("s3"), self.client("ssm")
        for parameter in {a.bootstrap_parameter for a in self.stacks if a.bootstrap_parameter}:
            ssm.put_parameter(Name=parameter, Value=BOOTSTRAP_VERSION, Type="String", Overwrite=True)
        assets = {(a.bucket_name, a.object_key): a for artifact in self.stacks for a in artifact.assets}
        buckets = {bucket for bucket, _ in assets}
        for bucket in sorted(buckets):
            kwargs: dict[str, Any] = {"Bucket": bucket}
            if self.region != "us-east-1":
                kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
            s3.create_bucket(**kwargs)
        self._progress(f"publishing {len(assets)} asset(s) to {', '.join(sorted(buckets)) or 'no bucket'}")
        for (bucket, key), asset in sorted(assets.items()):
            s3.put_object(Bucket=bucket, Key=key, Body=asset.content())

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

    # -- inventory -------------------------------------------------------------------------

    @property
    def outputs(self) -> dict[str, str]:
        """Every stack's outputs, merged (later stacks win on a name clash)."""
        merged: dict[str, str] = {}
        for outputs in self.stack_outputs.values():
            merged.update(outputs)
        return merged

    @property
    def resources(self) -> list[ResourceRecord]:
        """Every template resource and what became of it."""
        return list(self.state.records)

    @property
    def skipped(self) -> list[ResourceRecord]:
        """Resources of types the local cloud does not support."""
        return [r for r in self.state.records if r.outcome == SKIPPED]

    @property
    def failed(self) -> list[ResourceRecord]:
        """Resources whose creation raised."""
        return [r for r in self.state.records if r.outcome == FAILED]

    def resource_counts(self) -> Counter[tuple[str, str]]:
        """How many resources of each (type, outcome)."""
        return Counter((r.resource_type, r.outcome) for r in self.state.records)

    def resource(self, path: str, resource_type: str | None = None) -> ResourceRecord:
        """The resource at construct ``path`` (e.g. ``"Api/Handler/LiveAlias"``) or with that logical id.

        ``path`` is matched against the end of the construct path; an L2 construct's path
        finds its ``Resource`` child.
        """
        wanted = path.strip("/")
        found = [
            r
            for r in self.state.records
            if (
                r.logical_id == wanted
                or ("/" + r.path.strip("/")).endswith("/" + wanted)
                or ("/" + r.path.strip("/")).endswith("/" + wanted + "/Resource")
            )
            and resource_type in (None, r.resource_type)
        ]
        if len(found) != 1:
            raise LookupError(
                f"{len(found)} resources match {path!r}" + (f" of type {resource_type}" if resource_type else "")
            )
        return found[0]

    def find(self, resource_type: str, *, under: str = "") -> list[ResourceRecord]:
        """Resources of ``resource_type`` whose construct path contains the segment(s) ``under``."""
        needle = "/" + under.strip("/") + "/" if under else ""
        return [r for r in self.state.records if r.resource_type == resource_type and needle in r.path + "/"]

    def has_construct(self, construct_id: str) -> bool:
        """True when a construct with this id (e.g. ``"ApiBackend"``) is part of a deployed stack."""
        return any(f"/{construct_id}/" in r.path for r in self.state.records)

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

    # -- Step Functions --------------------------------------------------------------------

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

    def drain(
        self, *, max_virtual_seconds: float = DEFAULT_MAX_VIRTUAL_SECONDS, max_rounds: int = 10_000
    ) -> DrainResult:
        """Deliver everything pending: SQS batches, async invocations and their retries, S3 notifications.

        Waits for running executions, polls every mapping, runs due async attempts, and when
        nothing is ready jumps the virtual clock to the next visibility timeout or retry.
        Stops when nothing is pending, or after ``max_virtual_seconds`` of virtual time
        (``exhausted``: e.g. a poison message on a queue without a DLQ).
        """
        started = self.clock.now()
        rounds = delivered = attempts = 0
        exhausted = False
        while rounds < max_rounds:
            rounds += 1
            self._await_running_executions()
            records = self.poller.poll_once()
            ran = self.async_invoker.process_due()
            delivered, attempts = delivered + records, attempts + ran
            if records or ran:
                continue
            upcoming = [t for t in (self.poller.next_visible_at(), self.async_invoker.next_due()) if t is not None]
            if not upcoming:
                break
            if min(upcoming) - started > max_virtual_seconds:
                exhausted = True
                break
            self.clock.advance_to(min(upcoming))
            self.poller.expire_due()
        else:
            exhausted = True
        return DrainResult(rounds, delivered, attempts, self.clock.now() - started, exhausted)

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
        sqs = self.client("sqs")
        messages: list[dict[str, Any]] = []
        while True:
            batch = sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=3600,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not batch:
                break
            messages += batch
        for message in messages:
            if delete:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            else:
                sqs.change_message_visibility(
                    QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
        return messages

    def queue_depth(self, queue_url: str) -> dict[str, int]:
        """Visible and in-flight message counts."""
        attributes = self.client("sqs").get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return {
            "visible": int(attributes["ApproximateNumberOfMessages"]),
            "in_flight": int(attributes["ApproximateNumberOfMessagesNotVisible"]),
        }
