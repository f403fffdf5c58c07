"""Moto-backed fixtures for the items API handler: tables, signing secret, events, invocation."""

from __future__ import annotations

import io
import json
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import boto3
import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext
from moto import mock_aws

# Powertools reads these when the shared Logger/Metrics are built (at import), as in Lambda.
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "items-api")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ServerlessPatterns/Test")
# The resolver reads its CORS origins when the handler module is imported.
os.environ["CORS_ORIGINS"] = "https://app.example.com,https://admin.example.com"
from serverless_patterns.lambdas.api_backend import data_access, handler as handler_module, resources
from serverless_patterns.lambdas.shared.observability import logger, metrics
from serverless_patterns.lambdas.shared.settings import load_settings

del os.environ["CORS_ORIGINS"]

TABLE = "items"
IDEMPOTENCY_TABLE = "items-idempotency"
CALLER_ARN = "arn:aws:iam::123456789012:user/alice"


@dataclass
class FakeContext:
    """What Powertools and the idempotency utility read from a Lambda context."""

    function_name: str = "items-api"
    function_version: str = "1"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:items-api:live"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def lambda_context() -> LambdaContext:
    """A fresh invocation context, typed as the real one."""
    return cast(LambdaContext, FakeContext())


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    raw_body: str | None

    @property
    def body(self) -> Any:
        return json.loads(self.raw_body) if self.raw_body else None


def clear_caches(*, clients: bool = False) -> None:
    """Forget settings and everything built from them; with ``clients``, the boto3 clients too."""
    load_settings.cache_clear()
    for cached in (resources.cursor_signing_key, resources.idempotency_store, data_access.repository):
        cached.cache_clear()
    if clients:
        resources.dynamodb.cache_clear()
        resources.secrets_manager.cache_clear()


def _create_tables(client: Any) -> None:
    for name in (TABLE, IDEMPOTENCY_TABLE):
        client.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )


def _truncate(client: Any) -> None:
    for name in (TABLE, IDEMPOTENCY_TABLE):
        for image in client.scan(TableName=name, ProjectionExpression="id")["Items"]:
            client.delete_item(TableName=name, Key={"id": image["id"]})


@pytest.fixture(scope="module")
def emulated_account() -> Iterator[Any]:
    """One emulated account per test module: the API's tables, its signing secret, its environment."""
    with mock_aws(), pytest.MonkeyPatch.context() as patch:
        client = boto3.client("dynamodb")
        _create_tables(client)
        secret = boto3.client("secretsmanager").create_secret(Name="cursor-key", SecretString="k" * 64)
        patch.setenv("TABLE_NAME", TABLE)
        patch.setenv("IDEMPOTENCY_TABLE_NAME", IDEMPOTENCY_TABLE)
        patch.setenv("CURSOR_SECRET_ARN", secret["ARN"])
        patch.setenv("AWS_LAMBDA_FUNCTION_NAME", "items-api")
        clear_caches(clients=True)
        yield client
        clear_caches(clients=True)


@pytest.fixture
def aws(emulated_account: Any) -> Iterator[None]:
    """Empty tables and fresh settings for each test (clients are kept, as in a warm container)."""
    _truncate(emulated_account)
    clear_caches()
    yield
    clear_caches()
    metrics.clear_metrics()


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What the handler's Powertools logger writes (it holds the stream it was built with)."""
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    captured = io.StringIO()
    original = handler.setStream(captured)
    yield captured
    handler.setStream(original)


def api_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    raw_body: str | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    caller_arn: str | None = CALLER_ARN,
    claims: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway REST proxy event for ``/{proxy+}`` on stage ``v1``."""
    text = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    all_headers = {"Content-Type": "application/json", **(headers or {})} if text is not None else dict(headers or {})
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {name: [value] for name, value in all_headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {name: [value] for name, value in query.items()} if query else None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdef1234",
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/v1{path}",
            "stage": "v1",
            "requestId": str(uuid.uuid4()),
            "identity": {"userArn": caller_arn, "sourceIp": "192.0.2.1"},
            "authorizer": {"claims": claims} if claims else None,
        },
        "body": text,
        "isBase64Encoded": False,
    }


def call(method: str, path: str, *, entry: Callable[..., dict[str, Any]] | None = None, **kwargs: Any) -> ApiResponse:
    """Invoke the real handler entry point (the items API's unless ``entry``) with a proxy event."""
    result = (entry or handler_module.handler)(api_event(method, path, **kwargs), FakeContext())
    headers = dict(result.get("headers") or {})
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.setdefault(name, ", ".join(values))
    return ApiResponse(status=result["statusCode"], headers=headers, raw_body=result.get("body"))


def create(name: str = "widget", **fields: Any) -> dict[str, Any]:
    """Create an item through the API and return its body."""
    response = call("POST", "/items", body={"name": name, **fields})
    assert response.status == 201, response.raw_body
    body: dict[str, Any] = response.body
    return body
