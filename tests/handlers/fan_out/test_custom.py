"""Your own worker and aggregator (``lambdas.fan_out.custom``): the module docstring's example, run under moto.

The example is executed from the docstring itself, so the guide cannot drift from the code. The
pattern's guarantees hold around it: duplicates counted once, one aggregation, a poison item
failing its chunk with your reason, a result that is not JSON failing the attempt by name.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from serverless_patterns.lambdas.fan_out import custom
from serverless_patterns.lambdas.fan_out.models import JobStatus
from tests.handlers.fan_out.conftest import MAX_RECEIVE_COUNT, FanOutCloud


def _example() -> dict[str, Any]:
    """The names the docstring's ``words/worker.py`` defines."""
    doc = custom.__doc__ or ""
    start = doc.index("    # words/worker.py")
    block = doc[start : doc.index("**In your app**", start)]
    namespace: dict[str, Any] = {}
    exec(compile(textwrap.dedent(block), "words/worker.py", "exec"), namespace)  # noqa: S102 - our own docstring
    return namespace


@pytest.fixture
def words(cloud: FanOutCloud) -> FanOutCloud:
    example = _example()
    cloud.worker_handler = example["worker"]
    cloud.aggregator_handler = example["aggregator"]
    return cloud


def _texts(count: int) -> list[dict[str, Any]]:
    return [{"id": f"t{index}", "text": " ".join(["word"] * (index % 5 + 1))} for index in range(count)]


def test_the_guides_example_counts_every_word_once_whatever_is_delivered_twice(words: FanOutCloud) -> None:
    items = _texts(37)
    job_id = words.submit({"items": items})["job_id"]

    report = words.drain(batch_size=3, duplicate=lambda _: True)

    assert report.failed_deliveries == 0
    assert words.aggregator_runs == [job_id]
    status = words.status(job_id)
    assert status["status"] == "SUCCEEDED"
    assert status["result"] == {"words": sum(index % 5 + 1 for index in range(37))}


def test_an_item_your_processor_rejects_fails_its_chunk_with_your_reason(words: FanOutCloud) -> None:
    items = _texts(30)
    items[12] = {"id": "t12", "text": 12}
    job_id = words.submit({"items": items})["job_id"]

    report = words.drain(batch_size=10)

    assert report.failed_deliveries == MAX_RECEIVE_COUNT
    job = words.job(job_id)
    assert job.status is JobStatus.FAILED
    assert job.failure_reason is not None
    assert "item 12: 'text' must be a string" in job.failure_reason
    assert words.aggregator_runs == []
    assert job.completed_chunks + len(words.messages(words.dlq_url)) == job.total_chunks


def test_floats_are_stored_exactly_and_a_result_that_is_not_json_fails_by_name(cloud: FanOutCloud) -> None:
    def mean_length(items: Sequence[Mapping[str, Any]], first_item: int, parallelism: int) -> dict[str, Any]:
        return {"mean": sum(len(str(item["text"])) for item in items) / len(items), "n": len(items)}

    def combine(results: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        assert all(isinstance(result["mean"], Decimal) for result in results)  # DynamoDB's numbers, exact
        return {"chunks": len(results), "means": [result["mean"] for result in results]}

    cloud.worker_handler = custom.build_worker_handler(mean_length)
    cloud.aggregator_handler = custom.build_aggregator_handler(combine)
    job_id = cloud.submit({"items": [{"text": "abc"}, {"text": "abcd"}]})["job_id"]
    assert cloud.drain().failed_deliveries == 0
    assert cloud.status(job_id)["result"] == {"chunks": 1, "means": [3.5]}

    cloud.worker_handler = custom.build_worker_handler(lambda items, first, parallelism: {"at": object()})
    failed = cloud.submit({"items": [{"text": "x"}]})["job_id"]
    cloud.drain()
    reason = cloud.job(failed).failure_reason
    assert reason is not None
    assert "the chunk processor returned a result that is not JSON" in reason


def test_map_items_keeps_item_order_and_positions() -> None:
    seen = custom.map_items(lambda item, position: (position, item["n"]), [{"n": 1}, {"n": 2}, {"n": 3}], 10, 2)
    assert seen == [(10, 1), (11, 2), (12, 3)]


def test_the_integration_stacks_word_counter_is_the_guides_example() -> None:
    """``tests/integration``'s user package ships the docstring's code, so the local cloud runs the guide."""
    doc = custom.__doc__ or ""
    start = doc.index("    # words/worker.py")
    block = textwrap.dedent(doc[start : doc.index("**In your app**", start)]).split("\n", 1)[1].strip()
    shipped = Path(__file__).parents[2] / "integration/fixtures/functions/shop_extensions/words.py"
    assert shipped.read_text().split("\n", 1)[1].strip() == block
