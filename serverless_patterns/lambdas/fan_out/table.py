"""The jobs table's plumbing: keys, conditional writes and transactions retried on conflicts.

``chunk_store`` and ``data_access`` build on it; nothing else in the fan-out talks to the table.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.transform import TransformationInjector, copy_dynamodb_params
from botocore.exceptions import ClientError

from serverless_patterns.lambdas.fan_out import contract
from serverless_patterns.lambdas.fan_out.models import JobRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CONDITION_FAILED = "ConditionalCheckFailed"
TRANSACTION_CONFLICT = "TransactionConflict"
TRANSACTION_ATTEMPTS = 5


def job_key(job_id: str) -> dict[str, str]:
    """The job item's key."""
    return {contract.PARTITION_KEY: job_id, contract.SORT_KEY: contract.JOB_SORT_KEY}


def job_record(item: Mapping[str, Any]) -> JobRecord:
    """A job item (deserialized) as the handlers read it."""
    return JobRecord.model_validate({**item, "job_id": item[contract.PARTITION_KEY]})


def error_code(error: ClientError) -> str:
    """The AWS error code of ``error``."""
    return str(error.response.get("Error", {}).get("Code", ""))


def _cancellation_codes(error: ClientError) -> list[str]:
    reasons = error.response.get("CancellationReasons", [])
    return [str(reason.get("Code") or "None") for reason in reasons]


def with_python_types(client: DynamoDBClient) -> DynamoDBClient:
    """``client``, taking and giving items as Python values, with ``boto3.dynamodb.conditions`` expressions.

    These are the handlers ``boto3.resource("dynamodb")`` registers on its client; a resource would
    also load the resource model and build its classes, ~35 ms of every fan-out function's cold start.
    Registering them again (on a client already set up) changes nothing: each has a unique id.
    """
    events = client.meta.events
    injector = TransformationInjector()
    events.register("provide-client-params.dynamodb", copy_dynamodb_params, unique_id="dynamodb-create-params-copy")
    events.register(
        "before-parameter-build.dynamodb",
        injector.inject_condition_expressions,
        unique_id="dynamodb-condition-expression",
    )
    events.register(
        "before-parameter-build.dynamodb", injector.inject_attribute_value_input, unique_id="dynamodb-attr-value-input"
    )
    events.register(
        "after-call.dynamodb", injector.inject_attribute_value_output, unique_id="dynamodb-attr-value-output"
    )
    return client


class BoundTable:
    """The table's single-table operations on a Python-typed client (``with_python_types``), as a
    resource's ``Table`` offers them: the table name is filled in."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client: Any = client
        self.name = table_name

    def _call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = getattr(self._client, operation)(TableName=self.name, **request)
        return response

    def get_item(self, **request: Any) -> dict[str, Any]:
        """``GetItem`` on the table."""
        return self._call("get_item", request)

    def put_item(self, **request: Any) -> dict[str, Any]:
        """``PutItem`` on the table."""
        return self._call("put_item", request)

    def update_item(self, **request: Any) -> dict[str, Any]:
        """``UpdateItem`` on the table."""
        return self._call("update_item", request)

    def query(self, **request: Any) -> dict[str, Any]:
        """``Query`` on the table."""
        return self._call("query", request)


class JobsTable:
    """A handle on the jobs table: conditional single-item writes and transactions, both retried
    (with jittered backoff) when they conflict with a concurrent transaction on the same item.

    :param table_name: the jobs table.
    :param client: a DynamoDB client for this table alone (default: a new one); it is given
        ``with_python_types``, so every call on it then takes and gives Python values.
    :param sleep: how backoff waits (tests pass a recorder).
    """

    def __init__(
        self,
        table_name: str,
        *,
        client: DynamoDBClient | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = with_python_types(client or boto3.client("dynamodb"))
        self._table = BoundTable(self._client, table_name)
        self._sleep = sleep
        self.table_name = table_name

    def _get(self, key: Mapping[str, Any], **options: Any) -> Mapping[str, Any] | None:
        """The item at ``key``, read strongly consistently, or None."""
        item: Mapping[str, Any] | None = self._table.get_item(Key=dict(key), ConsistentRead=True, **options).get("Item")
        return item

    def _update_job(self, **request: Any) -> tuple[bool, Mapping[str, Any]]:
        """``update_item`` on an item (the job's, a shard's): ``(True, the attributes asked for with
        ReturnValues, else {})``, or ``(False, old item)`` if its condition failed.

        A single-item write to an item inside another worker's transaction fails with
        TransactionConflictException (botocore does not retry it): retried with jittered backoff.
        """
        for attempt in range(1, TRANSACTION_ATTEMPTS + 1):
            try:
                response = self._table.update_item(**request)
            except ClientError as error:
                code = error_code(error)
                if code == f"{CONDITION_FAILED}Exception":
                    old: Mapping[str, Any] = error.response.get("Item") or {}  # type: ignore[assignment]
                    return False, old
                if code == f"{TRANSACTION_CONFLICT}Exception" and attempt < TRANSACTION_ATTEMPTS:
                    self._backoff(attempt)
                    continue
                raise
            attributes: Mapping[str, Any] = response.get("Attributes") or {}
            return True, attributes
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, attempt: int) -> None:
        self._sleep(random.uniform(0, 0.05 * 2**attempt))

    def _transact(self, items: list[dict[str, Any]]) -> list[str]:
        """Run a transaction; [] on success, else each item's cancellation code.

        Transactions touching the same item (a shard's counter, a job item) conflict with each
        other now and then: those are retried with jittered backoff, since every item in them is
        conditional.
        """
        for attempt in range(1, TRANSACTION_ATTEMPTS + 1):
            try:
                self._client.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
            except ClientError as error:
                if error_code(error) != "TransactionCanceledException":
                    raise
                codes = _cancellation_codes(error)
                if TRANSACTION_CONFLICT in codes and attempt < TRANSACTION_ATTEMPTS:
                    self._backoff(attempt)
                    continue
                if TRANSACTION_CONFLICT in codes:
                    raise
                return codes
            return []
        raise AssertionError("unreachable")  # pragma: no cover
