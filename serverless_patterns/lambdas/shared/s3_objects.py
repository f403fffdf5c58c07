"""Telling a missing S3 object from a denied one when ``s3:ListBucket`` is granted per prefix only.

S3 answers a GET or HEAD of a missing key with 404 only to a caller allowed ``s3:ListBucket`` on
the bucket; otherwise with 403. The patterns grant that listing only under the prefixes a function
uses (an ``s3:prefix`` condition), which a GET or HEAD does not carry, so a missing key may come
back as 403. :func:`is_missing` then asks the one question the grant answers: a listing of the key
itself. Absent means missing; present, or a refused listing, means the 403 was a real denial.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

MISSING_CODES = frozenset({"NoSuchKey", "NoSuchVersion", "NotFound", "404"})
DENIED_CODES = frozenset({"AccessDenied", "Forbidden", "403"})


def error_code(error: ClientError) -> str:
    """The error code of a botocore ``ClientError`` ('' when it has none)."""
    return str(error.response.get("Error", {}).get("Code", ""))


def is_missing(client: S3Client, error: ClientError, bucket: str, key: str) -> bool:
    """Whether ``error``, raised reading ``key`` from ``bucket``, means the object does not exist.

    :param client: the S3 client that made the failed call (lists ``key`` once on a 403).
    :param error: the failed call's error.
    """
    code = error_code(error)
    if code in MISSING_CODES:
        return True
    if code not in DENIED_CODES:
        return False
    try:
        listing = client.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
    except ClientError:
        return False
    return all(entry.get("Key") != key for entry in listing.get("Contents", []))
