"""FanOut on the local cloud, deployed from the real Dev stage: the scenario, then what only the local cloud can see.

The jobs run through the deployed master, the SQS event source (batches, partial failures,
visibility timeouts in virtual time, redrive to the DLQ), the workers, the async invoke of the
aggregator, and the status function. The scenario's helpers drive the same jobs; the tests add
assertions on every invocation the local cloud recorded (how many times the aggregator ran,
each delivery of each chunk) and on the table and the DLQ.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from aws_cdk import assertions

from serverless_patterns.config import FanOutSettings
from serverless_patterns.lambdas.fan_out import contract
from serverless_patterns.lambdas.fan_out.models import ChunkMessage
from serverless_patterns.local import LocalCloud
from serverless_patterns.local.invocation import Invocation
from serverless_patterns.local.report import render
from serverless_patterns.scenarios import ScenarioRun, discover, run_scenario
from serverless_patterns.scenarios.fan_out import (
    FanOutApp,
    dead_letters,
    expected_result,
    good_job,
    job_item,
    job_status,
    numbered_items,
    poison_job,
    refused_job,
    resend_chunks,
    result_decimals,
    submit,
    table_records,
)
from serverless_patterns.stacks.stage import ServiceStage
from tests.integration.capacity_shape import ItemWrites, capacity_of, peak_concurrency


@pytest.fixture(scope="module")
def dev(stages: dict[str, ServiceStage]) -> Iterator[LocalCloud]:
    with LocalCloud.deploy(stages["dev"]) as cloud:
        yield cloud


@pytest.fixture(scope="module")
def app(dev: LocalCloud) -> FanOutApp:
    return FanOutApp.of(dev)


def _function_name(cloud: LocalCloud, role: str) -> str:
    return cloud.resource(f"FanOut/{role}/Resource", "AWS::Lambda::Function").physical_id


def _aggregator_runs(cloud: LocalCloud, job_id: str) -> list[Invocation]:
    name = _function_name(cloud, "Aggregator")
    return [i for i in cloud.invocations if i.function_name == name and i.event.get("job_id") == job_id]


def _chunk_deliveries(cloud: LocalCloud, job_id: str) -> list[tuple[int, int, bool]]:
    """Every delivery of the job's chunks to a worker: (chunk index, receive count, the batch failed)."""
    name = _function_name(cloud, "Worker")
    deliveries = []
    for invocation in cloud.invocations:
        if invocation.function_name != name or invocation.source != "sqs":
            continue
        failed = invocation.failed or bool((invocation.result or {}).get("batchItemFailures"))
        for record in invocation.event["Records"]:
            body = json.loads(record["body"])
            if body["job_id"] == job_id:
                receives = int(record["attributes"]["ApproximateReceiveCount"])
                deliveries.append((int(body["chunk_index"]), receives, failed))
    return deliveries


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item (typed attribute values) with one value per attribute, for comparisons."""
    return {name: next(iter(value.values())) for name, value in item.items()}


def _assert_passed(run: ScenarioRun) -> None:
    failed = [f"{c.name}: {c.detail}" for c in run.checks if not c.passed]
    assert run.checks
    assert not failed, failed


def test_the_scenario_passes_and_reports_its_counts(dev: LocalCloud, app: FanOutApp) -> None:
    (fan_out,) = [s for s in discover() if s.pattern == "FanOut"]
    result = run_scenario(dev, fan_out)
    report = render(dev, [result], title="Dev FanOut")
    assert result.passed, report
    counts = {check.name: check.count for check in result.checks if check.count is not None}
    assert counts == {
        "a 2,000-item job (S3 JSON Lines) is accepted as 20 chunks": 20,
        "every chunk counted once though 3 were delivered twice": 3,
        "the result is exact: count, sum, min, max, mean": 2_000,
        "aggregation was started once and ran once": 1,
        "nothing dropped: completed chunks + DLQ messages == chunks": 1,
    }, report
    parked = [json.loads(m["Body"])["job_id"] for m in dev.read_queue(app.dlq_url)]
    assert not [job_id for job_id in parked if job_id.startswith("scenario-")], "the scenario removes its poison chunk"


def test_a_large_job_completes_once_with_the_exact_result_whatever_is_delivered_twice(
    dev: LocalCloud, app: FanOutApp
) -> None:
    run = ScenarioRun()
    job = good_job(dev, run, app, "it-good", item_count=3_000)
    _assert_passed(run)
    chunks = app.chunks_of(3_000)
    assert job.status["total_chunks"] == chunks == 30

    (aggregation,) = _aggregator_runs(dev, "it-good")
    assert (aggregation.invocation_type, aggregation.result) == ("Event", {"job_id": "it-good", "outcome": "SUCCEEDED"})
    deliveries = _chunk_deliveries(dev, "it-good")
    assert sorted(index for index, _, _ in deliveries) == sorted([*range(chunks), 0, chunks // 2, chunks - 1])
    assert not [d for d in deliveries if d[2]], "no delivery failed, duplicates included"
    record = _plain(job_item(dev, app, "it-good"))
    assert record["status"] == "SUCCEEDED"
    assert record["aggregation_dispatched"] is True
    assert int(record["aggregation_trigger"]) in range(chunks)
    assert contract.OPEN_JOBS_KEY not in record, "a finished job leaves the sweeper's open-jobs index"

    # After the job is done: every chunk again, and the aggregator's async event again.
    before = job_item(dev, app, "it-good")
    assert resend_chunks(dev, app, "it-good", job.items, range(chunks)) == chunks
    dev.invoke_async(dev.resource("FanOut/Aggregator/LiveAlias").physical_id, {"job_id": "it-good"})
    assert not dev.drain().exhausted
    assert job_item(dev, app, "it-good") == before, "late duplicates change nothing, not even updated_at"
    runs = _aggregator_runs(dev, "it-good")
    assert [r.result["outcome"] for r in runs] == ["SUCCEEDED", "ALREADY_SUCCEEDED"]
    assert len(_chunk_deliveries(dev, "it-good")) == len(deliveries) + chunks
    assert table_records(dev, app, "it-good", contract.CHUNK_PREFIX) == chunks
    assert dead_letters(dev, app, "it-good") == []


def test_duplicates_that_overtake_their_originals_are_counted_once_and_aggregation_waits_for_every_chunk(
    dev: LocalCloud, app: FanOutApp
) -> None:
    items = numbered_items(1_500)
    chunks = app.chunks_of(1_500)
    assert submit(dev, app, {"job_id": "it-overtaken", "items": items})["created"] is True
    # Slow workers: the first ten chunk deliveries are taken and held in flight...
    sqs = dev.client("sqs")
    held = sqs.receive_message(QueueUrl=app.work_queue_url, MaxNumberOfMessages=10, VisibilityTimeout=3_600)["Messages"]
    held_chunks = sorted(json.loads(m["Body"])["chunk_index"] for m in held)
    assert len(held_chunks) == 10
    # ...while SQS hands a second copy of three of them to other workers, which finish first.
    overtaking = held_chunks[:3]
    resend_chunks(dev, app, "it-overtaken", items, overtaking)
    # A minute passes: every chunk but the held ones is processed; the held ones are hidden for an hour
    # (a drain would wait for them, as SQS would hand them out again when their visibility ends).
    assert not dev.advance(60).exhausted
    running = job_status(dev, app, "it-overtaken")
    assert (running["status"], running["completed_chunks"]) == ("RUNNING", chunks - 10 + 3)
    assert _aggregator_runs(dev, "it-overtaken") == []

    for message in held:  # the slow deliveries come back (their workers gave up, or finished late)
        sqs.change_message_visibility(
            QueueUrl=app.work_queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    assert not dev.drain().exhausted
    done = job_status(dev, app, "it-overtaken")
    assert (done["status"], done["completed_chunks"]) == ("SUCCEEDED", chunks)
    assert result_decimals(done["result"]) == expected_result(items)
    assert [r.result for r in _aggregator_runs(dev, "it-overtaken")] == [
        {"job_id": "it-overtaken", "outcome": "SUCCEEDED"}
    ]
    deliveries = _chunk_deliveries(dev, "it-overtaken")
    assert sorted(index for index, _, _ in deliveries) == sorted([*range(chunks), *overtaking])
    assert not [d for d in deliveries if d[2]], "a late original is acknowledged as a duplicate, not retried"
    assert dead_letters(dev, app, "it-overtaken") == []


def test_a_poison_chunk_fails_the_job_with_the_reason_and_nothing_is_dropped(dev: LocalCloud, app: FanOutApp) -> None:
    run = ScenarioRun()
    job = poison_job(dev, run, app, "it-poison", item_count=1_000, poison_at=737, clean_up=False)
    _assert_passed(run)
    chunks, poison_chunk = app.chunks_of(1_000), 7

    status = job_status(dev, app, "it-poison")
    assert status["failure_reason"] == "chunk 7 failed after 3 attempts: item 737: 'value' must be a number"
    assert (status["completed_chunks"], status["failed_chunks"], status["finished_at"] is not None) == (9, [7], True)
    attempts = [(receives, failed) for index, receives, failed in _chunk_deliveries(dev, "it-poison") if index == 7]
    assert attempts == [(n, True) for n in range(1, app.max_receive_count + 1)], "bounded retries, then parked"
    assert _aggregator_runs(dev, "it-poison") == []

    (parked,) = dead_letters(dev, app, "it-poison")
    message = ChunkMessage.model_validate(parked)
    assert (message.chunk_index, message.first_item) == (poison_chunk, 700)
    assert message.items == job.items[700:800], "the DLQ holds the chunk itself: an operator can redrive it"
    assert table_records(dev, app, "it-poison", contract.CHUNK_PREFIX) == chunks - 1
    failure = _plain(
        dev.client("dynamodb").get_item(
            TableName=app.table_name,
            Key={
                contract.PARTITION_KEY: {"S": "it-poison"},
                contract.SORT_KEY: {"S": contract.failure_sort_key(poison_chunk)},
            },
        )["Item"]
    )
    assert (failure["reason"], int(failure["attempts"])) == (status["failure_reason"], 3)
    assert contract.OPEN_JOBS_KEY not in _plain(job_item(dev, app, "it-poison"))
    assert dev.queue_depth(app.work_queue_url) == {"visible": 0, "in_flight": 0}


def test_two_poison_chunks_are_both_parked_and_listed_and_the_first_reason_stays(
    dev: LocalCloud, app: FanOutApp
) -> None:
    items = numbered_items(500, poison_at=[120, 430])
    assert submit(dev, app, {"job_id": "it-two-poisons", "items": items})["created"] is True
    assert not dev.drain().exhausted
    status = job_status(dev, app, "it-two-poisons")
    assert (status["status"], status["completed_chunks"], status["failed_chunks"]) == ("FAILED", 3, [1, 4])
    # Workers run concurrently: whichever poison chunk ran out of attempts first wrote the reason, and it stayed.
    first_reasons = ("chunk 1 failed after 3 attempts: item 120:", "chunk 4 failed after 3 attempts: item 430:")
    assert status["failure_reason"].startswith(first_reasons), status["failure_reason"]
    parked = sorted(body["chunk_index"] for body in dead_letters(dev, app, "it-two-poisons", delete=True))
    assert status["completed_chunks"] + len(parked) == status["total_chunks"]
    assert parked == [1, 4]
    assert dead_letters(dev, app, "it-two-poisons") == []


OVERSIZED = [{"value": 1, "padding": "x" * 3_000} for _ in range(100)]


@pytest.mark.parametrize(
    ("case", "request_body", "error", "says"),
    [
        pytest.param("no-items", {"items": []}, "InvalidJob", "the job has no items", id="no-items"),
        pytest.param("not-objects", {"items": [1, 2]}, "InvalidRequest", "items.0", id="not-objects"),
        pytest.param(
            "both",
            {"items": [{"value": 1}], "source": {"key": "x.jsonl"}},
            "InvalidRequest",
            "exactly one of",
            id="both",
        ),
        pytest.param("neither", {}, "InvalidRequest", "exactly one of", id="neither"),
        pytest.param(
            "unknown-field",
            {"items": [{"value": 1}], "priority": "high"},
            "InvalidRequest",
            "priority",
            id="unknown-field",
        ),
        pytest.param(
            "missing-object",
            {"source": {"key": "jobs/refused/missing.jsonl"}},
            "InvalidJob",
            "does not exist",
            id="missing-object",
        ),
        pytest.param(
            "outside-prefix",
            {"source": {"key": "refused/items.jsonl"}},
            "InvalidJob",
            "outside the input prefix",
            id="outside-prefix",
        ),
        pytest.param(
            "not-jsonl",
            {"source": {"key": "jobs/refused/not-json-lines.jsonl"}},
            "InvalidJob",
            "JSON Lines of objects",
            id="not-jsonl",
        ),
        pytest.param("too-large", {"items": OVERSIZED}, "InvalidJob", "items are too large", id="too-large"),
    ],
)
def test_a_bad_job_is_refused_with_a_clear_error_and_creates_nothing(
    dev: LocalCloud, app: FanOutApp, case: str, request_body: dict[str, Any], error: str, says: str
) -> None:
    dev.put_object(app.input_bucket, "jobs/refused/not-json-lines.jsonl", b'{"value": 1}\nvalue,2\n')
    job_id = f"it-refused-{case}"
    before = len(dev.invocations)

    refusal = submit(dev, app, {"job_id": job_id, **request_body})
    assert not dev.drain().exhausted

    assert (refusal["error"], refusal["status_code"]) == (error, 400), refusal
    assert says in json.dumps(refusal), refusal
    assert "x" * 100 not in json.dumps(refusal), "a refusal never echoes the items"
    master = _function_name(dev, "Master")
    assert [i.function_name for i in dev.invocations[before:]] == [master], "no chunk queued, nothing ran"
    assert table_records(dev, app, job_id) == 0
    unknown = job_status(dev, app, job_id)
    assert (unknown["error"], unknown["status_code"]) == ("JobNotFound", 404)


def test_a_refused_job_in_the_scenario_is_reported_with_its_reason(dev: LocalCloud, app: FanOutApp) -> None:
    run = ScenarioRun()
    refusal = refused_job(dev, run, app, "it-refused-by-scenario")
    _assert_passed(run)
    assert refusal["message"].startswith("the items object s3://")
    assert refusal["message"].endswith("does not exist")
    assert table_records(dev, app, "it-refused-by-scenario") == 0


def test_status_is_readable_while_running_after_success_and_for_unknown_or_conflicting_jobs(
    dev: LocalCloud, app: FanOutApp
) -> None:
    items = numbered_items(250)
    submitted = submit(dev, app, {"job_id": "it-status", "items": items})
    assert submitted == {
        "job_id": "it-status",
        "status": "RUNNING",
        "total_items": 250,
        "total_chunks": 3,
        "created": True,
        "queued_chunks": 3,
    }
    running = job_status(dev, app, "it-status")
    assert {k: running[k] for k in ("status", "completed_chunks", "failed_chunks", "result", "finished_at")} == {
        "status": "RUNNING",
        "completed_chunks": 0,
        "failed_chunks": [],
        "result": None,
        "finished_at": None,
    }
    conflict = submit(dev, app, {"job_id": "it-status", "items": items[:-1]})
    assert (conflict["error"], conflict["status_code"]) == ("JobConflict", 409)

    assert not dev.drain().exhausted
    done = job_status(dev, app, "it-status")
    assert (done["status"], done["completed_chunks"], done["finished_at"] is not None) == ("SUCCEEDED", 3, True)
    assert result_decimals(done["result"]) == expected_result(items)
    assert set(done) == {
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
    }, "internal bookkeeping (digest, claims, TTL) stays internal"

    unknown = job_status(dev, app, "it-never-submitted")
    assert (unknown["error"], unknown["status_code"]) == ("JobNotFound", 404)
    malformed = job_status(dev, app, "not a job id!")
    assert (malformed["error"], malformed["status_code"]) == ("InvalidRequest", 400)


def test_a_redelivered_winning_chunk_finishes_a_hand_over_its_crashed_winner_left_undone(
    dev: LocalCloud, app: FanOutApp
) -> None:
    items = numbered_items(150)
    submit(dev, app, {"job_id": "it-crashed-winner", "items": items})
    assert not dev.drain().exhausted
    done = job_item(dev, app, "it-crashed-winner")
    winner = int(done["aggregation_trigger"]["N"])
    # What a worker that died between claiming the aggregation and invoking the aggregator leaves behind.
    dev.client("dynamodb").update_item(
        TableName=app.table_name,
        Key={contract.PARTITION_KEY: {"S": "it-crashed-winner"}, contract.SORT_KEY: {"S": contract.JOB_SORT_KEY}},
        UpdateExpression="SET #status = :aggregating, aggregation_claimed_at = :long_ago "
        "REMOVE aggregation_dispatched, #result, finished_at",
        ExpressionAttributeNames={"#status": "status", "#result": "result"},
        ExpressionAttributeValues={":aggregating": {"S": "AGGREGATING"}, ":long_ago": {"N": "1"}},
    )
    loser = 1 - winner
    resend_chunks(dev, app, "it-crashed-winner", items, [loser])
    assert not dev.drain().exhausted
    assert len(_aggregator_runs(dev, "it-crashed-winner")) == 1, "only the winning chunk may take over"

    resend_chunks(dev, app, "it-crashed-winner", items, [winner, winner])
    assert not dev.drain().exhausted
    status = job_status(dev, app, "it-crashed-winner")
    assert status["status"] == "SUCCEEDED"
    assert result_decimals(status["result"]) == expected_result(items)
    assert [r.result["outcome"] for r in _aggregator_runs(dev, "it-crashed-winner")] == ["SUCCEEDED", "SUCCEEDED"]


def test_a_job_whose_master_died_mid_dispatch_is_resumed_by_resubmitting_it(dev: LocalCloud, app: FanOutApp) -> None:
    items = numbered_items(5 * app.chunk_size)
    submit(dev, app, {"job_id": "it-died-dispatching", "items": items})
    # What a master that died after its first batch of two chunks leaves: chunks 0 and 1 queued,
    # the watermark at 2, its lease (the dead invocation's remaining time) over.
    dev.client("sqs").purge_queue(QueueUrl=app.work_queue_url)
    resend_chunks(dev, app, "it-died-dispatching", items, [0, 1])
    dev.client("dynamodb").update_item(
        TableName=app.table_name,
        Key={contract.PARTITION_KEY: {"S": "it-died-dispatching"}, contract.SORT_KEY: {"S": contract.JOB_SORT_KEY}},
        UpdateExpression="SET dispatched_chunks = :two, dispatch_lease_until = :long_ago",
        ExpressionAttributeValues={":two": {"N": "2"}, ":long_ago": {"N": "1"}},
    )

    again = submit(dev, app, {"job_id": "it-died-dispatching", "items": items})

    assert (again["created"], again["status"], again["queued_chunks"]) == (False, "RUNNING", 3)
    assert not dev.drain().exhausted
    status = job_status(dev, app, "it-died-dispatching")
    assert (status["status"], status["dispatched_chunks"], status["completed_chunks"]) == ("SUCCEEDED", 5, 5)
    assert result_decimals(status["result"]) == expected_result(items)
    assert sorted(index for index, _, _ in _chunk_deliveries(dev, "it-died-dispatching")) == [0, 1, 2, 3, 4]


def test_the_scheduled_sweeper_fails_a_job_stuck_past_its_deadline_by_itself(dev: LocalCloud, app: FanOutApp) -> None:
    """No one invokes the sweeper: its schedule fires as the clock passes the job's deadline."""
    settings = FanOutSettings()  # Dev's: the defaults
    items = numbered_items(250)
    assert submit(dev, app, {"job_id": "it-stuck", "items": items})["created"] is True
    # A chunk lost on the way (say, purged by mistake): the job can never complete by itself.
    sqs = dev.client("sqs")
    (lost,) = sqs.receive_message(QueueUrl=app.work_queue_url, MaxNumberOfMessages=1)["Messages"]
    sqs.delete_message(QueueUrl=app.work_queue_url, ReceiptHandle=lost["ReceiptHandle"])
    assert not dev.drain().exhausted
    assert job_status(dev, app, "it-stuck")["status"] == "RUNNING"
    sweeper = _function_name(dev, "Sweeper")
    swept_before = [i for i in dev.invocations if i.function_name == sweeper]

    dev.advance((settings.job_deadline_minutes + settings.sweep_interval_minutes) * 60)

    sweeps = [i for i in dev.invocations if i.function_name == sweeper][len(swept_before) :]
    assert {(i.source, i.invocation_type) for i in sweeps} == {("events", "Event")}
    assert len(sweeps) >= settings.job_deadline_minutes // settings.sweep_interval_minutes
    failed = job_status(dev, app, "it-stuck")
    assert failed["status"] == "FAILED"
    assert "deadline exceeded" in failed["failure_reason"]
    assert ["it-stuck"] in [i.result["failed_jobs"] for i in sweeps]


