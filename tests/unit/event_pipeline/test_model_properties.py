"""The pipeline's shapes on any input: a model or a ``ShapeError``, and JSON that reads back as it was written."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from serverless_patterns.lambdas.event_pipeline.formats import DataFormat
from serverless_patterns.lambdas.event_pipeline.models import (
    PipelineMessage,
    Rejection,
    RejectionCode,
    RejectionRecord,
    ResultRecord,
    S3Notification,
    SourceRef,
    ValidateSettings,
)
from serverless_patterns.lambdas.shared.shapes import ShapeError

PROPERTIES = settings(
    max_examples=150, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
JSON: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


def _either(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field's valid value, or any JSON in its place."""
    return st.one_of(valid, JSON)


def _s3_records(vary: Any) -> st.SearchStrategy[dict[str, Any]]:
    """``Records[]`` entries as S3 writes them, each value passed through ``vary``."""
    return st.fixed_dictionaries(
        {
            "eventName": vary(st.sampled_from(["ObjectCreated:Put", "ObjectRemoved:Delete"])),
            "s3": vary(
                st.fixed_dictionaries(
                    {
                        "bucket": vary(st.fixed_dictionaries({"name": vary(st.text())})),
                        "object": vary(
                            st.fixed_dictionaries(
                                {"key": vary(st.text())},
                                optional={
                                    "size": vary(st.integers(min_value=0)),
                                    "versionId": vary(st.text() | st.none()),
                                    "eTag": vary(st.text()),
                                    "sequencer": vary(st.text()),
                                },
                            )
                        ),
                    }
                )
            ),
        },
        optional={
            "eventTime": vary(st.datetimes(timezones=st.just(UTC)).map(lambda t: t.isoformat().replace("+00:00", "Z"))),
            "responseElements": vary(st.dictionaries(st.text(max_size=20), st.text(max_size=20), max_size=3)),
            "eventVersion": st.just("2.1"),
            "userIdentity": JSON,
        },
    )


NOTIFICATIONS = st.one_of(
    JSON,
    st.fixed_dictionaries({"Records": st.lists(_s3_records(lambda valid: valid), max_size=3)}),
    st.fixed_dictionaries({"Records": _either(st.lists(_s3_records(_either), max_size=3))}),
)
MESSAGES = st.builds(
    PipelineMessage,
    bucket=st.text(),
    key=st.text(),
    version_id=st.none() | st.text(),
    etag=st.text(),
    size=st.integers(),
    format=st.sampled_from(DataFormat),
    content_type=st.none() | st.text(),
    metadata=st.dictionaries(st.text(), st.text(), max_size=3),
    sequencer=st.none() | st.text(),
    uploaded_at=st.none() | st.datetimes() | st.datetimes(timezones=st.just(UTC)),
    upload_request_id=st.none() | st.text(),
)


def _model_or_shape_error(parse: Any, data: Any) -> object:
    try:
        return parse(data)
    except ShapeError as refused:
        problems = refused.errors()
    assert problems, "a ShapeError names its problems"
    return problems


@PROPERTIES
@given(NOTIFICATIONS)
def test_any_json_is_a_notification_or_a_shape_error(event: Any) -> None:
    result = _model_or_shape_error(S3Notification.model_validate, event)
    if isinstance(result, S3Notification):
        for record in result.records:
            assert isinstance(record.key, str)


@PROPERTIES
@given(st.one_of(JSON, MESSAGES.map(lambda message: message.model_dump(mode="json")), st.dictionaries(st.text(), JSON)))
def test_any_json_is_a_message_or_a_shape_error(body: Any) -> None:
    _model_or_shape_error(PipelineMessage.model_validate, body)
    _model_or_shape_error(PipelineMessage.model_validate_json, json.dumps(body))


@PROPERTIES
@given(st.binary(max_size=64) | st.text(max_size=64))
def test_any_body_is_a_message_or_a_shape_error(body: bytes | str) -> None:
    _model_or_shape_error(PipelineMessage.model_validate_json, body)


@PROPERTIES
@given(st.dictionaries(st.sampled_from(["MAX_FILE_BYTES", "ALLOWED_EXTENSIONS", "QUEUE_URL", "X"]), st.text()))
def test_any_environment_is_settings_or_a_shape_error(environment: dict[str, str]) -> None:
    _model_or_shape_error(ValidateSettings.model_validate, environment)


@PROPERTIES
@given(MESSAGES)
def test_a_message_reads_back_as_it_was_written(message: PipelineMessage) -> None:
    body = message.model_dump_json()
    assert PipelineMessage.model_validate_json(body) == message
    assert PipelineMessage.model_validate_json(body.encode()) == message


