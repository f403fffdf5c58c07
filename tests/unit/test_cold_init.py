"""The collector is held back while a Lambda environment initialises, and only there.

Each case runs in a fresh interpreter: ``gc.freeze`` would otherwise freeze the test process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from serverless_patterns.lambdas.shared.cold_init import INIT_THRESHOLD, RUNTIME_API_VARIABLE

CODE = """
import gc, json, sys
default = gc.get_threshold()
import serverless_patterns.lambdas
from serverless_patterns.lambdas.shared.warmup import WARMUP_EVENT, warmup_aware
during_init = gc.get_threshold()
handler = warmup_aware(lambda event, context: {"served": event})
first = handler(WARMUP_EVENT if sys.argv[1] == "warmup" else {"n": 1}, None)
after_first = [gc.get_threshold(), gc.get_freeze_count()]
frozen_once = gc.get_freeze_count()
second = handler({"n": 2}, None)
print(json.dumps({
    "default": default, "during_init": during_init, "after_first": after_first,
    "refrozen": gc.get_freeze_count() != frozen_once, "first": first, "second": second,
}))
"""


def _run(first_event: str, *, in_lambda: bool) -> dict[str, Any]:
    env = {name: value for name, value in os.environ.items() if name != RUNTIME_API_VARIABLE}
    if in_lambda:
        env[RUNTIME_API_VARIABLE] = "127.0.0.1:9001"
    result = subprocess.run(  # noqa: S603  (the test's own interpreter and code)
        [sys.executable, "-c", CODE, first_event], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    outcome: dict[str, Any] = json.loads(result.stdout)
    return outcome


@pytest.mark.parametrize("first_event", ["event", "warmup"])
def test_in_lambda_init_collects_rarely_and_the_first_invocation_freezes_it_and_restores_the_collector(
    first_event: str,
) -> None:
    outcome = _run(first_event, in_lambda=True)
    default = outcome["default"]
    assert outcome["during_init"] == [INIT_THRESHOLD, *default[1:]]
    thresholds, frozen = outcome["after_first"]
    assert thresholds == default
    assert frozen > 0
    assert outcome["refrozen"] is False
    assert outcome["second"] == {"served": {"n": 2}}
    assert outcome["first"] == ({"warmup": True} if first_event == "warmup" else {"served": {"n": 1}})


def test_outside_lambda_the_collector_is_left_as_it_is() -> None:
    outcome = _run("event", in_lambda=False)
    assert outcome["during_init"] == outcome["default"]
    assert outcome["after_first"] == [outcome["default"], 0]
