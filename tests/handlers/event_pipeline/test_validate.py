"""The validate handler under moto: valid uploads are queued, every kind of invalid one is parked."""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest

from serverless_patterns.lambdas.event_pipeline import data_access, validation
from serverless_patterns.lambdas.event_pipeline.validation import ValidationIncompleteError
from serverless_patterns.lambdas.shared.observability import logger
from serverless_patterns.lambdas.shared.warmup import WARMUP_EVENT, WARMUP_RESPONSE

from .conftest import Pipeline, lambda_context, s3_record

CSV = b"id,name,amount\n1,ann,10\n2,bob,12.5\n"


def test_valid_upload_becomes_one_message_with_its_identity(pipeline: Pipeline) -> None:
    record = pipeline.upload(
        "incoming/2025 report (final).csv", CSV, ContentType="text/csv", Metadata={"customer": "acme"}
    )
    assert pipeline.validate(record) == {"accepted": 1, "rejected": 0, "ignored": 0, "folder_markers": 0}
    (message,) = pipeline.queued_bodies()
    assert message["bucket"] == pipeline.uploads
    assert message["key"] == "incoming/2025 report (final).csv"  # decoded from incoming/2025+report+%28final%29.csv
    assert message["versionId"] == record["s3"]["object"]["versionId"]
    assert message["etag"] == record["s3"]["object"]["eTag"]
    assert message["size"] == len(CSV)
    assert message["format"] == "csv"
    assert message["metadata"] == {"customer": "acme"}
    assert message["sequencer"] == record["s3"]["object"]["sequencer"]
    assert message["uploadRequestId"] == record["responseElements"]["x-amz-request-id"]
    assert pipeline.results("") == []


def test_json_lines_detected_by_content_type_when_the_extension_says_nothing(pipeline: Pipeline) -> None:
    record = pipeline.upload("incoming/events", b'{"a": 1}\n{"a": 2}\n', ContentType="application/x-ndjson")
    assert pipeline.validate(record)["accepted"] == 1
    assert pipeline.queued_bodies()[0]["format"] == "jsonl"


@pytest.mark.parametrize(
    ("key", "body", "code", "detail"),
    [
        ("incoming/empty.csv", b"", "empty", "empty"),
        ("incoming/huge.csv", b"id\n" + b"1\n" * 3000, "too_large", "over the limit of 4096 bytes"),
        ("incoming/photo.png", b"\x89PNG....", "unsupported_type", "extension nor the content type"),
        ("incoming/bad.csv", b"id,name\n1,ann\n2\n", "malformed", "line 3: 1 fields where the header has 2"),
        ("incoming/bad.jsonl", b'{"a": 1}\nnot json\n', "malformed", "line 2: not JSON"),
        ("incoming/latin1.csv", "id,name\n1,Zoë\n".encode("latin-1"), "malformed", "not UTF-8"),
    ],
)
def test_invalid_upload_is_parked_with_its_reason_not_queued(
    pipeline: Pipeline, key: str, body: bytes, code: str, detail: str
) -> None:
    record = pipeline.upload(key, body, Tagging="owner=team-a")
    assert pipeline.validate(record) == {"accepted": 0, "rejected": 1, "ignored": 0, "folder_markers": 0}
    assert pipeline.queued_bodies() == []
    rejection = pipeline.record(f"rejected/{key}.json")
    assert rejection["status"] == "rejected"
    assert rejection["stage"] == "validate"
    assert rejection["reason"]["code"] == code
    assert detail in rejection["reason"]["detail"]
    assert rejection["source"]["versionId"] == record["s3"]["object"]["versionId"]
    assert rejection["uploadRequestId"] == record["responseElements"]["x-amz-request-id"]
    # The upload stays, tagged for the lifecycle rule; the uploader's own tags are kept.
    assert pipeline.tags(key) == {"owner": "team-a", "pipeline-status": "rejected"}


