"""What each item gets done to it, and how chunk results combine into the job's result.

The default processor summarises numbers: every item is an object with a numeric ``value``
(other keys are carried along and ignored); a chunk's result is its count, sum, minimum and
maximum, and the job's result adds the mean. Arithmetic is decimal, so the result is exact:
a value may have at most 15 significant digits (what a JSON number keeps through every parser
on its way here) and at most 6 decimal places. An item breaking these rules is a poison item:
it raises ``ItemRejectedError`` and its chunk fails.

Items of a chunk are processed on a bounded thread pool (``parallelism``): the point of it is a
processor that waits on I/O per item (an HTTP call, an S3 read), where the seed's unbounded
``Promise.all`` would overrun the downstream. Swap the processor by passing other functions with
the ``ChunkProcessor`` / ``ResultCombiner`` shapes to ``logic.process_chunk`` and
``logic.aggregate_job``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from serverless_patterns.lambdas.fan_out.errors import ItemRejectedError

JsonObject = dict[str, Any]
ChunkProcessor = Callable[[Sequence[JsonObject], int, int], JsonObject]
"""(items, position of the first item in the job, parallelism) -> the chunk's result."""
ResultCombiner = Callable[[Sequence[Mapping[str, Any]]], JsonObject]
"""(every chunk's result, in chunk order) -> the job's result."""

MAX_SIGNIFICANT_DIGITS = 15
MAX_DECIMAL_PLACES = 6
MAX_ABS_VALUE = Decimal(10) ** 15
MEAN_QUANTUM = Decimal(1).scaleb(-MAX_DECIMAL_PLACES)

ArgT = TypeVar("ArgT")
ResultT = TypeVar("ResultT")


def map_bounded(function: Callable[[ArgT], ResultT], args: Sequence[ArgT], parallelism: int) -> list[ResultT]:
    """``[function(arg) for arg in args]`` with at most ``parallelism`` calls at a time.

    The first failure in ``args`` order is raised and calls not yet started are cancelled.
    """
    if parallelism <= 1 or len(args) <= 1:
        return [function(arg) for arg in args]
    pool = ThreadPoolExecutor(max_workers=min(parallelism, len(args)), thread_name_prefix="fan-out-item")
    try:
        futures = [pool.submit(function, arg) for arg in args]
        return [future.result() for future in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def item_value(item: Mapping[str, Any], position: int) -> Decimal:
    """The item's ``value`` as an exact decimal, or ``ItemRejectedError`` saying why it cannot be one."""
    raw = item.get("value")
    if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal):
        raise ItemRejectedError(position, "'value' must be a number")
    number = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)
    if not number.is_finite():
        raise ItemRejectedError(position, "'value' must be finite")
    if abs(number) >= MAX_ABS_VALUE:
        raise ItemRejectedError(position, "'value' must be below 10^15 in magnitude")
    digits, exponent = number.normalize().as_tuple()[1:]
    if isinstance(exponent, int) and exponent < -MAX_DECIMAL_PLACES:
        raise ItemRejectedError(position, f"'value' has more than {MAX_DECIMAL_PLACES} decimal places")
    if len(digits) > MAX_SIGNIFICANT_DIGITS:
        raise ItemRejectedError(position, f"'value' has more than {MAX_SIGNIFICANT_DIGITS} significant digits")
    return number


@dataclass(frozen=True)
class Summary:
    """Count, sum, minimum and maximum of some values: merges associatively, so chunks combine in any order."""

    count: int
    total: Decimal
    minimum: Decimal
    maximum: Decimal

    @classmethod
    def of(cls, values: Sequence[Decimal]) -> Summary:
        """The summary of a non-empty sequence of values."""
        return cls(count=len(values), total=sum(values, Decimal(0)), minimum=min(values), maximum=max(values))

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Summary:
        """A summary read back from a chunk record."""
        return cls(
            count=int(record["count"]),
            total=Decimal(record["sum"]),
            minimum=Decimal(record["min"]),
            maximum=Decimal(record["max"]),
        )

    def merge(self, other: Summary) -> Summary:
        """The summary of both summaries' values."""
        return Summary(
            count=self.count + other.count,
            total=self.total + other.total,
            minimum=min(self.minimum, other.minimum),
            maximum=max(self.maximum, other.maximum),
        )

    def to_record(self) -> JsonObject:
        """What a chunk record stores (DynamoDB numbers)."""
        return {"count": self.count, "sum": self.total, "min": self.minimum, "max": self.maximum}


def summarize_chunk(items: Sequence[JsonObject], first_item: int, parallelism: int) -> JsonObject:
    """The default ``ChunkProcessor``: every item's value, summarised."""
    positioned = list(enumerate(items, start=first_item))
    values = map_bounded(lambda pair: item_value(pair[1], pair[0]), positioned, parallelism)
    return Summary.of(values).to_record()


def combine_summaries(chunk_results: Sequence[Mapping[str, Any]]) -> JsonObject:
    """The default ``ResultCombiner``: the chunks' summaries merged, plus the mean (6 decimal places)."""
    if not chunk_results:
        raise ValueError("a job has at least one chunk")
    summary = functools.reduce(Summary.merge, (Summary.from_record(result) for result in chunk_results))
    mean = (summary.total / summary.count).quantize(MEAN_QUANTUM)
    return {**summary.to_record(), "mean": mean}
