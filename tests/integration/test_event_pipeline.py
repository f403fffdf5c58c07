"""The event pipeline of the real Dev stage on the local cloud: every upload and message accounted for.

Uploads go through the deployed bucket notification (async, with the validator's retries),
the processing queue (batching, partial batch failures, visibility timeouts, the DLQ after
``maxReceiveCount``) and the processor's idempotency, all in virtual time. The scenario's
plan is reused; these tests add what only the local cloud can show: each delivery, each
log line, the tags on the uploads, a redrive after a fix.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from aws_cdk import assertions

from serverless_patterns.lambdas.event_pipeline.formats import DataFormat
from serverless_patterns.lambdas.event_pipeline.layout import (
    PROCESSED_PREFIX,
    REJECTED_PREFIX,
    STATUS_PROCESSED,
    STATUS_REJECTED,
    STATUS_TAG,
    record_key,
)
from serverless_patterns.lambdas.event_pipeline.models import PipelineMessage
from serverless_patterns.local import LocalCloud
from serverless_patterns.local.invocation import Invocation
from serverless_patterns.ops.__main__ import main as ops
from serverless_patterns.scenarios import discover, run_scenario
from serverless_patterns.scenarios.event_pipeline import Pipeline, Plan, plan
from serverless_patterns.stacks.stage import ServiceStage
from tests.integration.capacity_shape import capacity_of, peak_concurrency

# Handlers run in-process: Powertools warns when an invocation emits no business metric.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")


@pytest.fixture(scope="module")
def dev(stages: dict[str, ServiceStage]) -> Iterator[LocalCloud]:
    """The real Dev stage, deployed once for this module."""
    with LocalCloud.deploy(stages["dev"]) as cloud:
        yield cloud


def test_every_bucket_is_versioned_exactly_as_its_template_says(dev: LocalCloud) -> None:
    """The pipeline tells upload versions apart by version id; unversioned buckets must stay unversioned."""
    buckets = dev.find("AWS::S3::Bucket")
    assert buckets
    states = {}
    for bucket in buckets:
        wanted = (bucket.properties.get("VersioningConfiguration") or {}).get("Status")
        states[bucket.path] = (wanted, dev.client("s3").get_bucket_versioning(Bucket=bucket.physical_id).get("Status"))
    assert all(wanted == actual for wanted, actual in states.values()), states
    assert ("Enabled", "Enabled") in states.values()


@pytest.fixture(scope="module")
def pipeline(dev: LocalCloud) -> Pipeline:
    return Pipeline.of(dev)


def _function_name(dev: LocalCloud, construct: str) -> str:
    return dev.resource(f"EventPipeline/{construct}/LiveAlias", "AWS::Lambda::Alias").physical_id.split(":")[6]


def _deliveries(dev: LocalCloud) -> dict[str, list[tuple[Invocation, dict[str, Any]]]]:
    """Every processor delivery, by SQS message id: the invocation and the record it got."""
    process = _function_name(dev, "Process")
    found: dict[str, list[tuple[Invocation, dict[str, Any]]]] = defaultdict(list)
    for invocation in dev.invocations:
        if invocation.function_name == process and invocation.source == "sqs":
            for record in invocation.event["Records"]:
                found[record["messageId"]].append((invocation, record))
    return found


def _log_lines(invocation: Invocation, **matching: Any) -> list[dict[str, Any]]:
    """The invocation's JSON log lines whose fields include ``matching``."""
    lines = []
    for text in invocation.logs.splitlines():
        if text.startswith("{"):
            line = json.loads(text)
            if all(line.get(name) == value for name, value in matching.items()):
                lines.append(line)
    return lines


def _tag(dev: LocalCloud, bucket: str, key: str) -> str | None:
    tags = dev.client("s3").get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
    return next((tag["Value"] for tag in tags if tag["Key"] == STATUS_TAG), None)


def _version(dev: LocalCloud, bucket: str, key: str) -> str:
    return str(dev.client("s3").head_object(Bucket=bucket, Key=key)["VersionId"])


