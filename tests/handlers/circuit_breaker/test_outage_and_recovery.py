"""A gateway on 127.0.0.1 fails, then recovers; two containers call it through their breakers.

Calls stop while the breaker is open, exactly one trial call goes out when it is
half-open, service returns to normal after recovery, and every order that met
an unavailable gateway is left for a later retry and charged exactly once.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

import pytest

from serverless_patterns.lambdas.shared.circuit_breaker import (
    BreakerState,
    CircuitOpenError,
    DependencyUnavailableError,
)
from serverless_patterns.lambdas.shared.http import HttpClient
from tests.handlers.circuit_breaker.gateway import FakeGateway
from tests.unit.circuit_breaker.support import NAME, POLICY, Clock, container, metric_names

ORDERS = [f"order-{number:02d}" for number in range(12)]


class Deliveries:
    """Orders waiting to be charged, as a queue would hold them: a failed attempt goes back for later."""

    def __init__(self, orders: list[str]) -> None:
        self.pending: deque[str] = deque(orders)
        self.charged: list[str] = []
        self.left_for_retry = 0

    def attempt(self, client: HttpClient) -> type[Exception] | None:
        order_id = self.pending.popleft()
        try:
            response = client.post("/charges", json_body={"order_id": order_id, "amount_cents": 1250})
        except DependencyUnavailableError as error:
            self.pending.append(order_id)
            self.left_for_retry += 1
            return type(error)
        assert response.json()["charge_id"] == f"ch-{order_id}"
        self.charged.append(order_id)
        return None


def state(client: HttpClient) -> BreakerState:
    """The client's breaker state now (a call, so type checkers do not carry narrowing across transitions)."""
    assert client.breaker is not None
    return client.breaker.state


def _client(aws: dict[str, Any], clock: Clock, gateway: FakeGateway) -> HttpClient:
    """One container's client and breaker: its own cache and connection pool, the shared table."""
    return HttpClient(
        NAME,
        gateway.url,
        connect_timeout_seconds=1,
        read_timeout_seconds=5,
        breaker=container(aws["dynamodb"], clock),
    )


def test_calls_stop_while_open_one_trial_in_half_open_and_no_order_is_lost(
    aws: dict[str, Any], clock: Clock, gateway: FakeGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = _client(aws, clock, gateway), _client(aws, clock, gateway)
    deliveries = Deliveries(ORDERS)

    # The gateway goes down. The first container opens the breaker at its threshold-th failure
    # (the two containers alternate); the second one's closed view is still fresh, so it makes one
    # more call, learns from its own failure that the breaker is open, and stops.
    gateway.status = 503
    outcomes = [deliveries.attempt(first if turn % 2 == 0 else second) for turn in range(len(ORDERS))]
    assert len(gateway.requests) == POLICY.failure_threshold + 1
    assert outcomes.count(CircuitOpenError) == len(ORDERS) - len(gateway.requests)
    assert state(first) is state(second) is BreakerState.OPEN

    # While open, nothing reaches the gateway, however many retries come in.
    clock.advance(POLICY.cooldown_seconds - 1)
    for turn in range(len(ORDERS)):
        assert deliveries.attempt(first if turn % 2 == 0 else second) is CircuitOpenError
    assert len(gateway.requests) == POLICY.failure_threshold + 1

    # After the cooldown, one trial call: it fails, so the breaker opens for another cooldown.
    clock.advance(1)
    assert deliveries.attempt(first) is not CircuitOpenError
    assert deliveries.attempt(second) is CircuitOpenError
    assert len(gateway.requests) == POLICY.failure_threshold + 2

    # The gateway recovers. The next trial is held in flight: meanwhile the other container fails fast.
    gateway.status = 200
    gateway.hold_next = True
    clock.advance(POLICY.cooldown_seconds)
    trial = threading.Thread(target=deliveries.attempt, args=(first,))
    trial.start()
    assert gateway.received.wait(5)
    assert deliveries.attempt(second) is CircuitOpenError
    assert len(gateway.requests) == POLICY.failure_threshold + 3
    gateway.release.set()
    trial.join(5)
    assert state(first) is BreakerState.CLOSED

    # Normal service: every order left for retry goes through, in both containers.
    clock.advance(POLICY.cache_seconds)  # the second container's half-open view expires
    turn = 0
    while deliveries.pending and turn < 3 * len(ORDERS):
        assert deliveries.attempt(first if turn % 2 == 0 else second) is None
        turn += 1
    assert state(second) is BreakerState.CLOSED

    assert sorted(deliveries.charged) == ORDERS  # every order charged, none twice from our side
    assert gateway.charges == dict.fromkeys(ORDERS, 1)
    assert len(gateway.requests) == POLICY.failure_threshold + 2 + len(ORDERS)
    names = metric_names(capsys.readouterr().out)
    assert names.count("CircuitOpened") == 2
    assert names.count("CircuitHalfOpened") == 2
    assert names.count("CircuitClosed") == 1
    assert names.count("CircuitShortCircuited") == deliveries.left_for_retry - (POLICY.failure_threshold + 2)
