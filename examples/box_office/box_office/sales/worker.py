"""The sales report's worker: ``box_office.sales.worker.handler`` (``FanOut``, role ``worker``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from serverless_patterns.lambdas.fan_out.custom import ItemRejectedError, build_worker_handler, map_items

from . import add_up

MAX_SEATS_PER_SALE = 20


def _count(name: str, value: Any, position: int, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ItemRejectedError(position, f"{name!r} must be a whole number from {low} to {high}")
    return value


def sale(item: Mapping[str, Any], position: int) -> dict[str, dict[str, int]]:
    """One sale as a per-show total; a malformed sale is rejected with its reason."""
    show_id = item.get("show_id")
    if not isinstance(show_id, str) or not show_id:
        raise ItemRejectedError(position, "'show_id' must be a non-empty string")
    seats = _count("seats", item.get("seats"), position, low=1, high=MAX_SEATS_PER_SALE)
    cents = _count("cents", item.get("cents"), position, low=0, high=10_000_000)
    return {show_id: {"seats": seats, "cents": cents}}


def chunk_totals(items: Sequence[Mapping[str, Any]], first_item: int, parallelism: int) -> dict[str, Any]:
    """The chunk's seats and cents per show."""
    return {"shows": add_up(map_items(sale, items, first_item, parallelism))}


handler = build_worker_handler(chunk_totals)