def _record_versions(dev: LocalCloud, pipeline: Pipeline, key: str) -> int:
    """How many times a record was written (the results bucket keeps every version)."""
    versions = dev.client("s3").list_object_versions(Bucket=pipeline.results_bucket, Prefix=key).get("Versions", [])
    return sum(1 for version in versions if version["Key"] == key)


def _upload_one(dev: LocalCloud, pipeline: Pipeline, name: str, body: bytes) -> tuple[str, dict[str, Any]]:
    """Upload a file, let the pipeline finish, return its key and its processed record."""
    key = f"{pipeline.upload_prefix}test-{uuid.uuid4().hex[:8]}/{name}"
    dev.put_object(pipeline.upload_bucket, key, body)
    dev.drain()
    results = pipeline.records(record_key(PROCESSED_PREFIX, key))
    assert list(results) == [record_key(PROCESSED_PREFIX, key)]
    return key, results[record_key(PROCESSED_PREFIX, key)]


def test_the_scenario_passes_and_reports_its_counts(dev: LocalCloud, pipeline: Pipeline) -> None:
    (item,) = [s for s in discover() if s.pattern == "EventPipeline"]
    dead_before = dev.queue_depth(pipeline.dlq_url)

    result = run_scenario(dev, item)

    assert result.passed, [(c.name, c.detail) for c in result.checks if not c.passed]
    counts = {c.name.split(" ")[0]: c.count for c in result.checks if c.name[:2] in ("N ", "M ", "K ")}
    assert counts == {"N": 4, "M": 5, "K": 3}
    assert result.checks[-1].count == 4 + 5 + 3
    assert dev.queue_depth(pipeline.dlq_url) == dead_before  # it removed its own dead letters
    assert dev.queue_depth(pipeline.queue_url) == {"visible": 0, "in_flight": 0}


def test_every_upload_and_message_ends_somewhere_with_its_reason(dev: LocalCloud, pipeline: Pipeline) -> None:
    sent: Plan = plan(uuid.uuid4().hex[:12], upload_prefix=pipeline.upload_prefix, sample_bytes=pipeline.sample_bytes)
    validate = _function_name(dev, "Validate")
    first_invocation = len(dev.invocations)

    poison_ids = pipeline.send(sent)
    drained = dev.drain()

    assert not drained.exhausted
    # Validated once each, by the notification's asynchronous invocation, without a retry.
    validations = [i for i in dev.invocations[first_invocation:] if i.function_name == validate]
    assert sorted(i.result["accepted"] + i.result["rejected"] for i in validations) == [1] * len(sent.uploads)
    assert {(i.source, i.invocation_type, i.error_type) for i in validations} == {("s3", "Event", None)}

    results = pipeline.records(PROCESSED_PREFIX + sent.prefix)
    for upload in sent.valid:
        key = sent.key(upload)
        record = results.pop(record_key(PROCESSED_PREFIX, key))
        assert record["status"] == "processed"
        assert record["source"]["versionId"] == _version(dev, pipeline.upload_bucket, key)
        assert record["summary"]["rows"] == upload.rows
        assert _tag(dev, pipeline.upload_bucket, key) == STATUS_PROCESSED  # lifecycle expires it by this tag
    assert results == {}

    parked = pipeline.records(REJECTED_PREFIX + sent.prefix)
    for upload in sent.invalid:
        key = sent.key(upload)
        record = parked.pop(record_key(REJECTED_PREFIX, key))
        assert (record["reason"]["code"], record["stage"]) == (upload.reason, upload.stage)
        assert record["reason"]["detail"]
        assert record["source"]["versionId"] == _version(dev, pipeline.upload_bucket, key)
        assert _tag(dev, pipeline.upload_bucket, key) == STATUS_REJECTED
    assert parked == {}
    (late,) = [u for u in sent.invalid if u.stage == "process"]
    late_record = pipeline.records(record_key(REJECTED_PREFIX, sent.key(late)))
    assert "line" in next(iter(late_record.values()))["reason"]["detail"]  # the processor names the line at fault

    dead = {m["MessageId"]: m["Body"] for m in dev.read_queue(pipeline.dlq_url)}
    assert {message_id: dead.get(message_id) for message_id in poison_ids} == dict(
        zip(poison_ids, sent.poison, strict=True)
    )
    deliveries = _deliveries(dev)
    causes = []
    for message_id in poison_ids:
        received = deliveries[message_id]
        assert [int(r["attributes"]["ApproximateReceiveCount"]) for _, r in received] == list(
            range(1, pipeline.max_receive_count + 1)
        )
        for invocation, _ in received:
            assert message_id in {f["itemIdentifier"] for f in invocation.result["batchItemFailures"]}
            (error,) = _log_lines(invocation, level="ERROR", message_id=message_id)
            causes.append(error["message"])
    assert causes.count("Not a pipeline message: retried, then kept in the DLQ") == 2 * pipeline.max_receive_count
    assert causes.count("Processing failed: retried after a backoff") == pipeline.max_receive_count

    assert dev.queue_depth(pipeline.queue_url) == {"visible": 0, "in_flight": 0}
    failures = dev.resource("EventPipeline/Validate/AsyncFailureQueue", "AWS::SQS::Queue").physical_id
    assert dev.queue_depth(failures) == {"visible": 0, "in_flight": 0}
    accounted = len(sent.valid) + len(sent.invalid) + len(set(poison_ids) & set(dead))
    assert accounted == len(sent.uploads) + len(sent.poison)


