"""Environment variables parsed once per container into a pydantic model."""

from __future__ import annotations

import functools
import os
from typing import TypeVar

from pydantic import BaseModel

SettingsT = TypeVar("SettingsT", bound=BaseModel)


@functools.cache
def load_settings(model: type[SettingsT]) -> SettingsT:
    """Validate ``os.environ`` against ``model`` (fields aliased to variable names)."""
    return model.model_validate(dict(os.environ))
