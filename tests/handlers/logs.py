"""The handlers' structured log lines, read by a test (the shared Powertools logger's stream, swapped)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from serverless_patterns.lambdas.shared.observability import logger


@contextmanager
def captured_logs() -> Iterator[list[dict[str, Any]]]:
    """The JSON log lines written inside the block (the list fills when the block ends)."""
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    lines: list[dict[str, Any]] = []
    original = handler.setStream(stream)
    try:
        yield lines
    finally:
        handler.setStream(original)
        lines.extend(json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{"))
