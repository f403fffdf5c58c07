"""The local gateway, a moto account with the breaker table, an injected clock; caches cleared."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from serverless_patterns.lambdas.shared import circuit_breaker, http
from serverless_patterns.lambdas.shared.settings import load_settings
from tests.handlers.circuit_breaker.gateway import FakeGateway
from tests.unit.circuit_breaker.support import Clock, create_table


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "ServerlessPatterns/Test")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "charge-payment")
    load_settings.cache_clear()
    circuit_breaker.clear_caches()
    http.clear_caches()
    yield
    load_settings.cache_clear()
    circuit_breaker.clear_caches()
    http.clear_caches()


@pytest.fixture(scope="session")
def _clients() -> dict[str, Any]:
    """Clients for the session: creating them costs more than a whole test."""
    with mock_aws():
        return {service: boto3.client(service, region_name="us-east-1") for service in ("dynamodb", "secretsmanager")}


@pytest.fixture
def aws(_clients: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """A fresh moto account with the breaker state table, for each test."""
    with mock_aws():
        create_table(_clients["dynamodb"])
        yield _clients


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    server = FakeGateway().start()
    yield server
    server.stop()


@pytest.fixture
def clock() -> Clock:
    return Clock()
