"""The OpenAPI document: generated from the resolver, checked in, and complete."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from serverless_patterns.lambdas.api_backend.openapi import openapi_json
from serverless_patterns.lambdas.api_backend.routes import ROUTES

DOCUMENT = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"
REGENERATE = "python -m serverless_patterns.lambdas.api_backend.openapi > docs/openapi.json"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(openapi_json())
    return document


def test_checked_in_document_is_current() -> None:
    assert DOCUMENT.read_text() == openapi_json(), f"docs/openapi.json is stale: run `{REGENERATE}`"


def test_every_route_is_documented_and_nothing_else(spec: dict[str, Any]) -> None:
    documented = {
        (path, method.upper())
        for path, operations in spec["paths"].items()
        for method in operations
        if method != "options"
    }
    declared = {
        (template.replace("<", "{").replace(">", "}"), method)
        for template, methods in ROUTES.items()
        for method in methods
    }
    assert documented == declared


def test_errors_are_documented_with_the_error_body(spec: dict[str, Any]) -> None:
    for operations in spec["paths"].values():
        for operation in operations.values():
            responses = operation["responses"]
            assert "422" in responses
            for status, response in responses.items():
                if int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (operation["operationId"], status)


def test_optimistic_locking_and_idempotency_are_in_the_contract(spec: dict[str, Any]) -> None:
    put = spec["paths"]["/items/{item_id}"]["put"]
    assert {"200", "409", "428"} <= put["responses"].keys()
    assert "ETag" in put["responses"]["200"]["headers"]
    post = spec["paths"]["/items"]["post"]
    assert {"idempotency-key"} <= {parameter["name"] for parameter in post["parameters"]}
    assert {"Location", "ETag", "Idempotent-Replayed"} <= post["responses"]["201"]["headers"].keys()
    limit = next(p for p in spec["paths"]["/items"]["get"]["parameters"] if p["name"] == "limit")
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 100)
