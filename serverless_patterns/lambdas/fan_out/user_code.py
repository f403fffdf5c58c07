"""The FanOut's handlers built around your chunk processor and result combiner (see ``custom``).

Your functions' results are checked and made storable here, so a result DynamoDB cannot hold
fails the attempt with a message naming the role instead of somewhere in the store.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from serverless_patterns.lambdas.fan_out.processing import ChunkProcessor, JsonObject, ResultCombiner, map_bounded

if TYPE_CHECKING:
    from serverless_patterns.lambdas.fan_out import aggregator, worker

ResultT = TypeVar("ResultT")


class ResultNotStorableError(TypeError):
    """Your processor or combiner returned something that is not a JSON object."""


def storable(result: object, role: str) -> JsonObject:
    """``result`` as DynamoDB stores it: a JSON object, numbers as Decimals (floats exactly as their JSON text)."""
    if not isinstance(result, Mapping):
        raise ResultNotStorableError(f"the {role} must return a JSON object (a dict), got {type(result).__name__}")
    try:
        text = json.dumps(result, default=_number, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ResultNotStorableError(f"the {role} returned a result that is not JSON: {error}") from None
    stored: JsonObject = json.loads(text, parse_float=Decimal)
    return stored


def _number(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def map_items(
    function: Callable[[Mapping[str, Any], int], ResultT],
    items: Sequence[Mapping[str, Any]],
    first_item: int,
    parallelism: int,
) -> list[ResultT]:
    """``[function(item, position) ...]`` for a chunk's items, ``parallelism`` at a time, in item order.

    ``position`` is the item's place in the job (for :class:`ItemRejectedError`); the first failure
    in item order is raised and the calls not yet started are cancelled.
    """
    positioned = list(enumerate(items, start=first_item))
    return map_bounded(lambda pair: function(pair[1], pair[0]), positioned, parallelism)


def build_worker_handler(processor: ChunkProcessor) -> worker.LambdaHandler:
    """The worker's Lambda handler running ``processor`` on each chunk (see ``custom``)."""
    from serverless_patterns.lambdas.fan_out import worker  # each role loads only its own handler module

    def checked(items: Sequence[JsonObject], first_item: int, parallelism: int) -> JsonObject:
        return storable(processor(items, first_item, parallelism), "chunk processor")

    return worker.build_handler(checked)


def build_aggregator_handler(combiner: ResultCombiner) -> aggregator.LambdaHandler:
    """The aggregator's Lambda handler combining a job's chunk results with ``combiner`` (see ``custom``)."""
    from serverless_patterns.lambdas.fan_out import aggregator

    def checked(chunk_results: Sequence[Mapping[str, Any]]) -> JsonObject:
        return storable(combiner(chunk_results), "result combiner")

    return aggregator.build_handler(checked)
