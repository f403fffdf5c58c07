"""The route table that drives 405 answers."""

from __future__ import annotations

import pytest

from serverless_patterns.lambdas.api_backend.routes import allowed_methods


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/items", ("GET", "POST")),
        ("/items/abc", ("GET", "PUT", "DELETE")),
        ("/items/abc/counters/hits", ("POST",)),
        ("/items/abc/counters", ()),
        ("/items/", ()),
        ("/items/a/b", ()),
        ("/", ()),
        ("/other", ()),
    ],
)
def test_allowed_methods(path: str, methods: tuple[str, ...]) -> None:
    assert allowed_methods(path) == methods
