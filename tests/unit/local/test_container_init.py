"""A container's init runs in the host's process: what it installs process-wide must not outlive it there."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from serverless_patterns.local.sandbox import Container

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
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    sys.modules.pop("hooking_handler", None)


def test_an_excepthook_set_at_init_leaves_the_hosts_in_place(code_dir: Path) -> None:
    host_hook = sys.excepthook
    container = Container(key="hooking", code_dir=code_dir, roots=frozenset({"hooking_handler"}))

    handler = container.handler("hooking_handler.handler")

    assert sys.excepthook is host_hook
    assert handler({}, None) == {"excepthook_in_init": False}
