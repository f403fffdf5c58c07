"""The processing function's entry point: ``price_lists.handler.handler``.

``build_process_handler`` wraps the processor in the pipeline's SQS batch handling (partial batch
failures, backoff, idempotency per upload version, parking and records).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from typing import Any

from price_lists.prices import summarise_price_list
from serverless_patterns.lambdas.event_pipeline.custom import ByteStream, PipelineMessage, build_process_handler

CURRENCY_ENV = "PRICE_LIST_CURRENCY"


@functools.cache
def catalog_currency() -> str:
    """The one currency the catalog sells in, set by the stack (the handler code's ``environment``)."""
    return os.environ[CURRENCY_ENV].strip().upper()


def process_price_list(message: PipelineMessage, stream: ByteStream) -> Mapping[str, Any]:
    """The pipeline's processor: the summary recorded for one upload."""
    return summarise_price_list(stream, currency=catalog_currency()).as_record()


handler = build_process_handler(process_price_list)
