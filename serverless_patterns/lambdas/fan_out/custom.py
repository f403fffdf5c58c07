"""Your own code in the FanOut: what a worker does to a chunk, and how chunk results combine.

The pattern keeps its guarantees whatever your code does: a job's items are split into chunks
(one queue message each), a chunk's result is recorded once however often it is delivered, the
job completes exactly once (completion shards, a conditional start of the aggregation), a chunk
that keeps failing is retried ``worker_retries`` times and then parks in the DLQ with the job
FAILED and the reason on it, and a job still open past its deadline is failed by the sweeper.
Your code plugs in at two roles:

- ``worker``: a **chunk processor** ``(items, first_item, parallelism) -> result``: ``items``
  are the chunk's JSON objects, ``first_item`` the position of the first in the job (for
  messages), ``parallelism`` the threads you may use on them (``FanOutSettings.worker_parallelism``;
  :func:`map_items` runs a function per item on that many threads). Return a JSON object (at most
  a few hundred KB: it is stored as one DynamoDB item); raise :class:`ItemRejectedError` for an
  item that can never be processed (the chunk fails with that reason, then parks in the DLQ);
  anything else fails the attempt and the chunk is retried.
- ``aggregator``: a **result combiner** ``(chunk_results) -> result``: every chunk's result in
  chunk order, called once per job; its JSON object is the job's result (``GET`` status).

Numbers come back as :class:`decimal.Decimal` (DynamoDB's numbers): floats you return are stored
exactly as their JSON text. A result that is not a JSON object fails the attempt naming the role::

    # words/worker.py
    from collections.abc import Mapping, Sequence
    from typing import Any

    from serverless_patterns.lambdas.fan_out.custom import (
        ItemRejectedError,
        build_aggregator_handler,
        build_worker_handler,
        map_items,
    )


    def count_words(item: Mapping[str, Any], position: int) -> int:
        text = item.get("text")
        if not isinstance(text, str):
            raise ItemRejectedError(position, "'text' must be a string")
        return len(text.split())


    def words_in_chunk(items: Sequence[Mapping[str, Any]], first_item: int, parallelism: int) -> dict[str, Any]:
        return {"words": sum(map_items(count_words, items, first_item, parallelism))}


    def total_words(chunk_results: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        return {"words": sum(int(result["words"]) for result in chunk_results)}


    worker = build_worker_handler(words_in_chunk)
    aggregator = build_aggregator_handler(total_words)

**In your app**::

    FanOut(
        self,
        "Words",
        handlers={
            "worker": HandlerCode.from_package(words, "words.worker.worker"),
            "aggregator": HandlerCode.from_package(words, "words.worker.aggregator"),
        },
    )

Names are imported on first use, so a handler pays only for what it uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from serverless_patterns.lambdas.shared.lazy_exports import lazy_exports

_EXPORTS = {
    "build_worker_handler": ("serverless_patterns.lambdas.fan_out.user_code", "build_worker_handler"),
    "build_aggregator_handler": ("serverless_patterns.lambdas.fan_out.user_code", "build_aggregator_handler"),
    "map_items": ("serverless_patterns.lambdas.fan_out.user_code", "map_items"),
    "ChunkProcessor": ("serverless_patterns.lambdas.fan_out.processing", "ChunkProcessor"),
    "ResultCombiner": ("serverless_patterns.lambdas.fan_out.processing", "ResultCombiner"),
    "ItemRejectedError": ("serverless_patterns.lambdas.fan_out.errors", "ItemRejectedError"),
    "summarize_chunk": ("serverless_patterns.lambdas.fan_out.processing", "summarize_chunk"),
    "combine_summaries": ("serverless_patterns.lambdas.fan_out.processing", "combine_summaries"),
}

if TYPE_CHECKING:
    from serverless_patterns.lambdas.fan_out.errors import ItemRejectedError
    from serverless_patterns.lambdas.fan_out.processing import (
        ChunkProcessor,
        ResultCombiner,
        combine_summaries,
        summarize_chunk,
    )
    from serverless_patterns.lambdas.fan_out.user_code import build_aggregator_handler, build_worker_handler, map_items

__all__ = [
    "ChunkProcessor",
    "ItemRejectedError",
    "ResultCombiner",
    "build_aggregator_handler",
    "build_worker_handler",
    "combine_summaries",
    "map_items",
    "summarize_chunk",
]


__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
