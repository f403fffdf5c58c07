"""FanOut: a job of a few thousand items with duplicate deliveries, a job with a poison chunk, a refused job.

Three jobs go through the deployed master, workers and aggregator; every check reads what a
client or an operator can see on any target (the status function, the jobs table, the DLQ,
the functions' logs), so the same scenario runs on the local cloud and on a real stage:

* **good job**: ``GOOD_ITEMS`` numbered items uploaded as JSON Lines to the input bucket and
  submitted by key; while it runs, the first, a middle and the last chunk's messages are queued a
  second time (SQS delivers at least once). It must end SUCCEEDED with the exact count, sum,
  minimum, maximum and mean computed here, every chunk counted once, and the aggregator run once;
* **poison job**: ``POISON_ITEMS`` items, one of which has no numeric value. Its chunk is retried
  up to the queue's maxReceiveCount and then parked in the DLQ; the job must end FAILED with a
  reason naming the chunk and the item, and nothing may be silently dropped: completed chunks
  plus the job's DLQ messages equal its chunks. The scenario then removes its own DLQ message,
  so a real stage's DLQ is left as it was found;
* **refused job**: a job naming an items object that does not exist is refused with a clear
  error, and the status function does not know its id (nothing was created).

Sizes come from the deployed functions (chunk size from the master's environment, retries
from the work queue's redrive policy), not from this module. The helpers are public: the
integration tests drive the same jobs and add assertions only the local cloud can make.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from serverless_patterns.lambdas.fan_out import contract
from serverless_patterns.scenarios import ScenarioRun, scenario
from serverless_patterns.scenarios.fan_out_app import (
    MEAN_PLACES as MEAN_PLACES,
    SETTLE_MARGIN_SECONDS as SETTLE_MARGIN_SECONDS,
    FanOutApp as FanOutApp,
    JsonObject as JsonObject,
    expected_result as expected_result,
    item_value as item_value,
    json_lines as json_lines,
    numbered_items as numbered_items,
    result_decimals as result_decimals,
)
from serverless_patterns.scenarios.fan_out_calls import (
    DLQ_RECEIVE_VISIBILITY_SECONDS as DLQ_RECEIVE_VISIBILITY_SECONDS,
    EMPTY_RECEIVES_TO_STOP as EMPTY_RECEIVES_TO_STOP,
    TERMINAL as TERMINAL,
    dead_letters as dead_letters,
    job_item as job_item,
    job_status as job_status,
    log_records as log_records,
    resend_chunks as resend_chunks,
    settle_job as settle_job,
    submit as submit,
    table_records as table_records,
)

if TYPE_CHECKING:
    from serverless_patterns.scenarios.target import Target

GOOD_ITEMS = 2_000
POISON_ITEMS = 300
POISON_POSITION = 150
AGGREGATION_FINISHED = "aggregation finished"
AGGREGATION_STARTED = "last chunk completed; aggregation started"
ATTEMPT_FAILED = "chunk attempt failed"
LOG_SETTLE_SECONDS = 120.0
LOG_CLOCK_SKEW_SECONDS = 300  # job ids are unique: a wide window costs nothing and forgives a skewed clock


# --- the three jobs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobRun:
    """A job the scenario drove: its id, items, and its status when the scenario stopped waiting."""

    job_id: str
    items: list[JsonObject]
    status: JsonObject


def good_job(cloud: Target, run: ScenarioRun, app: FanOutApp, job_id: str, *, item_count: int = GOOD_ITEMS) -> JobRun:
    """Submit by S3 key, re-send three chunks while it runs; exact result, every chunk once, one aggregation."""
    since_ms = int((time.time() - LOG_CLOCK_SKEW_SECONDS) * 1000)
    items = numbered_items(item_count)
    chunks = app.chunks_of(item_count)
    key = f"jobs/scenarios/fan-out/{job_id}.jsonl"
    cloud.put_object(app.input_bucket, key, json_lines(items))
    request = {"job_id": job_id, "source": {"key": key}}
    submitted = submit(cloud, app, request)
    run.equal(
        f"a {item_count:,}-item job (S3 JSON Lines) is accepted as {chunks} chunks",
        {name: submitted.get(name) for name in ("status", "total_items", "total_chunks", "created")},
        {"status": "RUNNING", "total_items": item_count, "total_chunks": chunks, "created": True},
        count=chunks,
    )
    again = submit(cloud, app, request)
    run.equal(
        "resubmitting under the same job id starts nothing new",
        (again.get("job_id"), again.get("created")),
        (job_id, False),
    )
    duplicates = resend_chunks(cloud, app, job_id, items, sorted({0, chunks // 2, chunks - 1}))

    status = settle_job(cloud, app, job_id, timeout_seconds=SETTLE_MARGIN_SECONDS)
    run.equal("the job SUCCEEDED", (status.get("status"), status.get("failure_reason")), ("SUCCEEDED", None))
    run.equal(
        f"every chunk counted once though {duplicates} were delivered twice",
        (status.get("completed_chunks"), table_records(cloud, app, job_id, contract.CHUNK_PREFIX)),
        (chunks, chunks),
        count=duplicates,
    )
    run.equal(
        "the result is exact: count, sum, min, max, mean",
        result_decimals(status.get("result")),
        expected_result(items),
        count=item_count,
    )
    run.equal(
        "no delivery failed, duplicates included, and nothing was parked",
        (
            len(log_records(cloud, app.worker_log_group, ATTEMPT_FAILED, job_id, since_ms=since_ms)),
            [body.get("chunk_index") for body in dead_letters(cloud, app, job_id)],
        ),
        (0, []),
    )

    def aggregation_logged() -> bool:
        return bool(log_records(cloud, app.aggregator_log_group, AGGREGATION_FINISHED, job_id, since_ms=since_ms))

    cloud.settle(aggregation_logged, timeout_seconds=LOG_SETTLE_SECONDS)
    finished = log_records(cloud, app.aggregator_log_group, AGGREGATION_FINISHED, job_id, since_ms=since_ms)
    started = log_records(cloud, app.worker_log_group, AGGREGATION_STARTED, job_id, since_ms=since_ms)
    run.equal(
        "aggregation was started once and ran once",
        (len(started), [record.get("outcome") for record in finished]),
        (1, ["SUCCEEDED"]),
        count=len(finished),
    )
    cloud.client("s3").delete_object(Bucket=app.input_bucket, Key=key)  # the job no longer needs it
    return JobRun(job_id=job_id, items=items, status=status)


def poison_job(
    cloud: Target,
    run: ScenarioRun,
    app: FanOutApp,
    job_id: str,
    *,
    item_count: int = POISON_ITEMS,
    poison_at: int = POISON_POSITION,
    clean_up: bool = True,
) -> JobRun:
    """One poison item: the job FAILS with the reason; completed chunks + DLQ messages == its chunks."""
    items = numbered_items(item_count, poison_at=[poison_at])
    chunks = app.chunks_of(item_count)
    poison_chunk = poison_at // app.chunk_size
    submitted = submit(cloud, app, {"job_id": job_id, "items": items})
    run.equal(
        "a job with a poison item is accepted (items are checked by the workers)",
        (submitted.get("created"), submitted.get("total_chunks")),
        (True, chunks),
    )
    settle_job(cloud, app, job_id, timeout_seconds=app.retries_settle_seconds)

    def accounted_for() -> bool:
        completed = int(job_status(cloud, app, job_id).get("completed_chunks", 0))
        return completed + len(dead_letters(cloud, app, job_id)) >= chunks

    cloud.settle(accounted_for, timeout_seconds=app.retries_settle_seconds)
    status = job_status(cloud, app, job_id)
    parked = dead_letters(cloud, app, job_id, delete=clean_up)
    reason = str(status.get("failure_reason"))
    run.equal("the poison job FAILED, with no result", (status.get("status"), status.get("result")), ("FAILED", None))
    run.check(
        "the reason names the chunk, its attempts and the item",
        f"chunk {poison_chunk} failed after {app.max_receive_count} attempts" in reason
        and f"item {poison_at}: 'value' must be a number" in reason,
        detail=reason,
    )
    run.equal("the failed chunk is listed on the job", status.get("failed_chunks"), [poison_chunk])
    run.equal(
        "nothing dropped: completed chunks + DLQ messages == chunks",
        (status.get("completed_chunks"), sorted(int(body["chunk_index"]) for body in parked)),
        (chunks - 1, [poison_chunk]),
        count=len(parked),
    )
    return JobRun(job_id=job_id, items=items, status=status)


def refused_job(cloud: Target, run: ScenarioRun, app: FanOutApp, job_id: str) -> JsonObject:
    """A job naming a missing items object: refused with a clear error, and nothing created."""
    refusal = submit(
        cloud, app, {"job_id": job_id, "source": {"key": f"jobs/scenarios/fan-out/{job_id}-missing.jsonl"}}
    )
    run.equal(
        "a job naming a missing items object is refused (400 InvalidJob)",
        (refusal.get("error"), refusal.get("status_code"), "does not exist" in str(refusal.get("message"))),
        ("InvalidJob", 400, True),
    )
    unknown = job_status(cloud, app, job_id)
    run.equal(
        "the refused job was never created (status: 404 JobNotFound)",
        (unknown.get("error"), unknown.get("status_code")),
        ("JobNotFound", 404),
    )
    return refusal


@scenario(
    f"FanOut: a {GOOD_ITEMS:,}-item job with duplicate deliveries, a job with a poison chunk, a refused job",
    pattern="FanOut",
)
def fan_out(cloud: Target, run: ScenarioRun) -> None:
    """One good job, one poison job, one refused job; counts in the checks."""
    app = FanOutApp.of(cloud)
    prefix = f"scenario-{uuid.uuid4().hex[:12]}"
    good_job(cloud, run, app, f"{prefix}-good")
    poison_job(cloud, run, app, f"{prefix}-poison")
    refused_job(cloud, run, app, f"{prefix}-refused")
