"""The OpenAPI document: generated from the resolver, checked in, and complete."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from serverless_patterns.lambdas.api_backend.cursor import CURSOR_PATTERN
from serverless_patterns.lambdas.api_backend.handler import GUARD
from serverless_patterns.lambdas.api_backend.openapi import openapi_json
from serverless_patterns.lambdas.api_backend.preconditions import ENTITY_TAG_PATTERN
from serverless_patterns.lambdas.api_backend.responses import GATEWAY_STATUSES
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


def test_errors_are_documented_with_their_body(spec: dict[str, Any]) -> None:
    """The function's errors are ErrorBody with X-Request-Id; API Gateway's own (401, 403, 429) its message."""
    gateway = {str(status.value) for status in GATEWAY_STATUSES}
    for operations in spec["paths"].values():
        for operation in operations.values():
            responses = operation["responses"]
            assert {"400", "413", "415", "422", "500"} | gateway <= responses.keys()
            for status, response in responses.items():
                if int(status) < 400:
                    continue
                schema = response["content"]["application/json"]["schema"]
                expected = "GatewayError" if status in gateway else "ErrorBody"
                assert schema == {"$ref": f"#/components/schemas/{expected}"}, (operation["operationId"], status)
                assert ("X-Request-Id" in response.get("headers", {})) == (status not in gateway)


def test_optimistic_locking_and_idempotency_are_in_the_contract(spec: dict[str, Any]) -> None:
    put = spec["paths"]["/items/{item_id}"]["put"]
    assert {"200", "409", "412", "428"} <= put["responses"].keys()
    assert put["responses"]["200"]["headers"]["ETag"]["schema"]["pattern"] == ENTITY_TAG_PATTERN
    delete = spec["paths"]["/items/{item_id}"]["delete"]
    assert "412" in delete["responses"]
    assert "409" not in delete["responses"]  # a stale If-Match is a failed precondition, not a conflict
    for operation in (put, delete):
        (if_match,) = [p for p in operation["parameters"] if p["name"] == "if-match"]
        assert {"type": "string", "pattern": ENTITY_TAG_PATTERN} in if_match["schema"]["anyOf"]
    post = spec["paths"]["/items"]["post"]
    assert {"idempotency-key"} <= {parameter["name"] for parameter in post["parameters"]}
    assert {"Location", "ETag", "Idempotent-Replayed"} <= post["responses"]["201"]["headers"].keys()
    limit = next(p for p in spec["paths"]["/items"]["get"]["parameters"] if p["name"] == "limit")
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 100)
    cursor = next(p for p in spec["paths"]["/items"]["get"]["parameters"] if p["name"] == "cursor")
    assert {"type": "string", "pattern": CURSOR_PATTERN, "maxLength": 1024} in cursor["schema"]["anyOf"]


def test_the_request_limits_are_documented(spec: dict[str, Any]) -> None:
    limits = GUARD.limits
    assert limits.describe() in spec["info"]["description"]
    for number in (limits.max_body_bytes, limits.max_depth, limits.max_number_length, limits.max_string_length):
        assert str(number) in spec["info"]["description"]


def test_the_required_precondition_of_put_is_documented(spec: dict[str, Any]) -> None:
    put = spec["paths"]["/items/{item_id}"]["put"]
    assert "**required**" in put["description"]
    assert "428" in put["description"]
    version = spec["components"]["schemas"]["ItemReplacement"]["properties"]["expectedVersion"]
    assert "428" in version["description"]
