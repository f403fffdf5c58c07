"""One invocation's parts: what is recorded, the context a handler gets, its error payloads, its output.

``Invocation`` is what tests and the report see of a handler run; ``LambdaContext`` is the
Python runtime's context object; ``error_payload``/``runtime_error`` are the payloads the
runtime returns for an unhandled exception or its own failures; ``OutputRouter`` sends a
handler's ``print`` and log output to its own invocation's log while invocations overlap.
"""

from __future__ import annotations

import contextlib
import decimal
import io
import json
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

from moto.awslambda.models import LambdaFunction

from serverless_patterns.local.snapstart import SnapStartHookError

if TYPE_CHECKING:
    from serverless_patterns.local.container import Container

# Host variables a Lambda sandbox also has; everything else is dropped while a handler runs.
_KEPT_HOST_VARIABLES = ("PATH", "HOME", "TMPDIR", "LANG", "PYTEST_CURRENT_TEST", "SYSTEMROOT")
_CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
# Frames of the local cloud itself are left out of a stack trace, as the runtime's own are on AWS.
_LOCAL_CLOUD = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Invocation:
    """One run of a handler, as recorded for tests and the report."""

    request_id: str
    function_name: str
    qualifier: str | None
    executed_version: str
    invocation_type: str
    source: str
    event: Any
    result: Any
    error_type: str | None
    duration_ms: float
    logs: str
    cold_start: bool = False  # the first invocation of its container

    @property
    def failed(self) -> bool:
        """True when the function raised (or timed out, or returned something unserializable)."""
        return self.error_type is not None


def split_function(name_or_arn: str, qualifier: str | None = None) -> tuple[str, str | None]:
    """``(function name, qualifier)`` from a name, ``name:qualifier`` or a (qualified) ARN."""
    if name_or_arn.startswith("arn:"):
        parts = name_or_arn.split(":")
        name, embedded = parts[6], (parts[7] if len(parts) > 7 else None)
    elif ":" in name_or_arn:
        name, embedded = name_or_arn.split(":", 1)
    else:
        name, embedded = name_or_arn, None
    resolved = embedded or qualifier
    return name, (None if resolved in (None, "", "$LATEST") else resolved)


def error_payload(exc: BaseException, request_id: str) -> dict[str, Any]:
    """The Python runtime's payload for an unhandled exception."""
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(
            [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).parent != _LOCAL_CLOUD]
        ),
    }


@dataclass(frozen=True)
class Request:
    """One invocation in progress."""

    fn: LambdaFunction
    qualifier: str | None
    version: str
    source: str
    invocation_type: str
    event: Any
    request_id: str


@dataclass(frozen=True)
class Result:
    """The payload the caller gets, and the error type when it is an error payload."""

    payload: Any
    error_type: str | None


def runtime_error(error_type: str, message: str, request_id: str) -> Result:
    """An error raised by the runtime itself (not by the handler), e.g. Runtime.MarshalError."""
    payload = {"errorMessage": message, "errorType": error_type, "requestId": request_id, "stackTrace": []}
    return Result(payload, error_type)


def json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def call_handler(
    container: Container, handler_spec: str, event: Any, context: LambdaContext, request_id: str
) -> Result:
    """Import and call the handler; return its JSON-ready result or the runtime's error payload."""
    try:
        handler = container.handler(handler_spec)
    except SnapStartHookError as exc:
        return runtime_error("SnapStartException", str(exc), request_id)
    except Exception as exc:
        kind = "Runtime.ImportModuleError" if isinstance(exc, ImportError) else "Runtime.HandlerNotFound"
        return runtime_error(kind, f"Unable to import module '{handler_spec}': {exc}", request_id)
    try:
        returned = handler(event, context)
    except Exception as exc:
        traceback.print_exception(exc)  # the runtime logs unhandled errors too
        return Result(error_payload(exc, request_id), type(exc).__name__)
    try:
        return Result(json.loads(json.dumps(returned, default=json_default)), None)
    except (TypeError, ValueError) as exc:
        return runtime_error("Runtime.MarshalError", f"Unable to marshal response: {exc}", request_id)


