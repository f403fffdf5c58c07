"""The quota table: dated, every quota sourced, and an account's own values merged over it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from serverless_patterns.capacity.quotas import QUOTAS_FILE, Quotas


def test_every_default_quota_is_dated_positive_and_sourced_from_an_aws_page() -> None:
    quotas = Quotas.load()

    assert quotas.as_of
    assert quotas.region == "us-east-1"
    assert len(quotas.table) >= 20
    for quota in quotas.table.values():
        assert quota.value > 0
        assert quota.source.startswith("https://docs.aws.amazon.com/"), quota.key
        assert quota.name, quota.key
        assert quota.unit, quota.key
    assert quotas("lambda.account_concurrency") == 1_000
    assert quotas("dynamodb.partition_write_units") == 1_000
    assert quotas.overridden == []


def _write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "my-quotas.json"
    path.write_text(json.dumps(document))
    return path


def test_an_accounts_quotas_are_merged_over_the_defaults(tmp_path: Path) -> None:
    override = _write(
        tmp_path,
        {
            "lambda": {"account_concurrency": 3_000},
            "stepfunctions": {"standard_start_execution_rate": {"value": 1_500, "source": "case 42, 2026-11"}},
        },
    )
    quotas = Quotas.load(override)

    assert (quotas("lambda.account_concurrency"), quotas.quota("lambda.account_concurrency").source) == (
        3_000,
        "my-quotas.json",
    )
    assert quotas.quota("stepfunctions.standard_start_execution_rate").source == "case 42, 2026-11"
    assert quotas("apigateway.account_rate") == 10_000  # untouched
    assert sorted(quota.key for quota in quotas.overridden) == [
        "lambda.account_concurrency",
        "stepfunctions.standard_start_execution_rate",
    ]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"lambda": {"account_concurency": 3_000}}, "unknown quota 'lambda.account_concurency'"),
        ({"lamda": {"account_concurrency": 3_000}}, "unknown quota 'lamda.account_concurrency'"),
        ({"lambda": {"account_concurrency": 0}}, "must be a positive number, got 0"),
        ({"lambda": {"account_concurrency": "3000"}}, "must be a positive number"),
        ({"lambda": {"account_concurrency": True}}, "must be a positive number"),
        ({"lambda": 3_000}, "'lambda' must be an object"),
        ([1, 2], "expected a JSON object"),
    ],
)
def test_a_bad_override_names_what_is_wrong(tmp_path: Path, document: Any, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        Quotas.load(_write(tmp_path, document))


def test_a_file_that_is_not_json_is_an_error_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"lambda":\n  oops}')
    with pytest.raises(ValueError, match=re.escape("broken.json: not valid JSON (line 2")):
        Quotas.load(path)


def test_the_default_file_is_the_one_shipped_with_the_package() -> None:
    assert QUOTAS_FILE.name == "quotas.json"
    assert json.loads(QUOTAS_FILE.read_text())["as_of"] == Quotas.load().as_of
