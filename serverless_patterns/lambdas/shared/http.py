"""A small HTTP client for external services: bounded timeouts, no hidden retries, breaker-aware.

Every request has a connect and a read timeout (set by the construct well under
the function's timeout) and goes through the dependency's circuit breaker. The
client never retries by itself: the caller's orchestrator (Step Functions
retries, SQS redelivery) does, with backoff, so thousands of concurrent Lambdas
do not multiply the load on a service that is already struggling.

Usage::

    gateway = HttpClient.from_env("payment-gateway")
    response = gateway.post("/charges", json_body={"order_id": order_id, "amount": amount})

``UpstreamUnavailableError`` (timeouts, refused connections, 408, 429, 5xx)
counts against the breaker and means "retry later", like ``CircuitOpenError``:
both are ``DependencyUnavailableError``. ``UpstreamRejectedError`` (any other
non-2xx answer) proves the service is up; retrying will not help.
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import urllib3
from botocore.config import Config

from serverless_patterns.lambdas.shared.circuit_breaker import CircuitBreaker, DependencyUnavailableError
from serverless_patterns.lambdas.shared.circuit_breaker_contract import (
    CONNECT_TIMEOUT_ENV,
    READ_TIMEOUT_ENV,
    secret_env,
    url_env,
)
from serverless_patterns.lambdas.shared.observability import logger
from serverless_patterns.lambdas.shared.settings import load_settings
from serverless_patterns.lambdas.shared.shapes import Shape, field

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

DEFAULT_CONNECT_TIMEOUT_SECONDS = 1.0
DEFAULT_READ_TIMEOUT_SECONDS = 3.0
MAX_RESPONSE_BYTES = 1024 * 1024
# Credentials are re-read this often, so a rotated secret is picked up without a deployment.
SECRET_MAX_AGE_SECONDS = 300
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
RETRY_LATER_STATUSES = frozenset({408, 429})


class UpstreamUnavailableError(DependencyUnavailableError):
    """No useful answer (timeout, connection or TLS failure, 408, 429, 5xx): retry later."""

    def __init__(self, dependency: str, reason: str, *, status: int | None = None) -> None:
        self.dependency = dependency
        self.status = status
        super().__init__(f"{dependency} unavailable: {reason}")


class UpstreamRejectedError(Exception):
    """The service answered with a non-2xx status that retrying will not change (3xx, most 4xx)."""

    def __init__(self, dependency: str, status: int, body: bytes) -> None:
        self.dependency = dependency
        self.status = status
        self.body = body  # kept for the caller to inspect; never put into messages or logs
        super().__init__(f"{dependency} rejected the request with HTTP {status}")


@dataclass(frozen=True)
class HttpResponse:
    """A 2xx answer, read in full (at most ``max_response_bytes``)."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON (``None`` when empty)."""
        return json.loads(self.body) if self.body else None


