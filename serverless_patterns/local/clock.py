"""Virtual time for the parts of AWS that wait: visibility timeouts, async retries.

Nothing in the local cloud sleeps for them: the drain loop jumps the clock to the next
deadline instead, so a test that exercises three one-minute retries runs in milliseconds
and can still assert when each attempt happened.
"""

from __future__ import annotations

import threading


class VirtualClock:
    """Seconds since the cloud started; moves only when told to."""

    def __init__(self) -> None:
        self._now = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """The current virtual time in seconds."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds`` (never backwards); return the new time."""
        if seconds < 0:
            raise ValueError("the virtual clock never goes backwards")
        with self._lock:
            self._now += seconds
            return self._now

    def advance_to(self, instant: float) -> float:
        """Move forward to ``instant`` if it is in the future; return the new time."""
        with self._lock:
            self._now = max(self._now, instant)
            return self._now
