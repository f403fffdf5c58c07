"""Optimistic locking on the wire: an item's version as an ETag, and the version a write replaces.

Every item carries a ``version`` (1 when created, one more on every replacement). The API
sends it as the ``ETag`` header (``"3"``) and takes it back as ``If-Match`` or as
``expectedVersion`` in the body. When the item is no longer at that version, the write is
refused: 412 when the version came as If-Match (RFC 9110), 409 when it came in the body; an
update with neither is 428, and both naming different versions is 400.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from serverless_patterns.lambdas.api_backend.errors import InvalidPreconditionError, PreconditionRequiredError

ENTITY_TAG_PATTERN = r'^"[1-9][0-9]{0,14}"$'
"""An ETag as the API issues it: the item's version in double quotes; If-Match must be one exactly."""
MAX_VERSION = 999_999_999_999_999
"""The highest version an ETag can name (15 digits); bound ``expectedVersion`` fields by it."""
_ENTITY_TAG = re.compile(ENTITY_TAG_PATTERN)


@dataclass(frozen=True)
class Precondition:
    """The version a write replaces, and whether the client sent it as If-Match (a miss is then 412)."""

    version: int
    from_header: bool


def entity_tag(version: int) -> str:
    """The ETag of an item version; clients send it back as If-Match."""
    return f'"{version}"'


def parse_if_match(value: str) -> int:
    """The version in an If-Match header: exactly an ETag this API issued (``"3"``); anything else is invalid."""
    if _ENTITY_TAG.fullmatch(value) is None:
        raise InvalidPreconditionError('If-Match must be an ETag this API returned, e.g. "3"')
    return int(value[1:-1])


def expected_version(if_match: str | None, body_version: int | None) -> Precondition:
    """The version an update replaces, from If-Match or the body; required, and both must agree."""
    header_version = parse_if_match(if_match) if if_match is not None else None
    if header_version is not None and body_version is not None and header_version != body_version:
        raise InvalidPreconditionError("If-Match and expectedVersion name different versions")
    if header_version is not None:
        return Precondition(header_version, from_header=True)
    if body_version is None:
        raise PreconditionRequiredError
    return Precondition(body_version, from_header=False)


def if_match_precondition(if_match: str | None) -> Precondition | None:
    """The optional precondition of a delete: If-Match only (a miss is 412); None without one."""
    return Precondition(parse_if_match(if_match), from_header=True) if if_match is not None else None
