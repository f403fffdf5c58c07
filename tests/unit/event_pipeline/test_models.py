"""The shapes exchanged with S3, SQS and the construct."""

from __future__ import annotations

import json
from typing import Any

import pytest

from serverless_patterns.lambdas.event_pipeline.formats import DataFormat
from serverless_patterns.lambdas.event_pipeline.layout import Env, Metric
from serverless_patterns.lambdas.event_pipeline.models import (
    PipelineMessage,
    ProcessSettings,
    S3Notification,
    ValidateSettings,
)
from serverless_patterns.lambdas.shared.observability import BusinessMetric
from serverless_patterns.lambdas.shared.shapes import Shape, ShapeError


def _event(key: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventName": "ObjectCreated:Put",
                "eventTime": "2025-01-01T00:00:00.000Z",
                "responseElements": {"x-amz-request-id": "REQ1"},
                "s3": {
                    "bucket": {"name": "uploads"},
                    "object": {"key": key, "size": 3, "eTag": "abc", "versionId": "v1", "sequencer": "00A"},
                },
            }
        ]
    }


def test_s3_keys_are_url_decoded_with_plus_as_space() -> None:
    (record,) = S3Notification.model_validate(_event("incoming/my+report%282025%29+%C3%A9.csv")).records
    assert record.key == "incoming/my report(2025) é.csv"
    assert record.request_id == "REQ1"
    assert record.s3.object.version_id == "v1"


def test_s3_test_event_has_no_records() -> None:
    assert S3Notification.model_validate({"Service": "Amazon S3", "Event": "s3:TestEvent"}).records == []


def test_message_round_trips_in_camel_case() -> None:
    message = PipelineMessage(
        bucket="b", key="incoming/a.csv", version_id="v1", etag="e", size=3, format=DataFormat.CSV, metadata={"x": "y"}
    )
    body = json.loads(message.model_dump_json())
    assert body["versionId"] == "v1"
    assert body["format"] == "csv"
    assert PipelineMessage.model_validate_json(message.model_dump_json()) == message
    assert message.identity().model_dump() == {"bucket": "b", "key": "incoming/a.csv", "versionId": "v1", "etag": "e"}
    assert message.source_version == "v1"
    assert message.model_copy(update={"version_id": None}).source_version == "e"


def _variables(model: type[Shape]) -> set[str]:
    """The variables a settings model requires, as it names them when none is set."""
    with pytest.raises(ShapeError) as refused:
        model.model_validate({})
    return {str(error["loc"][0]) for error in refused.value.errors()}


def test_settings_read_exactly_the_variables_the_construct_sets() -> None:
    names = {value for key, value in vars(Env).items() if not key.startswith("_")}
    assert _variables(ValidateSettings) | _variables(ProcessSettings) == names


def test_allowed_extensions_come_comma_separated() -> None:
    settings = ValidateSettings.model_validate(
        {
            Env.QUEUE_URL: "q",
            Env.RESULTS_BUCKET: "r",
            Env.UPLOAD_PREFIX: "incoming/",
            Env.MAX_FILE_BYTES: "10",
            Env.FORMAT_SAMPLE_BYTES: "5",
            Env.ALLOWED_EXTENSIONS: ".csv, .jsonl",
        }
    )
    assert settings.allowed_extensions == (".csv", ".jsonl")


def test_shared_business_metric_names_are_used() -> None:
    assert BusinessMetric.FILES_PROCESSED.value == Metric.FILES_PROCESSED
    assert BusinessMetric.FILES_REJECTED.value == Metric.FILES_REJECTED


def test_the_idempotency_key_hashes_the_identity_in_camel_case() -> None:
    """The keys pydantic's model gave Powertools: other names would hash to new keys after a deployment."""
    from serverless_patterns.lambdas.event_pipeline.process import idempotency_data

    message = PipelineMessage(
        bucket="b", key="incoming/a.csv", version_id=None, etag="e", size=3, format=DataFormat.CSV
    )
    assert idempotency_data(message) == {"bucket": "b", "key": "incoming/a.csv", "versionId": None, "etag": "e"}
