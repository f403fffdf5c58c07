"""The formats the default pipeline understands, read as streams in bounded memory.

One parser serves both stages: the validator runs it over the first bytes of an upload (a
sample, whose last line may be cut), the default processor over the whole object. Text is
UTF-8 (a BOM is skipped); lines end with ``\\n`` (``\\r\\n`` too). CSV needs a header row and
every row must have as many fields as the header; JSON Lines needs one JSON object per
non-blank line. Memory stays bounded: lines longer than ``MAX_LINE_CHARS`` are refused and
statistics are kept for at most ``MAX_TRACKED_FIELDS`` fields.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Any, Protocol

from serverless_patterns.lambdas.event_pipeline.errors import InvalidContentError

CHUNK_BYTES = 64 * 1024
MAX_LINE_CHARS = 1024 * 1024
MAX_TRACKED_FIELDS = 256


class DataFormat(StrEnum):
    """What an upload holds, decided by its extension or, failing that, its content type."""

    CSV = "csv"
    JSON_LINES = "jsonl"


EXTENSION_FORMATS: Mapping[str, DataFormat] = {
    ".csv": DataFormat.CSV,
    ".jsonl": DataFormat.JSON_LINES,
    ".ndjson": DataFormat.JSON_LINES,
}
CONTENT_TYPE_FORMATS: Mapping[str, DataFormat] = {
    "text/csv": DataFormat.CSV,
    "application/csv": DataFormat.CSV,
    "application/jsonl": DataFormat.JSON_LINES,
    "application/jsonlines": DataFormat.JSON_LINES,
    "application/json-lines": DataFormat.JSON_LINES,
    "application/x-jsonlines": DataFormat.JSON_LINES,
    "application/x-ndjson": DataFormat.JSON_LINES,
}


class ByteStream(Protocol):
    """What a processor reads from: an S3 ``StreamingBody``, or ``io.BytesIO`` in tests."""

    def read(self, size: int, /) -> bytes:
        """Up to ``size`` bytes; ``b""`` at the end."""
        ...


def detect_format(key: str, content_type: str | None, allowed_extensions: tuple[str, ...]) -> DataFormat | None:
    """The upload's format, or None when it is not one this pipeline accepts.

    A known, allowed extension decides; an unknown extension falls back to the content type,
    as long as some allowed extension has that format. A known extension that is not allowed
    is refused outright (the operator chose to turn that format off).
    """
    allowed = {ext.lower() for ext in allowed_extensions}
    suffix = PurePosixPath(key).suffix.lower()
    if suffix in EXTENSION_FORMATS:
        return EXTENSION_FORMATS[suffix] if suffix in allowed else None
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    candidate = CONTENT_TYPE_FORMATS.get(media_type)
    if candidate is not None and any(EXTENSION_FORMATS.get(ext) is candidate for ext in allowed):
        return candidate
    return None


def iter_lines(stream: ByteStream, *, chunk_bytes: int = CHUNK_BYTES) -> Iterator[str]:
    """Decoded lines with their ``\\n``, read ``chunk_bytes`` at a time."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    pending = ""
    offset = 0
    while True:
        chunk = stream.read(chunk_bytes)
        try:
            text = pending + decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as error:
            raise InvalidContentError(f"not UTF-8 text near byte {offset + error.start}") from None
        if "\x00" in text:
            raise InvalidContentError("binary content (NUL bytes) in a text format")
        offset += len(chunk)
        *complete, pending = text.split("\n")
        for line in complete:
            yield line + "\n"
        if len(pending) > MAX_LINE_CHARS:
            raise InvalidContentError(f"a line longer than {MAX_LINE_CHARS} characters")
        if not chunk:
            break
    if pending:
        yield pending


@dataclass
class FieldStats:
    """Counts, and numeric range when values are numbers, of one column or JSON key."""

    present: int = 0
    empty: int = 0
    numeric: int = 0
    minimum: float = math.inf
    maximum: float = -math.inf
    total: float = 0.0

    def observe(self, value: object) -> None:
        """Account for one row's value (``None`` and ``""`` count as empty)."""
        if value is None or value == "":
            self.empty += 1
            return
        self.present += 1
        number = _as_number(value)
        if number is not None:
            self.numeric += 1
            self.minimum = min(self.minimum, number)
            self.maximum = max(self.maximum, number)
            self.total += number

    def to_json(self) -> dict[str, Any]:
        """The statistics as written into the result record."""
        stats: dict[str, Any] = {"present": self.present, "empty": self.empty}
        if self.numeric and self.numeric == self.present:
            stats["numeric"] = {
                "min": self.minimum,
                "max": self.maximum,
                "mean": self.total / self.numeric,
            }
        return stats


