"""Scenarios: the traffic driven through each pattern, and the checks on it.

The same scenarios run on the local cloud (``make local``, the integration tests) and
against a deployed stage in a real account (``pytest -m aws``): they use only the
``Target`` protocol (``serverless_patterns.scenarios.target``).

A pattern adds its scenario as one decorated function in a module of this package (every
module here is imported by ``discover()``; nothing else to register)::

    from serverless_patterns.scenarios import ScenarioRun, scenario
    from serverless_patterns.scenarios.target import Target

    @scenario("API backend: create, read, delete an item", pattern="Api")
    def api_backend(cloud: Target, run: ScenarioRun) -> None:
        created = cloud.api_request("POST", "/items", body={"name": "x"})
        run.equal("POST /items answers 201", created.status_code, 201)
        run.check("item readable", cloud.api_request("GET", f"/items/{created.json()['id']}").status_code == 200)

``pattern`` is the construct id of the pattern in the service stack: the scenario runs only
when a construct with that id was deployed. A scenario gets the ``Target`` (outputs,
``resource("Pattern/Construct/Path")``, ``invoke``, ``api_request``, ``put_object``,
``run_execution``, ``settle``, ``client``...) and records checks with
``run.check(name, passed, detail=..., count=...)`` or ``run.equal(name, actual, expected)``.
An exception inside a scenario is a failed check, not a crash.
"""

from __future__ import annotations

import importlib
import pkgutil
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from serverless_patterns.scenarios.target import Target


# The grants the scenarios do not use but the app needs, each with its reason (the local
# cloud's least-privilege report counts them as acknowledged rather than unused).
ACKNOWLEDGED_GRANTS = Path(__file__).with_name("acknowledged_grants.json")


@dataclass(frozen=True)
class Check:
    """One verified expectation."""

    name: str
    passed: bool
    detail: str = ""
    count: int | None = None


@dataclass
class ScenarioRun:
    """Collects the checks of one scenario run."""

    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        """Say what the run did not check here and why (printed in the report, not counted as a check)."""
        self.notes.append(text)

    def check(self, name: str, passed: bool, *, detail: str = "", count: int | None = None) -> bool:
        """Record a check; return ``passed`` so a scenario can stop early."""
        self.checks.append(Check(name, bool(passed), detail, count))
        return bool(passed)

    def equal(self, name: str, actual: Any, expected: Any, *, count: int | None = None) -> bool:
        """Record that ``actual == expected`` (the detail shows both when it fails)."""
        passed = actual == expected
        return self.check(name, passed, detail="" if passed else f"expected {expected!r}, got {actual!r}", count=count)

    @property
    def passed(self) -> bool:
        """True when every check passed (and there was at least one)."""
        return bool(self.checks) and all(c.passed for c in self.checks)


ScenarioFunction = Callable[["Target", ScenarioRun], None]


@dataclass(frozen=True)
class Scenario:
    """A named run of traffic through one pattern."""

    name: str
    pattern: str
    function: ScenarioFunction


@dataclass(frozen=True)
class ScenarioResult:
    """A scenario's checks and how long it took."""

    scenario: Scenario
    checks: tuple[Check, ...]
    seconds: float
    notes: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """True when every check passed (and there was at least one)."""
        return bool(self.checks) and all(c.passed for c in self.checks)


SCENARIOS: list[Scenario] = []


def scenario(name: str, *, pattern: str) -> Callable[[ScenarioFunction], ScenarioFunction]:
    """Register the decorated function as a scenario of the pattern with construct id ``pattern``."""

    def register(function: ScenarioFunction) -> ScenarioFunction:
        SCENARIOS.append(Scenario(name=name, pattern=pattern, function=function))
        return function

    return register


def discover() -> list[Scenario]:
    """Import every scenario module of this package; return all registered scenarios."""
    for module in pkgutil.iter_modules(__path__):
        if module.name != "target":
            importlib.import_module(f"{__name__}.{module.name}")
    return list(SCENARIOS)


def run_scenario(cloud: Target, item: Scenario) -> ScenarioResult:
    """Run one scenario; an exception becomes a failed check."""
    run = ScenarioRun()
    started = time.perf_counter()
    try:
        item.function(cloud, run)
    except Exception as exc:
        last = traceback.extract_tb(exc.__traceback__)[-1]
        run.check("scenario ran to the end", False, detail=f"{type(exc).__name__}: {exc} ({last.name}:{last.lineno})")
    return ScenarioResult(item, tuple(run.checks), time.perf_counter() - started, tuple(run.notes))
