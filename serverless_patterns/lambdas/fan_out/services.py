"""The fan-out's other AWS services: the work queue, the input bucket, the aggregator.

Each adapter creates its client on first use (unless given one): a function pays for a client
only on the invocations that call its service.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar, cast

import boto3
from botocore.exceptions import ClientError

from serverless_patterns.lambdas.fan_out.errors import DispatchFailedError, InvalidJobError
from serverless_patterns.lambdas.fan_out.table import error_code
from serverless_patterns.lambdas.shared.s3_objects import is_missing

if TYPE_CHECKING:
    from mypy_boto3_lambda.client import LambdaClient
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_sqs.client import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

SQS_MAX_BATCH_ENTRIES = 10
SQS_MAX_BATCH_BYTES = 262_144
SQS_SEND_ATTEMPTS = 3

ClientT = TypeVar("ClientT")


class _LazyClient(Generic[ClientT]):
    """An adapter whose boto3 client (of ``service``) is the one given, or created on first use."""

    service: ClassVar[str]

    def __init__(self, client: ClientT | None) -> None:
        self._given_client = client

    @functools.cached_property
    def _client(self) -> ClientT:
        return self._given_client or cast("ClientT", boto3.client(self.service))  # type: ignore[call-overload]


class ChunkQueue(_LazyClient["SQSClient"]):
    """The work queue: chunk messages go out in batches of up to 10 (and 256 KiB)."""

    service = "sqs"  # a resubmission of a fully queued job sends nothing

    def __init__(self, queue_url: str, *, client: SQSClient | None = None) -> None:
        super().__init__(client)
        self.queue_url = queue_url

    def send(self, bodies: Sequence[str], *, sent: Callable[[int], None] | None = None) -> None:
        """Queue every body, in order; entries SQS refuses for its own reasons are retried, then
        ``DispatchFailedError``. After each batch, ``sent`` is told how many bodies are queued so far."""
        batch: list[SendMessageBatchRequestEntryTypeDef] = []
        batch_bytes = 0
        for index, body in enumerate(bodies):
            size = len(body.encode())
            if batch and (len(batch) == SQS_MAX_BATCH_ENTRIES or batch_bytes + size > SQS_MAX_BATCH_BYTES):
                self._send_batch(batch)
                if sent is not None:
                    sent(index)
                batch, batch_bytes = [], 0
            batch.append({"Id": f"chunk-{index}", "MessageBody": body})
            batch_bytes += size
        if batch:
            self._send_batch(batch)
            if sent is not None:
                sent(len(bodies))

    def _send_batch(self, entries: list[SendMessageBatchRequestEntryTypeDef]) -> None:
        pending = entries
        for _ in range(SQS_SEND_ATTEMPTS):
            response = self._client.send_message_batch(QueueUrl=self.queue_url, Entries=pending)
            failed = response.get("Failed", [])
            if any(failure["SenderFault"] for failure in failed):
                raise DispatchFailedError(f"SQS refused chunk messages: {sorted({f['Code'] for f in failed})}")
            failed_ids = {failure["Id"] for failure in failed}
            pending = [entry for entry in pending if entry["Id"] in failed_ids]
            if not pending:
                return
        raise DispatchFailedError(
            f"SQS did not accept {len(pending)} chunk messages after {SQS_SEND_ATTEMPTS} attempts"
        )


class ItemsObjectReader(_LazyClient["S3Client"]):
    """Reads a job's items object from the input bucket, refusing what is outside its prefix, missing or too large."""

    service = "s3"  # a job with inline items reads nothing (~50 ms of a cold start)

    def __init__(self, bucket: str, *, prefix: str = "", client: S3Client | None = None) -> None:
        super().__init__(client)
        self.bucket = bucket
        self.prefix = prefix

    def read(self, key: str, version_id: str | None, *, max_bytes: int) -> bytes:
        """The object's bytes; ``InvalidJobError`` if it is outside the prefix, missing or over ``max_bytes``."""
        if not key.startswith(self.prefix):
            raise InvalidJobError(
                f"the items object {key!r} is outside the input prefix {self.prefix!r}: the master reads only "
                f"keys under s3://{self.bucket}/{self.prefix}"
            )
        location = f"s3://{self.bucket}/{key}" + (f"?versionId={version_id}" if version_id else "")
        try:
            response = (
                self._client.get_object(Bucket=self.bucket, Key=key, VersionId=version_id)
                if version_id
                else self._client.get_object(Bucket=self.bucket, Key=key)
            )
        except ClientError as error:
            if error_code(error) == "InvalidArgument" or is_missing(self._client, error, self.bucket, key):
                raise InvalidJobError(f"the items object {location} does not exist") from error
            raise
        body = response["Body"]
        if response["ContentLength"] > max_bytes:
            body.close()
            raise InvalidJobError(
                f"the items object {location} is {response['ContentLength']} bytes; the limit is {max_bytes}"
            )
        return body.read()


class AggregatorInvoker(_LazyClient["LambdaClient"]):
    """Starts the aggregator asynchronously (its retries and on-failure queue are Lambda's)."""

    service = "lambda"  # only the delivery that completes a job invokes the aggregator

    def __init__(self, function_name: str, *, client: LambdaClient | None = None) -> None:
        super().__init__(client)
        self.function_name = function_name

    def __call__(self, job_id: str) -> None:
        """Queue one aggregator invocation for ``job_id``."""
        self._client.invoke(
            FunctionName=self.function_name,
            InvocationType="Event",
            Payload=json.dumps({"job_id": job_id}).encode(),
        )


@functools.cache
def chunk_queue(queue_url: str) -> ChunkQueue:
    """The container's ChunkQueue for ``queue_url``."""
    return ChunkQueue(queue_url)


@functools.cache
def items_reader(bucket: str, prefix: str = "") -> ItemsObjectReader:
    """The container's ItemsObjectReader for the keys under ``prefix`` in ``bucket``."""
    return ItemsObjectReader(bucket, prefix=prefix)


@functools.cache
def aggregator_invoker(function_name: str) -> AggregatorInvoker:
    """The container's AggregatorInvoker for ``function_name``."""
    return AggregatorInvoker(function_name)
