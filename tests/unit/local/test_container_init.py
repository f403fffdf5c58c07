"""A container's code runs in the host's process: what it installs process-wide stays in the container."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from serverless_patterns.local.container import Container
from serverless_patterns.local.sandbox import Sandbox

CODE = """
import sys

def _hook(*args):
    raise AssertionError("the host's crash went to a function's hook")

sys.excepthook = _hook

def handler(event, context):
    return {"excepthook_in_init": sys.excepthook is _hook}
"""


@pytest.fixture
def code_dir(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "hooking_handler.py").write_text(CODE)
    yield tmp_path
    sys.modules.pop("hooking_handler", None)


def test_an_excepthook_set_at_init_leaves_the_hosts_in_place(code_dir: Path) -> None:
    host_hook = sys.excepthook
    container = Container(key="hooking", code_dir=code_dir, roots=frozenset({"hooking_handler"}))
    sandbox = Sandbox()

    with sandbox.running(container):
        answer = container.handler("hooking_handler.handler")({}, None)
    assert sys.excepthook is host_hook
    with sandbox.running(container):  # the container's own hook is its own, invocation after invocation
        again = container.handler("hooking_handler.handler")({}, None)

    assert sys.excepthook is host_hook
    assert answer == again == {"excepthook_in_init": True}
