"""The default processor: exact decimal summaries, poison items rejected, bounded parallelism."""

from __future__ import annotations

import re
import threading
from decimal import Decimal
from typing import Any

import pytest

from serverless_patterns.lambdas.fan_out.errors import ItemRejectedError
from serverless_patterns.lambdas.fan_out.processing import (
    Summary,
    combine_summaries,
    item_value,
    map_bounded,
    summarize_chunk,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(3, Decimal(3)), (-2.5, Decimal("-2.5")), (0.1, Decimal("0.1")), (123456789.123456, Decimal("123456789.123456"))],
)
def test_values_are_exact_decimals(raw: Any, expected: Decimal) -> None:
    assert item_value({"value": raw}, 0) == expected


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ({}, "'value' must be a number"),
        ({"value": "3"}, "'value' must be a number"),
        ({"value": True}, "'value' must be a number"),
        ({"value": None}, "'value' must be a number"),
        ({"value": float("nan")}, "'value' must be finite"),
        ({"value": float("inf")}, "'value' must be finite"),
        ({"value": 10**15}, "below 10^15"),
        ({"value": 0.1234567}, "more than 6 decimal places"),
        ({"value": 1234567890123456 // 10 + 0.5}, "more than 15 significant digits"),
    ],
)
def test_poison_items_are_rejected_with_their_position(item: dict[str, Any], reason: str) -> None:
    with pytest.raises(ItemRejectedError, match=re.escape(reason)) as raised:
        item_value(item, 41)
    assert raised.value.position == 41
    assert str(raised.value).startswith("item 41: ")


def test_trailing_zeros_do_not_count_as_decimal_places() -> None:
    assert item_value({"value": Decimal("2.5000000000")}, 0) == Decimal("2.5")


def test_chunk_summary_and_combination_are_exact() -> None:
    first = summarize_chunk([{"value": 0.1}, {"value": 0.2}, {"value": -7}], 0, 4)
    second = summarize_chunk([{"value": 0.3}], 3, 4)

    assert first == {"count": 3, "sum": Decimal("-6.7"), "min": Decimal(-7), "max": Decimal("0.2")}
    combined = combine_summaries([first, second])
    assert combined == {
        "count": 4,
        "sum": Decimal("-6.4"),
        "min": Decimal(-7),
        "max": Decimal("0.3"),
        "mean": Decimal("-1.600000"),
    }
    assert combine_summaries([second, first]) == combined  # order does not matter


def test_summaries_round_trip_through_records() -> None:
    summary = Summary.of([Decimal("1.5"), Decimal(-2)])
    assert Summary.from_record(summary.to_record()) == summary


def test_a_chunk_fails_on_its_first_poison_item() -> None:
    items: list[dict[str, Any]] = [{"value": 1}, {"value": "x"}, {"value": 2}, {"value": None}]
    with pytest.raises(ItemRejectedError) as raised:
        summarize_chunk(items, 100, 3)
    assert raised.value.position == 101


def test_combining_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one chunk"):
        combine_summaries([])


def test_map_bounded_runs_at_most_parallelism_calls_at_once_and_keeps_order() -> None:
    parallelism = 3
    together = threading.Barrier(parallelism)  # passes only when `parallelism` calls run at the same time
    active = 0
    peak = 0
    lock = threading.Lock()

    def work(value: int) -> int:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        together.wait(timeout=10)
        with lock:
            active -= 1
        return value * value

    assert map_bounded(work, list(range(9)), parallelism) == [value * value for value in range(9)]
    assert peak == parallelism


def test_map_bounded_raises_the_first_failure_in_order() -> None:
    def work(value: int) -> int:
        if value in (2, 5):
            raise ValueError(f"bad {value}")
        return value

    with pytest.raises(ValueError, match="bad 2"):
        map_bounded(work, list(range(8)), 4)
    assert map_bounded(work, [0, 1], 1) == [0, 1]
