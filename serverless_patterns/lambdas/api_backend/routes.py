"""The API's routes, declared once.

The resolver registers exactly these, and a request whose path matches one of
them with another method is answered 405 with an ``Allow`` header instead of 404.
Paths use the Powertools ``<param>`` syntax.
"""

from __future__ import annotations

import functools
import re

ITEMS = "/items"
ITEM = "/items/<item_id>"
COUNTER = "/items/<item_id>/counters/<name>"

ROUTES: dict[str, tuple[str, ...]] = {
    ITEMS: ("GET", "POST"),
    ITEM: ("GET", "PUT", "DELETE"),
    COUNTER: ("POST",),
}

_PARAMETER = re.compile(r"<(\w+)>")


@functools.cache
def _pattern(template: str) -> re.Pattern[str]:
    return re.compile(_PARAMETER.sub(r"[^/]+", template))


def allowed_methods(path: str) -> tuple[str, ...]:
    """The methods served on ``path``; empty when no route has that shape."""
    for template, methods in ROUTES.items():
        if _pattern(template).fullmatch(path):
            return methods
    return ()
