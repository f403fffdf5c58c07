"""Your own code in the EventPipeline: your validation rules and your processor, in one module.

The pipeline keeps its plumbing whatever your code does: the validator's size, type and
format checks, the parking of invalid uploads (``rejected/{key}.json`` with the reason, a
``pipeline-status=rejected`` tag), the queue with its DLQ, partial batch responses, backoff by
receive count, deferral while a dependency is down, idempotency per upload version and the
``processed/{key}.json`` records. Your code plugs in at two roles:

- ``validate``: your rules, run after the pipeline's own checks on uploads that passed them;
- ``process``: your processor, run once per upload version taken from the queue.

**Validation rules** are plain functions of an :class:`Upload` (key, size, content type,
extension, detected format, the first bytes, the uploader's metadata; nothing else is read).
A rule raises :class:`InvalidUploadError` to park the upload with its reason (recorded as code
``rule``, the detail naming the rule), or returns to let it through; the first rule that raises
decides. A rule that fails any other way is a bug, not a verdict: the validator fails the S3
event, Lambda retries it and then keeps it in the validator's on-failure queue (alarmed); after
the fix, ``python -m serverless_patterns.ops replay-failures --queue <on-failure queue>
--function <validator>:live`` sends it again. The upload is not parked, queued or lost meanwhile::

    # uploads/validate.py
    from serverless_patterns.lambdas.event_pipeline.custom import (
        DataFormat,
        InvalidUploadError,
        Upload,
        build_validate_handler,
    )


    def has_owner(upload: Upload) -> None:
        if not upload.metadata.get("owner"):
            raise InvalidUploadError("no owner: upload with the metadata x-amz-meta-owner set to your team")


    def csv_has_amount_column(upload: Upload) -> None:
        if upload.format is DataFormat.CSV:
            header = upload.first_bytes.split(b"\\n", 1)[0].decode("utf-8-sig").rstrip("\\r")
            if "amount" not in [name.strip() for name in header.split(",")]:
                raise InvalidUploadError("the CSV header has no 'amount' column")


    handler = build_validate_handler([has_owner, csv_has_amount_column])

The validator stays lean: importing its side of this module loads none of the processor's
batch or idempotency machinery.

**A processor** is a plain function ``(message, stream) -> summary``: ``message`` is the
validated upload (:class:`PipelineMessage`), ``stream`` its content as bytes
(:class:`ByteStream`, read in bounded memory), the summary is recorded as
``processed/{key}.json``. Raise :class:`InvalidContentError` to park the upload with a reason
(never retried), :class:`RetryLaterError` while a dependency is down (deferred, not counted as
poison); anything else is retried with backoff, then the message goes to the DLQ.
:func:`iter_lines` reads the stream as UTF-8 lines in bounded memory (parking the upload if it
is not text)::

    # uploads/process.py
    import csv
    from collections.abc import Mapping
    from typing import Any

    from serverless_patterns.lambdas.event_pipeline.custom import (
        ByteStream,
        DataFormat,
        InvalidContentError,
        PipelineMessage,
        build_process_handler,
        iter_lines,
    )


    def total_amount(message: PipelineMessage, stream: ByteStream) -> Mapping[str, Any]:
        if message.format is not DataFormat.CSV:
            raise InvalidContentError("only CSV uploads are summed")
        rows = csv.DictReader(iter_lines(stream))
        total, count = 0.0, 0
        for row in rows:
            try:
                total += float(row["amount"])
            except (KeyError, TypeError, ValueError):
                raise InvalidContentError(f"line {rows.line_num}: no numeric amount") from None
            count += 1
        return {"rows": count, "total_amount": round(total, 2)}


    handler = build_process_handler(total_amount)

**In your app**, each role gets its handler (your package is staged beside the pipeline's
runtime; no Docker)::

    uploads = Path(__file__).parent / "uploads"
    EventPipeline(
        self,
        "Uploads",
        handlers={
            "validate": HandlerCode.from_package(uploads, "uploads.validate.handler"),
            "process": HandlerCode.from_package(uploads, "uploads.process.handler"),
        },
    )

Names are imported on first use, so a handler pays only for what it uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from serverless_patterns.lambdas.shared.lazy_exports import lazy_exports

_EXPORTS = {
    "build_validate_handler": ("serverless_patterns.lambdas.event_pipeline.validate", "build_handler"),
    "Upload": ("serverless_patterns.lambdas.event_pipeline.rules", "Upload"),
    "ValidationRule": ("serverless_patterns.lambdas.event_pipeline.rules", "ValidationRule"),
    "InvalidUploadError": ("serverless_patterns.lambdas.event_pipeline.errors", "InvalidUploadError"),
    "DataFormat": ("serverless_patterns.lambdas.event_pipeline.formats", "DataFormat"),
    "build_process_handler": ("serverless_patterns.lambdas.event_pipeline.process", "build_handler"),
    "Processor": ("serverless_patterns.lambdas.event_pipeline.processing", "Processor"),
    "PipelineMessage": ("serverless_patterns.lambdas.event_pipeline.models", "PipelineMessage"),
    "ObjectVersion": ("serverless_patterns.lambdas.event_pipeline.models", "ObjectVersion"),
    "ByteStream": ("serverless_patterns.lambdas.event_pipeline.formats", "ByteStream"),
    "iter_lines": ("serverless_patterns.lambdas.event_pipeline.formats", "iter_lines"),
    "InvalidContentError": ("serverless_patterns.lambdas.event_pipeline.errors", "InvalidContentError"),
    "RetryLaterError": ("serverless_patterns.lambdas.event_pipeline.errors", "RetryLaterError"),
}

if TYPE_CHECKING:
    from serverless_patterns.lambdas.event_pipeline.errors import (
        InvalidContentError,
        InvalidUploadError,
        RetryLaterError,
    )
    from serverless_patterns.lambdas.event_pipeline.formats import ByteStream, DataFormat, iter_lines
    from serverless_patterns.lambdas.event_pipeline.models import ObjectVersion, PipelineMessage
    from serverless_patterns.lambdas.event_pipeline.process import build_handler as build_process_handler
    from serverless_patterns.lambdas.event_pipeline.processing import Processor
    from serverless_patterns.lambdas.event_pipeline.rules import Upload, ValidationRule
    from serverless_patterns.lambdas.event_pipeline.validate import build_handler as build_validate_handler

__all__ = [
    "ByteStream",
    "DataFormat",
    "InvalidContentError",
    "InvalidUploadError",
    "ObjectVersion",
    "PipelineMessage",
    "Processor",
    "RetryLaterError",
    "Upload",
    "ValidationRule",
    "build_process_handler",
    "build_validate_handler",
    "iter_lines",
]


__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
