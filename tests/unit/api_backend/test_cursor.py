"""Page cursors: round trip, opacity and every way of tampering with one."""

from __future__ import annotations

import base64
import json

import pytest

from serverless_patterns.lambdas.api_backend.cursor import MAX_CURSOR_LENGTH, decode_cursor, encode_cursor
from serverless_patterns.lambdas.api_backend.errors import InvalidCursorError

KEY = b"k" * 64
POSITION = {"id": "7d3e1c2a-0000-4000-8000-000000000001"}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_round_trip() -> None:
    assert decode_cursor(encode_cursor(POSITION, KEY), KEY) == POSITION


def test_cursor_is_not_the_raw_key() -> None:
    cursor = encode_cursor(POSITION, KEY)
    assert POSITION["id"] not in cursor
    assert "{" not in cursor
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def test_cursor_from_another_key_is_refused() -> None:
    with pytest.raises(InvalidCursorError):
        decode_cursor(encode_cursor(POSITION, b"other-key"), KEY)


def test_edited_payload_with_the_old_signature_is_refused() -> None:
    _, signature = encode_cursor(POSITION, KEY).split(".")
    forged = _b64(json.dumps({"id": "someone-elses-item"}).encode())
    with pytest.raises(InvalidCursorError):
        decode_cursor(f"{forged}.{signature}", KEY)


@pytest.mark.parametrize("position", [0, 5, -1])
def test_any_flipped_character_is_refused(position: int) -> None:
    cursor = encode_cursor(POSITION, KEY)
    index = position % len(cursor)
    if cursor[index] == ".":
        index += 1
    flipped = cursor[:index] + ("A" if cursor[index] != "A" else "B") + cursor[index + 1 :]
    with pytest.raises(InvalidCursorError):
        decode_cursor(flipped, KEY)


@pytest.mark.parametrize(
    "cursor",
    ["", "abc", "abc.", ".abc", "a.b.c", "é.é", "x" * (MAX_CURSOR_LENGTH + 1)],
)
def test_malformed_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursorError):
        decode_cursor(cursor, KEY)


@pytest.mark.parametrize("payload", [b"not json", b"[]", b"{}", b'{"id": 3}', b"\xff\xfe"])
def test_validly_signed_but_malformed_payloads_are_refused(payload: bytes) -> None:
    # Only a leaked key could produce these; the decoder must still never hand them to DynamoDB.
    import hashlib
    import hmac

    text = _b64(payload)
    signature = _b64(hmac.new(KEY, text.encode(), hashlib.sha256).digest())
    with pytest.raises(InvalidCursorError):
        decode_cursor(f"{text}.{signature}", KEY)
