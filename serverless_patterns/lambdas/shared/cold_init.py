"""Init with the cyclic garbage collector held back, and what init built frozen out of its sight.

A handler's init allocates tens of thousands of long-lived objects (modules, classes, functions,
validators) and next to no garbage, yet CPython's collector runs a young collection every 700
allocations (2,000 from Python 3.13) and, as the heap grows, full collections that walk all of it:
about a quarter of the API handler's import time on Python 3.11, about 6% on 3.13 (the patterns'
runtime). In a Lambda execution environment (``AWS_LAMBDA_RUNTIME_API`` set), importing
``serverless_patterns.lambdas`` raises the young generation's threshold to ``INIT_THRESHOLD``
allocations (``hold_back``). The first invocation of a handler the package builds
(``warmup_aware``: every pattern's handler, ``ApiApp.handler`` and the handlers of the ``custom``
builders, with your code in them) ends init (``init_done``): what init built moves to the permanent
generation (``gc.freeze``), which no collection scans again, and the thresholds are restored.
Cyclic garbage is collected all along, only less often during init. An entry point of your own that
uses the package's helpers without ``warmup_aware`` ends init itself (else the raised threshold
stays)::

    from serverless_patterns.lambdas.shared import cold_init

    ...  # your imports and module-level setup

    cold_init.init_done()

With SnapStart the hold is part of the snapshot and the first invocation after a restore ends it.

Outside Lambda nothing changes: tests, and the local cloud, which runs handlers in the host's
process and so does not set ``AWS_LAMBDA_RUNTIME_API``, keep the interpreter's collector as it is.
"""

from __future__ import annotations

import gc
import os

INIT_THRESHOLD = 100_000
"""Allocations between young collections while init runs (CPython's default: 700; 2,000 from 3.13)."""
RUNTIME_API_VARIABLE = "AWS_LAMBDA_RUNTIME_API"
"""Set by Lambda in every execution environment: where the runtime fetches its events."""

_held: tuple[int, int, int] | None = None


def hold_back() -> None:
    """In a Lambda execution environment, collect the young generation less often until ``init_done``."""
    global _held
    if _held is None and RUNTIME_API_VARIABLE in os.environ:
        _held = gc.get_threshold()
        gc.set_threshold(INIT_THRESHOLD, *_held[1:])


def init_done() -> None:
    """Freeze what init built and restore the collector's thresholds (once; only after ``hold_back`` held it)."""
    global _held
    if _held is not None:
        thresholds, _held = _held, None
        gc.freeze()
        gc.set_threshold(*thresholds)
