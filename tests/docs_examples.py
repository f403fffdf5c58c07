"""The examples in a module's docstring, as files: each literal block headed ``# package/module.py``.

The ``custom`` modules document your code with complete files; the tests write those files into
a temporary directory, import them and run them, so the documentation cannot drift from the API.
"""

from __future__ import annotations

import importlib
import re
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

_FILE_HEADER = re.compile(r"# ([A-Za-z_][\w/]*\.py)")


def code_examples(module: ModuleType) -> dict[str, str]:
    """Path -> source of every ``::`` block of ``module``'s docstring that starts with a ``# path.py`` line."""
    lines = (module.__doc__ or "").splitlines()
    examples: dict[str, str] = {}
    index = 0
    while index < len(lines):
        if not lines[index].rstrip().endswith("::"):
            index += 1
            continue
        index += 1
        block: list[str] = []
        while index < len(lines) and (not lines[index].strip() or lines[index].startswith("    ")):
            block.append(lines[index])
            index += 1
        source = textwrap.dedent("\n".join(block)).strip("\n") + "\n"
        header = _FILE_HEADER.fullmatch(source.splitlines()[0].strip()) if source.strip() else None
        if header:
            examples[header.group(1)] = source
    return examples


@contextmanager
def imported_examples(module: ModuleType, directory: Path, *names: str) -> Iterator[dict[str, ModuleType]]:
    """Write ``module``'s examples under ``directory`` (packages get an ``__init__.py``) and import ``names``.

    The imported packages are forgotten on exit, so the next test imports them afresh.
    """
    examples = code_examples(module)
    packages = set()
    for path, source in examples.items():
        target = directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source, encoding="utf-8")
        packages.add(Path(path).parts[0])
    for package in packages:
        (directory / package / "__init__.py").touch()
    sys.path.insert(0, str(directory))
    try:
        yield {name: importlib.import_module(name) for name in names}
    finally:
        sys.path.remove(str(directory))
        for name in [loaded for loaded in sys.modules if loaded.split(".")[0] in packages]:
            del sys.modules[name]
