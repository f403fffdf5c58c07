"""SnapStart in the local cloud: Lambda's runtime-hooks library, one per container, and running its hooks.

Lambda's Python runtimes (3.12+) include ``snapshot_restore_py`` (the open-source Snapshot
Restore for Python library). On AWS, a SnapStart version is initialised once when it is
published: the init ends with the before-snapshot hooks (in reverse order of registration) and
the snapshot; every new execution environment is restored from it and runs the after-restore
hooks (in order of registration) before its first invocation. Here each container is both: the
first import of its handler is the init, then both kinds of hooks run, so code that keeps
something per environment sees the restore it would on AWS. A hook that raises fails the
invocation with ``SnapStartException``, as Lambda's Invoke does. Not emulated: the 10-second
limit on the after-restore hooks (``SnapStartTimeoutException``).
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from serverless_patterns.lambdas.shared.snapstart import RUNTIME_HOOKS_MODULE

__all__ = ["RUNTIME_HOOKS_MODULE", "SnapStartHookError", "runtime_hooks_module", "snapshot_and_restore"]


class SnapStartHookError(RuntimeError):
    """A SnapStart runtime hook raised (Lambda's ``SnapStartException``)."""


Hook = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


def runtime_hooks_module() -> ModuleType:
    """A fresh ``snapshot_restore_py`` for one container, with the API of Lambda's library.

    ``register_before_snapshot(func, *args, **kwargs)`` and ``register_after_restore(...)``
    register a call and return ``func``, so both work as decorators too.
    """
    module = ModuleType(RUNTIME_HOOKS_MODULE, "SnapStart runtime hooks (the local cloud's, per container).")
    before: list[Hook] = []
    after: list[Hook] = []

    def register_before_snapshot(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
        before.append((func, args, kwargs))
        return func

    def register_after_restore(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
        after.append((func, args, kwargs))
        return func

    module.register_before_snapshot = register_before_snapshot  # type: ignore[attr-defined]
    module.register_after_restore = register_after_restore  # type: ignore[attr-defined]
    module.before_snapshot_hooks = before  # type: ignore[attr-defined]
    module.after_restore_hooks = after  # type: ignore[attr-defined]
    return module


def snapshot_and_restore(hooks: ModuleType) -> None:
    """Run a container's hooks as Lambda does around a snapshot: before-snapshot in reverse, after-restore in order."""
    for phase, registered in (
        ("before-snapshot", list(reversed(hooks.before_snapshot_hooks))),
        ("after-restore", list(hooks.after_restore_hooks)),
    ):
        for func, args, kwargs in registered:
            try:
                func(*args, **kwargs)
            except Exception as exc:
                name = getattr(func, "__qualname__", repr(func))
                raise SnapStartHookError(f"the {phase} runtime hook {name} raised {exc!r}") from exc
