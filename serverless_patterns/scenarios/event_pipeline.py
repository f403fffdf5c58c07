"""The event pipeline end to end: every upload and every message accounted for.

N valid uploads become N ``processed/`` records; M invalid ones are parked with their reason
(M-1 caught by the validator, one only by the processor: its fault lies past the validator's
sample); K poison messages (a producer's bug: not JSON, JSON that is not a pipeline message,
a message naming an upload the pipeline cannot read) fail on every receive and end in the
DLQ after ``maxReceiveCount``, each failure logged with the message id. Then duplicates: S3
delivering a notification twice and SQS delivering a message twice are skipped without a
write; the same bytes uploaded again (a new version of the object) still leave one record,
describing the current version. Finally the counts must add up to what was sent.

The default processor has no input that fails forever (bad content is parked, a vanished
upload too), so the poison is sent straight to the processing queue, as a misbehaving
producer would. Everything a run uploads sits under its own ``<upload prefix>scenario-<run>/``
prefix (the lifecycle rules expire the uploads by their status tag); its dead letters are
deleted at the end (on a real stage they would hold the DLQ alarm). Only the ``Target``
protocol is used: the same scenario runs on a deployed stage, where it takes minutes (the
poison messages are backed off between receives) instead of seconds.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

from serverless_patterns.lambdas.event_pipeline.formats import DataFormat
from serverless_patterns.lambdas.event_pipeline.layout import PROCESSED_PREFIX, REJECTED_PREFIX, Env, record_key
from serverless_patterns.lambdas.event_pipeline.models import PipelineMessage
from serverless_patterns.scenarios import ScenarioRun, scenario

if TYPE_CHECKING:
    from serverless_patterns.scenarios.target import Target

PATTERN = "EventPipeline"
# Poison messages fail on every receive, backed off by the processor: minutes on a real stage.
SETTLE_SECONDS = 900.0
# How long a dead letter stays hidden while the scenario reads the DLQ (made visible again after).
READ_VISIBILITY_SECONDS = 30


@dataclass(frozen=True)
class Upload:
    """One file the scenario uploads and where it must end."""

    name: str
    body: bytes
    rows: int | None = None  # processed: the row count its summary must report
    reason: str | None = None  # parked: the rejection code
    stage: str | None = None  # parked: which function parked it

    @property
    def valid(self) -> bool:
        """Expected to be processed (rather than parked)."""
        return self.reason is None


@dataclass(frozen=True)
class Plan:
    """What one run sends: uploads under ``prefix`` and poison message bodies."""

    prefix: str
    uploads: tuple[Upload, ...]
    poison: tuple[str, ...]

    def key(self, upload: Upload) -> str:
        """The upload's S3 key."""
        return self.prefix + upload.name

    @property
    def valid(self) -> list[Upload]:
        """The uploads that must be processed."""
        return [u for u in self.uploads if u.valid]

    @property
    def invalid(self) -> list[Upload]:
        """The uploads that must be parked."""
        return [u for u in self.uploads if not u.valid]


