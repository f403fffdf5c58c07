"""Deciding, upload by upload, whether a file goes on to processing or is parked with its reason.

Cheap checks first: HeadObject (size, content type), then one ranged GET of the first bytes for
the format check, then your rules (``rules``) over what those found. A valid upload becomes one
queue message; an invalid one gets a rejection record and a ``rejected`` tag. Nothing is only
logged: every upload version ends in a queue message or a rejection record (or, while it cannot
be validated, in the failed event the on-failure queue keeps), except an empty folder marker (a
key ending in ``/`` with no content, what the console's "Create folder" writes), which is
ignored explicitly and counted (``FolderMarkersIgnored``). A folder marker *with* content is
parked: its key names no file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from aws_lambda_powertools.metrics import MetricUnit

from serverless_patterns.lambdas.event_pipeline import data_access, records
from serverless_patterns.lambdas.event_pipeline.data_access import ObjectHead
from serverless_patterns.lambdas.event_pipeline.errors import InvalidContentError, ObjectVanishedError
from serverless_patterns.lambdas.event_pipeline.formats import DataFormat, check_sample, detect_format
from serverless_patterns.lambdas.event_pipeline.layout import Metric
from serverless_patterns.lambdas.event_pipeline.models import (
    PipelineMessage,
    Rejection,
    RejectionCode,
    S3Notification,
    S3NotificationRecord,
    SourceRef,
    ValidateSettings,
)
from serverless_patterns.lambdas.event_pipeline.rules import Upload, ValidationRule, apply_rules
from serverless_patterns.lambdas.shared.observability import CorrelationKey, correlated, logger, metrics

OBJECT_CREATED = "ObjectCreated:"


class ValidationIncompleteError(Exception):
    """Some uploads of the event could not be validated; the whole event is retried.

    Uploads already handled are recognised on the retry (their record exists, duplicate
    messages are absorbed by the processor's idempotency), so a retry is safe.
    """


@dataclass
class ValidationReport:
    """How many uploads of one notification went each way."""

    accepted: int = 0
    rejected: int = 0
    ignored: int = 0
    folder_markers: int = 0

    def as_dict(self) -> dict[str, int]:
        """The handler's return value (visible in tests and in the local cloud)."""
        return {
            "accepted": self.accepted,
            "rejected": self.rejected,
            "ignored": self.ignored,
            "folder_markers": self.folder_markers,
        }


def validate_notification(
    notification: S3Notification, settings: ValidateSettings, rules: Sequence[ValidationRule] = ()
) -> ValidationReport:
    """Validate every upload of an S3 notification (the pipeline's checks, then ``rules``); queue the valid ones.

    An upload that cannot be validated (S3 unavailable, a rule that crashed) is logged and the
    event fails once the others are done (``ValidationIncompleteError``): Lambda retries it, then
    hands it to the on-failure queue. Neither parked nor queued, the upload is not lost.
    """
    report = ValidationReport()
    messages: list[str] = []
    failed = 0
    for record in notification.records:
        if not is_upload(record, settings.upload_prefix):
            report.ignored += 1
            continue
        with (
            correlated(CorrelationKey.S3_KEY, record.key),
            logger.append_context_keys(version_id=record.s3.object.version_id),
        ):
            if is_empty_folder_marker(record):
                logger.info("Empty folder marker ignored")
                report.folder_markers += 1
                continue
            try:
                verdict = assess(record, settings, rules)
                if isinstance(verdict, PipelineMessage):
                    messages.append(verdict.model_dump_json())
                    report.accepted += 1
                    continue
                source, reason = verdict
                logger.info("Upload rejected", extra={"reason": reason.code.value, "detail": reason.detail})
                records.park(
                    source,
                    reason,
                    results_bucket=settings.results_bucket,
                    stage="validate",
                    upload_request_id=record.request_id,
                )
                report.rejected += 1
            except Exception:
                logger.exception("Upload could not be validated")
                failed += 1
    data_access.send_messages(settings.queue_url, messages)
    for name, count in (
        (Metric.UPLOADS_ACCEPTED, report.accepted),
        (Metric.FILES_REJECTED, report.rejected),
        (Metric.UPLOADS_IGNORED, report.ignored),
        (Metric.FOLDER_MARKERS_IGNORED, report.folder_markers),
    ):
        if count:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=count)
    if failed:
        raise ValidationIncompleteError(f"{failed} of {len(notification.records)} uploads could not be validated")
    return report


