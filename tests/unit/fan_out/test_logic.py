"""Pure parts of the job lifecycle and the models: parsing items objects, chunking, digests, errors."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from serverless_patterns.lambdas.fan_out import contract, logic, submission
from serverless_patterns.lambdas.fan_out.errors import InvalidJobError, ItemRejectedError, JobNotFoundError
from serverless_patterns.lambdas.fan_out.models import JobRecord, JobRequest, StatusResponse, json_number
from serverless_patterns.lambdas.fan_out.responses import error_response
from serverless_patterns.lambdas.shared.shapes import ShapeError


def test_json_lines_and_arrays_parse_to_the_same_items() -> None:
    items = [{"value": 1}, {"value": 2.5, "id": "b"}]
    lines = ("\ufeff" + "\n".join(json.dumps(item) for item in items) + "\n\n").encode()

    assert submission.parse_items_object(lines) == items
    assert submission.parse_items_object(b"  " + json.dumps(items).encode()) == items
    assert submission.parse_items_object(b"") == []


def test_items_object_problems_are_listed_by_line_and_capped() -> None:
    body = "\n".join(['{"value": 1}', "3", "{oops"] + ["[1]"] * 20).encode()
    with pytest.raises(InvalidJobError) as raised:
        submission.parse_items_object(body)
    assert raised.value.details[:2] == [
        "line 2: not a JSON object",
        "line 3: not valid JSON (Expecting property name enclosed in double quotes)",
    ]
    assert len(raised.value.details) == submission.MAX_REPORTED_PROBLEMS


def test_chunks_cover_every_item_once_in_order() -> None:
    items = [{"value": index} for index in range(23)]
    chunks = submission.plan_chunks("job-1", items, chunk_size=10, expires_at=99)

    assert [(chunk.chunk_index, chunk.first_item, len(chunk.items)) for chunk in chunks] == [
        (0, 0, 10),
        (1, 10, 10),
        (2, 20, 3),
    ]
    assert [item for chunk in chunks for item in chunk.items] == items
    assert {(chunk.job_id, chunk.expires_at) for chunk in chunks} == {("job-1", 99)}


def test_the_digest_ignores_key_order_but_not_values() -> None:
    digest = submission.request_digest([{"a": 1, "b": 2}])
    assert submission.request_digest([{"b": 2, "a": 1}]) == digest
    assert submission.request_digest([{"a": 1, "b": 3}]) != digest


def test_a_request_has_exactly_one_source() -> None:
    assert JobRequest.model_validate({"items": [{"value": 1}]}).items == [{"value": 1}]
    assert JobRequest.model_validate({"source": {"key": "k"}}).source is not None
    for bad in ({}, {"items": [], "source": {"key": "k"}}):
        with pytest.raises(ShapeError, match="exactly one of"):
            JobRequest.model_validate(bad)


def test_failures_are_described_briefly() -> None:
    assert logic.describe(ItemRejectedError(7, "'value' must be a number")) == "item 7: 'value' must be a number"
    assert logic.describe(TimeoutError()) == "TimeoutError"
    long = logic.describe(RuntimeError("x" * 1000))
    assert long.startswith("RuntimeError: xxx")
    assert long.endswith("...")
    assert len(long) < 320


def test_iso_times_are_utc_with_milliseconds() -> None:
    assert logic.iso(0) == "1970-01-01T00:00:00.000+00:00"


def _record(**overrides: Any) -> JobRecord:
    fields: dict[str, Any] = {
        "job_id": "j",
        "status": "SUCCEEDED",
        "total_items": 3,
        "total_chunks": 1,
        "completed_chunks": Decimal(1),
        "created_at": "t0",
        "updated_at": "t1",
        "deadline_at": Decimal(5),
        "request_digest": "d",
        "result": {"count": Decimal(3), "sum": Decimal("1.5"), "min": Decimal(-1), "max": Decimal(2)},
    }
    return JobRecord.model_validate({**fields, **overrides})


def test_status_shows_numbers_as_json_numbers_and_hides_bookkeeping() -> None:
    status = StatusResponse.of(_record(failed_chunks={Decimal(3), Decimal(1)})).model_dump(mode="json")

    assert status["result"] == {"count": 3, "sum": 1.5, "min": -1, "max": 2}
    assert status["failed_chunks"] == [1, 3]
    assert "request_digest" not in status
    assert "aggregation_trigger" not in status
    assert json_number([Decimal("2.0"), {"x": Decimal("0.25")}]) == [2, {"x": 0.25}]


def test_error_responses_never_echo_the_request() -> None:
    with pytest.raises(ShapeError) as raised:
        JobRequest.model_validate({"items": "secret-looking-value"})
    response = error_response(raised.value)
    assert (response["error"], response["status_code"]) == ("InvalidRequest", 400)
    assert "secret-looking-value" not in json.dumps(response)
    assert error_response(JobNotFoundError("j"))["status_code"] == 404
    with pytest.raises(TypeError):
        error_response(RuntimeError("not a client error"))


@pytest.mark.parametrize(("chunks", "shards"), [(1, 1), (7, 3), (40, 4), (1_000, 8), (999_999, 99)])
def test_completion_shards_count_every_chunk_exactly_once(chunks: int, shards: int) -> None:
    """Chunk i counts in shard i % S, and shard k expects len(range(k, chunks, S)) chunks: the
    expectations sum to the job's chunks, and differ by at most one between shards."""
    expected = [contract.shard_chunks(chunks, shards, shard) for shard in range(shards)]

    assert sum(expected) == chunks
    assert max(expected) - min(expected) <= 1
    assert {contract.completion_shard(index, shards) for index in range(min(chunks, 5 * shards))} == set(range(shards))


def test_a_job_has_at_most_one_completion_shard_per_chunk() -> None:
    assert [submission.shards_for(chunks, 8) for chunks in (1, 3, 8, 9, 10_000)] == [1, 3, 8, 8, 8]
    assert submission.shards_for(50, 0) == 0
    chunks = submission.plan_chunks("job-1", [{"value": 1}] * 5, chunk_size=2, expires_at=9, completion_shards=3)
    assert {chunk.completion_shards for chunk in chunks} == {3}