def plan(marker: str, *, upload_prefix: str, sample_bytes: int) -> Plan:
    """The uploads and poison messages of one run; ``sample_bytes`` is the validator's format sample."""
    prefix = f"{upload_prefix}scenario-{marker}/"
    good_row = b"7,a-value-long-enough-to-fill-the-sample\n"
    late_fault = b"id,value\n" + good_row * (sample_bytes // len(good_row) + 16) + b"only-one-field\n"
    uploads = (
        Upload("orders.csv", b"id,amount\n1,10.5\n2,20\n3,7\n", rows=3),
        Upload("people.csv", b"name,city\nAda,London\nGrace,New York\n", rows=2),
        Upload("events 2024+q1.jsonl", b'{"id": 1, "kind": "click"}\n{"id": 2, "kind": "view"}\n', rows=2),
        Upload("metrics.ndjson", b'{"cpu": 0.5}\n\n{"cpu": 0.7}\n{"cpu": 0.9}\n', rows=3),
        Upload("empty.csv", b"", reason="empty", stage="validate"),
        Upload("notes.txt", b"just some notes\n", reason="unsupported_type", stage="validate"),
        Upload("short-row.csv", b"id,amount\n1\n", reason="malformed", stage="validate"),
        Upload("not-json.jsonl", b"{id: 1}\n", reason="malformed", stage="validate"),
        Upload("fault-past-sample.csv", late_fault, reason="malformed", stage="process"),
    )
    unreadable = PipelineMessage(
        bucket=f"serverless-patterns-absent-{marker}",
        key=f"{prefix}elsewhere.csv",
        version_id=None,
        etag="0" * 32,
        size=16,
        format=DataFormat.CSV,
    )
    poison = (
        f"not a pipeline message ({marker})",
        json.dumps({"run": marker, "note": "JSON, but not a pipeline message"}),
        unreadable.model_dump_json(),
    )
    return Plan(prefix=prefix, uploads=uploads, poison=poison)


@dataclass
class Observation:
    """The pipeline's output for one run, read through the target's clients."""

    results: dict[str, dict[str, Any]] = field(default_factory=dict)  # record key -> record
    parked: dict[str, dict[str, Any]] = field(default_factory=dict)
    dead_letters: dict[str, str] = field(default_factory=dict)  # message id -> body
    failures_logged: dict[str, int] = field(default_factory=dict)  # message id -> ERROR lines


@dataclass
class Pipeline:
    """The deployed pipeline's resources and the calls that read its output."""

    cloud: Target
    upload_bucket: str
    results_bucket: str
    queue_url: str
    dlq_url: str
    validate_function: str
    process_log_group: str
    max_receive_count: int
    upload_prefix: str
    sample_bytes: int

    @classmethod
    def of(cls, cloud: Target) -> Pipeline:
        """Found from the stack's outputs and the pattern's construct paths."""
        sqs = cloud.client("sqs")
        outputs = cloud.outputs
        queue_url = outputs["ProcessingQueueUrl"]
        _, _, _, _, account, dlq_name = outputs["ProcessingDlqArn"].split(":", 5)
        redrive = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"])["Attributes"]
        validate_alias = cloud.resource(f"{PATTERN}/Validate/LiveAlias", "AWS::Lambda::Alias").physical_id
        environment = cloud.client("lambda").get_function_configuration(FunctionName=validate_alias)["Environment"]
        return cls(
            cloud=cloud,
            upload_bucket=outputs["UploadBucketName"],
            results_bucket=outputs["ResultsBucketName"],
            queue_url=queue_url,
            dlq_url=sqs.get_queue_url(QueueName=dlq_name, QueueOwnerAWSAccountId=account)["QueueUrl"],
            validate_function=validate_alias,
            process_log_group=cloud.resource(f"{PATTERN}/Process/LogGroup", "AWS::Logs::LogGroup").physical_id,
            max_receive_count=int(json.loads(redrive["RedrivePolicy"])["maxReceiveCount"]),
            upload_prefix=environment["Variables"][Env.UPLOAD_PREFIX],
            sample_bytes=int(environment["Variables"][Env.FORMAT_SAMPLE_BYTES]),
        )

    # --- reading the output -------------------------------------------------------------------

    def records(self, prefix: str) -> dict[str, dict[str, Any]]:
        """Every record (``processed/`` or ``rejected/``) under ``prefix``, parsed."""
        s3 = self.cloud.client("s3")
        found = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.results_bucket, Prefix=prefix):
            for entry in page.get("Contents", []):
                body = s3.get_object(Bucket=self.results_bucket, Key=entry["Key"])["Body"].read()
                found[entry["Key"]] = json.loads(body)
        return found

    def record_etag(self, key: str) -> str:
        """The ETag of a record: every write changes it (a record holds the time it was written)."""
        return str(self.cloud.client("s3").head_object(Bucket=self.results_bucket, Key=key)["ETag"])

    def current_version(self, key: str) -> str:
        """What names the upload's current content: its version id, or its ETag in an unversioned bucket."""
        head = self.cloud.client("s3").head_object(Bucket=self.upload_bucket, Key=key)
        return str(head.get("VersionId") or head["ETag"].strip('"'))

    def dead_letters(self, wanted: Iterable[str], *, delete: bool = False) -> dict[str, str]:
        """The DLQ messages with the ``wanted`` ids (their bodies); all others are left as they were."""
        sqs = self.cloud.client("sqs")
        wanted_ids = set(wanted)
        found: dict[str, str] = {}
        held: list[str] = []
        while True:
            batch = sqs.receive_message(
                QueueUrl=self.dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=READ_VISIBILITY_SECONDS
            ).get("Messages", [])
            if not batch:
                break
            for message in batch:
                if message["MessageId"] in wanted_ids:
                    found[message["MessageId"]] = message["Body"]
                    if delete:
                        sqs.delete_message(QueueUrl=self.dlq_url, ReceiptHandle=message["ReceiptHandle"])
                        continue
                held.append(message["ReceiptHandle"])
        for receipt in held:
            sqs.change_message_visibility(QueueUrl=self.dlq_url, ReceiptHandle=receipt, VisibilityTimeout=0)
        return found

    def processor_log(self, term: str, since_ms: int, **matching: Any) -> list[dict[str, Any]]:
        """The processor's JSON log lines containing ``term`` whose fields include ``matching``."""
        logs = self.cloud.client("logs")
        found = []
        kwargs: dict[str, Any] = {
            "logGroupName": self.process_log_group,
            "startTime": since_ms,
            "filterPattern": json.dumps(term),
        }
        while True:
            response = logs.filter_log_events(**kwargs)
            for event in response.get("events", []):
                try:
                    line = json.loads(event["message"])
                except ValueError:
                    continue
                if isinstance(line, dict) and all(line.get(name) == value for name, value in matching.items()):
                    found.append(line)
            if not response.get("nextToken"):
                return found
            kwargs["nextToken"] = response["nextToken"]

    def failures_logged(self, message_id: str, since_ms: int) -> int:
        """How many ERROR lines the processor logged for ``message_id`` (one per failed receive)."""
        return len(self.processor_log(message_id, since_ms, message_id=message_id, level="ERROR"))

    def outcomes_logged(self, key: str, since_ms: int) -> list[str]:
        """How the processor's deliveries of ``key`` ended (``processed``, ``duplicate``...), in log order."""
        return [str(line.get("outcome")) for line in self.processor_log("Upload processed", since_ms, s3_key=key)]

    def queue_empty(self) -> bool:
        """Nothing visible, in flight or delayed on the processing queue."""
        attributes = self.cloud.client("sqs").get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return all(int(value) == 0 for value in attributes.values())

    def observe(self, run: Plan, poison_ids: Iterable[str], since_ms: int) -> Observation:
        """Records, dead letters and logged failures of ``run``."""
        ids = list(poison_ids)
        return Observation(
            results=self.records(PROCESSED_PREFIX + run.prefix),
            parked=self.records(REJECTED_PREFIX + run.prefix),
            dead_letters=self.dead_letters(ids),
            failures_logged={message_id: self.failures_logged(message_id, since_ms) for message_id in ids},
        )

    # --- sending --------------------------------------------------------------------------------

    def send(self, run: Plan) -> list[str]:
        """Upload every file of ``run`` and send its poison messages; return the poison message ids."""
        for upload in run.uploads:
            self.cloud.put_object(self.upload_bucket, run.key(upload), upload.body)
        sqs = self.cloud.client("sqs")
        return [sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)["MessageId"] for body in run.poison]

    def notification(self, source: dict[str, Any]) -> dict[str, Any]:
        """The S3 event notification of the upload version a record's ``source`` names."""
        s3_object = {"key": quote_plus(source["key"], safe="/"), "size": source["size"], "eTag": source["etag"]}
        if source.get("versionId"):
            s3_object["versionId"] = source["versionId"]
        if source.get("sequencer"):
            s3_object["sequencer"] = source["sequencer"]
        return {
            "Records": [
                {
                    "eventVersion": "2.1",
                    "eventSource": "aws:s3",
                    "eventName": "ObjectCreated:Put",
                    "eventTime": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                    "responseElements": {"x-amz-request-id": uuid.uuid4().hex[:16].upper()},
                    "s3": {"bucket": {"name": source["bucket"]}, "object": s3_object},
                }
            ]
        }

    def message(self, source: dict[str, Any], data_format: str) -> str:
        """The processing-queue message the validator sent for the upload version ``source`` names."""
        return PipelineMessage(
            bucket=source["bucket"],
            key=source["key"],
            version_id=source.get("versionId"),
            etag=source["etag"],
            size=source["size"],
            format=DataFormat(data_format),
            sequencer=source.get("sequencer"),
        ).model_dump_json()


