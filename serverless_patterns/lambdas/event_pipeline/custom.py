"""Your own code in the EventPipeline: everything a custom processor (or validator) imports, in one module.

A processor is a plain function ``(message, stream) -> summary``::

    from serverless_patterns.lambdas.event_pipeline.custom import (
        ByteStream, InvalidContentError, PipelineMessage, RetryLaterError, build_process_handler,
    )

    def process(message: PipelineMessage, stream: ByteStream) -> dict[str, object]:
        rows = count_rows(stream)              # read the upload as a stream of bytes
        if rows == 0:
            raise InvalidContentError("no rows")  # parked with this reason, never retried
        return {"rows": rows}                  # recorded as processed/{key}.json

    handler = build_process_handler(process)

and ``EventPipeline(..., handlers={"process": HandlerCode.from_package(dir, "my_pkg.module.handler")})``.
The pipeline keeps its plumbing: partial batch responses, backoff by receive count, deferral
while a dependency is down (``RetryLaterError``), idempotency per upload version, the records.

Names are imported on first use, so a handler pays only for what it uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from serverless_patterns.lambdas.shared.lazy_exports import lazy_exports

_EXPORTS = {
    "build_process_handler": ("serverless_patterns.lambdas.event_pipeline.process", "build_handler"),
    "Processor": ("serverless_patterns.lambdas.event_pipeline.processing", "Processor"),
    "PipelineMessage": ("serverless_patterns.lambdas.event_pipeline.models", "PipelineMessage"),
    "ObjectVersion": ("serverless_patterns.lambdas.event_pipeline.models", "ObjectVersion"),
    "ByteStream": ("serverless_patterns.lambdas.event_pipeline.formats", "ByteStream"),
    "InvalidContentError": ("serverless_patterns.lambdas.event_pipeline.errors", "InvalidContentError"),
    "RetryLaterError": ("serverless_patterns.lambdas.event_pipeline.errors", "RetryLaterError"),
}

if TYPE_CHECKING:
    from serverless_patterns.lambdas.event_pipeline.errors import InvalidContentError, RetryLaterError
    from serverless_patterns.lambdas.event_pipeline.formats import ByteStream
    from serverless_patterns.lambdas.event_pipeline.models import ObjectVersion, PipelineMessage
    from serverless_patterns.lambdas.event_pipeline.process import build_handler as build_process_handler
    from serverless_patterns.lambdas.event_pipeline.processing import Processor

__all__ = [
    "ByteStream",
    "InvalidContentError",
    "ObjectVersion",
    "PipelineMessage",
    "Processor",
    "RetryLaterError",
    "build_process_handler",
]


__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
