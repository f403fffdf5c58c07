"""A moto state table, an injected clock, a log of DynamoDB calls; caches cleared around each test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from serverless_patterns.lambdas.shared import circuit_breaker
from serverless_patterns.lambdas.shared.settings import load_settings
from tests.unit.circuit_breaker.support import ApiCalls, Clock, create_table


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "ServerlessPatterns/Test")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "breaker-tests")
    load_settings.cache_clear()
    circuit_breaker.clear_caches()
    yield
    load_settings.cache_clear()
    circuit_breaker.clear_caches()


@pytest.fixture(scope="session")
def _client() -> Any:
    """One client for the session: creating one costs more than a whole test."""
    with mock_aws():
        return boto3.client("dynamodb", region_name="us-east-1")


@pytest.fixture
def dynamodb(_client: Any) -> Iterator[Any]:
    """A fresh moto account with the state table, for each test."""
    with mock_aws():
        create_table(_client)
        yield _client


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def api_calls(dynamodb: Any) -> Iterator[ApiCalls]:
    calls = ApiCalls()
    dynamodb.meta.events.register("before-call.dynamodb", calls)
    yield calls
    dynamodb.meta.events.unregister("before-call.dynamodb", calls)
