"""What one Lambda sandbox has to itself, and the code it runs from.

``Container``
    Its code's modules, the Powertools "layer" (``LAYER_PACKAGES``, imported afresh in each
    container, so Powertools' process-wide state, such as its metric set and cold-start flags,
    is per container as on AWS), its own ``logging`` registry (``logging.getLogger`` while its
    code runs), so a Powertools Logger's appended keys and correlation id live in that
    container's logger and never show in another invocation's log lines, however they overlap,
    and its own ``sys.excepthook`` (what its code installs there stays its own, as in its own
    process on AWS; the host process keeps its hook). It also has its own
    ``snapshot_restore_py`` (the SnapStart runtime-hooks library of Lambda's Python runtimes):
    for a function with SnapStart, the first import of its handler is the init Lambda
    snapshots, so the container then runs the before-snapshot hooks (in reverse order of
    registration) and the after-restore hooks (in order), as every restored environment on AWS
    does; a hook that raises fails the invocation with ``SnapStartException``.
``sandbox.Sandbox`` installs a container (its modules, registry and hook in force) while its code
runs.
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import io
import logging
import sys
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from serverless_patterns.local.snapstart import RUNTIME_HOOKS_MODULE, runtime_hooks_module, snapshot_and_restore

# What a Lambda layer would bring into each sandbox: imported per container, not shared with the process.
LAYER_PACKAGES = frozenset({"aws_lambda_powertools"})


def top_level_names(code_dir: Path) -> frozenset[str]:
    """The importable top-level packages and modules of an extracted code asset."""
    names = set()
    for entry in code_dir.iterdir():
        if entry.is_dir() and entry.name.isidentifier():
            names.add(entry.name)
        elif entry.suffix == ".py" and entry.stem.isidentifier():
            names.add(entry.stem)
    return frozenset(names)


def extract_code(code_root: Path, code: bytes, code_sha_256: str) -> Path:
    """The directory a code version's zip is extracted to (once: containers of that code share it)."""
    digest = base64.b32encode(code_sha_256.encode()).decode().rstrip("=")[:24].lower()
    code_dir = code_root / digest
    if not code_dir.is_dir():
        staging = code_root / f".{digest}.{uuid.uuid4().hex}"
        with zipfile.ZipFile(io.BytesIO(code)) as archive:
            archive.extractall(staging)
        with contextlib.suppress(OSError):  # another container of this code extracted it first
            staging.rename(code_dir)
        importlib.invalidate_caches()
    return code_dir


def take_modules(roots: frozenset[str]) -> dict[str, ModuleType]:
    """Remove and return every loaded module under ``roots``."""
    prefixes = tuple(f"{root}." for root in roots)
    taken = {}
    for name in [n for n in sys.modules if n in roots or n.startswith(prefixes)]:
        module = sys.modules.pop(name)
        if module is not None:
            taken[name] = module
    return taken


@dataclass(eq=False)
class Container:
    """One sandbox of a deployed code version: its extracted code and its own loaded modules.

    ``snap_start``: the version has SnapStart, so its init ends with the runtime hooks.
    """

    key: str
    code_dir: Path
    roots: frozenset[str]
    modules: dict[str, ModuleType] = field(default_factory=dict)
    handlers: dict[str, Callable[..., Any]] = field(default_factory=dict)
    invocations: int = 0
    busy: bool = False
    logging_manager: logging.Manager = field(default_factory=lambda: logging.Manager(logging.root))
    # A fresh interpreter's; its code may set its own (Powertools' log_uncaught_exceptions does at import).
    excepthook: Callable[..., Any] = sys.__excepthook__
    snap_start: bool = False
    restored: bool = False

    def __post_init__(self) -> None:
        self.roots = self.roots | {RUNTIME_HOOKS_MODULE}
        self.modules.setdefault(RUNTIME_HOOKS_MODULE, runtime_hooks_module())

    def handler(self, spec: str) -> Callable[..., Any]:
        """Import ``module.function`` (only while installed); with SnapStart, then snapshot and restore."""
        if spec not in self.handlers:
            module_name, _, function_name = spec.rpartition(".")
            if not module_name:
                raise LookupError(f"Bad handler '{spec}': not enough values to unpack")
            module = importlib.import_module(module_name)
            handler = getattr(module, function_name, None)
            if not callable(handler):
                raise AttributeError(f"Handler '{function_name}' missing on module '{module_name}'")
            if self.snap_start and not self.restored:
                snapshot_and_restore(sys.modules[RUNTIME_HOOKS_MODULE])
                self.restored = True
            self.handlers[spec] = handler
        return self.handlers[spec]
