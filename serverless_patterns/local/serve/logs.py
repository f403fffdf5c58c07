"""One terminal line per invocation: when, request id, function (and its pattern role), source, duration, cold/warm."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import TextIO

from serverless_patterns.local.invocation import Invocation


class InvocationLog:
    """Prints ``12:00:01 3f2a9c1e  Process (EventPipeline process, ...)  sqs  152.3 ms  cold  OK``."""

    def __init__(self, labels: Mapping[str, str], *, stream: TextIO | None = None) -> None:
        self.labels = labels
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def label(self, function_name: str) -> str:
        """The function's name, with the pattern role it plays when it is a pattern's."""
        return self.labels.get(function_name, function_name)

    def line(self, invocation: Invocation) -> str:
        """The invocation's line."""
        outcome = f"ERROR {invocation.error_type}" if invocation.failed else "OK"
        return (
            f"{time.strftime('%H:%M:%S')} {invocation.request_id[:8]}  {self.label(invocation.function_name)}  "
            f"{invocation.source}  {invocation.duration_ms:.1f} ms  {'cold' if invocation.cold_start else 'warm'}  "
            f"{outcome}"
        )

    def __call__(self, invocation: Invocation) -> None:
        with self._lock:
            self.stream.write(self.line(invocation) + "\n")
            self.stream.flush()


def function_labels(functions: Mapping[str, str], describe: Callable[[str], str | None]) -> dict[str, str]:
    """Physical name -> ``name (EventPipeline process, CatalogService/PriceLists)`` for pattern functions.

    ``functions`` maps physical names to logical ids; ``describe`` gives a logical id's pattern role.
    """
    labels = {}
    for name, logical_id in functions.items():
        role = describe(logical_id)
        labels[name] = f"{name} ({role})" if role else name
    return labels
