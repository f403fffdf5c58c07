"""PipelineSettings refuses what SQS, Lambda or S3 would refuse at deploy time, or what loses messages."""

from __future__ import annotations

from typing import Any

import pytest

from serverless_patterns.config import PipelineSettings
from serverless_patterns.stacks.environments import ENVIRONMENTS


def test_every_environment_has_valid_pipeline_settings() -> None:
    for config in ENVIRONMENTS.values():
        assert isinstance(config.pipeline, PipelineSettings)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 100, "batching_window_seconds": 0}, "batching_window_seconds >= 1"),
        ({"max_concurrency": 1}, "max_concurrency must be 2..1000"),
        ({"max_receive_count": 0}, "max_receive_count"),
        ({"upload_prefix": ""}, "upload_prefix"),
        ({"upload_prefix": "incoming"}, "upload_prefix"),
        ({"allowed_extensions": ("csv",)}, "allowed_extensions"),
        ({"format_sample_bytes": 10}, "format_sample_bytes"),
        ({"retry_base_seconds": 60, "retry_max_seconds": 30}, "retry_base_seconds"),
        ({"validate_retry_attempts": 3}, "validate_retry_attempts"),
        ({"rejected_retention_days": 0}, "retention days"),
    ],
)
def test_refused(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PipelineSettings(**overrides)
