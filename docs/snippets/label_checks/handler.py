"""Counts the lines of an uploaded label file and refuses empty ones."""

from __future__ import annotations

from serverless_patterns.lambdas.event_pipeline.custom import (
    ByteStream,
    InvalidContentError,
    PipelineMessage,
    build_process_handler,
)


def count_labels(message: PipelineMessage, stream: ByteStream) -> dict[str, object]:
    """The summary written to ``processed/<key>.json``; an empty file is parked with its reason."""
    lines = sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(65_536), b""))
    if lines == 0:
        raise InvalidContentError("the label file has no lines")
    return {"labels": lines}


handler = build_process_handler(count_labels)
