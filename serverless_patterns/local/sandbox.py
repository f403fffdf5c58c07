"""What keeps concurrent in-process invocations apart: environments, module namespaces, the emulator.

Two things make one Python process behave like many Lambda sandboxes at once:

``ThreadEnviron``
    ``os.environ`` while the cloud runs. Outside handlers it is the process's environment;
    in a thread running a handler it is that invocation's environment, so concurrent
    invocations neither see nor disturb each other's variables (nor the process's). A
    thread that handler code starts inherits the invocation's environment.
``Sandbox``
    The runtime lock and the owner of ``sys.modules``. Handler Python code runs only while
    its thread holds the lock, with its container's modules installed; every AWS request
    (a boto3 call reaching the emulator) releases the lock and puts the process's modules
    back, so other invocations progress while one waits for AWS. Invocations therefore
    interleave at AWS API calls, which is where races between Lambda invocations live.
    It also lends out containers: one invocation per container at a time, more containers
    (cold starts) when invocations overlap, up to a limit per function version.
``Container``
    What one Lambda sandbox has to itself: its code's modules, the Powertools "layer"
    (``LAYER_PACKAGES``, imported afresh in each container, so Powertools' process-wide
    state, such as its metric set and cold-start flags, is per container as on AWS), and
    its own ``logging`` registry (``logging.getLogger`` while its code runs), so a
    Powertools Logger's appended keys and correlation id live in that container's logger
    and never show in another invocation's log lines, however they overlap. It also has its
    own ``snapshot_restore_py`` (the SnapStart runtime-hooks library of Lambda's Python
    runtimes): for a function with SnapStart, the first import of its handler is the init
    Lambda snapshots, so the container then runs the before-snapshot hooks (in reverse order
    of registration) and the after-restore hooks (in order), as every restored environment
    on AWS does; a hook that raises fails the invocation with ``SnapStartException``.
(DynamoDB's part, one request at a time, is in ``dynamodb``.)
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import io
import logging
import sys
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

from moto.core.botocore_stubber import BotocoreStubber

from serverless_patterns.local.snapstart import RUNTIME_HOOKS_MODULE, runtime_hooks_module, snapshot_and_restore

LOCK_TIMEOUT_SECONDS = 120.0
# What a Lambda layer would bring into each sandbox: imported per container, not shared with the process.
LAYER_PACKAGES = frozenset({"aws_lambda_powertools"})
DEFAULT_MAX_CONTAINERS = 4


class ThreadEnviron(MutableMapping[str, str]):
    """``os.environ``: the process's environment, or in a thread running a handler, the invocation's."""

    def __init__(self, base: MutableMapping[str, str]) -> None:
        self.base = base
        self._local = threading.local()

    def _stack(self) -> list[dict[str, str]]:
        stack: list[dict[str, str]] | None = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def current(self) -> MutableMapping[str, str]:
        """The environment this thread sees."""
        stack = self._stack()
        return stack[-1] if stack else self.base

    @contextlib.contextmanager
    def overlay(self, environment: Mapping[str, str]) -> Iterator[None]:
        """Make ``environment`` (a copy) this thread's whole environment for the duration."""
        stack = self._stack()
        stack.append(dict(environment))
        try:
            yield
        finally:
            stack.pop()

    def inherited(self) -> dict[str, str] | None:
        """What a thread started now should see: this thread's invocation environment, if any."""
        stack = self._stack()
        return dict(stack[-1]) if stack else None

    def __getitem__(self, key: str) -> str:
        return self.current()[key]

    def __setitem__(self, key: str, value: str) -> None:
        self.current()[key] = value

    def __delitem__(self, key: str) -> None:
        del self.current()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self.current()))

    def __len__(self) -> int:
        return len(self.current())

    def copy(self) -> dict[str, str]:
        """A plain dict of the variables this thread sees (what ``os.environ.copy()`` returns)."""
        return dict(self.current())

    def __or__(self, other: Mapping[str, str]) -> dict[str, str]:
        return {**self.copy(), **other}

    def __ror__(self, other: Mapping[str, str]) -> dict[str, str]:
        return {**other, **self.copy()}

    def __ior__(self, other: Mapping[str, str]) -> ThreadEnviron:
        self.update(other)
        return self

    def __repr__(self) -> str:
        return f"ThreadEnviron({self.copy()!r})"

    def install(self, stack: ExitStack, holds_lock: Callable[[], bool]) -> None:
        """Be ``os.environ`` while ``stack`` is open; threads started by handler code inherit its environment.

        ``holds_lock`` tells whether the starting thread is running handler code (rather than
        the emulator serving that handler's request, whose threads keep the process's view).
        """
        import os

        environ = self
        original_start = threading.Thread.start
        original_run = threading.Thread.run

        def start(thread: threading.Thread) -> None:
            if holds_lock():
                thread._local_cloud_environment = environ.inherited()  # type: ignore[attr-defined]
            original_start(thread)

        def run(thread: threading.Thread) -> None:
            inherited: dict[str, str] | None = getattr(thread, "_local_cloud_environment", None)
            if inherited is None:
                original_run(thread)
                return
            with environ.overlay(inherited):
                original_run(thread)

        stack.enter_context(mock.patch.object(os, "environ", self))
        stack.enter_context(mock.patch.object(threading.Thread, "start", start))
        stack.enter_context(mock.patch.object(threading.Thread, "run", run))


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
            host_hook = sys.excepthook
            try:
                module = importlib.import_module(module_name)
            finally:
                # A sandbox's init may install its own (Powertools' log_uncaught_exceptions): on AWS that is
                # its process's; here it would log the host process's crashes as that function's.
                sys.excepthook = host_hook
            handler = getattr(module, function_name, None)
            if not callable(handler):
                raise AttributeError(f"Handler '{function_name}' missing on module '{module_name}'")
            if self.snap_start and not self.restored:
                snapshot_and_restore(sys.modules[RUNTIME_HOOKS_MODULE])
                self.restored = True
            self.handlers[spec] = handler
        return self.handlers[spec]


