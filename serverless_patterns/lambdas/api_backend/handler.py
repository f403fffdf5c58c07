"""Entry point of the items API: the items routes (``routes``) on the pattern's ``ApiApp``.

The default handler of ``ApiBackend``, and an example of an API built from the pattern's
pieces (``custom``): the request guard, the error mapping, CORS, observability and the
warm-up ping come with ``ApiApp``; the routes use the versioned repository, idempotent create
and signed cursors. Request bodies are never logged.
"""

from __future__ import annotations

from serverless_patterns.lambdas.api_backend.app import ApiApp
from serverless_patterns.lambdas.api_backend.routes import router

TITLE = "Items API"
VERSION = "1.0.0"
DESCRIPTION = (
    "CRUD over items with optimistic locking (ETag / If-Match), idempotent creation "
    "(Idempotency-Key), opaque page cursors and atomic counters. Authentication is per "
    "environment: AWS SigV4 (IAM) or a Cognito user pool ID token in the Authorization header."
)

api = ApiApp(router, title=TITLE, version=VERSION, description=DESCRIPTION)
app = api.resolver
GUARD = api.guard
MAX_BODY_BYTES = GUARD.limits.max_body_bytes
handler = api.handler
