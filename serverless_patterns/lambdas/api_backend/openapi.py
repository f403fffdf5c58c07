"""An API's OpenAPI document, generated from its routes and models (``ApiApp.openapi_json``).

``docs/openapi.json`` is the items API's (a test keeps it current)::

    python -m serverless_patterns.lambdas.api_backend.openapi > docs/openapi.json

and the same command prints your own API's, named as ``module:attribute`` (its ``ApiApp``)::

    python -m serverless_patterns.lambdas.api_backend.openapi notes_api.handler:api > openapi.json

Generating it builds every model a route names, so a model pydantic cannot build (models build on
first use, see ``wire``) fails here, with exit status 2, rather than on a deployed function's
first request: run it in CI.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

from pydantic import PydanticUserError

from serverless_patterns.lambdas.api_backend.app import ApiApp

ITEMS_API = "serverless_patterns.lambdas.api_backend.handler:api"


def openapi_json(target: str = ITEMS_API) -> str:
    """The OpenAPI document of the ``ApiApp`` at ``target`` (``module:attribute``) as JSON text."""
    module, _, attribute = target.partition(":")
    api = getattr(importlib.import_module(module), attribute or "api", None)
    if not isinstance(api, ApiApp):
        raise ValueError(f"{target} is not an ApiApp; name yours as module:attribute, e.g. my_api.handler:api")
    return api.openapi_json()


def main(arguments: Sequence[str]) -> int:
    """Print the document of the API named by the first argument (the items API without one)."""
    try:
        sys.stdout.write(openapi_json(*arguments[:1]))
    except (ImportError, ValueError, PydanticUserError) as error:  # a model pydantic cannot build is the last
        sys.stderr.write(f"openapi: {error}\n")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
