"""A circuit breaker whose state every container of a function shares.

closed -> open after ``failure_threshold`` failures within ``window_seconds``;
open -> half-open once ``cooldown_seconds`` have passed: one container wins a
conditional write and makes the one trial call while the others keep failing
fast; half-open -> closed when the trial succeeds, back to open (a new
cooldown) when it fails.

The state is one DynamoDB item per breaker (``breaker_state``) and every
transition is a conditional write, so containers racing to open or to close a
breaker agree on a single winner (the only one that emits the state-change metric). Each
container keeps what it last read: a closed breaker costs no DynamoDB call on
the hot path (another container's opening reaches it within ``cache_seconds``,
or at its own next failure), and an open one fails fast without any call until
its cooldown ends. Successes in the closed state write nothing.

Usage::

    breaker = CircuitBreaker.from_env("payment-gateway")
    with breaker.guard():
        gateway.charge(order)

``CircuitOpenError`` (a ``DependencyUnavailableError``) says the call was not
made and when to try again: retry later, it is neither a bad request nor a
poison message.
"""

from __future__ import annotations

import functools
import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.base import SingleMetric
from botocore.config import Config

from serverless_patterns.lambdas.shared.breaker_state import (  # re-exported: the breaker's states and store
    BreakerState as BreakerState,
    DynamoDBStateStore as DynamoDBStateStore,
    Snapshot,
)
from serverless_patterns.lambdas.shared.circuit_breaker_contract import (
    CACHE_SECONDS_ENV,
    COOLDOWN_SECONDS_ENV,
    DIMENSION,
    FAILURE_THRESHOLD_ENV,
    METRIC_CLOSED,
    METRIC_HALF_OPENED,
    METRIC_OPENED,
    METRIC_SHORT_CIRCUITED,
    TABLE_ENV,
    TRIAL_LEASE_SECONDS_ENV,
    WINDOW_SECONDS_ENV,
    DependencyUnavailableError as DependencyUnavailableError,  # re-exported: the breaker raises it
    validate_name,
)
from serverless_patterns.lambdas.shared.observability import logger
from serverless_patterns.lambdas.shared.settings import load_settings
from serverless_patterns.lambdas.shared.shapes import Shape, field

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

P = ParamSpec("P")
T = TypeVar("T")

# The breaker must never become the slow part: tight timeouts, few retries.
_DYNAMODB_CONFIG = Config(connect_timeout=1, read_timeout=2, retries={"mode": "standard", "max_attempts": 3})


class CircuitOpenError(DependencyUnavailableError):
    """The breaker failed fast: the call was not made. ``retry_after_seconds`` says when to try again."""

    def __init__(self, breaker: str, retry_after_seconds: float) -> None:
        self.breaker = breaker
        self.retry_after_seconds = max(0.0, retry_after_seconds)
        super().__init__(f"circuit {breaker!r} is open; retry after {self.retry_after_seconds:.1f} s")


@dataclass(frozen=True)
class BreakerPolicy:
    """How eagerly a breaker opens and how it recovers.

    ``trial_lease_seconds`` bounds how long one container owns the half-open
    trial: if it dies mid-call, another may try once the lease has passed. The
    construct sets it to the function's timeout, which no call can outlive.
    """

    failure_threshold: int = 5
    window_seconds: float = 60.0
    cooldown_seconds: float = 30.0
    cache_seconds: float = 5.0
    trial_lease_seconds: float = 10.0

    def __post_init__(self) -> None:
        if self.failure_threshold < 1:
            raise ValueError(f"failure_threshold must be >= 1, got {self.failure_threshold}")
        if min(self.window_seconds, self.cooldown_seconds, self.trial_lease_seconds) <= 0:
            raise ValueError("window_seconds, cooldown_seconds and trial_lease_seconds must be > 0")
        if self.cache_seconds < 0:
            raise ValueError("cache_seconds must be >= 0")


