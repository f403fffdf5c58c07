"""The sales report's combiner: ``box_office.sales.aggregator.handler`` (``FanOut``, role ``aggregator``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from serverless_patterns.lambdas.fan_out.custom import build_aggregator_handler

from . import add_up


def report(chunk_results: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The job's seats and cents per show, and over all shows."""
    shows = add_up(result["shows"] for result in chunk_results)
    return {
        "shows": shows,
        "seats": sum(entry["seats"] for entry in shows.values()),
        "cents": sum(entry["cents"] for entry in shows.values()),
    }


handler = build_aggregator_handler(report)