def test_duplicates_write_no_second_result_and_a_late_older_version_changes_nothing(
    dev: LocalCloud, pipeline: Pipeline
) -> None:
    body = b"id,amount\n1,10\n2,20\n"
    key, record = _upload_one(dev, pipeline, "twice.csv", body)
    result_key = record_key(PROCESSED_PREFIX, key)
    message = pipeline.message(record["source"], record["summary"]["format"])
    first_invocation = len(dev.invocations)

    # S3 notifies again; SQS delivers the validator's message twice, in the same batch.
    assert dev.invoke(pipeline.validate_function, pipeline.notification(record["source"])).payload["accepted"] == 1
    sqs = dev.client("sqs")
    sent_twice = [sqs.send_message(QueueUrl=pipeline.queue_url, MessageBody=message)["MessageId"] for _ in range(2)]
    dev.drain()

    deliveries = _deliveries(dev)
    later = [i for i in dev.invocations[first_invocation:] if i.source == "sqs"]
    outcomes = [line["outcome"] for i in later for line in _log_lines(i, message="Upload processed")]
    assert outcomes == ["duplicate"] * 3
    assert all(len(deliveries[message_id]) == 1 for message_id in sent_twice)
    assert _record_versions(dev, pipeline, result_key) == 1
    emitted = "".join(i.logs for i in later)
    assert '"DuplicatesSkipped"' in emitted
    assert '"FilesProcessed"' not in emitted

    # The same bytes again are a new version: processed once more, the record names it.
    dev.put_object(pipeline.upload_bucket, key, body)
    dev.drain()
    newest = _version(dev, pipeline.upload_bucket, key)
    assert pipeline.records(result_key)[result_key]["source"]["versionId"] == newest
    assert _record_versions(dev, pipeline, result_key) == 2

    # The first version's message again, now late (SQS keeps no order): it does not overwrite the newer record.
    sqs.send_message(QueueUrl=pipeline.queue_url, MessageBody=message)
    late_from = len(dev.invocations)
    dev.drain()
    late = [line["outcome"] for i in dev.invocations[late_from:] for line in _log_lines(i, message="Upload processed")]
    assert late == ["duplicate"]  # that version was processed: its idempotency record answers
    assert pipeline.records(result_key)[result_key]["source"]["versionId"] == newest
    assert _record_versions(dev, pipeline, result_key) == 2