class CircuitBreaker:
    """Guards calls to one external dependency; state shared through a ``DynamoDBStateStore``.

    One instance per dependency and container (``from_env`` keeps them), so its
    cached view survives from one invocation to the next. ``clock`` returns
    epoch seconds; tests inject their own.
    """

    def __init__(
        self,
        name: str,
        *,
        store: DynamoDBStateStore,
        policy: BreakerPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = validate_name(name)
        self.policy = policy or BreakerPolicy()
        self._store = store
        self._clock = clock
        self._view = Snapshot()
        self._view_expires = float("-inf")

    @classmethod
    def from_env(cls, name: str) -> CircuitBreaker:
        """This container's breaker for ``name``, configured by the variables the construct sets."""
        return _breaker_from_env(name)

    @property
    def state(self) -> BreakerState:
        """The state as this container last saw it (a closed view may be ``cache_seconds`` stale)."""
        return self._view.state

    def call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)`` under ``guard()``: any exception counts as a failure."""
        with self.guard():
            return fn(*args, **kwargs)

    @contextmanager
    def guard(self, *, failure_types: tuple[type[Exception], ...] = (Exception,)) -> Iterator[None]:
        """Run the block unless the breaker is open; raise ``CircuitOpenError`` if it is.

        Exceptions of ``failure_types`` count as failures of the dependency. Any
        other exception (a business decline, a 4xx) proves the dependency answered,
        so it counts as a success, and is re-raised either way.
        """
        trial_id = self._admit()
        try:
            yield
        except failure_types:
            self._failed(trial_id)
            raise
        except Exception:
            self._succeeded(trial_id)
            raise
        self._succeeded(trial_id)

    def _admit(self) -> str:
        """``""`` to call as usual, a trial id for the one trial call, or raise to fail fast."""
        now = self._clock()
        view = self._current(now)
        if view.state is BreakerState.CLOSED:
            return ""
        if now < _wait_until(view):
            raise self._short_circuit(_wait_until(view) - now)
        trial_id = uuid.uuid4().hex
        claim = self._store.begin_trial(self.name, now, self.policy.trial_lease_seconds, trial_id)
        self._remember(claim.snapshot, now)
        if claim.applied:
            self._changed(METRIC_HALF_OPENED, claim.snapshot)
            return trial_id
        if claim.snapshot.state is BreakerState.CLOSED:
            return ""  # another container's trial has just closed it
        raise self._short_circuit(_wait_until(claim.snapshot) - now)

    def _succeeded(self, trial_id: str) -> None:
        if not trial_id:
            return  # closed: nothing to write on the hot path
        now = self._clock()
        closed = self._store.close(self.name, now, trial_id)
        self._remember(closed.snapshot, now)
        if closed.applied:
            self._changed(METRIC_CLOSED, closed.snapshot)

    def _failed(self, trial_id: str) -> None:
        now = self._clock()
        if not trial_id:
            counted = self._store.record_failure(self.name, now, self.policy.window_seconds)
            self._remember(counted, now)
            if counted.state is not BreakerState.CLOSED or counted.failures < self.policy.failure_threshold:
                return
        opened = self._store.open(self.name, now, self.policy.cooldown_seconds, trial_id=trial_id)
        self._remember(opened.snapshot, now)
        if opened.applied:
            self._changed(METRIC_OPENED, opened.snapshot)

    def _current(self, now: float) -> Snapshot:
        if now >= self._view_expires:
            self._remember(self._store.load(self.name), now)
        return self._view

    def _remember(self, snapshot: Snapshot, now: float) -> None:
        self._view = snapshot
        if snapshot.state is BreakerState.OPEN:
            # Only a trial after the cooldown moves an open breaker: no need to look before.
            self._view_expires = snapshot.open_until
        elif snapshot.state is BreakerState.HALF_OPEN:
            self._view_expires = min(snapshot.trial_until, now + self.policy.cache_seconds)
        else:
            self._view_expires = now + self.policy.cache_seconds

    def _short_circuit(self, retry_after_seconds: float) -> CircuitOpenError:
        _emit(METRIC_SHORT_CIRCUITED, self.name)
        error = CircuitOpenError(self.name, retry_after_seconds)
        logger.debug("Call short-circuited", extra={"circuit_breaker": self.name, "reason": str(error)})
        return error

    def _changed(self, metric_name: str, snapshot: Snapshot) -> None:
        _emit(metric_name, self.name)
        log = logger.warning if snapshot.state is BreakerState.OPEN else logger.info
        log(
            f"Circuit breaker {snapshot.state}",
            extra={"circuit_breaker": self.name, "state": str(snapshot.state), "until": _wait_until(snapshot)},
        )


class _BreakerEnvironment(Shape):
    """The variables ``CircuitBreakers.grant`` sets on a function."""

    table_name: str = field(key=TABLE_ENV, min_length=1)
    failure_threshold: int = field(default=BreakerPolicy.failure_threshold, key=FAILURE_THRESHOLD_ENV)
    window_seconds: float = field(default=BreakerPolicy.window_seconds, key=WINDOW_SECONDS_ENV)
    cooldown_seconds: float = field(default=BreakerPolicy.cooldown_seconds, key=COOLDOWN_SECONDS_ENV)
    cache_seconds: float = field(default=BreakerPolicy.cache_seconds, key=CACHE_SECONDS_ENV)
    trial_lease_seconds: float = field(default=BreakerPolicy.trial_lease_seconds, key=TRIAL_LEASE_SECONDS_ENV)


@functools.cache
def dynamodb_client() -> DynamoDBClient:
    """The container's DynamoDB client for breaker state, created on first use."""
    return boto3.client("dynamodb", config=_DYNAMODB_CONFIG)


@functools.cache
def _breaker_from_env(name: str) -> CircuitBreaker:
    env = load_settings(_BreakerEnvironment)
    policy = BreakerPolicy(
        failure_threshold=env.failure_threshold,
        window_seconds=env.window_seconds,
        cooldown_seconds=env.cooldown_seconds,
        cache_seconds=env.cache_seconds,
        trial_lease_seconds=env.trial_lease_seconds,
    )
    return CircuitBreaker(name, store=DynamoDBStateStore(env.table_name, dynamodb_client()), policy=policy)


def clear_caches() -> None:
    """Forget this container's breakers and client (tests; a local cloud starting afresh)."""
    _breaker_from_env.cache_clear()
    dynamodb_client.cache_clear()


def _emit(metric_name: str, breaker: str) -> None:
    """One EMF line, dimensioned by the breaker alone.

    A breaker's state is shared by every function that calls the dependency, so
    its metrics carry no ``service`` dimension (``service=""`` keeps Powertools
    from adding it) and one alarm per breaker covers them all. The namespace is
    the function's ``POWERTOOLS_METRICS_NAMESPACE``.
    """
    metric = SingleMetric(service="")
    metric.add_metric(name=metric_name, unit=MetricUnit.Count, value=1)
    metric.add_dimension(name=DIMENSION, value=breaker)
    print(json.dumps(metric.serialize_metric_set(), separators=(",", ":")))


def _wait_until(snapshot: Snapshot) -> float:
    """When an open or half-open breaker may let a call through again."""
    return snapshot.trial_until if snapshot.state is BreakerState.HALF_OPEN else snapshot.open_until
