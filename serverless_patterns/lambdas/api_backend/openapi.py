"""The API's OpenAPI document, generated from the resolver's routes and models.

``docs/openapi.json`` is this module's output (a test keeps it current)::

    python -m serverless_patterns.lambdas.api_backend.openapi > docs/openapi.json
"""

from __future__ import annotations

import sys

TITLE = "Items API"
VERSION = "1.0.0"
DESCRIPTION = (
    "CRUD over items with optimistic locking (ETag / If-Match), idempotent creation "
    "(Idempotency-Key), opaque page cursors and atomic counters. Authentication is per "
    "environment: AWS SigV4 (IAM) or a Cognito user pool ID token in the Authorization header.\n\n"
    "Limits, checked before any parsing, on every request that carries a body, whatever its method:\n"
)


def openapi_json() -> str:
    """The OpenAPI document as JSON text, ending in a newline."""
    from serverless_patterns.lambdas.api_backend.handler import GUARD, app

    description = DESCRIPTION + GUARD.limits.describe()
    return app.get_openapi_json_schema(title=TITLE, version=VERSION, description=description) + "\n"


if __name__ == "__main__":
    sys.stdout.write(openapi_json())