@scenario(
    "Event pipeline: valid, invalid and poison input all accounted for; duplicates add nothing",
    pattern=PATTERN,
)
def event_pipeline(cloud: Target, run: ScenarioRun) -> None:
    """Upload N valid + M invalid files, send K poison messages, then duplicates; count every outcome."""
    pipeline = Pipeline.of(cloud)
    sent = plan(uuid.uuid4().hex[:12], upload_prefix=pipeline.upload_prefix, sample_bytes=pipeline.sample_bytes)
    since_ms = int(time.time() * 1000) - 60_000
    poison_ids = pipeline.send(sent)
    try:
        _outcomes(pipeline, sent, poison_ids, since_ms, run)
    finally:
        pipeline.dead_letters(poison_ids, delete=True)


def _outcomes(pipeline: Pipeline, sent: Plan, poison_ids: list[str], since_ms: int, run: ScenarioRun) -> None:
    observed: list[Observation] = []

    def complete() -> bool:
        observed[:] = [pipeline.observe(sent, poison_ids, since_ms)]
        seen = observed[0]
        return (
            len(seen.results) >= len(sent.valid)
            and len(seen.parked) >= len(sent.invalid)
            and len(seen.dead_letters) >= len(poison_ids)
            and all(n >= pipeline.max_receive_count for n in seen.failures_logged.values())
        )

    run.check("the pipeline settles", pipeline.cloud.settle(until=complete, timeout_seconds=SETTLE_SECONDS))
    seen = observed[0] if observed else pipeline.observe(sent, poison_ids, since_ms)
    _check_results(sent, seen, run)
    _check_parked(sent, seen, run)
    run.equal(
        f"K poison messages end in the DLQ after maxReceiveCount ({pipeline.max_receive_count})",
        sorted(seen.dead_letters.items()),
        sorted(zip(poison_ids, sent.poison, strict=True)),
        count=len(seen.dead_letters),
    )
    run.check(
        "every poison message's failure is logged on each of its receives",
        all(n == pipeline.max_receive_count for n in seen.failures_logged.values()),
        detail=", ".join(str(n) for n in seen.failures_logged.values()),
        count=sum(seen.failures_logged.values()),
    )
    duplicates = _duplicates(pipeline, sent, seen, since_ms, run)
    final = pipeline.observe(sent, poison_ids, since_ms)
    accounted = len(final.results) + len(final.parked) + len(final.dead_letters)
    run.equal(
        f"what was sent ({len(sent.uploads)} uploads + {len(sent.poison)} messages, then {duplicates} duplicates) "
        f"= results + parked + dead letters",
        (len(final.results), len(final.parked), len(final.dead_letters)),
        (len(sent.valid), len(sent.invalid), len(sent.poison)),
        count=accounted,
    )


