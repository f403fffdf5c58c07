"""Warm invocation overhead: a handler on the local cloud against the same AWS calls made directly.

Each handler serves its captured event once (its container's cold start, its calls recorded
to create the replay's clients), then ``runs`` rounds alternate: the handler serves the event
while every SDK call it makes is recorded (service, operation, parameters), and right after,
the same calls are replayed in order with plain boto3 clients against the same emulator. The
replays are the floor: what the work costs without the handler around it (parsing,
validation, logging, metrics, the local runtime's context switch). Both sides pay the
emulator's per-call cost alike.

A replayed call can fail where the handler's succeeded, because the handler's own call already
made the change (a conditional write, a create); it still costs a request, so it stays in the
timing, and every such error is counted per operation and error code in the results
(``replay_errors``) and the report, never dropped. Any other exception stops the bench. Calls
a handler makes from several threads at once are replayed one after another, which makes that
handler look cheaper than it is.
"""

from __future__ import annotations

import copy
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock

import boto3
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from bench.events import Captured
from bench.measure import Sample, ratio
from serverless_patterns.local import LocalCloud

# The one botocore method every API call of every client goes through.
_ORIGINAL_CALL: Callable[[BaseClient, str, dict[str, Any]], Any] = BaseClient._make_api_call  # type: ignore[attr-defined]
_ORIGINAL_CONVERT: Callable[..., Any] = BaseClient._convert_to_request_dict  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Call:
    """One SDK call as the handler made it."""

    service: str
    operation: str
    params: dict[str, Any]


class CallRecorder:
    """Records every botocore API call of the process while ``recording``."""

    def __init__(self) -> None:
        self._calls: list[Call] | None = None
        self._lock = threading.Lock()

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Patch botocore for the duration (calls pass through unchanged)."""
        recorder = self

        def make_api_call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            return _ORIGINAL_CALL(client, operation, {key: _readable(value) for key, value in params.items()})

        def convert_to_request_dict(
            client: BaseClient, api_params: dict[str, Any], operation_model: Any, *args: Any, **kwargs: Any
        ) -> Any:
            # Recorded here, after the before-parameter-build handlers: a boto3 resource's call
            # (Table.get_item) is then in the low-level form a plain client sends.
            with recorder._lock:
                if recorder._calls is not None:
                    service = client.meta.service_model.service_name
                    recorder._calls.append(Call(service, operation_model.name, copy.deepcopy(api_params)))
            return _ORIGINAL_CONVERT(client, api_params, operation_model, *args, **kwargs)

        with (
            mock.patch.object(BaseClient, "_make_api_call", make_api_call),
            mock.patch.object(BaseClient, "_convert_to_request_dict", convert_to_request_dict),
        ):
            yield

    @contextmanager
    def recording(self) -> Iterator[list[Call]]:
        """Collect the calls made inside the block."""
        calls: list[Call] = []
        self._calls = calls
        try:
            yield calls
        finally:
            self._calls = None


def _readable(value: Any) -> Any:
    """A stream parameter (an S3 Body) as bytes, so the handler's call and the replay send the same."""
    read = getattr(value, "read", None)
    return read() if callable(read) else value


class Replayer:
    """Plain boto3 clients, one per service, created before timing (as a warm container holds them)."""

    def __init__(self, region: str) -> None:
        self.region = region
        self._clients: dict[str, BaseClient] = {}

    def prepare(self, calls: list[Call]) -> None:
        for call in calls:
            if call.service not in self._clients:
                self._clients[call.service] = boto3.client(call.service, region_name=self.region)  # type: ignore[call-overload]

    def replay(self, calls: list[Call], errors: Counter[str]) -> float:
        """Seconds the calls take made directly; each call that fails is counted in ``errors``, and still timed."""
        failed: list[str] = []
        started = time.perf_counter()
        for call in calls:
            try:
                _ORIGINAL_CALL(self._clients[call.service], call.operation, call.params)
            except ClientError as error:  # e.g. a conditional write the handler's own call already made
                failed.append(f"{call.service}:{call.operation} {error.response.get('Error', {}).get('Code', '?')}")
        seconds = time.perf_counter() - started
        errors.update(failed)
        return seconds


def measure(cloud: LocalCloud, captured: Mapping[str, Captured], *, runs: int) -> dict[str, Any]:
    """Per handler: warm invocation vs direct calls (median, min, max), calls per invocation, replay errors."""
    recorder = CallRecorder()
    replayer = Replayer(cloud.region)
    results: dict[str, Any] = {}
    with recorder.installed():
        for path, event in captured.items():
            with recorder.recording() as first_calls:  # the container's cold start
                cloud.runtime.invoke(event.function_name, event.event, qualifier="live")
            replayer.prepare(first_calls)
            handler_runs, direct_runs, call_counts = [], [], []
            errors: Counter[str] = Counter()
            operations: set[str] = set()
            for _ in range(runs):  # alternating rounds: the handler, then its calls made directly
                with recorder.recording() as calls:
                    invocation = cloud.runtime.invoke(event.function_name, event.event, qualifier="live")
                if invocation.failed:
                    raise RuntimeError(f"{path} failed warm: {invocation.result}")
                replayer.prepare(calls)
                handler_runs.append(invocation.duration_ms / 1000)
                direct_runs.append(replayer.replay(calls, errors))
                call_counts.append(len(calls))
                operations.update(f"{c.service}:{c.operation}" for c in calls)
            direct = Sample(tuple(direct_runs))
            handler = Sample(tuple(handler_runs))
            results[path] = {
                "handler": handler.as_dict(),
                "direct_calls": direct.as_dict(),
                "calls_per_invocation": round(sum(call_counts) / len(call_counts), 2),
                "operations": sorted(operations),
                "replay_errors": dict(sorted(errors.items())),
                "overhead_ms": round((handler.median - direct.median) * 1000, 2),
                "ratio": ratio(handler, direct) if direct.median > 0 else None,
            }
    return {"runs": runs, "method": "alternating", "handlers": results}
