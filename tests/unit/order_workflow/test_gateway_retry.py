"""The retry of PaymentGatewayUnavailable behind a circuit breaker, derived from the breaker's cooldown."""

from __future__ import annotations

import pytest

from serverless_patterns.constructs.order_workflow_definition import (
    CHARGE_TRANSIENT_RETRY,
    gateway_unavailable_retry,
)


def test_the_default_cooldown_gives_five_retries_over_a_minute() -> None:
    retry = gateway_unavailable_retry(30)

    assert retry.errors == ("PaymentGatewayUnavailable",)
    assert (retry.interval_seconds, retry.backoff_rate, retry.max_delay_seconds) == (2, 2.0, 30)
    assert retry.waits() == [2, 4, 8, 16, 30]
    assert not retry.jitter  # the span must be certain
    # The seed's retry gives up after 14 s, inside one cooldown.
    assert sum(CHARGE_TRANSIENT_RETRY.waits()) == 14 < 30


@pytest.mark.parametrize("cooldown", [1, 5, 30, 45, 120, 600])
def test_retries_span_two_cooldowns_and_no_wait_exceeds_one(cooldown: int) -> None:
    waits = gateway_unavailable_retry(cooldown).waits()

    assert sum(waits) >= 2 * cooldown
    assert sum(waits[:-1]) < 2 * cooldown  # no attempt more than needed
    assert max(waits) <= max(2, cooldown)
    assert waits[0] == 2


def test_a_cooldown_must_be_positive() -> None:
    with pytest.raises(ValueError, match="cooldown_seconds must be > 0"):
        gateway_unavailable_retry(0)