def test_only_the_sample_is_read_for_the_format_check(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    lengths: list[int] = []
    original = data_access.read_first_bytes

    def spy(upload: object, length: int) -> bytes:
        lengths.append(length)
        return original(upload, length)  # type: ignore[arg-type]

    monkeypatch.setattr(data_access, "read_first_bytes", spy)
    body = b"id,note\n" + b"".join(b"%d,row\n" % i for i in range(400))  # ~3.5 KB, sample is 1 KiB
    # The cut lands mid-file: a malformed row beyond the sample is the processor's to find.
    assert pipeline.validate(pipeline.upload("incoming/long.csv", body + b"oops\n"))["accepted"] == 1
    assert lengths == [1024]


def test_an_upload_deleted_before_validation_is_recorded_as_vanished(pipeline: Pipeline) -> None:
    record = pipeline.upload("incoming/gone.csv", CSV)
    pipeline.s3.delete_object(
        Bucket=pipeline.uploads, Key="incoming/gone.csv", VersionId=record["s3"]["object"]["versionId"]
    )
    assert pipeline.validate(record)["rejected"] == 1
    assert pipeline.record("rejected/incoming/gone.csv.json")["reason"]["code"] == "vanished"


def test_other_prefixes_and_other_events_are_ignored_and_empty_folder_markers_counted(
    pipeline: Pipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = pipeline.upload("incoming/2025/", b"")
    outside = pipeline.upload("elsewhere/a.csv", CSV)
    removed = s3_record("incoming/a.csv", size=0, etag="x", version_id=None, seq=99, event_name="ObjectRemoved:Delete")
    capsys.readouterr()
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    logs = io.StringIO()
    original = handler.setStream(logs)
    try:
        report = pipeline.validate(folder, outside, removed)
    finally:
        handler.setStream(original)
    assert report == {"accepted": 0, "rejected": 0, "ignored": 2, "folder_markers": 1}
    assert pipeline.queued_bodies() == []
    assert pipeline.results("") == []
    assert '"Empty folder marker ignored"' in logs.getvalue()
    assert '"FolderMarkersIgnored":[1.0]' in capsys.readouterr().out


def test_a_folder_marker_with_content_is_parked_with_the_reason(pipeline: Pipeline) -> None:
    """Was the one upload without a terminal record: no result, no rejection, no DLQ message."""
    marker = pipeline.upload("incoming/2025/", CSV)
    assert pipeline.validate(marker) == {"accepted": 0, "rejected": 1, "ignored": 0, "folder_markers": 0}
    record = pipeline.record("rejected/incoming/2025/.json")
    assert record["reason"]["code"] == "folder_marker"
    assert "upload the data under a file name" in record["reason"]["detail"]
    assert pipeline.queued_bodies() == []


def test_many_uploads_in_one_event_are_sent_in_batches_of_ten(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = [pipeline.upload(f"incoming/part-{i:02d}.csv", CSV) for i in range(12)]
    calls: list[int] = []
    client = data_access.sqs_client()
    original = client.send_message_batch

    def spy(**kwargs: Any) -> Any:
        calls.append(len(kwargs["Entries"]))
        return original(**kwargs)

    monkeypatch.setattr(client, "send_message_batch", spy)
    assert pipeline.validate(*records)["accepted"] == 12
    assert calls == [10, 2]
    assert pipeline.depth(pipeline.queue_url) == 12


def test_a_repeated_notification_parks_once(pipeline: Pipeline) -> None:
    record = pipeline.upload("incoming/empty.csv", b"")
    pipeline.validate(record)
    pipeline.validate(record)
    assert pipeline.record_versions("rejected/incoming/empty.csv.json") == 1


def test_a_newer_rejection_is_not_overwritten_by_an_older_one_arriving_late(pipeline: Pipeline) -> None:
    older = pipeline.upload("incoming/a.csv", b"")
    newer = pipeline.upload("incoming/a.csv", b"\x89PNG")
    pipeline.validate(newer)
    pipeline.validate(older)
    assert pipeline.record("rejected/incoming/a.csv.json")["reason"]["code"] == "malformed"
    assert pipeline.record_versions("rejected/incoming/a.csv.json") == 1


def test_its_own_failures_raise_for_the_async_retry_after_handling_the_rest(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = pipeline.upload("incoming/good.csv", CSV)
    broken = pipeline.upload("incoming/broken.csv", CSV)
    original = data_access.head_upload

    def flaky(bucket: str, key: str, version_id: str | None) -> data_access.ObjectHead:
        if key.endswith("broken.csv"):
            raise ConnectionError("S3 unreachable")
        return original(bucket, key, version_id)

    monkeypatch.setattr(data_access, "head_upload", flaky)
    with pytest.raises(ValidationIncompleteError, match="1 of 2 uploads"):
        pipeline.validate(good, broken)
    assert [body["key"] for body in pipeline.queued_bodies()] == ["incoming/good.csv"]


def test_warmup_and_s3_test_events_do_no_work(pipeline: Pipeline) -> None:
    from serverless_patterns.lambdas.event_pipeline import validate

    assert validate.handler(WARMUP_EVENT, lambda_context()) == WARMUP_RESPONSE
    assert validate.handler({"Service": "Amazon S3", "Event": "s3:TestEvent"}, lambda_context()) == {
        "accepted": 0,
        "rejected": 0,
        "ignored": 0,
        "folder_markers": 0,
    }
    assert pipeline.depth(pipeline.queue_url) == 0


def test_is_upload_decodes_before_checking_the_prefix() -> None:
    record = s3_record("incoming/a b.csv", size=1, etag="e", version_id="v", seq=1)
    from serverless_patterns.lambdas.event_pipeline.models import S3NotificationRecord

    assert validation.is_upload(S3NotificationRecord.model_validate(record), "incoming/")