def test_s3s_other_keys_are_ignored() -> None:
    event = {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "eu-west-1",
                "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "AWS:X"},
                "requestParameters": {"sourceIPAddress": "10.0.0.1"},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "c",
                    "bucket": {"name": "uploads", "ownerIdentity": {"principalId": "X"}, "arn": "arn:aws:s3:::u"},
                    "object": {"key": "incoming/a.csv", "size": 1, "eTag": "e"},
                },
            }
        ]
    }
    (record,) = S3Notification.model_validate(event).records
    assert (record.event_name, record.key, record.s3.object.e_tag, record.event_time) == (
        "ObjectCreated:Put",
        "incoming/a.csv",
        "e",
        None,
    )


def test_records_are_written_as_pydantic_wrote_them() -> None:
    """Byte for byte what the pydantic models wrote: readers of ``processed/`` and ``rejected/`` see no change."""
    source = SourceRef(bucket="b", key="k/é", version_id=None, etag="e", size=None, sequencer=None)
    rejected = RejectionRecord(
        source=source,
        reason=Rejection(code=RejectionCode.EMPTY, detail="d"),
        stage="validate",
        rejected_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert rejected.model_dump_json() == (
        '{"status":"rejected","source":{"bucket":"b","key":"k/é","versionId":null,"etag":"e","size":null,'
        '"sequencer":null},"reason":{"code":"empty","detail":"d"},"stage":"validate","uploadRequestId":null,'
        '"rejectedAt":"2026-01-01T00:00:00Z"}'
    )
    processed = ResultRecord(
        source=source,
        summary={"a": [1, 2.5, None], "b": {"c": "d"}},
        upload_request_id="R",
        processed_at=datetime(2026, 1, 1, 0, 0, 0, 5, tzinfo=UTC),
    )
    assert processed.model_dump_json() == (
        '{"status":"processed","source":{"bucket":"b","key":"k/é","versionId":null,"etag":"e","size":null,'
        '"sequencer":null},"summary":{"a":[1,2.5,null],"b":{"c":"d"}},"uploadRequestId":"R",'
        '"processedAt":"2026-01-01T00:00:00.000005Z"}'
    )


def test_a_record_defaults_to_now_in_utc() -> None:
    source = SourceRef(bucket="b", key="k", etag="e")
    before = datetime.now(UTC)
    written = json.loads(ResultRecord(source=source, summary={}).model_dump_json())["processedAt"]
    assert written.endswith("Z")
    assert before <= datetime.fromisoformat(written) <= datetime.now(UTC)


def test_a_summary_is_written_as_json_pydantic_would_write() -> None:
    source = SourceRef(bucket="b", key="k", etag="e")
    summary = {"mean": math.nan, "max": math.inf, "total": Decimal("1.50"), "day": datetime(2026, 1, 2, tzinfo=UTC)}
    written = json.loads(ResultRecord(source=source, summary=summary).model_dump_json())["summary"]
    assert written == {"mean": None, "max": None, "total": "1.50", "day": "2026-01-02T00:00:00Z"}
    with pytest.raises(TypeError, match="a bytes is not JSON"):
        ResultRecord(source=source, summary={"raw": b"bytes"}).model_dump_json()


def test_a_record_reads_back_with_its_literal_status() -> None:
    source = SourceRef(bucket="b", key="k", etag="e", size=3, sequencer="00A")
    record = RejectionRecord(source=source, reason=Rejection(code=RejectionCode.RULE, detail="x"), stage="process")
    assert RejectionRecord.model_validate_json(record.model_dump_json()) == record
    wrong = {**json.loads(record.model_dump_json()), "status": "processed"}
    with pytest.raises(ShapeError) as refused:
        RejectionRecord.model_validate(wrong)
    assert [error["loc"] for error in refused.value.errors()] == [("status",)]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("[" * 100_000 + "]" * 100_000, "Invalid JSON: nested too deeply"),
        ('{"size": ' + "1" * 5000 + "}", "Invalid JSON: a number with too many digits"),
        (b"\xff", "Invalid JSON: not UTF-8"),
        ('{"bucket": "b", "key": "k", "etag": "e", "format": "csv", "size": "' + "1" * 5000 + '"}', "valid integer"),
    ],
)
def test_a_body_that_python_cannot_read_is_a_shape_error(body: str | bytes, problem: str) -> None:
    """An SQS body holds 256 KB: enough to nest deeper than ``json`` parses, or to write a huge number."""
    with pytest.raises(ShapeError, match=problem):
        PipelineMessage.model_validate_json(body)


@pytest.mark.parametrize("size", ["\u0661\u0662", "\uff11\uff12", 1.5, True])
def test_a_size_is_an_integer_in_ascii_digits(size: object) -> None:
    """Digits of other scripts are no size (as pydantic; Python's ``int()`` would take them), nor is a bool."""
    body = {"bucket": "b", "key": "k", "etag": "e", "format": "csv", "size": size}
    with pytest.raises(ShapeError) as refused:
        PipelineMessage.model_validate(body)
    assert [error["loc"] for error in refused.value.errors()] == [("size",)]
    assert PipelineMessage.model_validate({**body, "size": " 12 "}).size == 12
