"""The contract between the EventPipeline construct and its handlers.

Standard library only: the construct imports these names to scope IAM permissions, lifecycle
rules and environment variables to exactly what the handlers use.
"""

from __future__ import annotations

import hashlib

# Results bucket: one record per upload version, ``processed/{key}.json`` or ``rejected/{key}.json``.
PROCESSED_PREFIX = "processed/"
REJECTED_PREFIX = "rejected/"
RECORD_SUFFIX = ".json"
# S3 keys are at most 1024 bytes; a record for a longer key is named after the key's hash instead.
MAX_KEY_BYTES = 1024
LONG_KEYS_FOLDER = "_long-keys/"

# Upload bucket: a validated or rejected upload version is tagged, and lifecycle rules expire it by tag.
STATUS_TAG = "pipeline-status"
STATUS_PROCESSED = "processed"
STATUS_REJECTED = "rejected"

# User metadata on each record naming the upload version it describes (deduplication, ordering).
SOURCE_VERSION_METADATA = "source-version"
SOURCE_SEQUENCER_METADATA = "source-sequencer"

# Message attribute counting how often a message was re-queued because a downstream was unavailable.
DEFERRALS_ATTRIBUTE = "pipeline-deferrals"

# SQS limits the handlers respect.
SEND_BATCH_SIZE = 10
MAX_DELAY_SECONDS = 900
MAX_VISIBILITY_SECONDS = 43_200

# Idempotency records are keyed ``event-pipeline#<hash of bucket, key, version>``.
IDEMPOTENCY_KEY_PREFIX = "event-pipeline"

# The circuit breaker guarding the optional enrichment service (its URL: ``ENRICHMENT_URL``).
ENRICHMENT_BREAKER = "enrichment"
# Where the enrichment service's answer goes in the summary of ``processed/{key}.json``.
ENRICHMENT_FIELD = "enrichment"


class Metric:
    """EMF metric names the handlers emit and the construct charts (the ``FILES_*`` pair is shared
    with the other patterns' business metrics: ``lambdas.shared.observability.BusinessMetric``)."""

    FILES_PROCESSED = "FilesProcessed"
    FILES_REJECTED = "FilesRejected"
    UPLOADS_ACCEPTED = "UploadsAccepted"
    UPLOADS_IGNORED = "UploadsIgnored"
    FOLDER_MARKERS_IGNORED = "FolderMarkersIgnored"
    DUPLICATES_SKIPPED = "DuplicatesSkipped"
    UPLOADS_SUPERSEDED = "UploadsSuperseded"
    PROCESSING_RETRIED = "ProcessingRetried"
    PROCESSING_DEFERRED = "ProcessingDeferred"


class Env:
    """Names of the environment variables the construct sets and the handlers read."""

    QUEUE_URL = "QUEUE_URL"
    RESULTS_BUCKET = "RESULTS_BUCKET"
    UPLOAD_PREFIX = "UPLOAD_PREFIX"
    MAX_FILE_BYTES = "MAX_FILE_BYTES"
    FORMAT_SAMPLE_BYTES = "FORMAT_SAMPLE_BYTES"
    ALLOWED_EXTENSIONS = "ALLOWED_EXTENSIONS"
    IDEMPOTENCY_TABLE = "IDEMPOTENCY_TABLE"
    IDEMPOTENCY_SECONDS = "IDEMPOTENCY_SECONDS"
    MAX_RECEIVE_COUNT = "MAX_RECEIVE_COUNT"
    RETRY_BASE_SECONDS = "RETRY_BASE_SECONDS"
    RETRY_MAX_SECONDS = "RETRY_MAX_SECONDS"
    MAX_DEFERRALS = "MAX_DEFERRALS"


def record_key(prefix: str, key: str) -> str:
    """``{prefix}{key}.json``, or a hash-named key when that would exceed S3's 1024-byte limit."""
    candidate = f"{prefix}{key}{RECORD_SUFFIX}"
    if len(candidate.encode()) <= MAX_KEY_BYTES:
        return candidate
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{prefix}{LONG_KEYS_FOLDER}{digest}{RECORD_SUFFIX}"
