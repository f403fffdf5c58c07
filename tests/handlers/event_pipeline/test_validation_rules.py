"""Your validation rules (``event_pipeline.custom.build_validate_handler``) under moto.

A rule parks an upload with its reason, lets it through, or crashes; in every case each upload
ends queued, parked, or in the event the validator's on-failure queue keeps (never lost).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from serverless_patterns.lambdas.event_pipeline.custom import (
    DataFormat,
    InvalidContentError,
    InvalidUploadError,
    Upload,
    build_validate_handler,
)
from serverless_patterns.lambdas.event_pipeline.validation import ValidationIncompleteError
from tests.docs_examples import imported_examples
from tests.handlers.logs import captured_logs

from .conftest import Pipeline, lambda_context

CSV = b"id,amount\n1,10\n2,12.5\n"


def needs_owner(upload: Upload) -> None:
    if not upload.metadata.get("owner"):
        raise InvalidUploadError("no owner metadata")


def validate(pipeline: Pipeline, rules: list[Any], *records: dict[str, Any]) -> dict[str, int]:
    return build_validate_handler(rules)({"Records": list(records)}, lambda_context())


def test_a_rule_sees_the_typed_upload_the_pipeline_checked(pipeline: Pipeline) -> None:
    seen: list[Upload] = []
    record = pipeline.upload("incoming/2025/Orders (1).CSV", CSV, ContentType="text/csv", Metadata={"Owner": "team-a"})

    assert validate(pipeline, [seen.append], record)["accepted"] == 1

    (upload,) = seen
    assert upload == Upload(
        bucket=pipeline.uploads,
        key="incoming/2025/Orders (1).CSV",
        version_id=record["s3"]["object"]["versionId"],
        size=len(CSV),
        content_type="text/csv",
        extension=".csv",
        format=DataFormat.CSV,
        first_bytes=CSV,
        metadata={"owner": "team-a"},
    )
    assert upload.is_whole_file
    (message,) = pipeline.queued_bodies()
    assert message["key"] == "incoming/2025/Orders (1).CSV"


def test_a_large_upload_shows_only_its_sampled_first_bytes(pipeline: Pipeline) -> None:
    seen: list[Upload] = []
    body = b"id,amount\n" + b"1,10\n" * 600  # 3010 bytes; the sample is 1024
    validate(pipeline, [seen.append], pipeline.upload("incoming/big.csv", body))

    (upload,) = seen
    assert (upload.size, upload.first_bytes, upload.is_whole_file) == (len(body), body[:1024], False)


def test_a_rule_parks_the_upload_with_its_reason_and_tag(pipeline: Pipeline) -> None:
    record = pipeline.upload("incoming/orphan.csv", CSV, Tagging="source=sftp")

    assert validate(pipeline, [needs_owner], record) == {
        "accepted": 0,
        "rejected": 1,
        "ignored": 0,
        "folder_markers": 0,
    }

    assert pipeline.queued_bodies() == []
    rejection = pipeline.record("rejected/incoming/orphan.csv.json")
    assert (rejection["status"], rejection["stage"]) == ("rejected", "validate")
    assert rejection["reason"] == {"code": "rule", "detail": "needs_owner: no owner metadata"}
    assert rejection["source"]["versionId"] == record["s3"]["object"]["versionId"]
    assert pipeline.tags("incoming/orphan.csv") == {"source": "sftp", "pipeline-status": "rejected"}


def test_rules_run_in_order_and_the_first_that_refuses_decides(pipeline: Pipeline) -> None:
    ran: list[str] = []

    def first(upload: Upload) -> None:
        ran.append("first")
        raise InvalidContentError("first refuses")  # the processor's error class parks too

    def second(upload: Upload) -> None:
        ran.append("second")

    validate(pipeline, [second, first, second], pipeline.upload("incoming/a.csv", CSV))

    assert ran == ["second", "first"]
    detail = pipeline.record("rejected/incoming/a.csv.json")["reason"]["detail"]
    assert detail == "test_rules_run_in_order_and_the_first_that_refuses_decides.<locals>.first: first refuses"


def test_rules_never_see_what_the_pipeline_parked_itself(pipeline: Pipeline) -> None:
    seen: list[Upload] = []
    empty, malformed = pipeline.upload("incoming/empty.csv", b""), pipeline.upload("incoming/bad.csv", b"a,b\n1\n")

    assert validate(pipeline, [seen.append], empty, malformed)["rejected"] == 2

    assert seen == []
    assert pipeline.record("rejected/incoming/bad.csv.json")["reason"]["code"] == "malformed"


def test_a_crashing_rule_fails_the_event_loses_nothing_and_the_replay_after_the_fix_decides(
    pipeline: Pipeline,
) -> None:
    def owner_team(upload: Upload) -> None:
        team = upload.metadata["owner"].split("/")[1]  # a bug: IndexError on "team-a"
        if not team:
            raise InvalidUploadError("no team")

    crashing = pipeline.upload("incoming/a.csv", CSV, Metadata={"owner": "team-a"})
    fine = pipeline.upload("incoming/b.csv", CSV, Metadata={"owner": "org/team-b"})

    with (
        captured_logs() as logs,
        pytest.raises(ValidationIncompleteError, match="1 of 2 uploads could not be validated"),
    ):
        validate(pipeline, [owner_team], crashing, fine)

    # The other upload went on; the crashed one is neither queued, parked nor tagged.
    assert [body["key"] for body in pipeline.queued_bodies()] == ["incoming/b.csv"]
    assert pipeline.results("rejected/") == []
    assert pipeline.tags("incoming/a.csv") == {}
    (error,) = [line for line in logs if line["level"] == "ERROR"]
    assert error["s3_key"] == "incoming/a.csv"
    assert "validation rule test_a_crashing_rule" in error["exception"]
    assert "owner_team failed on incoming/a.csv with IndexError" in error["exception"]

    # Lambda's retries, then the replay from the on-failure queue once the rule is fixed.
    assert validate(pipeline, [needs_owner], crashing) == {
        "accepted": 1,
        "rejected": 0,
        "ignored": 0,
        "folder_markers": 0,
    }
    assert sorted(body["key"] for body in pipeline.queued_bodies()) == ["incoming/a.csv", "incoming/b.csv"]


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (needs_owner, "rules must be a list of functions taking an Upload, got function \\(wrap the one rule"),
        ("needs_owner", "rules must be a list of functions taking an Upload, got str"),
        ([needs_owner, None], "each rule must be a function taking an Upload, got NoneType None"),
        ([Upload], "each rule must be a function taking an Upload, got type"),
    ],
)
def test_rules_are_checked_when_the_handler_is_built(rules: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        build_validate_handler(rules)


def test_the_validators_side_imports_none_of_the_processors_machinery() -> None:
    """Cold start: a validator importing from ``custom`` loads no batch or idempotency utility."""
    probe = (
        "import sys\n"
        "from serverless_patterns.lambdas.event_pipeline.custom import (\n"
        "    DataFormat, InvalidUploadError, Upload, build_validate_handler)\n"
        "build_validate_handler([])\n"
        "heavy = ('.batch', '.idempotency', 'event_pipeline.process')\n"
        "print([name for name in sys.modules if any(part in name for part in heavy)])\n"
    )
    command = [sys.executable, "-c", probe]
    loaded = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    assert loaded.strip() == "[]"


def test_the_documented_rules_and_processor_run_as_written(pipeline: Pipeline, tmp_path: Path) -> None:
    from serverless_patterns.lambdas.event_pipeline import custom

    with imported_examples(custom, tmp_path, "uploads.validate", "uploads.process") as modules:
        validator, processor = modules["uploads.validate"].handler, modules["uploads.process"].handler
        owned = {"Metadata": {"owner": "team-a"}}
        records = [
            pipeline.upload("incoming/good.csv", b"id,amount\r\n1,10.5\r\n2,20\r\n", **owned),
            pipeline.upload("incoming/no-owner.csv", CSV),
            pipeline.upload("incoming/no-amount.csv", b"id,price\n1,10\n", **owned),
            pipeline.upload("incoming/late.csv", b"id,amount\n1,ten\n", **owned),
            pipeline.upload("incoming/events.jsonl", b'{"amount": 1}\n', **owned),
        ]
        report = validator({"Records": records}, lambda_context())
        pipeline.drain(processor)

    assert report == {"accepted": 3, "rejected": 2, "ignored": 0, "folder_markers": 0}
    parked = {key: pipeline.record(key)["reason"] for key in pipeline.results("rejected/")}
    assert parked == {
        "rejected/incoming/no-owner.csv.json": {
            "code": "rule",
            "detail": "has_owner: no owner: upload with the metadata x-amz-meta-owner set to your team",
        },
        "rejected/incoming/no-amount.csv.json": {
            "code": "rule",
            "detail": "csv_has_amount_column: the CSV header has no 'amount' column",
        },
        "rejected/incoming/late.csv.json": {"code": "malformed", "detail": "line 2: no numeric amount"},
        "rejected/incoming/events.jsonl.json": {"code": "malformed", "detail": "only CSV uploads are summed"},
    }
    assert pipeline.record("processed/incoming/good.csv.json")["summary"] == {"rows": 2, "total_amount": 30.5}
