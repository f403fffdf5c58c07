"""Virtual time in step with real time, for a cloud that stays up.

``LocalCloud`` moves its virtual clock only when told (``drain``, ``advance``). A dev server
tells it continuously: every ``interval`` seconds the background loop advances the clock to
the real wall-clock time, running whatever fell due on the way (SQS batches as their messages
become visible, async invocations and their retries, scheduled rules, message move tasks,
TTL expiry). So a retry backoff of a minute takes a minute, a ``rate(5 minutes)`` rule fires
every five minutes, and ``time.time()`` in a handler is the real time to within ``interval``.
While a long step runs (an execution being awaited), the clock catches up afterwards.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from time_machine import escape_hatch

from serverless_patterns.local.clock import VirtualClock

DEFAULT_INTERVAL_SECONDS = 0.2


class RealTimeLoop:
    """Advances the cloud's virtual clock to the real time, in a daemon thread."""

    def __init__(
        self,
        clock: VirtualClock,
        advance: Callable[[float], object],
        *,
        before: Callable[[], None] = lambda: None,
        on_error: Callable[[BaseException], None] = lambda error: None,
        interval: float = DEFAULT_INTERVAL_SECONDS,
    ) -> None:
        self.clock = clock
        self.advance = advance
        self.before = before
        self.on_error = on_error
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="virtual-time", daemon=True)

    def lag(self) -> float:
        """Seconds the virtual clock is behind the real wall clock."""
        return escape_hatch.time.time() - self.clock.wall()

    def step(self) -> None:
        """Run what is due now, and advance to the real time."""
        self.before()
        self.advance(max(0.0, self.lag()))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.step()
            except Exception as error:  # keep serving; the error is reported
                self.on_error(error)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)
