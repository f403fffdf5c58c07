"""Moto-backed pipeline: buckets, queue + DLQ, idempotency table, S3 events and an SQS poller.

The poller does what Lambda's SQS event source does (receive a batch, invoke, delete the records
not reported in ``batchItemFailures``); SQS's own clock is virtual (``advance``), so visibility
timeouts and delays expire without waiting, and moto moves a message to the DLQ on the receive
after ``maxReceiveCount`` as SQS does.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import quote_plus

import boto3
import moto.sqs.models as moto_sqs
import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.core.utils import unix_time_millis

# Powertools reads these when the shared Logger/Metrics are built (at import), as in Lambda.
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "event-pipeline")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ServerlessPatterns/Test")
from serverless_patterns.lambdas.event_pipeline import data_access, process, validate
from serverless_patterns.lambdas.event_pipeline.layout import Env
from serverless_patterns.lambdas.shared.observability import metrics
from serverless_patterns.lambdas.shared.settings import load_settings

UPLOADS = "pipeline-uploads"
RESULTS = "pipeline-results"
TABLE = "pipeline-idempotency"
MAX_RECEIVE_COUNT = 3
ACCOUNT = DEFAULT_ACCOUNT_ID


@dataclass
class FakeContext:
    """What Powertools and the idempotency utility read from a Lambda context."""

    function_name: str = "event-pipeline"
    function_version: str = "1"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:event-pipeline:live"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    remaining_ms: int = 3_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def lambda_context() -> LambdaContext:
    """A FakeContext where the handlers' signatures want Lambda's own type."""
    return cast(LambdaContext, FakeContext())


class Clock:
    """SQS's notion of now, moved forward by tests instead of sleeping."""

    def __init__(self, real: Callable[[], float]) -> None:
        self._real = real
        self.offset_ms = 0.0

    def __call__(self) -> float:
        return self._real() + self.offset_ms

    def advance(self, seconds: float) -> None:
        self.offset_ms += seconds * 1000


@dataclass
class Pipeline:
    """The moto account the handlers run against, and helpers to drive them."""

    s3: Any
    sqs: Any
    dynamodb: Any
    uploads: str
    results_bucket: str
    table: str
    queue_name: str
    queue_url: str
    queue_arn: str
    dlq_url: str
    clock: Clock
    sequence: int = 0
    hold_backs: list[int] = field(default_factory=list)

    # --- uploads and their S3 events -----------------------------------------------------------

    def upload(self, key: str, body: bytes, **extra: Any) -> dict[str, Any]:
        """Put an object and return the S3 notification record announcing it."""
        response = self.s3.put_object(Bucket=self.uploads, Key=key, Body=body, **extra)
        self.sequence += 1
        return s3_record(
            key,
            size=len(body),
            etag=response["ETag"],
            version_id=response["VersionId"],
            seq=self.sequence,
            bucket=self.uploads,
        )

    def validate(self, *records: dict[str, Any]) -> dict[str, int]:
        return validate.handler({"Records": list(records)}, lambda_context())

    # --- the processing queue --------------------------------------------------------------------

    def send(self, body: str) -> None:
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)

    def poll(
        self,
        handler: Callable[[dict[str, Any], Any], dict[str, Any]] = process.handler,
        batch: int = 10,
        context: FakeContext | None = None,
    ) -> dict[str, Any] | None:
        """One event-source poll: receive, invoke, delete what succeeded. None when nothing was visible."""
        received = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=batch,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            return None
        response = handler({"Records": [self._record(message) for message in received]}, context or FakeContext())
        failed = {failure["itemIdentifier"] for failure in response["batchItemFailures"]}
        for message in received:
            if message["MessageId"] not in failed:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return response

    def drain(self, handler: Callable[[dict[str, Any], Any], dict[str, Any]] = process.handler) -> None:
        """Poll until the queue is empty, letting every backoff and delay expire."""
        for _ in range(50):
            if self.poll(handler) is None:
                if self.depth(self.queue_url) == 0:
                    return
                self.clock.advance(15 * 60)
        raise AssertionError("the queue did not drain")

    def depth(self, queue_url: str) -> int:
        attributes = self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
        return sum(
            int(attributes[name])
            for name in (
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            )
        )

    def queued_bodies(self) -> list[dict[str, Any]]:
        """What is on the processing queue, read from moto's backend: a receive would count as one."""
        queue = moto_sqs.sqs_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_queue(self.queue_name)
        return [json.loads(message.body) for message in queue._messages]

    def dead_letters(self) -> list[dict[str, Any]]:
        self.clock.advance(15 * 60)
        self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0)  # redrive pass
        messages = self.sqs.receive_message(
            QueueUrl=self.dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=0, MessageAttributeNames=["All"]
        )
        return list(messages.get("Messages", []))

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message["Attributes"],
            "messageAttributes": {
                name: {
                    "stringValue": value.get("StringValue"),
                    "dataType": value["DataType"],
                    "stringListValues": [],
                    "binaryListValues": [],
                }
                for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": "us-east-1",
        }

    # --- the results -----------------------------------------------------------------------------

    def record(self, key: str) -> dict[str, Any]:
        return json.loads(self.s3.get_object(Bucket=self.results_bucket, Key=key)["Body"].read())  # type: ignore[no-any-return]

    def record_versions(self, key: str) -> int:
        versions = self.s3.list_object_versions(Bucket=self.results_bucket, Prefix=key).get("Versions", [])
        return sum(1 for version in versions if version["Key"] == key)

    def results(self, prefix: str) -> list[str]:
        return [
            item["Key"]
            for item in self.s3.list_objects_v2(Bucket=self.results_bucket, Prefix=prefix).get("Contents", [])
        ]

    def tags(self, key: str, version_id: str | None = None) -> dict[str, str]:
        args = {"VersionId": version_id} if version_id else {}
        tag_set = self.s3.get_object_tagging(Bucket=self.uploads, Key=key, **args)["TagSet"]
        return {tag["Key"]: tag["Value"] for tag in tag_set}


