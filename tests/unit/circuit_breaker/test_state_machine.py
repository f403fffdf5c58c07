"""The breaker's state machine, with time injected, one breaker instance per simulated container."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from serverless_patterns.lambdas.shared.breaker_state import BreakerState, DynamoDBStateStore, Transition
from serverless_patterns.lambdas.shared.circuit_breaker import (
    CircuitBreaker,
    CircuitOpenError,
    DependencyUnavailableError,
)
from tests.unit.circuit_breaker.support import NAME, POLICY, TABLE, ApiCalls, Clock, container, metric_names, stored


class GatewayDownError(Exception):
    """The dependency failed."""


class DeclinedError(Exception):
    """The dependency answered no: it is up."""


def state(breaker: CircuitBreaker) -> BreakerState:
    """The breaker's state now (a call, so type checkers do not carry narrowing across transitions)."""
    return breaker.state


def fail() -> None:
    raise GatewayDownError("gateway down")


def calls_counter() -> tuple[list[int], Callable[[], str]]:
    made: list[int] = []

    def call() -> str:
        made.append(1)
        return "ok"

    return made, call


def trip(breaker: Any, times: int = POLICY.failure_threshold) -> None:
    for _ in range(times):
        with pytest.raises(GatewayDownError):
            breaker.call(fail)


def test_a_closed_breaker_with_a_warm_cache_costs_no_dynamodb_call(
    dynamodb: Any, clock: Clock, api_calls: ApiCalls
) -> None:
    breaker = container(dynamodb, clock)
    made, call = calls_counter()

    assert [breaker.call(call) for _ in range(3)] == ["ok"] * 3
    assert api_calls.names == ["GetItem"]  # the first look; successes write nothing
    clock.advance(POLICY.cache_seconds)
    breaker.call(call)
    assert api_calls.names == ["GetItem", "GetItem"]  # the view is refreshed once per cache_seconds
    assert len(made) == 4
    assert state(breaker) is BreakerState.CLOSED


def test_opens_after_threshold_failures_in_the_window_then_fails_fast_without_calls(
    dynamodb: Any, clock: Clock, api_calls: ApiCalls, capsys: pytest.CaptureFixture[str]
) -> None:
    breaker = container(dynamodb, clock)
    trip(breaker, POLICY.failure_threshold - 1)
    assert state(breaker) is BreakerState.CLOSED
    trip(breaker, 1)
    assert state(breaker) is BreakerState.OPEN
    assert stored(dynamodb)["state"] == {"S": "open"}

    calls_before = len(api_calls.names)
    made, call = calls_counter()
    clock.advance(12)
    with pytest.raises(CircuitOpenError) as raised:
        breaker.call(call)
    for _ in range(5):
        with pytest.raises(CircuitOpenError):
            breaker.call(call)
    assert made == []
    assert len(api_calls.names) == calls_before  # open: fail fast from the container's view
    assert isinstance(raised.value, DependencyUnavailableError)
    assert raised.value.breaker == NAME
    assert raised.value.retry_after_seconds == pytest.approx(POLICY.cooldown_seconds - 12)
    assert "retry after 18.0 s" in str(raised.value)
    names = metric_names(capsys.readouterr().out)
    assert names.count("CircuitOpened") == 1
    assert names.count("CircuitShortCircuited") == 6


def test_failures_spread_over_more_than_the_window_do_not_open_it(dynamodb: Any, clock: Clock) -> None:
    breaker = container(dynamodb, clock)
    trip(breaker, POLICY.failure_threshold - 1)
    clock.advance(POLICY.window_seconds + 1)
    trip(breaker, POLICY.failure_threshold - 1)
    assert state(breaker) is BreakerState.CLOSED
    assert stored(dynamodb)["failures"] == {"N": str(POLICY.failure_threshold - 1)}  # a new window began
    trip(breaker, 1)
    assert state(breaker) is BreakerState.OPEN


