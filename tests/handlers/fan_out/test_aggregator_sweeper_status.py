"""Aggregator (idempotent), sweeper (overdue jobs failed and counted) and status reader, under moto."""

from __future__ import annotations

import time
from typing import Any

import pytest

from serverless_patterns.lambdas.fan_out import aggregator, status as status_reader, sweeper
from serverless_patterns.lambdas.fan_out.errors import IncompleteJobError, JobNotFoundError
from serverless_patterns.lambdas.fan_out.models import JobStatus
from tests.handlers.fan_out.conftest import FanOutCloud, emf_metrics, lambda_context


def _items(count: int) -> list[dict[str, Any]]:
    return [{"value": index + 0.25} for index in range(count)]


def _set(cloud: FanOutCloud, job_id: str, **attributes: Any) -> None:
    names = {f"#{name}": name for name in attributes}
    values = {f":{name}": value for name, value in attributes.items()}
    cloud.table.update_item(
        Key={"pk": job_id, "sk": "JOB"},
        UpdateExpression="SET " + ", ".join(f"#{name} = :{name}" for name in attributes),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )


def _sweep() -> dict[str, list[str]]:
    result: dict[str, list[str]] = sweeper.handler({"source": "aws.events"}, lambda_context())
    return result


# --- aggregator -------------------------------------------------------------------------------


def test_aggregation_is_idempotent(cloud: FanOutCloud, capsys: pytest.CaptureFixture[str]) -> None:
    job_id = cloud.submit({"items": _items(25)})["job_id"]
    cloud.drain()
    result = cloud.status(job_id)["result"]
    assert result == {"count": 25, "sum": 306.25, "min": 0.25, "max": 24.25, "mean": 12.25}
    finished_at = cloud.job(job_id).finished_at

    again = aggregator.handler({"job_id": job_id}, lambda_context())

    assert again == {"job_id": job_id, "outcome": "ALREADY_SUCCEEDED"}
    assert cloud.status(job_id)["result"] == result
    assert cloud.job(job_id).finished_at == finished_at
    assert emf_metrics(capsys.readouterr().out)["JobsSucceeded"] == 1


def test_aggregator_leaves_a_job_that_is_not_aggregating_alone(cloud: FanOutCloud) -> None:
    job_id = cloud.submit({"items": _items(5)})["job_id"]

    assert aggregator.handler({"job_id": job_id}, lambda_context())["outcome"] == "NOT_AGGREGATING"
    assert cloud.job(job_id).status is JobStatus.RUNNING


def test_aggregator_fails_loudly_on_an_unknown_or_incomplete_job(cloud: FanOutCloud) -> None:
    with pytest.raises(JobNotFoundError):
        aggregator.handler({"job_id": "nope"}, lambda_context())

    job_id = cloud.submit({"items": _items(15)})["job_id"]
    _set(cloud, job_id, status="AGGREGATING")
    with pytest.raises(IncompleteJobError, match="0 chunk results of 2"):
        aggregator.handler({"job_id": job_id}, lambda_context())


# --- sweeper ----------------------------------------------------------------------------------


def test_the_sweeper_fails_overdue_jobs_with_the_reason_and_counts_them(
    cloud: FanOutCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    running = cloud.submit({"job_id": "overdue-running", "items": _items(30)})["job_id"]
    first = next(message for message in cloud.messages() if '"chunk_index":0' in message["Body"])
    cloud.deliver([first])
    aggregating = cloud.submit({"job_id": "overdue-aggregating", "items": _items(3)})["job_id"]
    on_time = cloud.submit({"job_id": "on-time", "items": _items(3)})["job_id"]
    past = int(time.time()) - 60
    _set(cloud, running, deadline_at=past)
    _set(cloud, aggregating, deadline_at=past, status="AGGREGATING", aggregation_dispatched=True)
    orphaned = cloud.submit({"job_id": "overdue-orphaned", "items": _items(3)})["job_id"]
    _set(cloud, orphaned, deadline_at=past, status="AGGREGATING", aggregation_trigger=0)
    capsys.readouterr()

    result = _sweep()

    assert sorted(result["failed_jobs"]) == [aggregating, orphaned, running]
    assert cloud.job(running).failure_reason == (
        "deadline exceeded: 1 of 3 chunks completed; all were queued, "
        "so the other 2 are in flight or in the work queue's DLQ"
    )
    assert cloud.job(aggregating).status is JobStatus.FAILED
    assert "while aggregating" in str(cloud.job(aggregating).failure_reason)
    assert "look for chunk 0 in the work queue's DLQ" in str(cloud.job(orphaned).failure_reason)
    assert cloud.job(on_time).status is JobStatus.RUNNING
    assert emf_metrics(capsys.readouterr().out)["JobsStuck"] == 3

    assert _sweep() == {"failed_jobs": []}  # failed jobs left the open-jobs index
    assert emf_metrics(capsys.readouterr().out)["JobsStuck"] == 0


def test_the_sweeper_says_when_chunks_were_never_queued(cloud: FanOutCloud) -> None:
    """A master that died mid-dispatch of a job nobody resubmitted: the DLQ is empty, the reason says so."""
    job_id = cloud.submit({"job_id": "half-queued", "items": _items(50)})["job_id"]
    # As if the master had died after queuing the first two chunks, and they were processed.
    _set(cloud, job_id, dispatched_chunks=2, completed_chunks=2, deadline_at=int(time.time()) - 60)

    assert _sweep() == {"failed_jobs": [job_id]}

    assert cloud.job(job_id).failure_reason == (
        "deadline exceeded: 3 of 5 chunks were never queued (the master stopped after queuing chunks 0..1 "
        "and the job was not resubmitted); 2 completed. Submit the items again under a new job id"
    )
    assert cloud.messages(cloud.dlq_url) == []


def test_the_sweeper_never_touches_finished_jobs(cloud: FanOutCloud) -> None:
    job_id = cloud.submit({"items": _items(3)})["job_id"]
    cloud.drain()
    _set(cloud, job_id, deadline_at=0)

    assert _sweep() == {"failed_jobs": []}
    assert cloud.job(job_id).status is JobStatus.SUCCEEDED


# --- status -----------------------------------------------------------------------------------


def test_status_shows_progress(cloud: FanOutCloud) -> None:
    job_id = cloud.submit({"items": _items(25)})["job_id"]
    cloud.deliver(cloud.messages()[:1])

    status = cloud.status(job_id)

    assert {key: status[key] for key in ("status", "total_items", "total_chunks", "completed_chunks")} == {
        "status": "RUNNING",
        "total_items": 25,
        "total_chunks": 3,
        "completed_chunks": 1,
    }
    assert status["result"] is None
    assert status["finished_at"] is None
    assert set(status) == {
        "job_id",
        "status",
        "total_items",
        "total_chunks",
        "dispatched_chunks",
        "completed_chunks",
        "failed_chunks",
        "failure_reason",
        "result",
        "created_at",
        "updated_at",
        "finished_at",
    }


@pytest.mark.parametrize(
    ("event", "error", "code"),
    [
        ({"job_id": "missing"}, "JobNotFound", 404),
        ({"job_id": "bad id!"}, "InvalidRequest", 400),
        ({}, "InvalidRequest", 400),
    ],
)
def test_status_errors(cloud: FanOutCloud, event: dict[str, Any], error: str, code: int) -> None:
    response: dict[str, Any] = status_reader.handler(event, lambda_context())
    assert (response["error"], response["status_code"]) == (error, code)