def _check_results(sent: Plan, seen: Observation, run: ScenarioRun) -> None:
    expected = {record_key(PROCESSED_PREFIX, sent.key(u)): u for u in sent.valid}
    rows = {key: record.get("summary", {}).get("rows") for key, record in seen.results.items()}
    run.equal(
        "N valid uploads -> N results with their row counts",
        rows,
        {key: upload.rows for key, upload in expected.items()},
        count=len(seen.results),
    )


def _check_parked(sent: Plan, seen: Observation, run: ScenarioRun) -> None:
    expected = {record_key(REJECTED_PREFIX, sent.key(u)): (u.reason, u.stage) for u in sent.invalid}
    reasons = {
        key: (record.get("reason", {}).get("code"), record.get("stage"))
        for key, record in seen.parked.items()
        if record.get("reason", {}).get("detail")
    }
    run.equal("M invalid uploads -> M parked, each with its reason", reasons, expected, count=len(seen.parked))


def _duplicates(pipeline: Pipeline, sent: Plan, seen: Observation, since_ms: int, run: ScenarioRun) -> int:
    """S3 notifies twice, SQS delivers twice, the same bytes are uploaded again; return how many."""
    cloud = pipeline.cloud
    notified_upload, delivered_upload, reuploaded_upload = sent.valid[:3]
    renotified, redelivered, reuploaded = (sent.key(u) for u in (notified_upload, delivered_upload, reuploaded_upload))
    notified = seen.results.get(record_key(PROCESSED_PREFIX, renotified))
    delivered = seen.results.get(record_key(PROCESSED_PREFIX, redelivered))
    if notified is None or delivered is None:
        run.check("duplicates sent", False, detail="the first results are missing")
        return 0
    written = {key: pipeline.record_etag(key) for key in seen.results}
    validated = cloud.invoke(pipeline.validate_function, pipeline.notification(notified["source"]))
    run.equal(
        "a repeated S3 notification is validated again (the validator is stateless)",
        validated.payload,
        {"accepted": 1, "rejected": 0, "ignored": 0, "folder_markers": 0},
    )
    cloud.client("sqs").send_message(
        QueueUrl=pipeline.queue_url,
        MessageBody=pipeline.message(delivered["source"], delivered["summary"]["format"]),
    )
    cloud.put_object(pipeline.upload_bucket, reuploaded, reuploaded_upload.body)
    current = pipeline.current_version(reuploaded)
    reuploaded_record = record_key(PROCESSED_PREFIX, reuploaded)

    def skipped() -> bool:
        source = pipeline.records(reuploaded_record).get(reuploaded_record, {}).get("source", {})
        return (source.get("versionId") or source.get("etag")) == current and all(
            "duplicate" in pipeline.outcomes_logged(key, since_ms) for key in (renotified, redelivered)
        )

    run.check(
        "the duplicates and the re-upload go through the pipeline",
        cloud.settle(until=skipped, timeout_seconds=SETTLE_SECONDS),
    )
    outcomes = {key: pipeline.outcomes_logged(key, since_ms) for key in (renotified, redelivered)}
    run.equal(
        "a duplicate notification and a duplicate message are skipped as duplicates",
        outcomes,
        {renotified: ["processed", "duplicate"], redelivered: ["processed", "duplicate"]},
        count=sum(found.count("duplicate") for found in outcomes.values()),
    )
    rewritten = [key for key, etag in written.items() if key != reuploaded_record and pipeline.record_etag(key) != etag]
    run.equal("no other result is rewritten", rewritten, [])
    run.check("the same bytes uploaded again leave one result, naming the current upload", skipped())
    return 3
