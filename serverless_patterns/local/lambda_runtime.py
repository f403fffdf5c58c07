"""Runs deployed Lambda functions in this process, the way the Python runtime would.

moto stores functions but, without Docker, does not run them. Here an invocation of a
function (any path: the Lambda API, Step Functions, API Gateway, the SQS poller, async
retries) extracts the zip that was deployed to the emulator, imports the function's
``Handler`` from it and calls it with the function's environment variables and a
Lambda-like context. Errors come back as the Python runtime's payload
(``errorMessage``/``errorType``/``stackTrace``, errorType = the exception's class name)
with ``X-Amz-Function-Error: Unhandled``, so Step Functions Retry/Catch match on class names
exactly as on AWS.

Each deployed code version runs in *containers*, each with its own module namespace. All
handler assets contain ``serverless_patterns.lambdas...``, which the test process imports
too; while a container's code runs, every module under the asset's top-level packages is
swapped into ``sys.modules`` and back out afterwards (also around each AWS request it
makes), so module-level caches (settings, boto3 clients) live per container and never
leak between functions or into the caller.
As on AWS, a container runs one invocation at a time: concurrent invocations of a
function get more containers (cold starts), up to ``max_containers`` per function
version, or as many as its event sources deliver batches at once (``reserve_capacity``),
and never more than the function's reserved concurrency; beyond that an invocation
waits for a free container instead of being throttled.

Invocations run concurrently (Step Functions executions, API calls from several threads),
interleaved the way that matters for distributed races: at AWS API calls. Handler Python
code holds the runtime lock; every AWS request a handler makes (every boto3 call reaching
the emulator) releases it, so other invocations run while it waits for its answer. The
time an invocation spends waiting for the lock is not counted against its timeout nor
its remaining time. ``os.environ`` is per thread while a handler runs (only the runtime's
variables and the function's own), so a handler that relies on a variable its stack forgot
fails here as it would on AWS, and concurrent invocations never see each other's
environment nor change the process's. The emulator's DynamoDB applies one request at a time
(``dynamodb.serialize``), as DynamoDB orders conflicting writes: moto's transactions copy and
restore whole tables and are not safe across threads otherwise.

Not isolated per container: packages outside the asset other than the layer's (boto3,
pydantic), and the root logger. Each container imports its own Powertools (the layer) and
has its own logging registry (see ``sandbox``), so one invocation's log keys, correlation
id and metrics never appear in another's output. Threads a handler starts inherit its
environment; they may run while another container's modules are installed, so they should
not import asset modules lazily. See ``sandbox`` for the mechanics.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

from moto.awslambda.models import LambdaBackend, LambdaFunction
from moto.awslambda.utils import get_backend as get_lambda_backend
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.events import notifications as event_notifications
from moto.logs.models import logs_backends

from serverless_patterns.local import dynamodb
from serverless_patterns.local.container import LAYER_PACKAGES, Container, extract_code, top_level_names
from serverless_patterns.local.invocation import (
    Invocation,
    LambdaContext,
    OutputRouter,
    Request,
    Result,
    call_handler,
    json_default,
    lambda_environment,
    runtime_error,
    save_logs,
    split_function,
)
from serverless_patterns.local.permissions.services import lambda_service_writes
from serverless_patterns.local.sandbox import DEFAULT_MAX_CONTAINERS, LocalDeadlockError, Sandbox, ThreadEnviron

if TYPE_CHECKING:
    from serverless_patterns.local.permissions.enforcer import Enforcer

FUNCTION_ERROR_HEADER = "x-amz-function-error"

AsyncEnqueue = Callable[[str, str, str], str]


class LambdaRuntime:
    """Runs the Python functions deployed to moto, records every invocation."""

    def __init__(
        self,
        *,
        account_id: str,
        region: str,
        code_root: Path,
        function_properties: Callable[[str], Mapping[str, Any]] = lambda name: {},
        echo_logs: bool = False,
        max_containers: int = DEFAULT_MAX_CONTAINERS,
    ) -> None:
        self.account_id = account_id
        self.region = region
        self.code_root = code_root
        self.function_properties = function_properties
        self.echo_logs = echo_logs
        self.invocations: list[Invocation] = []
        self.enqueue_async: AsyncEnqueue | None = None
        self.permissions: Enforcer | None = None  # set by the cloud: each function runs as its role
        self.listeners: list[Callable[[Invocation], None]] = []  # told of every invocation as it is recorded
        self.sandbox = Sandbox(max_containers=max_containers)
        self._capacity: dict[str, int] = {}
        self._host_environ: Mapping[str, str] = os.environ
        self._environ: ThreadEnviron | None = None
        self._source = threading.local()
        self._stdout: OutputRouter | None = None
        self._stderr: OutputRouter | None = None

    # -- wiring into moto ----------------------------------------------------------------

    def install(self, stack: ExitStack) -> None:
        """Route every way moto runs a function to this runtime (undone when ``stack`` closes)."""
        runtime = self

        def backend_invoke(
            backend: LambdaBackend,
            function_name: str,
            qualifier: str | None,
            body: Any,
            headers: Any,
            response_headers: Any,
        ) -> bytes:
            return runtime._api_invoke(backend, function_name, qualifier, body, headers or {}, response_headers)

        def function_invoke(fn: LambdaFunction, body: Any, request_headers: Any, response_headers: Any) -> bytes:
            # moto's own integrations (SNS, streams, log subscriptions) call this directly; on AWS
            # they are asynchronous invocations, so they go through the async queue.
            payload = body if isinstance(body, str) else json.dumps(body)
            qualifier = None if str(fn.version) == "$LATEST" else str(fn.version)
            runtime._enqueue(runtime.function_arn(fn.function_name, qualifier), payload, "moto")
            return b""

        def eventbridge_invoke(account_id: str, fn_arn: str, event: Any) -> None:
            runtime._enqueue(fn_arn, json.dumps(event), "events")

        stack.enter_context(mock.patch.object(LambdaBackend, "invoke", backend_invoke))
        stack.enter_context(mock.patch.object(LambdaSimpleBackend, "invoke", backend_invoke))
        stack.enter_context(mock.patch.object(LambdaFunction, "invoke", function_invoke))
        stack.enter_context(mock.patch.object(event_notifications, "_invoke_lambda", eventbridge_invoke))

        self._stdout, self._stderr = OutputRouter("stdout"), OutputRouter("stderr")
        self._host_environ = os.environ
        self._environ = ThreadEnviron(os.environ)
        self._environ.install(stack, self.sandbox.holds_lock)
        self.sandbox.install(stack)
        dynamodb.serialize(stack)
        dynamodb.item_level_rollback(stack)

    @contextlib.contextmanager
    def source(self, name: str) -> Iterator[None]:
        """Label the invocations made from this thread (``sqs``, ``s3``, ``apigateway``...)."""
        previous = getattr(self._source, "name", None)
        self._source.name = name
        try:
            yield
        finally:
            self._source.name = previous

    def function_arn(self, function_name: str, qualifier: str | None = None) -> str:
        """The (qualified) ARN of a function of this cloud."""
        arn = f"arn:aws:lambda:{self.region}:{self.account_id}:function:{function_name}"
        return f"{arn}:{qualifier}" if qualifier else arn

    def _enqueue(self, invoked_arn: str, payload: str, source: str) -> str:
        if self.enqueue_async is None:
            raise RuntimeError("asynchronous invocations need the cloud's async invoker")
        return self.enqueue_async(invoked_arn, payload, source)

    def _api_invoke(
        self,
        backend: LambdaBackend,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Mapping[str, Any],
        response_headers: dict[str, Any],
    ) -> bytes:
        name, qualifier = split_function(function_name, qualifier)
        fn = backend.get_function(name, qualifier)  # raises ResourceNotFound like the API
        lowered = {str(k).lower(): v for k, v in headers.items()}
        invocation_type = lowered.get("x-amz-invocation-type", "RequestResponse")
        payload = body.decode() if isinstance(body, bytes) else (body or "")
        if invocation_type == "Event":
            self._enqueue(
                self.function_arn(fn.function_name, qualifier), payload or "{}", self._current_source("invoke")
            )
            return b""
        if invocation_type == "DryRun":
            return b""
        invocation = self.run(fn, qualifier=qualifier, payload=payload, source=self._current_source("invoke"))
        body_bytes = json.dumps(invocation.result, default=json_default).encode()
        if invocation.failed:
            response_headers[FUNCTION_ERROR_HEADER] = "Unhandled"
        response_headers["x-amz-executed-version"] = invocation.executed_version
        response_headers["x-amz-log-result"] = base64.b64encode(invocation.logs[-4096:].encode()).decode()
        response_headers["Content-Length"] = str(len(body_bytes))
        return body_bytes

    def _current_source(self, default: str) -> str:
        return getattr(self._source, "name", None) or default

    # -- running handlers ----------------------------------------------------------------

    def resolve(self, name_or_arn: str, qualifier: str | None = None) -> tuple[LambdaFunction, str | None]:
        """The moto function object that ``name_or_arn`` (and ``qualifier``) designates."""
        name, qualifier = split_function(name_or_arn, qualifier)
        backend = get_lambda_backend(self.account_id, self.region)
        return backend.get_function(name, qualifier), qualifier

    def invoke(
        self,
        name_or_arn: str,
        payload: Any,
        *,
        qualifier: str | None = None,
        source: str = "invoke",
        invocation_type: str = "RequestResponse",
    ) -> Invocation:
        """Run a function (no API round trip), e.g. for pollers and async attempts."""
        fn, qualifier = self.resolve(name_or_arn, qualifier)
        text = payload if isinstance(payload, str) else json.dumps(payload, default=json_default)
        return self.run(fn, qualifier=qualifier, payload=text, source=source, invocation_type=invocation_type)

    def run(
        self,
        fn: LambdaFunction,
        *,
        qualifier: str | None,
        payload: str,
        source: str,
        invocation_type: str = "RequestResponse",
    ) -> Invocation:
        """Run ``fn``'s handler with ``payload`` (JSON text); record and return the invocation."""
        try:
            event = json.loads(payload) if payload else {}
        except json.JSONDecodeError:
            event = payload
        request = Request(fn, qualifier, str(fn.version), source, invocation_type, event, str(uuid.uuid4()))
        if not str(fn.run_time or "").startswith("python"):
            message = f"the local cloud runs Python functions only, not {fn.run_time or 'container images'}"
            return self._record(request, runtime_error("Runtime.Unsupported", message, request.request_id))
        try:
            with self.sandbox.container(self._container_key(fn), lambda: self._new_container(fn), self._limit(fn)) as c:
                return self._run_in(c, request)
        except LocalDeadlockError as exc:
            return self._record(request, runtime_error("Runtime.LocalDeadlock", str(exc), request.request_id))

    def _run_in(self, container: Container, request: Request) -> Invocation:
        fn = request.fn
        properties = self.function_properties(fn.function_name)
        log_group = properties.get("LoggingConfig", {}).get("LogGroup") or f"/aws/lambda/{fn.function_name}"
        log_stream = f"{time.strftime('%Y/%m/%d')}/[{request.version}]{uuid.uuid4().hex}"
        timeout = float(fn.timeout or 3)
        environment = lambda_environment(
            fn,
            properties,
            host=self._host_environ,
            region=self.region,
            log_group=log_group,
            log_stream=log_stream,
            version=request.version,
            credentials=self._credentials(fn.function_name),
        )
        with ExitStack() as stack:
            frame = stack.enter_context(self.sandbox.running(container))
            cold_start = container.invocations == 0
            container.invocations += 1
            started = time.perf_counter()

            def elapsed() -> float:
                return time.perf_counter() - started - frame.waited

            context = LambdaContext(
                function_name=fn.function_name,
                function_version=request.version,
                invoked_function_arn=self.function_arn(fn.function_name, request.qualifier),
                memory_limit_in_mb=int(fn.memory_size or 128),
                aws_request_id=request.request_id,
                log_group_name=log_group,
                log_stream_name=log_stream,
                timeout_seconds=timeout,
                elapsed=elapsed,
            )
            buffer = io.StringIO()
            for router in (self._stdout, self._stderr):
                if router is not None:
                    stack.enter_context(router.installed())
                    stack.enter_context(router.capture(buffer))
            if self._environ is not None:
                stack.enter_context(self._environ.overlay(environment))
            result = call_handler(container, str(fn.handler), request.event, context, request.request_id)
            output = buffer.getvalue()
            duration_ms = elapsed() * 1000
            if duration_ms > timeout * 1000:
                message = f"{request.request_id} Task timed out after {timeout:.2f} seconds"
                result = runtime_error("Sandbox.Timedout", message, request.request_id)
            logs = (
                f"START RequestId: {request.request_id} Version: {request.version}\n{output}"
                f"END RequestId: {request.request_id}\n"
                f"REPORT RequestId: {request.request_id}\tDuration: {duration_ms:.2f} ms\t"
                f"Memory Size: {context.memory_limit_in_mb} MB\n"
            )
        stream_arn = f"arn:aws:logs:{self.region}:{self.account_id}:log-group:{log_group}:log-stream:{log_stream}"
        if lambda_service_writes(self.permissions, fn.function_name, properties, stream_arn):
            save_logs(logs_backends[self.account_id][self.region], log_group, log_stream, logs)
        return self._record(request, result, duration_ms=duration_ms, logs=logs, cold_start=cold_start)

    def _credentials(self, function_name: str) -> dict[str, str] | None:
        enforcer = self.permissions
        return enforcer.credentials_for(function_name) if enforcer is not None and enforcer.enabled else None

    def _record(
        self, request: Request, result: Result, *, duration_ms: float = 0.0, logs: str = "", cold_start: bool = False
    ) -> Invocation:
        invocation = Invocation(
            request_id=request.request_id,
            function_name=request.fn.function_name,
            qualifier=request.qualifier,
            executed_version=request.version,
            invocation_type=request.invocation_type,
            source=request.source,
            event=request.event,
            result=result.payload,
            error_type=result.error_type,
            duration_ms=duration_ms,
            logs=logs,
            cold_start=cold_start,
        )
        self.invocations.append(invocation)
        for listener in self.listeners:
            listener(invocation)
        if self.echo_logs and self._stdout is not None:
            self._stdout.target.write(logs)
        return invocation

    @staticmethod
    def _container_key(fn: LambdaFunction) -> str:
        return f"{fn.function_name}:{fn.version}:{fn.code_sha_256}"

    def _limit(self, fn: LambdaFunction) -> int:
        """How many containers the function may have: what its event sources need, at most its reserved concurrency."""
        wanted = max(self.sandbox.max_containers, self._capacity.get(fn.function_name, 0))
        reserved = getattr(fn, "reserved_concurrency", None)
        return min(wanted, int(reserved)) if reserved else wanted

    def reserved_concurrency(self, name_or_arn: str) -> int | None:
        """The function's reserved concurrency, when it has one."""
        fn, _ = self.resolve(name_or_arn)
        reserved = getattr(fn, "reserved_concurrency", None)
        return int(reserved) if reserved else None

    def reserve_capacity(self, name_or_arn: str, concurrency: int) -> None:
        """Let the function have ``concurrency`` containers (an event source delivering that many batches at once)."""
        name, _ = split_function(name_or_arn)
        self._capacity[name] = max(self._capacity.get(name, 0), concurrency)

    def containers(self, function_name: str) -> list[Container]:
        """The containers a function's versions have had so far (one per concurrent invocation)."""
        return self.sandbox.containers(f"{function_name}:")

    def _new_container(self, fn: LambdaFunction) -> Container:
        """A cold container: the version's code extracted once (shared), with a module namespace of its own."""
        code_dir = extract_code(self.code_root, fn.code_bytes, str(fn.code_sha_256))
        snap_start = self.function_properties(fn.function_name).get("SnapStart") or {}
        return Container(
            key=self._container_key(fn),
            code_dir=code_dir,
            roots=top_level_names(code_dir) | LAYER_PACKAGES,
            # SnapStart restores published versions only; $LATEST initialises as usual.
            snap_start=snap_start.get("ApplyOn") == "PublishedVersions" and str(fn.version) != "$LATEST",
        )
