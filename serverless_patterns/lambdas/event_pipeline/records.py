"""Writing an upload's one record (``processed/`` or ``rejected/``) exactly once per version.

Every upload version ends with one record in the results bucket, so what was sent can be
counted against what came out. A record names the version it describes in its metadata: a
redelivered message for the same version finds it and writes nothing; an older version that
arrives after a newer one (SQS does not keep order) is recognised by S3's ``sequencer`` and
does not overwrite the newer record.
"""

from __future__ import annotations

from enum import StrEnum

from serverless_patterns.lambdas.event_pipeline import data_access
from serverless_patterns.lambdas.event_pipeline.layout import REJECTED_PREFIX, STATUS_REJECTED, record_key
from serverless_patterns.lambdas.event_pipeline.models import (
    Rejection,
    RejectionCode,
    RejectionRecord,
    ResultRecord,
    SourceRef,
    Stage,
)
from serverless_patterns.lambdas.shared.observability import logger


class Existing(StrEnum):
    """What is already written for an upload version."""

    NOTHING = "nothing"
    SAME_VERSION = "same_version"
    NEWER_VERSION = "newer_version"


def is_later(sequencer: str, other: str) -> bool:
    """S3's rule: right-pad the shorter hexadecimal sequencer with zeros, compare as strings."""
    width = max(len(sequencer), len(other))
    return sequencer.upper().ljust(width, "0") > other.upper().ljust(width, "0")


def existing_record(bucket: str, key: str, source: SourceRef) -> Existing:
    """Whether ``key`` already describes ``source``, or a later upload of the same key."""
    found = data_access.find_record(bucket, key)
    if found is None:
        return Existing.NOTHING
    if found.source_version == source.source_version:
        return Existing.SAME_VERSION
    if found.sequencer and source.sequencer and is_later(found.sequencer, source.sequencer):
        return Existing.NEWER_VERSION
    return Existing.NOTHING


def write_record(bucket: str, key: str, record: ResultRecord | RejectionRecord) -> None:
    """Write ``record`` as JSON at ``key``, tagged with the version it describes."""
    data_access.put_record(
        bucket,
        key,
        record.model_dump_json().encode(),
        source_version=record.source.source_version,
        sequencer=record.source.sequencer,
    )


def park(
    source: SourceRef,
    reason: Rejection,
    *,
    results_bucket: str,
    stage: Stage,
    upload_request_id: str | None,
) -> bool:
    """Record why ``source`` was rejected and tag it ``rejected``; False if it was already parked.

    The upload stays where it is (tagging is one small request whatever the object's size,
    where moving a 5 GB file would not fit in a function's time); the lifecycle rules expire
    it by its tag.
    """
    key = record_key(REJECTED_PREFIX, source.key)
    written = existing_record(results_bucket, key, source) is Existing.NOTHING
    if written:
        record = RejectionRecord(source=source, reason=reason, stage=stage, upload_request_id=upload_request_id)
        write_record(results_bucket, key, record)
    if reason.code is not RejectionCode.VANISHED and not data_access.tag_upload(source, STATUS_REJECTED):
        logger.warning("Upload not tagged (gone, or ten tags already): the lifecycle rules will not expire it")
    return written
