"""The SnapStart hooks every handler registers, without Lambda: what runs after a restore."""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap

import pytest

from serverless_patterns.lambdas.shared import snapstart
from serverless_patterns.local.snapstart import RUNTIME_HOOKS_MODULE, runtime_hooks_module, snapshot_and_restore


def test_a_restore_reseeds_random_and_takes_the_sampling_decision_again() -> None:
    refreshed: list[bool] = []
    random.seed(7)
    snapshot_state = random.getstate()  # what every environment restored from one snapshot would share

    snapstart.restore_uniqueness(lambda: refreshed.append(True))

    assert random.getstate() != snapshot_state
    assert refreshed == [True]


def test_hooks_register_with_lambdas_library_when_the_runtime_has_it(monkeypatch: pytest.MonkeyPatch) -> None:
    hooks = runtime_hooks_module()
    monkeypatch.setitem(sys.modules, RUNTIME_HOOKS_MODULE, hooks)
    ran: list[str] = []

    @snapstart.after_restore
    def reconnect() -> None:
        ran.append("reconnect")

    snapstart.after_restore(ran.append, "second")
    snapstart.before_snapshot(ran.append, "flush")
    snapshot_and_restore(hooks)

    assert reconnect.__name__ == "reconnect"  # the decorator hands the function back
    assert ran == ["flush", "reconnect", "second"]


def test_without_the_library_there_is_no_snapshot_and_nothing_registers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, RUNTIME_HOOKS_MODULE, None)  # import fails, as outside Lambda's runtime

    def hook() -> None:
        raise AssertionError("never runs")

    assert snapstart.after_restore(hook) is hook


def test_every_handler_registers_the_uniqueness_hook_through_its_observability() -> None:
    """In a fresh interpreter (the handlers' module, imported once, as in a Lambda init)."""
    probe = textwrap.dedent(
        """
        import sys
        from serverless_patterns.local.snapstart import runtime_hooks_module
        hooks = sys.modules["snapshot_restore_py"] = runtime_hooks_module()
        from serverless_patterns.lambdas.shared import observability, snapstart
        [(hook, args, _)] = hooks.after_restore_hooks
        assert hook is snapstart.restore_uniqueness
        assert args == (observability.logger.refresh_sample_rate_calculation,)
        """
    )
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)  # noqa: S603
    assert completed.returncode == 0, completed.stderr
