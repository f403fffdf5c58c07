"""FanOutSettings refuses values that would break the pattern at deploy or run time."""

from __future__ import annotations

from typing import Any

import pytest

from serverless_patterns.config import FanOutSettings


def test_defaults_are_valid() -> None:
    settings = FanOutSettings()
    assert (settings.worker_retries, settings.worker_max_concurrency, settings.sweep_interval_minutes) == (2, 10, 5)


@pytest.mark.parametrize(
    "overrides",
    [
        {"chunk_size": 0},
        {"chunk_size": 200, "max_items": 100},
        {"chunk_size": 1, "max_items": 2_000_000},
        {"worker_parallelism": 0},
        {"worker_retries": -1},
        {"worker_batch_size": 11},
        {"worker_max_concurrency": 1},
        {"sweep_interval_minutes": 30, "job_deadline_minutes": 30},
        {"max_source_bytes": 0},
        {"job_retention_days": 0},
        {"completion_shards": -1},
        {"completion_shards": 100},
    ],
)
def test_invalid_settings_are_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must"):
        FanOutSettings(**overrides)