class LocalDeadlockError(RuntimeError):
    """The runtime lock or a container could not be had in time (a handler waiting on another thread?)."""


@dataclass
class _Frame:
    """One invocation running on a thread: its container and the time it spent waiting for the lock."""

    container: Container
    waited: float = 0.0


class Sandbox:
    """The runtime lock, the containers, and which container's modules ``sys.modules`` holds."""

    def __init__(self, *, max_containers: int = DEFAULT_MAX_CONTAINERS) -> None:
        self.max_containers = max_containers
        self._lock = threading.Lock()
        self._local = threading.local()
        self._installed: Container | None = None
        self._process_logging: logging.Manager = logging.Logger.manager
        self._process_modules: dict[str, ModuleType] = {}
        # roots -> (len(sys.modules), the modules under roots) as of the last swap: a swap pops
        # those names only while no module was imported (or removed) since; otherwise it scans.
        self._index: dict[frozenset[str], tuple[int, tuple[str, ...]]] = {}
        self._pools: dict[str, list[Container]] = {}
        self._pool_lock = threading.Lock()
        self._freed: dict[str, threading.Condition] = {}

    # -- the runtime lock ----------------------------------------------------------------

    def holds_lock(self) -> bool:
        """True in a thread whose handler code is running (not waiting on an AWS request)."""
        return bool(getattr(self._local, "holding", False))

    def _frames(self) -> list[_Frame]:
        frames: list[_Frame] | None = getattr(self._local, "frames", None)
        if frames is None:
            frames = self._local.frames = []
        return frames

    @contextlib.contextmanager
    def running(self, container: Container) -> Iterator[_Frame]:
        """Hold the lock with ``container``'s modules installed while its handler runs."""
        nested = self.holds_lock()
        if not nested and not self._lock.acquire(timeout=LOCK_TIMEOUT_SECONDS):
            raise LocalDeadlockError("another invocation held the runtime too long (waiting on another thread?)")
        self._local.holding = True
        previous = self._installed
        frame = _Frame(container)
        frames = self._frames()
        frames.append(frame)
        try:
            self._install(container)
            yield frame
        finally:
            frames.pop()
            if self.holds_lock():  # not after a failed re-acquire (LocalDeadlockError)
                self._install(previous)
                if not nested:
                    self._local.holding = False
                    self._lock.release()

    @contextlib.contextmanager
    def yielded(self) -> Iterator[None]:
        """Let other invocations run while this thread's handler waits for an AWS request."""
        if not self.holds_lock():
            yield
            return
        container = self._installed
        self._install(None)
        self._local.holding = False
        self._lock.release()
        try:
            yield
        finally:
            started = time.perf_counter()
            acquired = self._lock.acquire(timeout=LOCK_TIMEOUT_SECONDS)
            waited = time.perf_counter() - started
            for frame in self._frames():
                frame.waited += waited
            if acquired:
                self._local.holding = True
                self._install(container)
        if not acquired:
            raise LocalDeadlockError("the runtime lock was not released in time after an AWS request")

    def _install(self, container: Container | None) -> None:
        """Make ``container``'s modules (None: the process's own) the importable ones (lock held)."""
        current = self._installed
        if current is container:
            return
        if current is not None:
            current.modules = self._take(current.roots)
            with contextlib.suppress(ValueError):
                sys.path.remove(str(current.code_dir))
            self._put(current.roots, self._process_modules)
            self._process_modules = {}
            logging.Logger.manager = self._process_logging
        if container is not None:
            self._process_modules = self._take(container.roots)
            self._put(container.roots, container.modules)
            sys.path.insert(0, str(container.code_dir))
            logging.Logger.manager = container.logging_manager
        self._installed = container

    def _take(self, roots: frozenset[str]) -> dict[str, ModuleType]:
        """``take_modules``, without scanning ``sys.modules`` when no module came or went since the last swap."""
        known = self._index.get(roots)
        if known is None or known[0] != len(sys.modules):
            return take_modules(roots)
        taken = {}
        for name in known[1]:
            module = sys.modules.pop(name, None)
            if module is not None:
                taken[name] = module
        return taken

    def _put(self, roots: frozenset[str], modules: dict[str, ModuleType]) -> None:
        sys.modules.update(modules)
        self._index[roots] = (len(sys.modules), tuple(modules))

    def install(self, stack: ExitStack) -> None:
        """Release the lock around every AWS request a handler makes, for as long as ``stack`` is open."""
        sandbox = self
        original = BotocoreStubber.process_request

        def process_request(stubber: BotocoreStubber, request: Any) -> Any:
            with sandbox.yielded():
                return original(stubber, request)

        stack.enter_context(mock.patch.object(BotocoreStubber, "process_request", process_request))

    # -- containers ----------------------------------------------------------------------

    @contextlib.contextmanager
    def container(self, key: str, create: Callable[[], Container], limit: int | None = None) -> Iterator[Container]:
        """Lend a free container of ``key`` (creating one below ``limit``, default ``max_containers``, else waiting)."""
        limit = max(1, self.max_containers if limit is None else limit)
        deadline = time.monotonic() + LOCK_TIMEOUT_SECONDS
        with self._pool_lock:
            freed = self._freed.setdefault(key, threading.Condition(self._pool_lock))
            pool = self._pools.setdefault(key, [])
            while True:
                lent = next((c for c in pool if not c.busy), None)
                if lent is None and len(pool) < limit:
                    lent = create()
                    pool.append(lent)
                if lent is not None:
                    lent.busy = True
                    break
                if not freed.wait(timeout=max(0.0, deadline - time.monotonic())):
                    raise LocalDeadlockError(f"no container of {key} became free in {LOCK_TIMEOUT_SECONDS:.0f} s")
        try:
            yield lent
        finally:
            with self._pool_lock:
                lent.busy = False
                freed.notify()  # one waiter: one container came free

    def containers(self, key_prefix: str = "") -> list[Container]:
        """The containers created so far (of the versions whose key starts with ``key_prefix``)."""
        with self._pool_lock:
            return [c for key, pool in self._pools.items() if key.startswith(key_prefix) for c in pool]