class LambdaContext:
    """The context object a Python handler receives."""

    def __init__(
        self,
        *,
        function_name: str,
        function_version: str,
        invoked_function_arn: str,
        memory_limit_in_mb: int,
        aws_request_id: str,
        log_group_name: str,
        log_stream_name: str,
        timeout_seconds: float,
        elapsed: Callable[[], float] | None = None,
    ) -> None:
        self.function_name = function_name
        self.function_version = function_version
        self.invoked_function_arn = invoked_function_arn
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = aws_request_id
        self.log_group_name = log_group_name
        self.log_stream_name = log_stream_name
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._timeout_seconds = timeout_seconds
        started = time.monotonic()
        self._elapsed = elapsed or (lambda: time.monotonic() - started)

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout (time spent waiting for the runtime lock excluded)."""
        return max(0, int((self._timeout_seconds - self._elapsed()) * 1000))


class OutputRouter(io.TextIOBase):
    """sys.stdout/stderr while a handler runs: its output goes to its invocation's log.

    One router per stream lives as long as the runtime, because loggers created by
    handler code keep a reference to the stream they saw at import; writes from other
    threads, or outside any invocation, go on to the stream the router replaced.
    """

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.target: TextIO = getattr(sys, name)
        self._captures: dict[int, list[io.StringIO]] = {}
        self._users = 0
        self._replaced: object = None
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """Be ``sys.<name>`` while any invocation runs (whatever it replaced, e.g. pytest's capture, is the target)."""
        with self._lock:
            if self._users == 0:
                current = getattr(sys, self.name)
                if current is not self:
                    self.target = current
                self._replaced = current
                setattr(sys, self.name, self)
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    setattr(sys, self.name, self._replaced)

    @contextlib.contextmanager
    def capture(self, buffer: io.StringIO) -> Iterator[io.StringIO]:
        stack = self._captures.setdefault(threading.get_ident(), [])
        stack.append(buffer)
        try:
            yield buffer
        finally:
            stack.pop()

    def _passthrough(self) -> TextIO:
        """Where uncaptured output goes: today's sys stream (loggers may outlive this cloud)."""
        current: object = getattr(sys, self.name)
        return self.target if current is self else cast(TextIO, current)

    def write(self, text: str) -> int:
        stack = self._captures.get(threading.get_ident())
        if stack:
            return stack[-1].write(text)
        return self._passthrough().write(text)

    def flush(self) -> None:
        self._passthrough().flush()

    def isatty(self) -> bool:
        return self._passthrough().isatty()

    def fileno(self) -> int:
        return self._passthrough().fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.target, "encoding", "utf-8")


def save_logs(backend: Any, log_group: str, log_stream: str, text: str) -> None:
    """Write an invocation's log to its stream in the emulated CloudWatch Logs (at the virtual time)."""
    backend.ensure_log_group(log_group)
    backend.create_log_stream(log_group, log_stream)
    now = int(time.time() * 1000)
    events = [{"timestamp": now, "message": line} for line in text.splitlines() if line]
    backend.put_log_events(log_group, log_stream, events)


def lambda_environment(
    fn: LambdaFunction,
    properties: Mapping[str, Any],
    *,
    host: Mapping[str, str],
    region: str,
    log_group: str,
    log_stream: str,
    version: str,
    credentials: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The variables an invocation of ``fn`` sees: the runtime's, its credentials, the function's own.

    ``credentials`` (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``) are
    the execution role's as the sandbox would get them; without, the host's (or ``testing``).
    """
    logging_config = properties.get("LoggingConfig", {})
    environment = {name: host[name] for name in _KEPT_HOST_VARIABLES if name in host}
    environment.update({k: v for k, v in host.items() if k.startswith("MOTO_")})
    environment.update({name: host.get(name, "testing") for name in _CREDENTIAL_VARIABLES})
    environment.update(credentials or {})
    environment.update(
        {
            "_HANDLER": str(fn.handler),
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.run_time}",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size or 128),
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
            "LAMBDA_TASK_ROOT": "/var/task",
            "LAMBDA_RUNTIME_DIR": "/var/runtime",
            "TZ": ":UTC",
        }
    )
    if logging_config.get("LogFormat"):
        environment["AWS_LAMBDA_LOG_FORMAT"] = str(logging_config["LogFormat"])
    if logging_config.get("ApplicationLogLevel"):
        environment["AWS_LAMBDA_LOG_LEVEL"] = str(logging_config["ApplicationLogLevel"])
    environment.update({str(k): str(v) for k, v in (fn.environment_vars or {}).items()})
    return environment
