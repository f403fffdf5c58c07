"""Environment variables parsed once per container into a model (a ``shapes.Shape`` or a pydantic model)."""

from __future__ import annotations

import functools
import os
from typing import Any, Protocol, Self, TypeVar


class _Validated(Protocol):
    @classmethod
    def model_validate(cls, data: Any) -> Self: ...


SettingsT = TypeVar("SettingsT", bound=_Validated)


@functools.cache
def load_settings(model: type[SettingsT]) -> SettingsT:
    """Validate ``os.environ`` against ``model`` (fields keyed or aliased by variable name)."""
    return model.model_validate(dict(os.environ))
