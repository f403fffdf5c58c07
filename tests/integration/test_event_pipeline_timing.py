"""The pipeline's timing on the local cloud's virtual clock: the backoff schedule itself, and idempotency expiry.

An EventPipeline of its own, tuned so the schedule shows: a backoff base above the processor's
timeout (the floor a hold never goes below), a cap reached within ``max_receive_count``, and a
one-hour idempotency window.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, CfnOutput, RemovalPolicy, Stack, Stage

from serverless_patterns.config import FunctionSettings, PatternDefaults, PipelineSettings
from serverless_patterns.constructs.event_pipeline import EventPipeline
from serverless_patterns.lambdas.event_pipeline.formats import DataFormat
from serverless_patterns.lambdas.event_pipeline.layout import PROCESSED_PREFIX, record_key
from serverless_patterns.lambdas.event_pipeline.models import PipelineMessage
from serverless_patterns.local import LocalCloud

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

SETTINGS = PipelineSettings(
    max_receive_count=5,
    max_concurrency=2,
    batching_window_seconds=0,
    retry_base_seconds=20,
    retry_max_seconds=100,
    idempotency_hours=1,
)
PROCESS = FunctionSettings(memory_mb=512, timeout_seconds=10)


@pytest.fixture(scope="module")
def cloud(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    app = App(context=cdk_context, outdir=str(tmp_path_factory.mktemp("pipeline-timing-cdk-out")))
    stage = Stage(app, "Timing")
    stack = Stack(stage, "Pipeline")
    pipeline = EventPipeline(
        stack,
        "EventPipeline",
        settings=SETTINGS,
        functions={"validate": FunctionSettings(memory_mb=256, timeout_seconds=10), "process": PROCESS},
        defaults=PatternDefaults(removal_policy=RemovalPolicy.DESTROY, point_in_time_recovery=False),
    )
    for name, value in {
        "UploadBucket": pipeline.upload_bucket.bucket_name,
        "QueueUrl": pipeline.queue.queue_url,
        "DlqUrl": pipeline.dead_letter_queue.queue_url,
    }.items():
        CfnOutput(stack, name, value=value)
    app.synth()
    with LocalCloud.deploy(Path(stage.synth().directory)) as running:
        yield running


def _ceiling(receives: int) -> int:
    """``retry_base_seconds * 2**(receives - 1)`` capped at ``retry_max_seconds``."""
    return int(min(SETTINGS.retry_max_seconds, SETTINGS.retry_base_seconds * 2 ** (receives - 1)))


def test_a_failing_message_is_received_on_the_backoff_schedule_it_asked_for(cloud: LocalCloud) -> None:
    # A message naming an upload that cannot be read: processing fails on every receive.
    missing = PipelineMessage(
        bucket=f"missing-{uuid.uuid4().hex[:8]}", key="incoming/x.csv", etag="0" * 32, size=3, format=DataFormat.CSV
    )
    sqs = cloud.client("sqs")
    message_id = sqs.send_message(QueueUrl=cloud.outputs["QueueUrl"], MessageBody=missing.model_dump_json())[
        "MessageId"
    ]
    started = cloud.clock.now()

    assert not cloud.drain().exhausted

    receives = [
        (batch.at - started, count)
        for batch in cloud.poller.batches
        for mid, count in zip(batch.message_ids, batch.receive_counts, strict=True)
        if mid == message_id
    ]
    assert [count for _, count in receives] == list(range(1, SETTINGS.max_receive_count + 1))
    holds = [c for c in cloud.visibility_changes if c.message_id == message_id]
    assert len(holds) == SETTINGS.max_receive_count  # one backoff per failed receive
    floor = PROCESS.timeout_seconds  # never less than the invocation's remaining time
    for (at, count), hold, (next_at, _) in zip(receives, holds, receives[1:], strict=False):
        ceiling = _ceiling(count)
        # Equal jitter: between half the ceiling and the ceiling, never below the floor.
        assert max(floor, ceiling - ceiling // 2) <= hold.seconds <= max(floor, ceiling), (count, hold.seconds)
        assert cloud.clock.at(hold.at) - started == at  # asked for during that receive
        assert next_at - at == hold.seconds  # and received again exactly then (not at the visibility timeout)
    assert [_ceiling(n) for n in range(1, 6)] == [20, 40, 80, 100, 100]
    dead = [json.loads(m["Body"])["bucket"] for m in cloud.read_queue(cloud.outputs["DlqUrl"], delete=True)]
    assert dead == [missing.bucket]


def test_a_repeated_upload_is_processed_again_once_its_idempotency_record_expired(cloud: LocalCloud) -> None:
    bucket, key = cloud.outputs["UploadBucket"], f"incoming/again-{uuid.uuid4().hex[:8]}.csv"
    cloud.put_object(bucket, key, b"id,amount\n1,10\n")
    assert not cloud.drain().exhausted
    version = cloud.client("s3").head_object(Bucket=bucket, Key=key)["VersionId"]
    head = cloud.client("s3").head_object(Bucket=bucket, Key=key)
    message = PipelineMessage(
        bucket=bucket,
        key=key,
        version_id=version,
        etag=head["ETag"].strip('"'),
        size=head["ContentLength"],
        format=DataFormat.CSV,
    ).model_dump_json()
    # The result record is removed (say, by hand): from now on only the idempotency record remembers the upload.
    results_bucket = next(
        b.physical_id for b in cloud.find("AWS::S3::Bucket", under="EventPipeline") if "Results" in b.path
    )
    result_key = record_key(PROCESSED_PREFIX, key)
    assert "Body" in cloud.client("s3").get_object(Bucket=results_bucket, Key=result_key)
    cloud.client("s3").delete_object(Bucket=results_bucket, Key=result_key)

    def outcomes_after(action: Any) -> list[str]:
        first = len(cloud.invocations)
        action()
        assert not cloud.drain().exhausted
        return [
            json.loads(line)["outcome"]
            for invocation in cloud.invocations[first:]
            for line in invocation.logs.splitlines()
            if line.startswith("{") and json.loads(line).get("message") == "Upload processed"
        ]

    def redeliver() -> None:  # S3 notifies again, or SQS delivers again: the same upload version
        cloud.client("sqs").send_message(QueueUrl=cloud.outputs["QueueUrl"], MessageBody=message)

    assert outcomes_after(redeliver) == ["duplicate"]
    assert outcomes_after(lambda: cloud.advance(SETTINGS.idempotency_hours * 3600 - 60)) == []
    assert outcomes_after(redeliver) == ["duplicate"]  # a minute before expiry: still remembered
    cloud.advance(61)
    assert outcomes_after(redeliver) == ["processed"]  # past idempotency_hours: processed again
    record = json.loads(cloud.client("s3").get_object(Bucket=results_bucket, Key=result_key)["Body"].read())
    assert record["source"]["versionId"] == version