@dataclass
class _Accumulator:
    format: DataFormat
    rows: int = 0
    columns: list[str] = field(default_factory=list)
    stats: dict[str, FieldStats] = field(default_factory=dict)
    untracked: set[str] = field(default_factory=set)

    def stats_for(self, name: str) -> FieldStats | None:
        found = self.stats.get(name)
        if found is None and len(self.stats) < MAX_TRACKED_FIELDS and name not in self.untracked:
            found = self.stats[name] = FieldStats()
            self.columns.append(name)
        elif found is None and len(self.untracked) < MAX_TRACKED_FIELDS:
            self.untracked.add(name)
        return found

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format.value,
            "rows": self.rows,
            "columns": list(self.columns),
            "fields": {name: stats.to_json() for name, stats in self.stats.items()},
            "untrackedFields": len(self.untracked),
        }


def summarise(data_format: DataFormat, stream: ByteStream, *, partial: bool = False) -> dict[str, Any]:
    """Stream ``stream`` once and summarise it: row count, columns, per-field statistics.

    ``partial``: the stream is a sample cut at a line boundary, so its last row may be the
    beginning of a multi-line record and is not held against it.
    Raises InvalidContentError with the line at fault.
    """
    if data_format is DataFormat.CSV:
        return _summarise_csv(stream, partial=partial)
    return _summarise_json_lines(stream, partial=partial)


def check_sample(data_format: DataFormat, sample: bytes, *, truncated: bool) -> None:
    """Raise InvalidContentError unless ``sample`` (an upload's first bytes) looks well-formed."""
    if truncated:
        cut = sample.rfind(b"\n")
        if cut < 0:
            raise InvalidContentError(f"no complete line in the first {len(sample)} bytes")
        sample = sample[: cut + 1]
    summarise(data_format, io.BytesIO(sample), partial=truncated)


def _summarise_csv(stream: ByteStream, *, partial: bool) -> dict[str, Any]:
    reader = csv.reader(iter_lines(stream))
    summary = _Accumulator(DataFormat.CSV)
    try:
        header = next((row for row in reader if row), None)
        if header is None:
            raise InvalidContentError("no header row")
        names = [name.strip() for name in header]
        if any(not name for name in names):
            raise InvalidContentError("the header row has an empty column name")
        if len(set(names)) != len(names):
            raise InvalidContentError("the header row repeats a column name")
        tracked = [summary.stats_for(name) for name in names]
        previous: tuple[int, list[str]] | None = None
        for row in reader:
            if not row:
                continue
            if previous is not None:
                _count_csv_row(summary, tracked, *previous)
            previous = (reader.line_num, row)
        if previous is not None and not (partial and len(previous[1]) != len(names)):
            _count_csv_row(summary, tracked, *previous)
    except csv.Error as error:
        raise InvalidContentError(f"line {reader.line_num}: {error}") from None
    return summary.to_json()


def _count_csv_row(summary: _Accumulator, tracked: list[FieldStats | None], line: int, row: list[str]) -> None:
    if len(row) != len(tracked):
        raise InvalidContentError(f"line {line}: {len(row)} fields where the header has {len(tracked)}")
    summary.rows += 1
    for stats, value in zip(tracked, row, strict=True):
        if stats is not None:
            stats.observe(value.strip())


def _summarise_json_lines(stream: ByteStream, *, partial: bool) -> dict[str, Any]:
    summary = _Accumulator(DataFormat.JSON_LINES)
    for number, line in enumerate(iter_lines(stream), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise InvalidContentError(f"line {number}: not JSON ({error.msg})") from None
        except RecursionError:
            raise InvalidContentError(f"line {number}: JSON nested too deeply") from None
        if not isinstance(record, dict):
            raise InvalidContentError(f"line {number}: a JSON {type(record).__name__}, not an object")
        summary.rows += 1
        for name, value in record.items():
            stats = summary.stats_for(str(name))
            if stats is not None:
                stats.observe(value)
    if summary.rows == 0 and not partial:
        raise InvalidContentError("no records")
    return summary.to_json()


def _as_number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None