def s3_record(
    key: str,
    *,
    size: int,
    etag: str,
    version_id: str | None,
    seq: int,
    event_name: str = "ObjectCreated:Put",
    bucket: str = "pipeline-uploads",
) -> dict[str, Any]:
    """An S3 notification record as S3 writes it (key URL-encoded, spaces as ``+``)."""
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2025-01-01T00:00:00.000Z",
        "eventName": event_name,
        "userIdentity": {"principalId": "AWS:UPLOADER"},
        "requestParameters": {"sourceIPAddress": "203.0.113.9"},
        "responseElements": {"x-amz-request-id": f"REQ{seq:04d}", "x-amz-id-2": "id2"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "validate",
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": "OWNER"}, "arn": f"arn:aws:s3:::{bucket}"},
            "object": {
                "key": quote_plus(key, safe="/"),
                "size": size,
                "eTag": etag.strip('"'),
                "versionId": version_id,
                "sequencer": f"{0x0065A1B2C3D4E5F600 + seq:018X}",
            },
        },
    }


def clear_caches() -> None:
    load_settings.cache_clear()
    process.runtime.cache_clear()
    data_access.clear_clients()


@dataclass
class Account:
    """One moto account per test module (starting moto's backends costs a second); names per test."""

    s3: Any
    sqs: Any
    dynamodb: Any
    tests: int = 0


@pytest.fixture(scope="module")
def account() -> Iterator[Account]:
    with mock_aws():
        yield Account(
            s3=boto3.client("s3", region_name="us-east-1"),
            sqs=boto3.client("sqs", region_name="us-east-1"),
            dynamodb=boto3.client("dynamodb", region_name="us-east-1"),
        )


def create_table(dynamodb: Any, name: str) -> None:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def pipeline(account: Account, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    """Fresh buckets, queue + DLQ and idempotency table, and the handlers' environment."""
    clock = Clock(unix_time_millis)
    monkeypatch.setattr("moto.sqs.models.unix_time_millis", clock)
    monkeypatch.setattr(metrics, "namespace", "ServerlessPatterns/Test")
    account.tests += 1
    suffix = f"{account.tests:03d}"
    s3, sqs = account.s3, account.sqs
    uploads, results, table, queue_name = (
        f"{UPLOADS}-{suffix}",
        f"{RESULTS}-{suffix}",
        f"{TABLE}-{suffix}",
        f"pipeline-{suffix}",
    )
    for bucket in (uploads, results):
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    dlq_url = sqs.create_queue(QueueName=f"{queue_name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(
        QueueName=queue_name,
        Attributes={
            "VisibilityTimeout": "60",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT}),
        },
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    create_table(account.dynamodb, table)
    for name, value in {
        Env.QUEUE_URL: queue_url,
        Env.RESULTS_BUCKET: results,
        Env.UPLOAD_PREFIX: "incoming/",
        Env.MAX_FILE_BYTES: "4096",
        Env.FORMAT_SAMPLE_BYTES: "1024",
        Env.ALLOWED_EXTENSIONS: ".csv,.jsonl,.ndjson",
        Env.IDEMPOTENCY_TABLE: table,
        Env.IDEMPOTENCY_SECONDS: "3600",
        Env.MAX_RECEIVE_COUNT: str(MAX_RECEIVE_COUNT),
        Env.RETRY_BASE_SECONDS: "10",
        Env.RETRY_MAX_SECONDS: "300",
        Env.MAX_DEFERRALS: "1",
    }.items():
        monkeypatch.setenv(name, value)
    clear_caches()
    world = Pipeline(
        s3=s3,
        sqs=sqs,
        dynamodb=account.dynamodb,
        uploads=uploads,
        results_bucket=results,
        table=table,
        queue_name=queue_name,
        queue_url=queue_url,
        queue_arn=queue_arn,
        dlq_url=dlq_url,
        clock=clock,
    )
    original_hold_back = data_access.hold_back

    def recording_hold_back(queue_url: str, receipt_handle: str, seconds: int) -> None:
        world.hold_backs.append(seconds)
        original_hold_back(queue_url, receipt_handle, seconds)

    monkeypatch.setattr(data_access, "hold_back", recording_hold_back)
    yield world
    clear_caches()
