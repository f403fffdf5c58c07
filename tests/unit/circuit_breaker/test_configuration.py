"""What the construct and the runtime agree on: variables, defaults, names, metrics."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from serverless_patterns.config import CircuitBreakerSettings
from serverless_patterns.lambdas.shared import http
from serverless_patterns.lambdas.shared.circuit_breaker import BreakerPolicy, CircuitBreaker, CircuitOpenError
from serverless_patterns.lambdas.shared.circuit_breaker_contract import env_prefix, secret_env, url_env, validate_name
from serverless_patterns.lambdas.shared.shapes import ShapeError
from tests.unit.circuit_breaker.support import NAME, TABLE, Clock, container, emitted


def test_runtime_defaults_match_the_environment_defaults() -> None:
    settings, policy = CircuitBreakerSettings(), BreakerPolicy()
    assert (settings.failure_threshold, settings.window_seconds, settings.cooldown_seconds, settings.cache_seconds) == (
        policy.failure_threshold,
        policy.window_seconds,
        policy.cooldown_seconds,
        policy.cache_seconds,
    )
    assert settings.connect_timeout_seconds == http.DEFAULT_CONNECT_TIMEOUT_SECONDS
    assert settings.read_timeout_seconds == http.DEFAULT_READ_TIMEOUT_SECONDS


def test_from_env_reads_the_construct_variables_once_per_container(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "CIRCUIT_BREAKER_TABLE": TABLE,
        "CIRCUIT_BREAKER_FAILURE_THRESHOLD": "7",
        "CIRCUIT_BREAKER_WINDOW_SECONDS": "120",
        "CIRCUIT_BREAKER_COOLDOWN_SECONDS": "45",
        "CIRCUIT_BREAKER_CACHE_SECONDS": "2.5",
        "CIRCUIT_BREAKER_TRIAL_LEASE_SECONDS": "15",
    }.items():
        monkeypatch.setenv(key, value)
    breaker = CircuitBreaker.from_env(NAME)
    assert breaker.policy == BreakerPolicy(
        failure_threshold=7, window_seconds=120, cooldown_seconds=45, cache_seconds=2.5, trial_lease_seconds=15
    )
    assert CircuitBreaker.from_env(NAME) is breaker  # its cached view survives invocations
    assert CircuitBreaker.from_env("enrichment") is not breaker


def test_from_env_without_a_table_fails_at_once() -> None:
    with pytest.raises(ShapeError, match="CIRCUIT_BREAKER_TABLE"):
        CircuitBreaker.from_env(NAME)


@pytest.mark.parametrize(
    "change",
    [{"failure_threshold": 0}, {"window_seconds": 0}, {"cooldown_seconds": -1}, {"cache_seconds": -1}],
)
def test_policies_that_could_never_work_are_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be"):
        BreakerPolicy(**change)


@pytest.mark.parametrize(
    "change",
    [{"failure_threshold": 0}, {"cooldown_seconds": 0}, {"read_timeout_seconds": 0}, {"cache_seconds": 60}],
)
def test_environment_settings_that_could_never_work_are_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be"):
        CircuitBreakerSettings(**change)


def test_names_map_one_to_one_onto_variable_prefixes() -> None:
    assert env_prefix("payment-gateway") == "PAYMENT_GATEWAY"
    assert url_env("payment-gateway") == "PAYMENT_GATEWAY_URL"
    assert secret_env("enrichment") == "ENRICHMENT_SECRET_ARN"
    for bad in ("Payment", "payment_gateway", "payment--gateway", "-payment", "payment-", "9lives", "x" * 49, ""):
        with pytest.raises(ValueError, match="breaker name"):
            validate_name(bad)
    assert validate_name("partner-api-2") == "partner-api-2"


def test_metrics_are_emf_dimensioned_by_the_breaker_alone(dynamodb: Any, capsys: pytest.CaptureFixture[str]) -> None:
    breaker = container(dynamodb, Clock())
    for _ in range(breaker.policy.failure_threshold + 1):
        with contextlib.suppress(ZeroDivisionError, CircuitOpenError):
            breaker.call(lambda: 1 / 0)
    documents = emitted(capsys.readouterr().out)
    assert [d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"] for d in documents] == [
        "CircuitOpened",
        "CircuitShortCircuited",
    ]
    for document in documents:
        (directive,) = document["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "ServerlessPatterns/Test"
        assert directive["Dimensions"] == [["CircuitBreaker"]]  # no service: the state is shared across functions
        assert document["CircuitBreaker"] == NAME
        assert "service" not in document
