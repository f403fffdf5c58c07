"""The example API of ``lambdas/api_backend/custom.py``'s docstring, written out as the package a user would have.

The tests run exactly what the guide shows: under moto (``tests/handlers``), staged by the
construct (``tests/infrastructure``) and deployed into the local cloud (``tests/integration``).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from serverless_patterns.lambdas.api_backend import custom

PACKAGE = "notes_api"
HANDLER = f"{PACKAGE}.handler.handler"
_FIRST_LINE = f"# {PACKAGE}/handler.py"


def example_source() -> str:
    """The literal block of the docstring that starts with ``# notes_api/handler.py``."""
    lines = (custom.__doc__ or "").splitlines()
    start = next(index for index, line in enumerate(lines) if line.strip() == _FIRST_LINE)
    indent = len(lines[start]) - len(lines[start].lstrip())
    block = []
    for line in lines[start:]:
        if line.strip() and len(line) - len(line.lstrip()) < indent:
            break
        block.append(line)
    return textwrap.dedent("\n".join(block)).strip() + "\n"


def write_example_package(root: Path) -> Path:
    """``root/notes_api`` with the example's handler module; returns the package directory."""
    package = root / PACKAGE
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text('"""The notes API of the ApiBackend guide."""\n')
    (package / "handler.py").write_text(example_source())
    return package
