"""Opaque, tamper-proof page cursors.

A cursor is ``<payload>.<signature>``, both base64url: the payload is the
DynamoDB key to resume from, the signature its HMAC-SHA256 under a key only the
function knows. Clients cannot forge or edit one to read from an arbitrary key
position; any change makes it invalid.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping

from serverless_patterns.lambdas.api_backend.errors import InvalidCursorError

MAX_CURSOR_LENGTH = 1_024
CURSOR_PATTERN = r"^[A-Za-z0-9_-]{1,960}\.[A-Za-z0-9_-]{43}$"
"""A cursor's shape: base64url payload, a dot, the base64url HMAC-SHA256 (43 characters)."""


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(payload: str, key: bytes) -> str:
    return _b64encode(hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest())


def encode_cursor(position: Mapping[str, str], key: bytes) -> str:
    """Sign ``position`` (a table key of string attributes) into a cursor."""
    payload = _b64encode(json.dumps(dict(position), separators=(",", ":"), sort_keys=True).encode("utf-8"))
    return f"{payload}.{_sign(payload, key)}"


def decode_cursor(cursor: str, key: bytes) -> dict[str, str]:
    """The position a cursor holds; ``InvalidCursorError`` unless this API signed it unchanged."""
    if len(cursor) > MAX_CURSOR_LENGTH or not cursor.isascii():
        raise InvalidCursorError
    payload, _, signature = cursor.partition(".")
    if not payload or not signature:
        raise InvalidCursorError
    if not hmac.compare_digest(signature, _sign(payload, key)):
        raise InvalidCursorError
    try:
        position = json.loads(_b64decode(payload))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursorError from None
    if not isinstance(position, dict) or not position:
        raise InvalidCursorError
    if not all(isinstance(name, str) and isinstance(value, str) for name, value in position.items()):
        raise InvalidCursorError
    return position
