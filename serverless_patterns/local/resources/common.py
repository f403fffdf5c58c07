"""Helpers shared by the resource emulators."""

from __future__ import annotations

import json
from typing import Any


def as_json(value: Any) -> str:
    """A JSON document as the APIs take it (CloudFormation may give it as an object)."""
    return value if isinstance(value, str) else json.dumps(value)


def camel(value: Any) -> Any:
    """CloudFormation's PascalCase keys -> the camelCase keys of the JSON APIs (recursively)."""
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value