def is_upload(record: S3NotificationRecord, upload_prefix: str) -> bool:
    """An object created under the upload prefix (folder markers included: they are decided below)."""
    return record.event_name.startswith(OBJECT_CREATED) and record.key.startswith(upload_prefix)


def is_empty_folder_marker(record: S3NotificationRecord) -> bool:
    """A key ending in ``/`` that S3 reports empty: the placeholder the console's "Create folder" writes."""
    return record.key.endswith("/") and record.s3.object.size == 0


def assess(
    record: S3NotificationRecord, settings: ValidateSettings, rules: Sequence[ValidationRule] = ()
) -> PipelineMessage | tuple[SourceRef, Rejection]:
    """The message to queue for a valid upload, or the upload and why it is rejected."""
    bucket, key, event_object = record.s3.bucket.name, record.key, record.s3.object
    try:
        head = data_access.head_upload(bucket, key, event_object.version_id)
    except ObjectVanishedError as error:
        source = SourceRef(
            bucket=bucket,
            key=key,
            version_id=event_object.version_id,
            etag=(event_object.e_tag or "").strip('"'),
            size=event_object.size,
            sequencer=event_object.sequencer,
        )
        return source, Rejection(code=RejectionCode.VANISHED, detail=str(error))
    source = SourceRef(
        bucket=bucket,
        key=key,
        version_id=head.version_id,
        etag=head.etag,
        size=head.size,
        sequencer=event_object.sequencer,
    )
    verdict = classify(key, head, settings)
    if isinstance(verdict, Rejection):
        return source, verdict
    try:
        sample = data_access.read_first_bytes(source, min(head.size, settings.format_sample_bytes))
        check_sample(verdict, sample, truncated=head.size > len(sample))
    except InvalidContentError as error:
        return source, Rejection(code=RejectionCode.MALFORMED, detail=str(error))
    except ObjectVanishedError as error:
        return source, Rejection(code=RejectionCode.VANISHED, detail=str(error))
    if rules:
        upload = Upload(
            bucket=bucket,
            key=key,
            version_id=head.version_id,
            size=head.size,
            content_type=head.content_type,
            extension=PurePosixPath(key).suffix.lower(),
            format=verdict,
            first_bytes=sample,
            metadata=head.metadata,
        )
        rejection = apply_rules(rules, upload)
        if rejection is not None:
            return source, rejection
    return PipelineMessage(
        bucket=bucket,
        key=key,
        version_id=head.version_id,
        etag=head.etag,
        size=head.size,
        format=verdict,
        content_type=head.content_type,
        metadata=head.metadata,
        sequencer=event_object.sequencer,
        uploaded_at=record.event_time,
        upload_request_id=record.request_id,
    )


def classify(key: str, head: ObjectHead, settings: ValidateSettings) -> DataFormat | Rejection:
    """The checks that need no content: a file name, size limits and type (extension or content type)."""
    if key.endswith("/"):
        return Rejection(
            code=RejectionCode.FOLDER_MARKER,
            detail=f"the key ends in '/' (a folder) but holds {head.size} bytes: upload the data under a file name",
        )
    if head.size == 0:
        return Rejection(code=RejectionCode.EMPTY, detail="the file is empty")
    if head.size > settings.max_file_bytes:
        return Rejection(
            code=RejectionCode.TOO_LARGE,
            detail=f"{head.size} bytes is over the limit of {settings.max_file_bytes} bytes",
        )
    data_format = detect_format(key, head.content_type, settings.allowed_extensions)
    if data_format is None:
        return Rejection(
            code=RejectionCode.UNSUPPORTED_TYPE,
            detail=f"neither the extension nor the content type ({head.content_type}) is one of "
            f"{', '.join(settings.allowed_extensions)}",
        )
    return data_format
