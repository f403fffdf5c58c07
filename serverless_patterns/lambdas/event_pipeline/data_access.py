"""The only module of the pipeline that talks to AWS (S3 and SQS).

Clients are created once per container, on first use (never at import: the warm-up path and
the tests import the handlers without touching AWS). Tests clear them with ``clear_clients``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from serverless_patterns.lambdas.event_pipeline.errors import ObjectVanishedError
from serverless_patterns.lambdas.event_pipeline.formats import ByteStream
from serverless_patterns.lambdas.event_pipeline.layout import (
    DEFERRALS_ATTRIBUTE,
    SEND_BATCH_SIZE,
    SOURCE_SEQUENCER_METADATA,
    SOURCE_VERSION_METADATA,
    STATUS_TAG,
)
from serverless_patterns.lambdas.event_pipeline.models import ObjectVersion
from serverless_patterns.lambdas.shared.s3_objects import is_missing

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import (
        GetObjectRequestTypeDef,
        GetObjectTaggingRequestTypeDef,
        HeadObjectRequestTypeDef,
        PutObjectTaggingRequestTypeDef,
        TagTypeDef,
    )
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

# Fail a hung connection fast; bounded SDK retries (standard mode backs off with jitter).
_CLIENT_CONFIG = Config(connect_timeout=3, read_timeout=30, retries={"mode": "standard", "max_attempts": 3})
MAX_OBJECT_TAGS = 10


@functools.cache
def s3_client() -> S3Client:
    """The container's S3 client."""
    return boto3.client("s3", config=_CLIENT_CONFIG)


@functools.cache
def sqs_client() -> SQSClient:
    """The container's SQS client."""
    return boto3.client("sqs", config=_CLIENT_CONFIG)


def clear_clients() -> None:
    """Forget the cached clients (tests switch between mocked accounts)."""
    s3_client.cache_clear()
    sqs_client.cache_clear()


def _object_request(bucket: str, key: str, version_id: str | None) -> GetObjectRequestTypeDef:
    request: GetObjectRequestTypeDef = {"Bucket": bucket, "Key": key}
    if version_id:
        request["VersionId"] = version_id
    return request


@dataclass(frozen=True)
class ObjectHead:
    """What HeadObject tells the validator about an upload version."""

    size: int
    etag: str
    version_id: str | None
    content_type: str | None
    metadata: dict[str, str]


def head_upload(bucket: str, key: str, version_id: str | None) -> ObjectHead:
    """Size, ETag, content type and user metadata of one upload version."""
    try:
        request: HeadObjectRequestTypeDef = {"Bucket": bucket, "Key": key}
        if version_id:
            request["VersionId"] = version_id
        head = s3_client().head_object(**request)
    except ClientError as error:
        if is_missing(s3_client(), error, bucket, key):
            raise ObjectVanishedError(f"s3://{bucket}/{key} ({version_id}) no longer exists") from error
        raise
    return ObjectHead(
        size=head["ContentLength"],
        etag=head["ETag"].strip('"'),
        version_id=head.get("VersionId") or version_id,
        content_type=head.get("ContentType"),
        metadata=dict(head.get("Metadata", {})),
    )


def read_first_bytes(upload: ObjectVersion, length: int) -> bytes:
    """The first ``length`` bytes of an upload version (a ranged GET, never the whole object)."""
    try:
        request = _object_request(upload.bucket, upload.key, upload.version_id)
        request["Range"] = f"bytes=0-{length - 1}"
        response = s3_client().get_object(**request)
    except ClientError as error:
        if is_missing(s3_client(), error, upload.bucket, upload.key):
            raise ObjectVanishedError(f"s3://{upload.bucket}/{upload.key} no longer exists") from error
        raise
    with response["Body"] as body:
        return body.read()


@contextmanager
def open_upload(upload: ObjectVersion) -> Iterator[ByteStream]:
    """The upload version's body as a stream, closed on exit."""
    try:
        response = s3_client().get_object(**_object_request(upload.bucket, upload.key, upload.version_id))
    except ClientError as error:
        if is_missing(s3_client(), error, upload.bucket, upload.key):
            raise ObjectVanishedError(f"s3://{upload.bucket}/{upload.key} no longer exists") from error
        raise
    body = response["Body"]
    try:
        yield body
    finally:
        body.close()


