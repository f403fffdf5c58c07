"""Virtual time for the parts of AWS that wait: visibility timeouts, delays, retries, schedules, expiry.

Nothing in the local cloud sleeps for them: the drain loop jumps the clock to the next
deadline instead, so a test that exercises three one-minute retries runs in milliseconds
and can still assert when each attempt happened.

While a cloud runs, the process's wall clock *is* the virtual clock (``time.time``,
``datetime.now`` and the rest, through ``time-machine``): it starts at the real time the
cloud started and moves only when the clock is advanced. So SQS (moto) hides a message for
exactly the visibility a handler asked for, a Powertools idempotency record expires when
the clock passes its ``expiration``, a DynamoDB TTL passes, a scheduled rule comes due, and
the handlers' own ``time.time()`` agree with all of them. ``time.monotonic`` and
``time.perf_counter`` are real (durations, timeouts, the runtime's lock waits).
"""

from __future__ import annotations

import threading
import time
from contextlib import ExitStack

import time_machine


class VirtualClock:
    """Seconds since the cloud started; moves only when told to.

    ``epoch`` is the wall-clock time (Unix seconds) at virtual second 0; ``wall()`` is the
    current virtual wall-clock time.
    """

    def __init__(self, epoch: float | None = None) -> None:
        self.epoch = float(int(time.time()) if epoch is None else epoch)
        self._now = 0.0
        self._lock = threading.Lock()
        self._traveller: time_machine.Traveller | None = None

    def now(self) -> float:
        """The current virtual time in seconds."""
        with self._lock:
            return self._now

    def wall(self) -> float:
        """The current virtual wall-clock time (Unix seconds)."""
        return self.epoch + self.now()

    def at(self, wall_seconds: float) -> float:
        """The virtual time of a wall-clock instant (Unix seconds)."""
        return wall_seconds - self.epoch

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds`` (never backwards); return the new time."""
        if seconds < 0:
            raise ValueError("the virtual clock never goes backwards")
        with self._lock:
            self._now += seconds
            self._move_wall_clock()
            return self._now

    def advance_to(self, instant: float) -> float:
        """Move forward to ``instant`` if it is in the future; return the new time."""
        with self._lock:
            self._now = max(self._now, instant)
            self._move_wall_clock()
            return self._now

    def install(self, stack: ExitStack) -> None:
        """Make the process's wall clock this clock for as long as ``stack`` is open."""
        traveller = stack.enter_context(time_machine.travel(self.epoch + self.now(), tick=False))
        self._traveller = traveller
        stack.callback(setattr, self, "_traveller", None)

    def _move_wall_clock(self) -> None:
        if self._traveller is not None:
            self._traveller.move_to(self.epoch + self._now, tick=False)
