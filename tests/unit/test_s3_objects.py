"""Missing or denied: how the handlers read a GET/HEAD error when ListBucket is granted per prefix."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from serverless_patterns.lambdas.shared.s3_objects import is_missing


def _error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "HeadObject")


class _Listing:
    """A client whose listing of the key finds ``keys``, or is itself refused (``keys is None``)."""

    def __init__(self, keys: list[str] | None) -> None:
        self.keys = keys
        self.calls: list[dict[str, Any]] = []

    def list_objects_v2(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if self.keys is None:
            raise _error("AccessDenied")
        return {"Contents": [{"Key": key} for key in self.keys]} if self.keys else {"KeyCount": 0}


@pytest.mark.parametrize("code", ["NoSuchKey", "NoSuchVersion", "NotFound", "404"])
def test_a_404_is_missing_without_listing(code: str) -> None:
    client = _Listing([])
    assert is_missing(client, _error(code), "bucket", "processed/a.json")  # type: ignore[arg-type]
    assert client.calls == []


@pytest.mark.parametrize(
    ("listed", "missing"),
    [
        ([], True),
        (["processed/a.json.bak"], True),  # another key with the same prefix is not the key
        (["processed/a.json"], False),  # the key exists: the 403 was a real denial
        (None, False),  # listing refused too: a real denial
    ],
)
def test_a_403_is_decided_by_listing_the_key_itself(listed: list[str] | None, missing: bool) -> None:
    client = _Listing(listed)
    assert is_missing(client, _error("AccessDenied"), "bucket", "processed/a.json") is missing  # type: ignore[arg-type]
    assert client.calls == [{"Bucket": "bucket", "Prefix": "processed/a.json", "MaxKeys": 1}]


def test_other_errors_are_never_missing() -> None:
    client = _Listing([])
    assert not is_missing(client, _error("SlowDown"), "bucket", "k")  # type: ignore[arg-type]
    assert client.calls == []