def tag_upload(upload: ObjectVersion, status: str) -> bool:
    """Set the pipeline's status tag on the upload version, keeping the uploader's tags.

    False when the version is gone or already carries S3's maximum of ten tags: the object then
    simply is not expired by the status lifecycle rules (the record is what matters).
    """
    s3 = s3_client()
    get: GetObjectTaggingRequestTypeDef = {"Bucket": upload.bucket, "Key": upload.key}
    if upload.version_id:
        get["VersionId"] = upload.version_id
    try:
        tags: list[TagTypeDef] = [tag for tag in s3.get_object_tagging(**get)["TagSet"] if tag["Key"] != STATUS_TAG]
        if len(tags) >= MAX_OBJECT_TAGS:
            return False
        tags.append({"Key": STATUS_TAG, "Value": status})
        put: PutObjectTaggingRequestTypeDef = {"Bucket": upload.bucket, "Key": upload.key, "Tagging": {"TagSet": tags}}
        if upload.version_id:
            put["VersionId"] = upload.version_id
        s3.put_object_tagging(**put)
    except ClientError as error:
        if is_missing(s3, error, upload.bucket, upload.key):
            return False
        raise
    return True


@dataclass(frozen=True)
class RecordHead:
    """Which upload version an existing record describes."""

    source_version: str | None
    sequencer: str | None


def find_record(bucket: str, key: str) -> RecordHead | None:
    """The record at ``key``, if any (one HEAD; a 403 for a missing key is confirmed by listing it)."""
    try:
        head = s3_client().head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if is_missing(s3_client(), error, bucket, key):
            return None
        raise
    metadata = head.get("Metadata", {})
    return RecordHead(
        source_version=metadata.get(SOURCE_VERSION_METADATA), sequencer=metadata.get(SOURCE_SEQUENCER_METADATA)
    )


def put_record(bucket: str, key: str, body: bytes, *, source_version: str, sequencer: str | None) -> None:
    """Write a JSON record naming the upload version it describes in its metadata."""
    metadata = {SOURCE_VERSION_METADATA: source_version}
    if sequencer:
        metadata[SOURCE_SEQUENCER_METADATA] = sequencer
    s3_client().put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json", Metadata=metadata)


class SendFailedError(Exception):
    """Some messages could not be queued even after a second attempt."""


def send_messages(queue_url: str, bodies: Sequence[str]) -> None:
    """Queue ``bodies`` ten per SendMessageBatch call; retry failed entries once, then raise."""
    sqs = sqs_client()
    for start in range(0, len(bodies), SEND_BATCH_SIZE):
        entries: list[SendMessageBatchRequestEntryTypeDef] = [
            {"Id": str(start + offset), "MessageBody": body}
            for offset, body in enumerate(bodies[start : start + SEND_BATCH_SIZE])
        ]
        for _attempt in range(2):
            failed = {
                failure["Id"]
                for failure in sqs.send_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed", [])
            }
            entries = [entry for entry in entries if entry["Id"] in failed]
            if not entries:
                break
        if entries:
            raise SendFailedError(f"{len(entries)} messages could not be queued to {queue_url}")


def requeue(queue_url: str, body: str, *, delay_seconds: int, deferrals: int) -> None:
    """Queue a fresh copy of a message (receive count starts over) after ``delay_seconds``."""
    sqs_client().send_message(
        QueueUrl=queue_url,
        MessageBody=body,
        DelaySeconds=delay_seconds,
        MessageAttributes={DEFERRALS_ATTRIBUTE: {"DataType": "Number", "StringValue": str(deferrals)}},
    )


def hold_back(queue_url: str, receipt_handle: str, seconds: int) -> None:
    """Keep a received message invisible for ``seconds`` more (its retry backoff)."""
    sqs_client().change_message_visibility(QueueUrl=queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds)
