"""SnapStart runtime hooks: what a restored execution environment must not share with its siblings.

With SnapStart (``FunctionSettings.snap_start``) Lambda runs a version's init once, snapshots
it, and starts every new execution environment from that snapshot. Whatever the init left in
memory is then the same in all of them. The package's handlers create their AWS clients, read
their secrets and circuit-breaker states, and take their idempotency records on first use, in
an invocation: none of that is in the snapshot. What is:

- the state of ``random``, which every restored environment would continue identically: it is
  reseeded from the operating system's entropy after each restore;
- the Powertools logger's debug-sampling decision (``PatternDefaults.debug_log_sample_rate``),
  taken at init: it is taken again after each restore, so each environment samples on its own.

``uuid.uuid4``, ``secrets`` and ``os.urandom`` read the kernel's entropy on each call and need
nothing. Register your own code's hooks here (they run in Lambda's managed Python runtimes,
3.12 and later, and in the local cloud; elsewhere there is no snapshot and nothing runs)::

    from serverless_patterns.lambdas.shared.snapstart import after_restore

    @after_restore
    def new_connection() -> None:
        CONNECTION.reconnect()  # a connection opened at init is stale in a restored environment

Keep after-restore hooks short: Lambda allows them 10 seconds with the runtime's own restore.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, TypeVar

HookT = TypeVar("HookT", bound=Callable[..., Any])
RUNTIME_HOOKS_MODULE = "snapshot_restore_py"  # Lambda's Snapshot Restore for Python library


def _register(kind: str, hook: HookT, *args: Any, **kwargs: Any) -> HookT:
    try:
        module = __import__(RUNTIME_HOOKS_MODULE)
    except ImportError:  # not a Lambda Python 3.12+ runtime nor the local cloud: no snapshots
        return hook
    getattr(module, f"register_{kind}")(hook, *args, **kwargs)
    return hook


def after_restore(hook: HookT, *args: Any, **kwargs: Any) -> HookT:
    """Run ``hook(*args, **kwargs)`` in each environment restored from a snapshot (in order of registration)."""
    return _register("after_restore", hook, *args, **kwargs)


def before_snapshot(hook: HookT, *args: Any, **kwargs: Any) -> HookT:
    """Run ``hook(*args, **kwargs)`` once before Lambda snapshots the init (in reverse order of registration)."""
    return _register("before_snapshot", hook, *args, **kwargs)


def restore_uniqueness(refresh_sampling: Callable[[], None]) -> None:
    """Reseed ``random`` and take the logger's sampling decision afresh (``refresh_sampling``)."""
    random.seed()
    refresh_sampling()
