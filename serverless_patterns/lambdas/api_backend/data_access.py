"""The items API's data access: the construct's table as a ``VersionedRepository`` keyed by ``id``.

The repository (``repository``) is the only code that calls DynamoDB for items; the clients
and the construct's variables are in ``resources``.
"""

from __future__ import annotations

import functools

from serverless_patterns.lambdas.api_backend.repository import VersionedRepository

PARTITION_KEY = "id"
ItemRepository = VersionedRepository
"""The items table's repository: the pattern's versioned repository, with its defaults."""


@functools.cache
def repository() -> ItemRepository:
    """The container's items repository (nothing is read before its first call)."""
    return ItemRepository(key=PARTITION_KEY, kind="item")
