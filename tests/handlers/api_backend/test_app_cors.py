"""ApiApp's CORS: the origins and the extra request headers the construct sets in the environment."""

from __future__ import annotations

import pytest
from aws_lambda_powertools.event_handler.api_gateway import Router

from serverless_patterns.lambdas.api_backend.app import CORS_ALLOW_HEADERS, ApiApp


def test_the_headers_the_construct_allows_are_allowed_by_the_handler_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://app.example.com")
    monkeypatch.setenv("CORS_ALLOW_HEADERS", "X-Tenant-Id, X-Trace")
    api = ApiApp(Router(), title="Tenants", cors_allow_headers=["X-Own"])  # type: ignore[no-untyped-call]
    assert api.cors is not None
    assert {*CORS_ALLOW_HEADERS, "X-Tenant-Id", "X-Trace", "X-Own"} <= set(api.cors.allow_headers)


def test_without_origins_there_is_no_cors_whatever_the_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CORS_ORIGINS", raising=False)
    monkeypatch.setenv("CORS_ALLOW_HEADERS", "X-Tenant-Id")
    assert ApiApp(Router(), title="Tenants").cors is None  # type: ignore[no-untyped-call]
