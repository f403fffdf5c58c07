"""The routes that drive 405 answers: the methods the items API's resolver serves on a path."""

from __future__ import annotations

import pytest

from serverless_patterns.lambdas.api_backend.handler import api


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/items", ("GET", "POST")),
        ("/items/", ("GET", "POST")),  # the resolver serves a trailing slash, so its other methods are 405 too
        ("/items/abc", ("GET", "PUT", "DELETE")),
        ("/items/abc/counters/hits", ("POST",)),
        ("/items/abc/counters", ()),
        ("/items/a/b", ()),
        ('/items/a"b', ()),  # an id the resolver does not route is no route at all (404), not a 405
        ("/", ()),
        ("/other", ()),
    ],
)
def test_allowed_methods(path: str, methods: tuple[str, ...]) -> None:
    assert api.allowed_methods(path) == methods
