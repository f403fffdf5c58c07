"""The drain loop: everything in the cloud that happens at a time, run in virtual time.

*Pending work* is what the cloud owes someone: messages on a queue that an event source
consumes (visible now, or when their visibility or delay ends), asynchronous invocations
and their retries, message move tasks, running Step Functions executions. *Timers* fire
only when the clock passes them: scheduled rules, DynamoDB TTL. Each round runs what is
due now; when nothing is, the clock jumps to the earliest deadline of either kind.
``drain`` stops once no work is pending (timers alone never keep it going); ``advance``
moves the clock by a given span, doing everything that falls due on the way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from serverless_patterns.local import dynamodb, sqs
from serverless_patterns.local.async_invoke import AsyncInvoker
from serverless_patterns.local.clock import VirtualClock
from serverless_patterns.local.event_sources import SqsPoller
from serverless_patterns.local.schedules import Scheduler
from serverless_patterns.local.sqs_redrive import MessageMoveTasks


@dataclass(frozen=True)
class DrainResult:
    """What one drain (or advance) did."""

    rounds: int
    records_delivered: int
    async_attempts: int
    virtual_seconds: float
    exhausted: bool
    scheduled_firings: int = 0


@dataclass
class Timeline:
    """The cloud's parts that act at a time, and the loop that runs them."""

    clock: VirtualClock
    account_id: str
    region: str
    poller: SqsPoller
    async_invoker: AsyncInvoker
    move_tasks: MessageMoveTasks
    scheduler: Scheduler
    await_executions: Callable[[], None]

    def _run_due(self) -> tuple[int, int, int, int]:
        """One round of what is due now: (records, async attempts, scheduled firings, messages moved)."""
        self.await_executions()
        fired = self.scheduler.fire_due()
        moved = self.move_tasks.catch_up()
        records = self.poller.poll_once()
        attempts = self.async_invoker.process_due()
        return records, attempts, fired, moved

    def next_work(self) -> float | None:
        """The earliest deadline of pending work (virtual seconds), if any work is pending."""
        visible = sqs.next_visible_at(self.poller.queue_arns())
        candidates = [
            None if visible is None else self.clock.at(visible),
            self.async_invoker.next_due(),
            self.move_tasks.next_due(),
        ]
        return min((t for t in candidates if t is not None), default=None)

    def _jump(self, instant: float) -> None:
        self.clock.advance_to(instant)
        dynamodb.expire_ttl(self.account_id, self.region, self.clock.wall())

    def drain(self, *, max_virtual_seconds: float, max_rounds: int) -> DrainResult:
        """Run until no work is pending (or the limits: ``exhausted``)."""
        return self._loop(horizon=None, max_virtual_seconds=max_virtual_seconds, max_rounds=max_rounds)

    def advance(self, seconds: float, *, max_rounds: int) -> DrainResult:
        """Move the clock ``seconds`` forward, running everything that falls due meanwhile."""
        if seconds < 0:
            raise ValueError("the virtual clock never goes backwards")
        horizon = self.clock.now() + seconds
        return self._loop(horizon=horizon, max_virtual_seconds=seconds, max_rounds=max_rounds)

    def _loop(self, *, horizon: float | None, max_virtual_seconds: float, max_rounds: int) -> DrainResult:
        started = self.clock.now()
        rounds = delivered = attempts = firings = 0
        exhausted = False
        while True:
            if rounds >= max_rounds:
                exhausted = True
                break
            rounds += 1
            records, ran, fired, moved = self._run_due()
            delivered, attempts, firings = delivered + records, attempts + ran, firings + fired
            if records or ran or fired or moved:
                continue
            work = self.next_work()
            timer = self.scheduler.next_due()
            if horizon is None:
                if work is None:
                    break
                if work - started > max_virtual_seconds:
                    exhausted = True
                    break
                self._jump(min(work, timer) if timer is not None else work)
                continue
            upcoming = [t for t in (work, timer) if t is not None and t <= horizon]
            if not upcoming:
                self._jump(horizon)
                break
            self._jump(min(upcoming))
        return DrainResult(rounds, delivered, attempts, self.clock.now() - started, exhausted, firings)
