"""Typed shapes of what the pipeline reads and writes: events, messages, records, settings.

They are ``shapes.Shape`` records, not pydantic models: the validator and the processor import
them on every cold start (issue #19). The JSON they write is what pydantic wrote: camelCase
keys, UTC times as ``2026-01-01T00:00:00Z`` (microseconds when not zero), non-ASCII characters
as themselves, and no ``NaN`` (a non-finite number is ``null``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal
from urllib.parse import unquote_plus

from serverless_patterns.lambdas.event_pipeline.formats import DataFormat
from serverless_patterns.lambdas.shared.shapes import Shape, field


def _now() -> datetime:
    return datetime.now(UTC)


class _Camel(Shape, camel=True):
    """JSON in camelCase (as S3 and SQS write theirs), Python in snake_case."""


# --- The S3 notification, as much of it as the validator needs (S3 sends more: ignored) ---------


class _S3Bucket(Shape):
    name: str


class _S3Object(Shape):
    key: str
    size: int | None = None
    version_id: str | None = field(default=None, key="versionId")
    e_tag: str | None = field(default=None, key="eTag")
    sequencer: str | None = None


class _S3Entity(Shape):
    bucket: _S3Bucket
    object: _S3Object


class S3NotificationRecord(Shape):
    """One ``Records[]`` entry of an S3 event notification."""

    event_name: str = field(key="eventName")
    event_time: datetime | None = field(default=None, key="eventTime")
    response_elements: dict[str, str] = field(default_factory=dict, key="responseElements")
    s3: _S3Entity

    @property
    def key(self) -> str:
        """The object key: S3 sends it URL-encoded, spaces as ``+``."""
        return unquote_plus(self.s3.object.key)

    @property
    def request_id(self) -> str | None:
        """The upload's S3 request id (what S3 support and CloudTrail know the upload by)."""
        return self.response_elements.get("x-amz-request-id")


class S3Notification(Shape):
    """An S3 event notification; S3's one-off ``s3:TestEvent`` has no records."""

    records: list[S3NotificationRecord] = field(default_factory=list, key="Records")


# --- What travels on the queue -------------------------------------------------------------------


class ObjectVersion(_Camel):
    """One upload version: what a message is about, and its idempotency key."""

    bucket: str
    key: str
    version_id: str | None = None
    etag: str

    @property
    def source_version(self) -> str:
        """Names this exact content: the version id, or the ETag in an unversioned bucket."""
        return self.version_id or self.etag


class PipelineMessage(ObjectVersion):
    """The body of a processing-queue message: a validated upload."""

    size: int
    format: DataFormat
    content_type: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    sequencer: str | None = None
    uploaded_at: datetime | None = None
    upload_request_id: str | None = None

    def identity(self) -> ObjectVersion:
        """The part of the message that names the upload (duplicates share it)."""
        return ObjectVersion(bucket=self.bucket, key=self.key, version_id=self.version_id, etag=self.etag)


# --- What the pipeline writes into the results bucket ---------------------------------------------


class RejectionCode(StrEnum):
    """Why an upload was parked."""

    EMPTY = "empty"
    TOO_LARGE = "too_large"
    UNSUPPORTED_TYPE = "unsupported_type"
    MALFORMED = "malformed"
    VANISHED = "vanished"
    FOLDER_MARKER = "folder_marker"
    RULE = "rule"  # one of your validation rules (``custom.build_validate_handler``)


class Rejection(_Camel):
    """A reason, machine-readable (``code``) and for people (``detail``)."""

    code: RejectionCode
    detail: str


class SourceRef(ObjectVersion):
    """The upload a record is about."""

    size: int | None = None
    sequencer: str | None = None


Stage = Literal["validate", "process"]


class RejectionRecord(_Camel):
    """``rejected/{key}.json``: the upload was parked, and why."""

    status: Literal["rejected"] = "rejected"
    source: SourceRef
    reason: Rejection
    stage: Stage
    upload_request_id: str | None = None
    rejected_at: datetime = field(default_factory=_now)


class ResultRecord(_Camel):
    """``processed/{key}.json``: the processor's summary of the upload."""

    status: Literal["processed"] = "processed"
    source: SourceRef
    summary: dict[str, Any]
    upload_request_id: str | None = None
    processed_at: datetime = field(default_factory=_now)


class Outcome(StrEnum):
    """How processing one message ended (saved as its idempotent result)."""

    PROCESSED = "processed"
    PARKED = "parked"
    DUPLICATE = "duplicate"
    SUPERSEDED = "superseded"


# --- Settings from the environment the construct sets ---------------------------------------------


class ValidateSettings(Shape):
    """The validate function's environment (names as in ``layout.Env``)."""

    queue_url: str = field(key="QUEUE_URL")
    results_bucket: str = field(key="RESULTS_BUCKET")
    upload_prefix: str = field(key="UPLOAD_PREFIX")
    max_file_bytes: int = field(key="MAX_FILE_BYTES", gt=0)
    format_sample_bytes: int = field(key="FORMAT_SAMPLE_BYTES", gt=0)
    allowed_extensions: tuple[str, ...] = field(key="ALLOWED_EXTENSIONS")

    @classmethod
    def _prepare(cls, data: Any) -> Any:
        """``ALLOWED_EXTENSIONS`` comes comma separated (``".csv, .jsonl"``): split, blanks dropped."""
        if not isinstance(data, Mapping):
            return data
        split = {name: _split(data[name]) for name in ("ALLOWED_EXTENSIONS", "allowed_extensions") if name in data}
        return {**data, **split}


def _split(value: object) -> object:
    return tuple(part.strip() for part in value.split(",") if part.strip()) if isinstance(value, str) else value


class ProcessSettings(Shape):
    """The process function's environment (names as in ``layout.Env``)."""

    queue_url: str = field(key="QUEUE_URL")
    results_bucket: str = field(key="RESULTS_BUCKET")
    idempotency_table: str = field(key="IDEMPOTENCY_TABLE")
    idempotency_seconds: int = field(key="IDEMPOTENCY_SECONDS", gt=0)
    max_receive_count: int = field(key="MAX_RECEIVE_COUNT", gt=0)
    retry_base_seconds: int = field(key="RETRY_BASE_SECONDS", gt=0)
    retry_max_seconds: int = field(key="RETRY_MAX_SECONDS", gt=0)
    max_deferrals: int = field(key="MAX_DEFERRALS", ge=0)