def test_a_flood_of_chunks_saturates_the_workers_the_model_names_and_spreads_over_the_shards(
    dev: LocalCloud, app: FanOutApp, templates: dict[str, assertions.Template], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The capacity model of this template: FanOut's first limit is the workers' event source, where
    the worker runs 10 concurrent executions at the ceiling and the master, aggregator and status
    reader a fraction of one; the emulator's pollers, given a backlog, peak at exactly those 10.
    The job's completions are counted in its shards (one count per chunk each), and the job item
    takes 1 create + 1 watermark per 10 chunks queued + the shards' close attempts (each adds its
    count, in the transaction that closes the shard, then tries the start) + 1 confirm + 1
    completion: per shard, not per chunk (0.2: two per chunk). A worker that finds its shard already
    closed (another closed it between this chunk's count and its read) tries the start without a close,
    so starts may exceed closes by such races, never the other way."""
    model = capacity_of(templates["dev"], "FanOut")
    assert model.first.name == "SQS event source concurrency (worker)"
    assert max(busy for role, busy in model.concurrency.items() if role != "worker") < 1
    writes = ItemWrites(monkeypatch)
    chunks, job_id = 40, "it-capacity"

    submit(dev, app, {"job_id": job_id, "items": numbered_items(chunks * app.chunk_size)})
    assert not dev.drain().exhausted

    status = job_status(dev, app, job_id)
    assert (status["status"], status["completed_chunks"]) == ("SUCCEEDED", chunks)
    assert peak_concurrency(dev, "FanOut/WorkQueue") == round(model.concurrency["worker"]) == 10
    shards = int(job_item(dev, app, job_id)["completion_shards"]["N"])
    assert shards == min(FanOutSettings().completion_shards, chunks)
    for shard in range(shards):
        counter = (app.table_name, contract.shard_partition_key(job_id, shard), contract.SHARD_SORT_KEY)
        assert writes.updated(counter, "ADD completed ") == contract.shard_chunks(chunks, shards, shard)
    job = (app.table_name, job_id, contract.JOB_SORT_KEY)
    closes, starts = writes.updated(job, "ADD completed_chunks"), writes.updated(job, "SET #status = :aggregating")
    assert shards <= closes <= starts < chunks / 2
    assert writes.writes[job] == 1 + chunks // 10 + closes + starts + 2
