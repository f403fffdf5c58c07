"""Ticket revenue per show, counted by ``FanOut`` (exactly once per chunk, one result per job).

A job's items are sales, ``{"show_id": "...", "seats": 2, "cents": 9000}``. The worker
(``box_office.sales.worker.handler``) totals its chunk per show; the aggregator
(``box_office.sales.aggregator.handler``) adds the chunks' totals up. A sale that is not
well formed fails its chunk with the item's position and reason, and the job with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

Totals = dict[str, dict[str, int]]


def add_up(totals: Iterable[Mapping[str, Mapping[str, Any]]]) -> Totals:
    """Per show, the sum of the seats and cents of ``totals`` (each show -> {"seats", "cents"})."""
    summed: Totals = {}
    for per_show in totals:
        for show_id, counts in per_show.items():
            entry = summed.setdefault(show_id, {"seats": 0, "cents": 0})
            entry["seats"] += int(counts["seats"])
            entry["cents"] += int(counts["cents"])
    return dict(sorted(summed.items()))