class HttpClient:
    """Calls one external service under its circuit breaker.

    ``headers`` is called before every request (after any secret behind it was
    cached), so rotated credentials are used without a restart. One client per
    dependency and container (``from_env`` keeps them): its connections are
    pooled and kept alive between invocations.
    """

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        connect_timeout_seconds: float = DEFAULT_CONNECT_TIMEOUT_SECONDS,
        read_timeout_seconds: float = DEFAULT_READ_TIMEOUT_SECONDS,
        breaker: CircuitBreaker | None = None,
        headers: Callable[[], Mapping[str, str]] | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        if connect_timeout_seconds <= 0 or read_timeout_seconds <= 0:
            raise ValueError("connect and read timeouts must be > 0: a call without one can hang the function")
        parts = urlsplit(base_url)
        if parts.username or parts.password:
            raise ValueError(f"{name}: credentials belong in the secret, not in the URL")
        if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS):
            raise ValueError(f"{name}: the URL must use https:// (plain http only to a loopback address)")
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.breaker = breaker
        self.timeout = urllib3.Timeout(connect=connect_timeout_seconds, read=read_timeout_seconds)
        self.max_response_bytes = max_response_bytes
        self._headers = headers or dict
        self._pool = urllib3.PoolManager(timeout=self.timeout, retries=False, cert_reqs="CERT_REQUIRED")

    @classmethod
    def from_env(cls, name: str) -> HttpClient:
        """This container's client for ``name``: URL, secret and timeouts from the construct's variables."""
        return _client_from_env(name)

    def get(self, path: str = "", *, headers: Mapping[str, str] | None = None) -> HttpResponse:
        """GET ``path`` under the base URL."""
        return self.request("GET", path, headers=headers)

    def post(self, path: str = "", *, json_body: Any = None, headers: Mapping[str, str] | None = None) -> HttpResponse:
        """POST ``json_body`` as JSON to ``path`` under the base URL."""
        return self.request("POST", path, json_body=json_body, headers=headers)

    def request(
        self, method: str, path: str = "", *, json_body: Any = None, headers: Mapping[str, str] | None = None
    ) -> HttpResponse:
        """One call, under the breaker; raises instead of returning anything but a 2xx."""
        sent_headers = {"Accept": "application/json", **self._headers(), **(headers or {})}
        body = None
        if json_body is not None:
            body = json.dumps(json_body, separators=(",", ":")).encode()
            sent_headers["Content-Type"] = "application/json"
        url = f"{self.base_url}/{path.lstrip('/')}" if path else self.base_url
        if self.breaker is None:
            return self._send(method, url, body, sent_headers)
        with self.breaker.guard(failure_types=(UpstreamUnavailableError,)):
            return self._send(method, url, body, sent_headers)

    def _send(self, method: str, url: str, body: bytes | None, headers: Mapping[str, str]) -> HttpResponse:
        started = time.monotonic()
        try:
            response = self._pool.request(
                method, url, body=body, headers=headers, redirect=False, preload_content=False
            )
        except urllib3.exceptions.HTTPError as error:
            raise UpstreamUnavailableError(self.name, type(error).__name__) from error
        try:
            content = response.read(self.max_response_bytes + 1)
            if len(content) > self.max_response_bytes:
                response.close()  # never hand a half-read connection back to the pool
                raise UpstreamUnavailableError(self.name, f"response larger than {self.max_response_bytes} bytes")
        except urllib3.exceptions.HTTPError as error:
            response.close()
            raise UpstreamUnavailableError(self.name, f"reading the response: {type(error).__name__}") from error
        finally:
            response.release_conn()
        status = response.status
        logger.debug(
            "HTTP call",
            extra={
                "dependency": self.name,
                "method": method,
                "path": urlsplit(url).path,  # never the query string: it may carry identifiers
                "status": status,
                "elapsed_ms": round((time.monotonic() - started) * 1000),
            },
        )
        if status >= 500 or status in RETRY_LATER_STATUSES:
            raise UpstreamUnavailableError(self.name, f"HTTP {status}", status=status)
        if not 200 <= status < 300:
            raise UpstreamRejectedError(self.name, status, content)
        return HttpResponse(status=status, headers=dict(response.headers), body=content)


class _HttpEnvironment(Shape):
    """The timeouts ``CircuitBreakers.grant`` sets on a function."""

    connect_timeout_seconds: float = field(default=DEFAULT_CONNECT_TIMEOUT_SECONDS, key=CONNECT_TIMEOUT_ENV, gt=0)
    read_timeout_seconds: float = field(default=DEFAULT_READ_TIMEOUT_SECONDS, key=READ_TIMEOUT_ENV, gt=0)


@functools.cache
def _client_from_env(name: str) -> HttpClient:
    try:
        base_url = os.environ[url_env(name)]
    except KeyError:
        raise RuntimeError(f"{url_env(name)} is not set: connect the function to {name!r} in the stack") from None
    secret_arn = os.environ.get(secret_env(name))
    timeouts = load_settings(_HttpEnvironment)
    return HttpClient(
        name,
        base_url,
        connect_timeout_seconds=timeouts.connect_timeout_seconds,
        read_timeout_seconds=timeouts.read_timeout_seconds,
        breaker=CircuitBreaker.from_env(name),
        headers=functools.partial(secret_headers, secret_arn) if secret_arn else None,
    )


def secret_headers(secret_id: str) -> dict[str, str]:
    """The HTTP headers kept in a secret: a JSON object such as ``{"Authorization": "Bearer ..."}``.

    Cached for ``SECRET_MAX_AGE_SECONDS`` per container. Error messages never contain the value.
    """
    value = _secrets_provider().get(secret_id, max_age=SECRET_MAX_AGE_SECONDS, transform="json")
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValueError(f"secret {secret_id} must be a JSON object of header names to string values")
    return {str(header): str(v) for header, v in value.items()}


@functools.cache
def _secrets_provider() -> SecretsProvider:
    # Imported here: only functions that call a service with credentials pay for it at cold start.
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(
        boto_config=Config(connect_timeout=1, read_timeout=2, retries={"mode": "standard", "max_attempts": 3})
    )


def clear_caches() -> None:
    """Forget this container's clients and cached secrets (tests; a local cloud starting afresh)."""
    _client_from_env.cache_clear()
    _secrets_provider.cache_clear()