def test_a_dead_letter_is_processed_once_redriven_after_the_fix(dev: LocalCloud, pipeline: Pipeline) -> None:
    marker = uuid.uuid4().hex[:12]
    bucket, key = f"late-bucket-{marker}", f"{pipeline.upload_prefix}redrive-{marker}/data.csv"
    body = b"id\n1\n2\n3\n"
    message = PipelineMessage(bucket=bucket, key=key, etag="0" * 32, size=len(body), format=DataFormat.CSV)
    sqs = dev.client("sqs")
    message_id = sqs.send_message(QueueUrl=pipeline.queue_url, MessageBody=message.model_dump_json())["MessageId"]
    dev.drain()
    assert message_id in {m["MessageId"] for m in dev.read_queue(pipeline.dlq_url)}
    assert pipeline.records(record_key(PROCESSED_PREFIX, key)) == {}

    # The fix: the upload the message names becomes readable (its bucket lets the processor's role in:
    # the bucket is not the pipeline's, so its policy, not the role's, grants the reads). Then the documented redrive.
    dev.client("s3").create_bucket(Bucket=bucket)
    role = dev.permissions.store.function_roles[_function_name(dev, "Process")]
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": role},
        "Action": "s3:*",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }
    dev.client("s3").put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Statement": [statement]}))
    dev.client("s3").put_object(Bucket=bucket, Key=key, Body=body)
    assert ops(["redrive", "--dlq", dev.outputs["ProcessingDlqArn"], "--to", pipeline.queue_url, "--manual"]) == 0
    dev.drain()

    (record,) = pipeline.records(record_key(PROCESSED_PREFIX, key)).values()
    assert (record["source"]["bucket"], record["summary"]["rows"]) == (bucket, 3)
    assert key not in "".join(m["Body"] for m in dev.read_queue(pipeline.dlq_url))


def test_folder_markers_end_in_a_record_or_are_ignored_and_counted(dev: LocalCloud, pipeline: Pipeline) -> None:
    """Outside testing found the one upload with no terminal record: a non-empty key ending in '/'."""
    folder = f"{pipeline.upload_prefix}markers-{uuid.uuid4().hex[:8]}/"
    validate = _function_name(dev, "Validate")
    first_invocation = len(dev.invocations)

    dev.put_object(pipeline.upload_bucket, folder, b"")  # what the console's "Create folder" writes
    dev.put_object(pipeline.upload_bucket, f"{folder}data/", b"id,value\n1,2\n")
    assert not dev.drain().exhausted

    validations = [i.result for i in dev.invocations[first_invocation:] if i.function_name == validate]
    assert sorted(validations, key=lambda r: r["folder_markers"]) == [
        {"accepted": 0, "rejected": 1, "ignored": 0, "folder_markers": 0},
        {"accepted": 0, "rejected": 0, "ignored": 0, "folder_markers": 1},
    ]
    parked = pipeline.records(REJECTED_PREFIX + folder)
    assert list(parked) == [record_key(REJECTED_PREFIX, f"{folder}data/")]
    assert parked[record_key(REJECTED_PREFIX, f"{folder}data/")]["reason"]["code"] == "folder_marker"
    assert pipeline.records(PROCESSED_PREFIX + folder) == {}
    assert _tag(dev, pipeline.upload_bucket, f"{folder}data/") == "rejected"


def test_a_flood_of_uploads_saturates_the_processor_the_model_names(
    dev: LocalCloud, pipeline: Pipeline, templates: dict[str, assertions.Template]
) -> None:
    """The capacity model of this template: the pipeline's first limit is the processor's event
    source; at the ceiling the processor runs as many concurrent executions as its
    MaximumConcurrency. Given a backlog, the emulator's pollers peak at exactly that, in batches
    of at most the batch size, and every upload is processed once."""
    model = capacity_of(templates["dev"], "EventPipeline")
    assert model.first.name == "SQS event source concurrency (process)"
    uploads, before = 30, len(dev.invocations)
    marker = uuid.uuid4().hex[:8]

    for index in range(uploads):
        key = f"{pipeline.upload_prefix}capacity-{marker}/{index:03d}.csv"
        dev.put_object(pipeline.upload_bucket, key, b"id,amount\n1,10.5\n2,20\n")
    assert not dev.drain().exhausted

    process = dev.resource("EventPipeline/Process/Resource", "AWS::Lambda::Function").physical_id
    batches = [i for i in dev.invocations[before:] if i.function_name == process and i.source == "sqs"]
    assert sum(len(batch.event["Records"]) for batch in batches) == uploads
    assert max(len(batch.event["Records"]) for batch in batches) <= 10
    assert not [batch for batch in batches if batch.failed]
    assert peak_concurrency(dev, "EventPipeline/Queue") == round(model.concurrency["process"]) == 2
