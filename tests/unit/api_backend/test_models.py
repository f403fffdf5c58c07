"""Request models: bounds, unknown fields, camelCase on the wire."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from serverless_patterns.lambdas.api_backend.models import (
    MAX_ATTRIBUTES,
    CounterIncrement,
    Item,
    ItemInput,
    ItemReplacement,
)


def test_item_input_accepts_the_client_fields() -> None:
    data = ItemInput.model_validate({"name": "n", "description": "d", "attributes": {"colour.main": "red"}})
    assert data.attributes == {"colour.main": "red"}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "x" * 201},
        {"name": "n", "description": "d" * 2_001},
        {"name": "n", "attributes": {"bad key": "v"}},
        {"name": "n", "attributes": {"k": "v" * 257}},
        {"name": "n", "attributes": {f"k{i}": "v" for i in range(MAX_ATTRIBUTES + 1)}},
        {"name": "n", "id": "chosen-by-client"},
        {"name": "n", "version": 7},
        {"name": 3},
    ],
)
def test_item_input_rejects(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ItemInput.model_validate(body)


def test_replacement_reads_expected_version_in_camel_case() -> None:
    assert ItemReplacement.model_validate({"name": "n", "expectedVersion": 4}).expected_version == 4
    with pytest.raises(ValidationError):
        ItemReplacement.model_validate({"name": "n", "expectedVersion": 0})


@pytest.mark.parametrize("by", [0, -1, 1_000_001])
def test_increment_bounds(by: int) -> None:
    with pytest.raises(ValidationError):
        CounterIncrement.model_validate({"by": by})


def test_item_serializes_camel_case() -> None:
    now = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    item = Item(id="i", name="n", version=1, created_at=now, updated_at=now)
    dumped = item.model_dump(mode="json", by_alias=True)
    assert dumped["createdAt"] == "2024-01-02T03:04:05Z"
    assert {"updatedAt", "counters", "attributes"} <= dumped.keys()


def test_models_build_their_validators_on_first_use_not_at_import() -> None:
    code = """
import json
from pydantic import BaseModel
from serverless_patterns.lambdas.api_backend import handler, models
def built():
    found, pending = [], [BaseModel]
    while pending:
        for model in pending.pop().__subclasses__():
            pending.append(model)
            if model.__module__.startswith("serverless_patterns.") and model.__pydantic_complete__:
                found.append(model.__name__)
    return sorted(found)
at_import = built()
models.ItemInput.model_validate({"name": "n"})
print(json.dumps([at_import, built()]))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)  # noqa: S603
    at_import, after_first_use = json.loads(result.stdout)
    assert not {"Item", "ItemInput", "ItemPage", "ErrorBody", "GatewayError"} & set(at_import)
    assert "ItemInput" in after_first_use
    assert "Item" not in after_first_use
