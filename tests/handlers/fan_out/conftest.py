"""Moto-backed fan-out: the jobs table (with its open-jobs index), work queue + DLQ, input bucket, aggregator.

``FanOutCloud.drain`` plays the SQS event source: it receives up to a batch of visible messages,
hands them to the worker handler as an SQS event, deletes the ones reported done and leaves the
rest for redelivery. Moto counts receives and moves a message to the DLQ after maxReceiveCount,
as SQS does; the visibility timeout is 0 so a failed message is redelivered on the next round.
The aggregator Lambda is a real (moto) function, so the worker's async invoke goes through the
Lambda API; as moto does not run it, ``aggregator_runs`` then runs the aggregator handler in-process
(what Lambda's async delivery would do) and records each run.
"""

from __future__ import annotations

import functools
import io
import json
import os
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import boto3
import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext
from moto import mock_aws

os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "fan-out")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ServerlessPatterns/Test")

from serverless_patterns.lambdas.fan_out import aggregator, contract, data_access, master, services, status, worker
from serverless_patterns.lambdas.fan_out.models import JobRecord
from serverless_patterns.lambdas.shared.settings import load_settings
from serverless_patterns.lambdas.shared.sqs_batch import EntireBatchFailedError

TABLE = "fan-out-jobs"
BUCKET = "fan-out-input"
AGGREGATOR = "fan-out-aggregator"
CHUNK_SIZE = 10
MAX_ITEMS = 500
MAX_RECEIVE_COUNT = 3
MAX_SOURCE_BYTES = 64 * 1024


@dataclass
class FakeContext:
    """What Powertools reads from a Lambda context."""

    function_name: str = "fan-out"
    function_version: str = "1"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:fan-out:live"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def lambda_context() -> LambdaContext:
    """A fresh fake context, typed as the handlers expect."""
    context: Any = FakeContext()
    return cast(LambdaContext, context)


def clear_caches() -> None:
    load_settings.cache_clear()
    data_access.reset_clients()


@dataclass
class DrainReport:
    """What one drain did: deliveries made, and which message ids ended done or failed per delivery."""

    deliveries: int = 0
    failed_deliveries: int = 0
    done: list[str] = field(default_factory=list)


@dataclass
class FanOutCloud:
    """The deployed resources and the calls the tests make on them."""

    queue_url: str
    dlq_url: str
    aggregator_runs: list[str]
    # The handlers that run: the built-in ones, or the ones built around your code (``custom``).
    worker_handler: Callable[[dict[str, Any], Any], Any] = worker.handler
    aggregator_handler: Callable[[dict[str, Any], Any], Any] = aggregator.handler

    @property
    def table(self) -> Any:
        return boto3.resource("dynamodb").Table(TABLE)

    def submit(self, event: Any) -> dict[str, Any]:
        response: dict[str, Any] = master.handler(event, lambda_context())
        return response

    def status(self, job_id: str) -> dict[str, Any]:
        response: dict[str, Any] = status.handler({"job_id": job_id}, lambda_context())
        return response

    def job(self, job_id: str) -> JobRecord:
        record = data_access.job_store(TABLE).get_job(job_id)
        assert record is not None
        return record

    def items_of(self, job_id: str) -> list[dict[str, Any]]:
        response = self.table.query(KeyConditionExpression="pk = :job", ExpressionAttributeValues={":job": job_id})
        items: list[dict[str, Any]] = response["Items"]
        return items

    def messages(self, queue_url: str | None = None) -> list[dict[str, Any]]:
        """Every visible message, made visible again afterwards (each peek counts as a receive)."""
        sqs: Any = boto3.client("sqs")
        url = queue_url or self.queue_url
        found: list[dict[str, Any]] = []
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300).get(
            "Messages", []
        ):
            found.extend(batch)
        for message in found:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
        return found

    def queue_depth(self, queue_url: str) -> int:
        attributes = boto3.client("sqs").get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def drain(
        self,
        *,
        batch_size: int = 10,
        duplicate: Callable[[dict[str, Any]], bool] = lambda _: False,
        max_rounds: int = 200,
    ) -> DrainReport:
        """Deliver queued chunks to the worker until the queue is empty (see the module docstring).

        ``duplicate(message)`` True delivers that message twice, as SQS's at-least-once delivery may.
        """
        sqs: Any = boto3.client("sqs")
        report = DrainReport()
        for _ in range(max_rounds):
            messages = sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=batch_size, VisibilityTimeout=0, AttributeNames=["All"]
            ).get("Messages", [])
            if not messages:
                return report
            failed = self.deliver(messages, report)
            for message in messages:
                if duplicate(message) and message["MessageId"] not in failed:
                    failed |= self.deliver([message], report)
            for message in messages:
                if message["MessageId"] not in failed:
                    sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
                    report.done.append(message["MessageId"])
        raise AssertionError("the queue did not drain")

    def deliver(self, messages: list[dict[str, Any]], report: DrainReport | None = None) -> set[str]:
        """One worker invocation with ``messages``; the ids it reported failed."""
        event = {"Records": [sqs_record(message, self.queue_url) for message in messages]}
        try:
            response = self.worker_handler(event, lambda_context())
            failed = {str(failure["itemIdentifier"]) for failure in response["batchItemFailures"]}
        except EntireBatchFailedError:
            failed = {message["MessageId"] for message in messages}
        if report is not None:
            report.deliveries += len(messages)
            report.failed_deliveries += len(failed)
        return failed


