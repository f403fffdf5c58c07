"""Timing primitives: fresh processes, several runs, interleaved, median with min and max.

These machines are shared and noisy: absolute times drift between minutes. Every figure the
bench reports is therefore a ratio of two medians measured in the same rounds, with the
subject and its floor run alternately (``time_interleaved``), so drift hits both alike.
Each process's CPU time (user + system) is recorded next to its wall-clock time: a process
waiting for a core inflates the latter, hardly the former.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

Check = Callable[[subprocess.CompletedProcess[str]], None]


@dataclass(frozen=True)
class Sample:
    """Wall-clock seconds of several runs of one thing."""

    runs: tuple[float, ...]

    @property
    def median(self) -> float:
        """The figure reported: robust to the odd run another process slowed down."""
        return statistics.median(self.runs)

    @property
    def low(self) -> float:
        """The fastest run."""
        return min(self.runs)

    @property
    def high(self) -> float:
        """The slowest run."""
        return max(self.runs)

    def as_dict(self) -> dict[str, float | int]:
        """Median, min and max in seconds, and the number of runs."""
        return {
            "median_s": round(self.median, 4),
            "min_s": round(self.low, 4),
            "max_s": round(self.high, 4),
            "runs": len(self.runs),
        }


@dataclass(frozen=True)
class Command:
    """A process to time: argv, its whole environment (nothing inherited), working directory."""

    argv: Sequence[str]
    env: Mapping[str, str]
    cwd: str | None = None
    check: Check | None = field(default=None, compare=False)


def python(
    code: str,
    *args: str,
    env: Mapping[str, str],
    cwd: str | None = None,
    check: Check | None = None,
    flags: Sequence[str] = (),
    interpreter: str | None = None,
) -> Command:
    """``python [flags] -c code args...`` in ``interpreter`` (default: this one)."""
    return Command([interpreter or sys.executable, *flags, "-c", code, *args], env=env, cwd=cwd, check=check)


@dataclass(frozen=True)
class Timing:
    """Wall-clock and CPU seconds of the same runs."""

    wall: Sample
    cpu: Sample


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(command: Command) -> tuple[float, float]:
    """(wall, CPU) seconds of the process, start to exit; a failing run raises with the end of its output."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    result = subprocess.run(  # noqa: S603  (argv built by the bench itself, never a shell)
        list(command.argv), env=dict(command.env), cwd=command.cwd, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    cpu = _children_cpu() - cpu_before  # this child alone: runs never overlap
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command.argv[:3])} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    if command.check is not None:
        command.check(result)
    return elapsed, cpu


def time_interleaved(
    commands: Mapping[str, Command | Callable[[], Command]], *, runs: int, warmup: int = 1
) -> dict[str, Timing]:
    """Run every command once per round, in order, ``runs`` rounds (after ``warmup`` untimed rounds).

    Interleaving spreads a slow minute over every subject instead of one; the untimed rounds
    let the OS page cache hold the interpreter and site-packages for all of them. A callable
    stands for a command built when it first runs, from what the commands before it produced.
    """
    built: dict[str, Command] = {}

    def command(name: str) -> Command:
        if name not in built:
            given = commands[name]
            built[name] = given if isinstance(given, Command) else given()
        return built[name]

    for _ in range(warmup):
        for name in commands:
            run_once(command(name))
    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name in commands:
            wall, cpu = run_once(command(name))
            walls[name].append(wall)
            cpus[name].append(cpu)
    return {name: Timing(Sample(tuple(walls[name])), Sample(tuple(cpus[name]))) for name in commands}


def time_call(call: Callable[[], object], *, runs: int) -> Sample:
    """Seconds of ``call()`` in this process, ``runs`` times."""
    durations = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        durations.append(time.perf_counter() - started)
    return Sample(tuple(durations))


def ratio(subject: Sample, floor: Sample) -> float:
    """Median of the subject over the median of the floor, measured in the same rounds."""
    return round(subject.median / floor.median, 3)
