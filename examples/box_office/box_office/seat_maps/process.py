"""The seat maps' processor: ``box_office.seat_maps.process.handler`` (``EventPipeline``, role ``process``)."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Mapping
from typing import Any

from serverless_patterns.lambdas.event_pipeline.custom import (
    ByteStream,
    InvalidContentError,
    PipelineMessage,
    build_process_handler,
    iter_lines,
)

from . import COLUMNS, VENUE_METADATA


def count_seats(message: PipelineMessage, stream: ByteStream) -> Mapping[str, Any]:
    """Seats per section of one map; the whole map is parked on its first bad row."""
    rows = csv.DictReader(iter_lines(stream))
    seen: set[tuple[str, ...]] = set()
    sections: Counter[str] = Counter()
    for row in rows:
        seat = tuple((row.get(column) or "").strip() for column in COLUMNS)
        if not all(seat):
            raise InvalidContentError(f"row {rows.line_num}: section, row and seat are all required")
        if seat in seen:
            raise InvalidContentError(f"row {rows.line_num}: seat {'/'.join(seat)} is listed twice")
        seen.add(seat)
        sections[seat[0]] += 1
    return {
        "venue": message.metadata.get(VENUE_METADATA, ""),
        "seats": len(seen),
        "sections": dict(sorted(sections.items())),
    }


handler = build_process_handler(count_seats)
