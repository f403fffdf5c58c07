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
    Installing a container swaps in what it has to itself (``container.Container``): its
    modules, its code on ``sys.path``, its ``logging`` registry and its ``sys.excepthook``.
(DynamoDB's part, one request at a time, is in ``dynamodb``.)
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import ExitStack
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from unittest import mock

from moto.core.botocore_stubber import BotocoreStubber

from serverless_patterns.local.container import Container, take_modules

LOCK_TIMEOUT_SECONDS = 120.0
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
        self._process_excepthook = sys.excepthook
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
        """Make ``container``'s modules, ``logging`` registry and ``sys.excepthook`` (None: the process's own) the
        ones in force (lock held): what its code installs process-wide stays in it, as in its own process on AWS."""
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
            current.excepthook, sys.excepthook = sys.excepthook, self._process_excepthook
        if container is not None:
            self._process_modules = self._take(container.roots)
            self._put(container.roots, container.modules)
            sys.path.insert(0, str(container.code_dir))
            logging.Logger.manager = container.logging_manager
            self._process_excepthook, sys.excepthook = sys.excepthook, container.excepthook
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
