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

import json
import math
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from serverless_patterns.lambdas.fan_out import contract
from serverless_patterns.lambdas.fan_out.models import ChunkMessage
from serverless_patterns.scenarios import ScenarioRun, scenario

if TYPE_CHECKING:
    from serverless_patterns.scenarios.target import Target

GOOD_ITEMS = 2_000
POISON_ITEMS = 300
POISON_POSITION = 150
MEAN_PLACES = Decimal("0.000001")
TERMINAL = frozenset({"SUCCEEDED", "FAILED"})
AGGREGATION_FINISHED = "aggregation finished"
AGGREGATION_STARTED = "last chunk completed; aggregation started"
ATTEMPT_FAILED = "chunk attempt failed"
LOG_SETTLE_SECONDS = 120.0
LOG_CLOCK_SKEW_SECONDS = 300  # job ids are unique: a wide window costs nothing and forgives a skewed clock
SETTLE_MARGIN_SECONDS = 300.0
DLQ_RECEIVE_VISIBILITY_SECONDS = 30
EMPTY_RECEIVES_TO_STOP = 2

JsonObject = dict[str, Any]


# --- the deployed pattern -----------------------------------------------------------------------


@dataclass(frozen=True)
class FanOutApp:
    """The deployed FanOut's entry points and the sizes it was deployed with."""

    master: str
    status: str
    table_name: str
    input_bucket: str
    work_queue_url: str
    dlq_url: str
    aggregator_log_group: str
    worker_log_group: str
    chunk_size: int
    max_receive_count: int
    visibility_timeout_seconds: int

    @classmethod
    def of(cls, cloud: Target) -> FanOutApp:
        """Find the pattern through the stack's outputs and construct paths."""
        outputs = cloud.outputs
        master = outputs["FanOutMasterFunction"]
        lambda_client, sqs = cloud.client("lambda"), cloud.client("sqs")
        variables = lambda_client.get_function_configuration(FunctionName=master)["Environment"]["Variables"]
        work_queue_url = cloud.resource("FanOut/WorkQueue", "AWS::SQS::Queue").physical_id
        attributes = sqs.get_queue_attributes(
            QueueUrl=work_queue_url, AttributeNames=["RedrivePolicy", "VisibilityTimeout"]
        )["Attributes"]
        return cls(
            master=master,
            status=outputs["FanOutStatusFunction"],
            table_name=outputs["FanOutTableName"],
            input_bucket=outputs["FanOutInputBucketName"],
            work_queue_url=work_queue_url,
            dlq_url=cloud.resource("FanOut/WorkQueueDlq", "AWS::SQS::Queue").physical_id,
            aggregator_log_group=cloud.resource("FanOut/Aggregator/LogGroup", "AWS::Logs::LogGroup").physical_id,
            worker_log_group=cloud.resource("FanOut/Worker/LogGroup", "AWS::Logs::LogGroup").physical_id,
            chunk_size=int(variables["CHUNK_SIZE"]),
            max_receive_count=int(json.loads(attributes["RedrivePolicy"])["maxReceiveCount"]),
            visibility_timeout_seconds=int(attributes["VisibilityTimeout"]),
        )

    def chunks_of(self, item_count: int) -> int:
        """How many chunks the master makes of ``item_count`` items."""
        return math.ceil(item_count / self.chunk_size)

    @property
    def retries_settle_seconds(self) -> float:
        """How long a real stage may take to park a poison chunk: every attempt's visibility timeout, and a margin."""
        return self.visibility_timeout_seconds * (self.max_receive_count + 1) + SETTLE_MARGIN_SECONDS


# --- items and the result they must give ---------------------------------------------------------


def item_value(position: int) -> Decimal:
    """A deterministic value with two decimal places, negative and positive, for the item at ``position``."""
    return Decimal((position * 7_919) % 20_011) / 100 - 50


def numbered_items(count: int, *, poison_at: Iterable[int] = ()) -> list[JsonObject]:
    """``count`` items ``{"id", "value"}``; the positions in ``poison_at`` get a value the workers must refuse."""
    poisoned = set(poison_at)
    return [
        {"id": position, "value": "not a number" if position in poisoned else float(item_value(position))}
        for position in range(count)
    ]


def json_lines(items: Sequence[JsonObject]) -> str:
    """Items as the input bucket takes them: one JSON object per line."""
    return "".join(json.dumps(item) + "\n" for item in items)


def expected_result(items: Sequence[JsonObject]) -> dict[str, Decimal]:
    """The job result the items must give, computed independently: exact sums, mean to 6 places."""
    values = [Decimal(repr(item["value"])) for item in items]
    total = sum(values, Decimal(0))
    return {
        "count": Decimal(len(values)),
        "sum": total,
        "min": min(values),
        "max": max(values),
        "mean": (total / len(values)).quantize(MEAN_PLACES),
    }


def result_decimals(result: Mapping[str, Any] | None) -> dict[str, Decimal]:
    """A job result from the status function, as exact decimals (JSON numbers read back by their text)."""
    return {name: Decimal(repr(value)) for name, value in (result or {}).items()}


# --- calls ---------------------------------------------------------------------------------------


def _payload(cloud: Target, function: str, request: Any) -> JsonObject:
    invocation = cloud.invoke(function, request)
    if invocation.function_error or not isinstance(invocation.payload, dict):
        raise RuntimeError(f"{function} failed ({invocation.function_error}): {invocation.payload!r}")
    return invocation.payload


