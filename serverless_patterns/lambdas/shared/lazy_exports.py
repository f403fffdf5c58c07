"""Lazy exports for the ``custom`` modules: a name's module is imported when the name is first used.

A handler imports ``build_..._handler`` and the types it needs from one documented module, and
pays only for the modules behind those names (PEP 562 module ``__getattr__``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any


def lazy_exports(
    namespace: MutableMapping[str, Any], exports: Mapping[str, tuple[str, str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` of the module whose ``globals()`` is ``namespace``.

    :param namespace: the exporting module's ``globals()``; an imported name is cached there.
    :param exports: exported name -> (module, attribute in that module).
    """
    module_name = namespace["__name__"]

    def __getattr__(name: str) -> Any:  # noqa: N807 (the module attribute PEP 562 names)
        """Import a name's module on first use (PEP 562)."""
        try:
            module, attribute = exports[name]
        except KeyError:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(module), attribute)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:  # noqa: N807
        """The exported names too, although they are imported only when first used."""
        return sorted({*namespace, *exports})

    return __getattr__, __dir__
