"""The HTTP client against the local gateway: timeouts, what counts against the breaker, configuration."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest

from serverless_patterns.lambdas.shared.circuit_breaker import BreakerState, CircuitBreaker
from serverless_patterns.lambdas.shared.http import HttpClient, UpstreamRejectedError, UpstreamUnavailableError
from tests.handlers.circuit_breaker.gateway import FakeGateway
from tests.unit.circuit_breaker.support import NAME, POLICY, TABLE, Clock, container, stored

TOKEN = "Bearer sk_test_not_a_real_key"


def _client(aws: dict[str, Any], clock: Clock, url: str, **options: Any) -> HttpClient:
    return HttpClient(NAME, url, breaker=container(aws["dynamodb"], clock), **options)


def test_a_slow_gateway_hits_the_read_timeout_and_counts_as_a_failure(
    aws: dict[str, Any], clock: Clock, gateway: FakeGateway
) -> None:
    gateway.hold_next = True  # answers only when released, long after the client's read timeout
    client = _client(aws, clock, gateway.url, connect_timeout_seconds=1, read_timeout_seconds=0.2)
    with pytest.raises(UpstreamUnavailableError, match="ReadTimeoutError"):
        client.post("/charges", json_body={"order_id": "slow"})
    assert stored(aws["dynamodb"])["failures"] == {"N": "1"}


def test_a_refused_connection_counts_as_a_failure(aws: dict[str, Any], clock: Clock) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = _client(aws, clock, f"http://127.0.0.1:{port}")
    for _ in range(POLICY.failure_threshold):
        with pytest.raises(UpstreamUnavailableError, match="NewConnectionError"):
            client.get("/health")
    assert client.breaker is not None
    assert client.breaker.state is BreakerState.OPEN


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_throttling_and_server_errors_count_against_the_breaker(
    aws: dict[str, Any], clock: Clock, gateway: FakeGateway, status: int
) -> None:
    gateway.status = status
    client = _client(aws, clock, gateway.url)
    with pytest.raises(UpstreamUnavailableError) as raised:
        client.post("/charges", json_body={"order_id": "o-1"})
    assert raised.value.status == status
    assert stored(aws["dynamodb"])["failures"] == {"N": "1"}


def test_a_rejection_proves_the_gateway_is_up_and_never_opens_the_breaker(
    aws: dict[str, Any], clock: Clock, gateway: FakeGateway
) -> None:
    gateway.status = 402
    client = _client(aws, clock, gateway.url)
    for _ in range(POLICY.failure_threshold + 1):
        with pytest.raises(UpstreamRejectedError) as raised:
            client.post("/charges", json_body={"order_id": "declined"})
        assert raised.value.status == 402
        assert json.loads(raised.value.body) == {"error": "rejected"}
    assert client.breaker is not None
    assert client.breaker.state is BreakerState.CLOSED
    assert len(gateway.requests) == POLICY.failure_threshold + 1


def test_an_oversized_answer_is_refused(aws: dict[str, Any], clock: Clock, gateway: FakeGateway) -> None:
    gateway.status = 200
    gateway.response_padding = 2048
    client = _client(aws, clock, gateway.url, max_response_bytes=1024)
    with pytest.raises(UpstreamUnavailableError, match="larger than 1024 bytes"):
        client.post("/charges", json_body={"order_id": "big"})
    gateway.response_padding = 0
    assert client.post("/charges", json_body={"order_id": "small"}).json()["charge_id"] == "ch-small"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://payments.example.com", "https"),
        ("ftp://127.0.0.1/", "https"),
        ("https://user:secret@payments.example.com", "credentials belong in the secret"),
    ],
)
def test_urls_that_would_leak_credentials_are_refused(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as raised:
        HttpClient(NAME, url)
    assert "secret@" not in str(raised.value)


def test_a_call_without_timeouts_is_refused() -> None:
    with pytest.raises(ValueError, match="timeouts must be > 0"):
        HttpClient(NAME, "https://payments.example.com", read_timeout_seconds=0)


def test_from_env_wires_url_secret_timeouts_and_breaker(
    aws: dict[str, Any], gateway: FakeGateway, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret_arn = aws["secretsmanager"].create_secret(
        Name="payment-gateway/credentials", SecretString=json.dumps({"Authorization": TOKEN})
    )["ARN"]
    for key, value in {
        "CIRCUIT_BREAKER_TABLE": TABLE,
        "HTTP_CONNECT_TIMEOUT_SECONDS": "0.5",
        "HTTP_READ_TIMEOUT_SECONDS": "2",
        "PAYMENT_GATEWAY_URL": gateway.url + "/v1/",
        "PAYMENT_GATEWAY_SECRET_ARN": secret_arn,
    }.items():
        monkeypatch.setenv(key, value)
    gateway.status = 200

    client = HttpClient.from_env(NAME)
    assert client.post("charges", json_body={"order_id": "env"}).status == 200
    assert HttpClient.from_env(NAME) is client
    assert client.breaker is CircuitBreaker.from_env(NAME)
    assert (client.timeout.connect_timeout, client.timeout.read_timeout) == (0.5, 2.0)
    assert client.base_url == gateway.url + "/v1"
    assert gateway.headers[0]["Authorization"] == TOKEN
    assert gateway.headers[0]["Content-Type"] == "application/json"
    assert TOKEN not in capsys.readouterr().out


def test_from_env_names_the_missing_url(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIRCUIT_BREAKER_TABLE", TABLE)
    with pytest.raises(RuntimeError, match="PAYMENT_GATEWAY_URL is not set"):
        HttpClient.from_env(NAME)


def test_a_secret_that_is_not_a_header_object_is_refused_without_echoing_it(
    aws: dict[str, Any], gateway: FakeGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_arn = aws["secretsmanager"].create_secret(
        Name="payment-gateway/raw", SecretString=json.dumps({"Authorization": ["sk_live_list"]})
    )["ARN"]
    monkeypatch.setenv("CIRCUIT_BREAKER_TABLE", TABLE)
    monkeypatch.setenv("PAYMENT_GATEWAY_URL", gateway.url)
    monkeypatch.setenv("PAYMENT_GATEWAY_SECRET_ARN", secret_arn)
    with pytest.raises(ValueError, match="JSON object of header names to string values") as raised:
        HttpClient.from_env(NAME).get("/health")
    assert "sk_live_list" not in str(raised.value)
    assert gateway.requests == []  # credentials are read before the call (and before the breaker)
