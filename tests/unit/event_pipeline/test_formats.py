"""The streaming parsers behind validation and the default processor."""

from __future__ import annotations

import io

import pytest

from serverless_patterns.lambdas.event_pipeline.errors import InvalidContentError
from serverless_patterns.lambdas.event_pipeline.formats import (
    MAX_LINE_CHARS,
    MAX_TRACKED_FIELDS,
    DataFormat,
    check_sample,
    detect_format,
    iter_lines,
    summarise,
)

CSV = DataFormat.CSV
JSONL = DataFormat.JSON_LINES
ALLOWED = (".csv", ".jsonl", ".ndjson")


class CountingStream(io.BytesIO):
    """Records the largest read, to prove the parser never asks for the whole object at once."""

    largest_read = 0

    def read(self, size: int | None = -1, /) -> bytes:
        self.largest_read = max(self.largest_read, size if size is not None and size >= 0 else 1 << 62)
        return super().read(size)


@pytest.mark.parametrize(
    ("key", "content_type", "expected"),
    [
        ("incoming/a.csv", None, CSV),
        ("incoming/A.CSV", "application/octet-stream", CSV),
        ("incoming/events.jsonl", None, JSONL),
        ("incoming/events.ndjson", None, JSONL),
        ("incoming/export", "text/csv; charset=utf-8", CSV),
        ("incoming/export.txt", "application/x-ndjson", JSONL),
        ("incoming/photo.png", "image/png", None),
        ("incoming/noext", None, None),
    ],
)
def test_format_from_extension_then_content_type(key: str, content_type: str | None, expected: DataFormat) -> None:
    assert detect_format(key, content_type, ALLOWED) is expected


def test_a_known_extension_that_is_not_allowed_is_refused_whatever_the_content_type() -> None:
    assert detect_format("incoming/a.jsonl", "application/x-ndjson", (".csv",)) is None
    assert detect_format("incoming/a", "application/x-ndjson", (".csv",)) is None
    assert detect_format("incoming/a", "text/csv", (".csv",)) is CSV


def test_csv_summary_counts_rows_columns_and_numeric_fields() -> None:
    body = b'\xef\xbb\xbfid,name,score\r\n1,ann,3.5\r\n2,"multi\nline",\r\n\r\n3,cy,1.5\r\n'
    summary = summarise(CSV, io.BytesIO(body))
    assert summary["format"] == "csv"
    assert summary["rows"] == 3
    assert summary["columns"] == ["id", "name", "score"]
    assert summary["fields"]["id"] == {"present": 3, "empty": 0, "numeric": {"min": 1.0, "max": 3.0, "mean": 2.0}}
    assert summary["fields"]["name"] == {"present": 3, "empty": 0}
    assert summary["fields"]["score"] == {"present": 2, "empty": 1, "numeric": {"min": 1.5, "max": 3.5, "mean": 2.5}}


def test_json_lines_summary_unions_keys_and_skips_blank_lines() -> None:
    body = b'{"id": 1, "tags": ["a"]}\n\n{"id": 2, "note": null, "ok": true}\n'
    summary = summarise(JSONL, io.BytesIO(body))
    assert summary["rows"] == 2
    assert summary["columns"] == ["id", "tags", "note", "ok"]
    assert summary["fields"]["note"] == {"present": 0, "empty": 1}
    assert summary["fields"]["ok"] == {"present": 1, "empty": 0}  # booleans are not numbers


@pytest.mark.parametrize(
    ("data_format", "body", "message"),
    [
        (CSV, b"", "no header row"),
        (CSV, b"\n\n", "no header row"),
        (CSV, b"id,,name\n", "empty column name"),
        (CSV, b"id,id\n", "repeats a column name"),
        (CSV, b"id,name\n1,a\n2\n", "line 3: 1 fields where the header has 2"),
        (CSV, b"id\n\xff\xfe\n", "not UTF-8"),
        (CSV, b"id\n\x00\x01\n", "binary content"),
        (JSONL, b"", "no records"),
        (JSONL, b'{"a": 1}\n{"a": \n', "line 2: not JSON"),
        (JSONL, b'{"a": 1}\n[1, 2]\n', "line 2: a JSON list, not an object"),
        (JSONL, b'{"a": ' * 100_000 + b"1" + b"}" * 100_000 + b"\n", "line 1: JSON nested too deeply"),
    ],
)
def test_malformed_content_names_its_fault(data_format: DataFormat, body: bytes, message: str) -> None:
    with pytest.raises(InvalidContentError, match=message):
        summarise(data_format, io.BytesIO(body))


def test_reads_in_bounded_chunks_whatever_the_size() -> None:
    stream = CountingStream(b"id,value\n" + b"".join(b"%d,%d\n" % (i, i * 2) for i in range(50_000)))
    summary = summarise(CSV, stream)
    assert summary["rows"] == 50_000
    assert summary["fields"]["value"]["numeric"]["max"] == 99_998.0
    assert 0 < stream.largest_read <= 64 * 1024


def test_a_line_without_end_is_refused_before_it_fills_memory() -> None:
    stream = io.BytesIO(b"a" * (MAX_LINE_CHARS + 10))
    with pytest.raises(InvalidContentError, match="longer than"):
        list(iter_lines(stream, chunk_bytes=4096))


def test_field_statistics_are_capped() -> None:
    header = ",".join(f"c{i}" for i in range(MAX_TRACKED_FIELDS + 5))
    row = ",".join("1" for _ in range(MAX_TRACKED_FIELDS + 5))
    summary = summarise(CSV, io.BytesIO(f"{header}\n{row}\n".encode()))
    assert len(summary["fields"]) == MAX_TRACKED_FIELDS
    assert summary["untrackedFields"] == 5
    assert summary["rows"] == 1


def test_sample_check_forgives_only_the_cut_last_record() -> None:
    # The sample ends inside a quoted multi-line field: the cut record is not held against it.
    check_sample(CSV, b'id,text\n1,"first\n2', truncated=True)
    check_sample(JSONL, b'{"a": 1}\n{"a": 2}\n{"a', truncated=True)
    # A complete bad row before the cut still fails.
    with pytest.raises(InvalidContentError, match="line 2"):
        check_sample(CSV, b"id,text\n1\n2,b\n3,", truncated=True)
    # Not truncated: the whole file was read, the last row counts.
    with pytest.raises(InvalidContentError, match="line 2"):
        check_sample(CSV, b"id,text\n1", truncated=False)


def test_sample_without_a_complete_line_is_malformed() -> None:
    with pytest.raises(InvalidContentError, match="no complete line"):
        check_sample(JSONL, b'{"a": "' + b"x" * 100, truncated=True)
