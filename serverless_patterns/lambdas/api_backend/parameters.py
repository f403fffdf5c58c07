"""Request parameters of the pattern's helpers, typed and documented once for the resolver's validation.

Use them as route parameter annotations: the resolver validates them (a malformed value is a
422 naming it) and the OpenAPI document describes them::

    def replace_order(order_id: str, body: OrderReplacement, if_match: IfMatch = None) -> ...
    def create_order(order: OrderInput, idempotency_key: IdempotencyKey = None) -> ...
    def list_orders(limit: PageSize = DEFAULT_PAGE_SIZE, cursor: PageCursor = None) -> ...
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Header, Query

from serverless_patterns.lambdas.api_backend.cursor import CURSOR_PATTERN, MAX_CURSOR_LENGTH
from serverless_patterns.lambdas.api_backend.preconditions import ENTITY_TAG_PATTERN

IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,128}$"
"""Printable ASCII without spaces, at most 128 characters (a UUID fits)."""
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20

IfMatch = Annotated[
    str | None,
    Header(
        alias="if-match",
        pattern=ENTITY_TAG_PATTERN,
        description='The ETag of the version being replaced, exactly as the API returned it (e.g. `"3"`): '
        "a quoted version number; weak tags, lists and `*` are refused (422). A version the item is no "
        "longer at is 412.",
    ),
]
"""The ``If-Match`` header (``preconditions``): optional; pass it to ``expected_version``."""

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="idempotency-key",
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="Client-chosen key (e.g. a UUID); retries with the same key and body are replayed.",
    ),
]
"""The ``Idempotency-Key`` header of a create (``IdempotentCreate``): optional."""

PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size.")]
"""The ``limit`` query parameter of a listing: 1 to ``MAX_PAGE_SIZE``."""

PageCursor = Annotated[
    str | None,
    Query(
        max_length=MAX_CURSOR_LENGTH,
        pattern=CURSOR_PATTERN,
        description="`nextCursor` of the previous page, unchanged: a signed token (payload, a dot, a 43-character "
        "signature). Another shape is 422; one this API did not sign, or that was altered, is 400.",
    ),
]
"""The ``cursor`` query parameter of a listing (``VersionedRepository.scan_page``): optional."""
