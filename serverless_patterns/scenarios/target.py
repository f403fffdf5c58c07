"""What a scenario drives: the deployed app, on the local cloud or in a real AWS account.

Scenarios are written once against ``Target``; ``serverless_patterns.local.LocalCloud``
implements it over the embedded emulated cloud, and the opt-in real-account suite
implements it over a deployed stage, so the two never drift.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class HttpResponse:
    """What the API's client receives (header names lower-case)."""

    status_code: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        """The body parsed as JSON (None when empty)."""
        return json.loads(self.body) if self.body else None


@dataclass(frozen=True)
class InvokeResult:
    """A synchronous Lambda API invocation as the caller sees it."""

    status_code: int
    payload: Any
    function_error: str | None
    executed_version: str | None


@dataclass(frozen=True)
class ExecutionResult:
    """How a Step Functions execution ended."""

    execution_arn: str
    status: str
    output: Any
    error: str | None
    cause: str | None

    @property
    def succeeded(self) -> bool:
        """True when the execution ended in SUCCEEDED."""
        return self.status == "SUCCEEDED"


class Resource(Protocol):
    """A deployed resource, found by its construct path."""

    @property
    def logical_id(self) -> str: ...

    @property
    def resource_type(self) -> str: ...

    @property
    def path(self) -> str: ...

    @property
    def physical_id(self) -> str: ...


def path_matches(resource_path: str, logical_id: str, wanted: str) -> bool:
    """How ``Target.resource`` finds a resource: by logical id, or by the end of its construct path.

    ``wanted`` (e.g. ``"Api/Handler/LiveAlias"``) matches whole trailing path segments, so the
    stage and stack names never appear in a scenario; an L2 construct's path also finds its
    ``Resource`` child (``"AlarmTopic/DeliveryFailures"`` finds ``.../DeliveryFailures/Resource``).
    """
    wanted = wanted.strip("/")
    path = "/" + resource_path.strip("/")
    return logical_id == wanted or path.endswith("/" + wanted) or path.endswith("/" + wanted + "/Resource")


def path_is_under(resource_path: str, under: str) -> bool:
    """How ``Target.find`` narrows by ``under``: the construct path holds those whole segment(s)."""
    if not under.strip("/"):
        return True
    return "/" + under.strip("/") + "/" in "/" + resource_path.strip("/") + "/"


class Target(Protocol):
    """The operations scenarios use; nothing here is specific to one target."""

    @property
    def outputs(self) -> dict[str, str]:
        """The service stack's outputs (ApiUrl, UploadBucketName, ...)."""
        ...

    def has_construct(self, construct_id: str) -> bool:
        """True when a pattern with this construct id is deployed."""
        ...

    def resource(self, path: str, resource_type: str | None = None) -> Resource:
        """The resource at construct ``path`` (e.g. ``"Api/Handler/LiveAlias"``)."""
        ...

    def find(self, resource_type: str, *, under: str = "") -> list[Any]:
        """Every resource of a type, optionally below a construct path."""
        ...

    def client(self, service: str) -> Any:
        """A boto3 client for the target's account and region."""
        ...

    def api_request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> HttpResponse:
        """Call the items API (authenticated as the target allows)."""
        ...

    def invoke(self, function: str, payload: Any = None, *, qualifier: str | None = None) -> InvokeResult:
        """Invoke a function synchronously through the Lambda API."""
        ...

    def put_object(self, bucket: str, key: str, body: bytes | str = b"") -> None:
        """Upload an object (S3 notifications fire as on AWS)."""
        ...

    def run_execution(
        self,
        state_machine_arn: str,
        execution_input: Any = None,
        *,
        name: str | None = None,
        timeout_seconds: float = 300.0,
    ) -> ExecutionResult:
        """Start a named execution and wait for its end (at most ``timeout_seconds``: TimeoutError)."""
        ...

    def settle(self, until: Callable[[], bool] | None = None, *, timeout_seconds: float = 300.0) -> bool:
        """Let pending asynchronous work finish (queues, async invokes, retries).

        Returns True once ``until()`` holds (or, without ``until``, once nothing is pending
        where the target can tell). The local cloud drains in virtual time; a real stage polls.
        """
        ...