def test_after_the_cooldown_exactly_one_trial_runs_and_its_success_closes_the_breaker(
    dynamodb: Any, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = container(dynamodb, clock), container(dynamodb, clock)
    trip(first)
    clock.advance(POLICY.cooldown_seconds)
    made, call = calls_counter()

    with first.guard():  # the trial call is in flight in the first container...
        assert state(first) is BreakerState.HALF_OPEN
        with pytest.raises(CircuitOpenError) as raised:
            second.call(call)  # ...so the second one fails fast
        assert made == []
        assert raised.value.retry_after_seconds == pytest.approx(POLICY.trial_lease_seconds)
    assert state(first) is BreakerState.CLOSED
    assert stored(dynamodb)["state"] == {"S": "closed"}
    assert first.call(call) == "ok"

    clock.advance(POLICY.cache_seconds)  # the second container's half-open view expires
    assert second.call(call) == "ok"
    assert len(made) == 2
    names = metric_names(capsys.readouterr().out)
    assert [n for n in names if n != "CircuitShortCircuited"] == ["CircuitOpened", "CircuitHalfOpened", "CircuitClosed"]


def test_a_failed_trial_reopens_the_breaker_for_another_cooldown(
    dynamodb: Any, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    breaker = container(dynamodb, clock)
    trip(breaker)
    clock.advance(POLICY.cooldown_seconds)
    trip(breaker, 1)  # the trial fails
    assert state(breaker) is BreakerState.OPEN
    clock.advance(POLICY.cooldown_seconds - 1)
    with pytest.raises(CircuitOpenError) as raised:
        breaker.call(fail)
    assert raised.value.retry_after_seconds == pytest.approx(1)
    clock.advance(1)
    assert breaker.call(lambda: "ok") == "ok"
    names = metric_names(capsys.readouterr().out)
    assert names.count("CircuitOpened") == 2
    assert names.count("CircuitHalfOpened") == 2
    assert names.count("CircuitClosed") == 1


def test_exceptions_outside_failure_types_prove_the_dependency_answered(dynamodb: Any, clock: Clock) -> None:
    breaker = container(dynamodb, clock)
    for _ in range(POLICY.failure_threshold + 2):
        with pytest.raises(DeclinedError), breaker.guard(failure_types=(GatewayDownError,)):
            raise DeclinedError("card declined")
    assert state(breaker) is BreakerState.CLOSED

    trip(breaker)
    clock.advance(POLICY.cooldown_seconds)
    with pytest.raises(DeclinedError), breaker.guard(failure_types=(GatewayDownError,)):
        raise DeclinedError("card declined")  # the trial got an answer: the dependency is back
    assert state(breaker) is BreakerState.CLOSED


def test_a_breaker_never_written_is_closed_and_the_first_failure_creates_it(dynamodb: Any, clock: Clock) -> None:
    breaker = container(dynamodb, clock)
    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": NAME}})
    trip(breaker, 1)
    item = stored(dynamodb)
    assert item["state"] == {"S": "closed"}
    assert item["failures"] == {"N": "1"}
    assert float(item["window_start"]["N"]) == clock.now


# Containers racing: every transition is a conditional write, so exactly one container wins it.


class Interleaved(DynamoDBStateStore):
    """A store that lets another container act just before this one writes a transition."""

    def __init__(self, dynamodb: Any, *, before: str, hook: Callable[[], None]) -> None:
        super().__init__(TABLE, dynamodb)
        self._before = before
        self._hook: Callable[[], None] | None = hook

    def _run_hook(self) -> None:
        hook, self._hook = self._hook, None
        if hook is not None:
            hook()

    def open(self, name: str, now: float, cooldown_seconds: float, *, trial_id: str = "") -> Transition:
        if self._before == "open":
            self._run_hook()
        return super().open(name, now, cooldown_seconds, trial_id=trial_id)

    def close(self, name: str, now: float, trial_id: str) -> Transition:
        if self._before == "close":
            self._run_hook()
        return super().close(name, now, trial_id)

    def _update(self, name: str, *, update: str, condition: str, values: Any) -> Transition:
        if self._before == "restart window" and update.startswith("SET failures = :one"):
            self._run_hook()
        return super()._update(name, update=update, condition=condition, values=values)


def test_containers_racing_to_open_agree_on_one_opening(
    dynamodb: Any, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    other = container(dynamodb, clock)
    # Both containers count a failure that reaches the threshold before either opens the breaker.
    racer = container(dynamodb, clock, store=Interleaved(dynamodb, before="open", hook=lambda: trip(other, 1)))
    trip(other, POLICY.failure_threshold - 2)
    trip(racer, 1)
    with pytest.raises(GatewayDownError):
        racer.call(fail)  # reaches the threshold; before it opens, the other reaches threshold + 1 and opens

    assert state(racer) is BreakerState.OPEN
    assert state(other) is BreakerState.OPEN
    assert metric_names(capsys.readouterr().out).count("CircuitOpened") == 1
    assert stored(dynamodb)["state"] == {"S": "open"}


def test_containers_racing_for_the_trial_let_only_one_call_through(dynamodb: Any, clock: Clock) -> None:
    first, second = container(dynamodb, clock), container(dynamodb, clock)
    trip(first)
    for breaker in (first, second):  # both have seen it open
        with pytest.raises(CircuitOpenError):
            breaker.call(fail)
    clock.advance(POLICY.cooldown_seconds)
    made, call = calls_counter()

    # The second container's view says the cooldown is over: it tries to claim the trial and loses.
    with first.guard(), pytest.raises(CircuitOpenError):
        second.call(call)
    assert made == []
    assert state(first) is BreakerState.CLOSED


def test_a_container_that_lost_the_trial_race_to_a_success_calls_through(dynamodb: Any, clock: Clock) -> None:
    first, second = container(dynamodb, clock), container(dynamodb, clock)
    trip(first)
    with pytest.raises(CircuitOpenError):
        second.call(fail)
    clock.advance(POLICY.cooldown_seconds)
    assert first.call(lambda: "trial") == "trial"  # closes it
    assert second.call(lambda: "ok") == "ok"  # its claim fails, finds it closed, and calls
    assert state(second) is BreakerState.CLOSED


def finish(trial: Any) -> None:
    """A trial that succeeds only now: leave its ``guard()`` block normally."""
    trial.__exit__(None, None, None)


def test_containers_racing_to_close_after_an_expired_trial_lease_agree(
    dynamodb: Any, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    stalled, other = container(dynamodb, clock), container(dynamodb, clock)
    trip(other)
    clock.advance(POLICY.cooldown_seconds)
    stalled_trial = stalled.guard()
    stalled_trial.__enter__()  # claims the trial, then stalls past its lease
    clock.advance(POLICY.trial_lease_seconds)

    # The other container claims a new trial; the stalled one finishes first, then the other one.
    racer = container(
        dynamodb,
        clock,
        store=Interleaved(dynamodb, before="close", hook=lambda: finish(stalled_trial)),
    )
    assert racer.call(lambda: "ok") == "ok"

    assert stored(dynamodb)["state"] == {"S": "closed"}
    assert state(stalled) is BreakerState.HALF_OPEN  # its close was refused: it took the state it found
    names = metric_names(capsys.readouterr().out)
    assert names.count("CircuitHalfOpened") == 2
    assert names.count("CircuitClosed") == 1


def test_a_stalled_trial_that_fails_late_does_not_reopen_a_recovered_breaker(dynamodb: Any, clock: Clock) -> None:
    stalled, other = container(dynamodb, clock), container(dynamodb, clock)
    trip(other)
    clock.advance(POLICY.cooldown_seconds)
    stalled_trial = stalled.guard()
    stalled_trial.__enter__()
    clock.advance(POLICY.trial_lease_seconds)
    assert other.call(lambda: "ok") == "ok"  # a new trial, which closes it

    error = GatewayDownError("timed out")
    assert not stalled_trial.__exit__(GatewayDownError, error, None)  # recorded, and propagated
    assert stored(dynamodb)["state"] == {"S": "closed"}
    assert state(stalled) is BreakerState.CLOSED


def test_containers_starting_a_new_window_at_once_count_both_failures(dynamodb: Any, clock: Clock) -> None:
    other = container(dynamodb, clock)
    trip(other, 1)
    clock.advance(POLICY.window_seconds + 1)
    # Both find the window over; the other container restarts it just before this one tries to.
    racer = container(
        dynamodb, clock, store=Interleaved(dynamodb, before="restart window", hook=lambda: trip(other, 1))
    )
    trip(racer, 1)
    assert stored(dynamodb)["failures"] == {"N": "2"}


def test_an_open_breaker_found_while_counting_is_adopted_without_counting(dynamodb: Any, clock: Clock) -> None:
    stale, other = container(dynamodb, clock), container(dynamodb, clock)
    stale.call(lambda: "ok")  # caches a closed view
    trip(other)
    with pytest.raises(GatewayDownError):
        stale.call(fail)  # its view was stale: the call went out, failed, and the open state came back
    assert state(stale) is BreakerState.OPEN
    assert stored(dynamodb)["failures"] == {"N": "0"}
