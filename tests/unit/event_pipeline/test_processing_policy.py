"""Backoff growth, deferral decisions, record keys, sequencer ordering."""

from __future__ import annotations

import random

import pytest

from serverless_patterns.lambdas.event_pipeline.layout import MAX_KEY_BYTES, PROCESSED_PREFIX, record_key
from serverless_patterns.lambdas.event_pipeline.processing import (
    RetryLaterDecision,
    RetryPolicy,
    decide_retry_later,
    requeue_delay,
    retry_later_delay,
)
from serverless_patterns.lambdas.event_pipeline.records import is_later

POLICY = RetryPolicy(base_seconds=15, max_seconds=900, max_receive_count=5, max_deferrals=2)


@pytest.mark.parametrize(("receives", "ceiling"), [(1, 15), (2, 30), (3, 60), (4, 120), (7, 900), (60, 900)])
def test_backoff_grows_with_receive_count_and_keeps_at_least_half(receives: int, ceiling: int) -> None:
    rng = random.Random(7)
    delays = {POLICY.backoff(receives, rng) for _ in range(200)}
    assert min(delays) >= ceiling - ceiling // 2
    assert max(delays) <= ceiling
    assert len(delays) > 1 or ceiling == 1  # jittered


def test_retry_later_holds_then_requeues_then_gives_up() -> None:
    assert decide_retry_later(1, 0, POLICY) is RetryLaterDecision.HOLD
    assert decide_retry_later(4, 0, POLICY) is RetryLaterDecision.HOLD
    assert decide_retry_later(5, 0, POLICY) is RetryLaterDecision.REQUEUE
    assert decide_retry_later(5, 1, POLICY) is RetryLaterDecision.REQUEUE
    assert decide_retry_later(5, 2, POLICY) is RetryLaterDecision.GIVE_UP


def test_retry_after_hint_wins_over_backoff_within_limits() -> None:
    rng = random.Random(1)
    assert retry_later_delay(12.2, 1, POLICY, rng) == 13
    assert retry_later_delay(0.0, 1, POLICY, rng) == 1
    assert retry_later_delay(10_000, 1, POLICY, rng) == 900
    assert 8 <= retry_later_delay(None, 1, POLICY, rng) <= 15
    assert requeue_delay(3_600) == 900


def test_record_key_keeps_the_upload_key_unless_too_long() -> None:
    assert record_key(PROCESSED_PREFIX, "incoming/a b+c.csv") == "processed/incoming/a b+c.csv.json"
    long_key = "incoming/" + "é" * 600
    derived = record_key(PROCESSED_PREFIX, long_key)
    assert derived.startswith("processed/_long-keys/")
    assert len(derived.encode()) <= MAX_KEY_BYTES
    assert derived == record_key(PROCESSED_PREFIX, long_key)


def test_sequencers_compare_after_right_padding() -> None:
    assert is_later("0055AED6DCD90281E6", "0055AED6DCD90281E5")
    assert is_later("0055AED6DCD9028200", "0055AED6DCD90281E5")
    assert is_later("0055AED6DCD90281E6", "0055AED6DCD90281E")  # shorter one padded with 0
    assert not is_later("0055AED6DCD90281E", "0055AED6DCD90281E0")
