"""Typed shapes of what the pipeline reads and writes: events, messages, records, settings."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from urllib.parse import unquote_plus

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

from serverless_patterns.lambdas.event_pipeline.formats import DataFormat


def _now() -> datetime:
    return datetime.now(UTC)


class _Camel(BaseModel):
    """JSON in camelCase (as S3 and SQS write theirs), Python in snake_case."""

    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, validate_by_alias=True, serialize_by_alias=True, frozen=True
    )


# --- The S3 notification, as much of it as the validator needs ---------------------------------


class _S3Bucket(BaseModel):
    name: str


class _S3Object(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    key: str
    size: int | None = None
    version_id: str | None = Field(default=None, alias="versionId")
    e_tag: str | None = Field(default=None, alias="eTag")
    sequencer: str | None = None


class _S3Entity(BaseModel):
    bucket: _S3Bucket
    object: _S3Object


class S3NotificationRecord(BaseModel):
    """One ``Records[]`` entry of an S3 event notification."""

    model_config = ConfigDict(populate_by_name=True)

    event_name: str = Field(alias="eventName")
    event_time: datetime | None = Field(default=None, alias="eventTime")
    response_elements: dict[str, str] = Field(default_factory=dict, alias="responseElements")
    s3: _S3Entity

    @property
    def key(self) -> str:
        """The object key: S3 sends it URL-encoded, spaces as ``+``."""
        return unquote_plus(self.s3.object.key)

    @property
    def request_id(self) -> str | None:
        """The upload's S3 request id (what S3 support and CloudTrail know the upload by)."""
        return self.response_elements.get("x-amz-request-id")


class S3Notification(BaseModel):
    """An S3 event notification; S3's one-off ``s3:TestEvent`` has no records."""

    model_config = ConfigDict(populate_by_name=True)

    records: list[S3NotificationRecord] = Field(default_factory=list, alias="Records")


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
    metadata: dict[str, str] = Field(default_factory=dict)
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
    rejected_at: datetime = Field(default_factory=_now)


class ResultRecord(_Camel):
    """``processed/{key}.json``: the processor's summary of the upload."""

    status: Literal["processed"] = "processed"
    source: SourceRef
    summary: dict[str, Any]
    upload_request_id: str | None = None
    processed_at: datetime = Field(default_factory=_now)


class Outcome(StrEnum):
    """How processing one message ended (saved as its idempotent result)."""

    PROCESSED = "processed"
    PARKED = "parked"
    DUPLICATE = "duplicate"
    SUPERSEDED = "superseded"


# --- Settings from the environment the construct sets ---------------------------------------------


def _split(value: object) -> object:
    return tuple(part.strip() for part in value.split(",") if part.strip()) if isinstance(value, str) else value


class ValidateSettings(BaseModel):
    """The validate function's environment (names as in ``layout.Env``)."""

    queue_url: str = Field(alias="QUEUE_URL")
    results_bucket: str = Field(alias="RESULTS_BUCKET")
    upload_prefix: str = Field(alias="UPLOAD_PREFIX")
    max_file_bytes: int = Field(alias="MAX_FILE_BYTES", gt=0)
    format_sample_bytes: int = Field(alias="FORMAT_SAMPLE_BYTES", gt=0)
    allowed_extensions: Annotated[tuple[str, ...], BeforeValidator(_split)] = Field(alias="ALLOWED_EXTENSIONS")


class ProcessSettings(BaseModel):
    """The process function's environment (names as in ``layout.Env``)."""

    queue_url: str = Field(alias="QUEUE_URL")
    results_bucket: str = Field(alias="RESULTS_BUCKET")
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE")
    idempotency_seconds: int = Field(alias="IDEMPOTENCY_SECONDS", gt=0)
    max_receive_count: int = Field(alias="MAX_RECEIVE_COUNT", gt=0)
    retry_base_seconds: int = Field(alias="RETRY_BASE_SECONDS", gt=0)
    retry_max_seconds: int = Field(alias="RETRY_MAX_SECONDS", gt=0)
    max_deferrals: int = Field(alias="MAX_DEFERRALS", ge=0)