def submit(cloud: Target, app: FanOutApp, request: Any) -> JsonObject:
    """Invoke the master; its answer (the job, or a refusal with ``error``)."""
    return _payload(cloud, app.master, request)


def job_status(cloud: Target, app: FanOutApp, job_id: str) -> JsonObject:
    """Invoke the status function for ``job_id``."""
    return _payload(cloud, app.status, {"job_id": job_id})


def settle_job(cloud: Target, app: FanOutApp, job_id: str, *, timeout_seconds: float) -> JsonObject:
    """Let the job run to SUCCEEDED or FAILED (or the timeout); its status then."""
    cloud.settle(lambda: job_status(cloud, app, job_id).get("status") in TERMINAL, timeout_seconds=timeout_seconds)
    return job_status(cloud, app, job_id)


def job_item(cloud: Target, app: FanOutApp, job_id: str) -> JsonObject:
    """The job's item in the jobs table, as DynamoDB holds it (typed attribute values)."""
    key = {contract.PARTITION_KEY: {"S": job_id}, contract.SORT_KEY: {"S": contract.JOB_SORT_KEY}}
    item: JsonObject = (
        cloud.client("dynamodb").get_item(TableName=app.table_name, Key=key, ConsistentRead=True).get("Item", {})
    )
    return item


def table_records(cloud: Target, app: FanOutApp, job_id: str, prefix: str = "") -> int:
    """How many items the jobs table holds for ``job_id`` (those whose sort key starts with ``prefix``),
    under the job's own partition key and those of its completion shards."""
    shards = int(job_item(cloud, app, job_id).get("completion_shards", {}).get("N", "0"))
    partitions = [job_id, *(contract.shard_partition_key(job_id, shard) for shard in range(shards))]
    return sum(_partition_records(cloud, app, partition, prefix) for partition in partitions)


def _partition_records(cloud: Target, app: FanOutApp, partition: str, prefix: str) -> int:
    dynamodb = cloud.client("dynamodb")
    condition = f"{contract.PARTITION_KEY} = :job" + (
        f" AND begins_with({contract.SORT_KEY}, :prefix)" if prefix else ""
    )
    values: JsonObject = {":job": {"S": partition}} | ({":prefix": {"S": prefix}} if prefix else {})
    query: JsonObject = {
        "TableName": app.table_name,
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": values,
        "Select": "COUNT",
        "ConsistentRead": True,
    }
    count = 0
    while True:
        page = dynamodb.query(**query)
        count += int(page["Count"])
        if "LastEvaluatedKey" not in page:
            return count
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def resend_chunks(
    cloud: Target, app: FanOutApp, job_id: str, items: Sequence[JsonObject], indexes: Iterable[int]
) -> int:
    """Queue chunk messages of a submitted job a second time, exactly as the master queued them."""
    job = job_item(cloud, app, job_id)
    expires_at = int(job[contract.TTL_ATTRIBUTE]["N"])
    shards = int(job.get("completion_shards", {}).get("N", "0"))
    sqs = cloud.client("sqs")
    sent = 0
    for index in indexes:
        first = index * app.chunk_size
        message = ChunkMessage(
            job_id=job_id,
            chunk_index=index,
            first_item=first,
            expires_at=expires_at,
            items=list(items[first : first + app.chunk_size]),
            completion_shards=shards,
        )
        sqs.send_message(QueueUrl=app.work_queue_url, MessageBody=message.model_dump_json())
        sent += 1
    return sent


def dead_letters(cloud: Target, app: FanOutApp, job_id: str, *, delete: bool = False) -> list[JsonObject]:
    """The job's chunk messages in the DLQ (parsed); every other message is left as it was.

    ``delete`` removes the job's own messages (nothing to redrive: the scenario's poison is on purpose).
    """
    sqs = cloud.client("sqs")
    received: list[JsonObject] = []
    empty = 0
    while empty < EMPTY_RECEIVES_TO_STOP:  # a short poll may miss messages on SQS: stop on the second miss
        batch = sqs.receive_message(
            QueueUrl=app.dlq_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=DLQ_RECEIVE_VISIBILITY_SECONDS,
            WaitTimeSeconds=0,
        ).get("Messages", [])
        received += batch
        empty = 0 if batch else empty + 1
    ours: list[JsonObject] = []
    for message in received:
        try:
            body = json.loads(message["Body"])
        except json.JSONDecodeError:
            body = None
        mine = isinstance(body, dict) and body.get("job_id") == job_id
        if mine:
            ours.append(body)
        if mine and delete:
            sqs.delete_message(QueueUrl=app.dlq_url, ReceiptHandle=message["ReceiptHandle"])
        else:
            sqs.change_message_visibility(
                QueueUrl=app.dlq_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
    return ours


def log_records(cloud: Target, log_group: str, message: str, job_id: str, *, since_ms: int) -> list[JsonObject]:
    """The structured log records of ``log_group`` with this ``message`` for ``job_id``, since ``since_ms``."""
    logs = cloud.client("logs")
    request: JsonObject = {
        "logGroupName": log_group,
        "startTime": since_ms,
        "filterPattern": json.dumps(message),
    }
    records: list[JsonObject] = []
    while True:
        page = logs.filter_log_events(**request)
        for event in page.get("events", []):
            try:
                record = json.loads(event["message"])
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict) and record.get("message") == message and record.get("job_id") == job_id:
                records.append(record)
        if not page.get("nextToken"):
            return records
        request["nextToken"] = page["nextToken"]


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