def sqs_record(message: dict[str, Any], queue_url: str, *, receive_count: int | None = None) -> dict[str, Any]:
    """A Lambda SQS event record for a received message."""
    attributes = message.get("Attributes", {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            "ApproximateReceiveCount": str(receive_count or attributes.get("ApproximateReceiveCount", "1")),
            "SentTimestamp": attributes.get("SentTimestamp", "0"),
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": attributes.get("ApproximateFirstReceiveTimestamp", "0"),
        },
        "messageAttributes": {},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{queue_url.rsplit('/', 1)[-1]}",
        "awsRegion": "us-east-1",
    }


def _create_resources() -> tuple[str, str]:
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[
            {"AttributeName": contract.PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": contract.SORT_KEY, "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": contract.PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": contract.SORT_KEY, "AttributeType": "S"},
            {"AttributeName": contract.OPEN_JOBS_KEY, "AttributeType": "S"},
            {"AttributeName": contract.DEADLINE_ATTRIBUTE, "AttributeType": "N"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": contract.OPEN_JOBS_INDEX,
                "KeySchema": [
                    {"AttributeName": contract.OPEN_JOBS_KEY, "KeyType": "HASH"},
                    {"AttributeName": contract.DEADLINE_ATTRIBUTE, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )
    sqs = boto3.client("sqs")
    dlq_url = sqs.create_queue(QueueName="fan-out-work-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(
        QueueName="fan-out-work",
        Attributes={
            "VisibilityTimeout": "60",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT}),
        },
    )["QueueUrl"]
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    role = boto3.client("iam").create_role(RoleName="fan-out-aggregator", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("index.py", "def handler(event, context):\n    return event\n")
    awslambda = boto3.client("lambda")
    awslambda.create_function(
        FunctionName=AGGREGATOR,
        Runtime="python3.13",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": archive.getvalue()},
    )
    awslambda.create_alias(FunctionName=AGGREGATOR, Name="live", FunctionVersion="$LATEST")
    return queue_url, dlq_url


@functools.cache
def _shared_session() -> boto3.session.Session:
    """One boto3 session for every test: moto would otherwise start each test with a fresh default
    session, and loading botocore's endpoint and service models again costs about a second a test."""
    return boto3.session.Session()


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch) -> Iterator[FanOutCloud]:
    with mock_aws(config={"lambda": {"use_docker": False}}):
        boto3.DEFAULT_SESSION = _shared_session()  # moto restores the previous default on exit
        queue_url, dlq_url = _create_resources()
        for name, value in {
            "TABLE_NAME": TABLE,
            "QUEUE_URL": queue_url,
            "INPUT_BUCKET": BUCKET,
            "INPUT_PREFIX": "jobs/",
            "CHUNK_SIZE": str(CHUNK_SIZE),
            "MAX_ITEMS": str(MAX_ITEMS),
            "MAX_SOURCE_BYTES": str(MAX_SOURCE_BYTES),
            "JOB_DEADLINE_SECONDS": "1800",
            "JOB_RETENTION_DAYS": "30",
            "AGGREGATOR_FUNCTION": f"{AGGREGATOR}:live",
            "WORKER_PARALLELISM": "4",
            "MAX_RECEIVE_COUNT": str(MAX_RECEIVE_COUNT),
            "AGGREGATION_CLAIM_SECONDS": "10",
            "OPEN_JOBS_INDEX": contract.OPEN_JOBS_INDEX,
        }.items():
            monkeypatch.setenv(name, value)
        clear_caches()

        runs: list[str] = []
        invoke = services.AggregatorInvoker.__call__
        deployed = FanOutCloud(queue_url=queue_url, dlq_url=dlq_url, aggregator_runs=runs)

        def invoke_and_run(self: services.AggregatorInvoker, job_id: str) -> None:
            invoke(self, job_id)  # the real Lambda API call (moto accepts it, runs nothing)
            runs.append(job_id)
            deployed.aggregator_handler({"job_id": job_id}, lambda_context())

        monkeypatch.setattr(services.AggregatorInvoker, "__call__", invoke_and_run)
        yield deployed
    clear_caches()


def emf_metrics(output: str) -> dict[str, float]:
    """Business metric values summed over the EMF lines Powertools printed."""
    totals: dict[str, float] = {}
    for line in output.splitlines():
        if '"_aws"' not in line:
            continue
        document = json.loads(line)
        for definition in document["_aws"]["CloudWatchMetrics"]:
            for metric in definition["Metrics"]:
                name = metric["Name"]
                value = document[name]
                totals[name] = totals.get(name, 0) + (sum(value) if isinstance(value, list) else value)
    return totals
