"""The only module that calls AWS: the items table, the cursor signing key, the idempotency store.

Clients are created once per container, on first use (never at import), with
timeouts well inside the function's own timeout. DynamoDB's conditional-check
failures and throughput refusals (throttling) are translated into the domain errors here,
so nothing above this module sees botocore.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import ClientError

from serverless_patterns.lambdas.api_backend.errors import (
    CounterLimitError,
    ItemNotFoundError,
    StorageThrottledError,
    VersionConflictError,
)
from serverless_patterns.lambdas.api_backend.models import ApiSettings
from serverless_patterns.lambdas.shared.settings import load_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef
    from mypy_boto3_secretsmanager import SecretsManagerClient

PARTITION_KEY = "id"
_CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=3, retries={"mode": "standard", "max_attempts": 3})
# What DynamoDB answers when an item, a partition or the table is past its throughput.
THROTTLING_CODES = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"})
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
P = ParamSpec("P")
R = TypeVar("R")


@functools.cache
def dynamodb() -> DynamoDBClient:
    """The container's DynamoDB client."""
    return boto3.client("dynamodb", config=_CLIENT_CONFIG)


@functools.cache
def _secrets_manager() -> SecretsManagerClient:
    return boto3.client("secretsmanager", config=_CLIENT_CONFIG)


@functools.cache
def cursor_signing_key() -> bytes:
    """The HMAC key for page cursors, read from Secrets Manager once per container."""
    secret = _secrets_manager().get_secret_value(SecretId=load_settings(ApiSettings).cursor_secret_arn)
    return secret["SecretString"].encode("utf-8")


@functools.cache
def idempotency_store() -> DynamoDBPersistenceLayer:
    """Powertools' idempotency records table (key ``id``, TTL ``expiration``)."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(
        table_name=load_settings(ApiSettings).idempotency_table_name, boto3_client=dynamodb()
    )


@functools.cache
def repository() -> ItemRepository:
    """The container's items repository."""
    return ItemRepository(load_settings(ApiSettings).table_name, dynamodb())


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; every number this API stores is an integer."""
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, dict):
        return {name: _plain(inner) for name, inner in value.items()}
    if isinstance(value, list):
        return [_plain(inner) for inner in value]
    return value


def _from_dynamodb(image: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _plain(_deserializer.deserialize(value)) for name, value in image.items()}


def _to_dynamodb(value: Any) -> AttributeValueTypeDef:
    serialized: AttributeValueTypeDef = _serializer.serialize(value)
    return serialized


def _key(item_id: str) -> dict[str, AttributeValueTypeDef]:
    return {PARTITION_KEY: {"S": item_id}}


def _is_conditional_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _throttling_as_domain_error(method: Callable[P, R]) -> Callable[P, R]:
    """``method`` with DynamoDB throttling (after botocore's retries) raised as ``StorageThrottledError``.

    Writes to one item are limited to about 1,000 write units a second (an item of n KB takes n
    per write), so a hot item's counter is throttled long before the API is: the caller gets a 429
    to back off from, never a 500.
    """

    @functools.wraps(method)
    def translated(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in THROTTLING_CODES:
                raise StorageThrottledError() from error
            raise

    return translated


class ItemRepository:
    """Items in one DynamoDB table keyed by ``id``. Every write is a single conditional request."""

    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    @_throttling_as_domain_error
    def get(self, item_id: str) -> dict[str, Any] | None:
        """The item, read consistently (clients read the version they will send back), or None."""
        response = self._client.get_item(TableName=self._table, Key=_key(item_id), ConsistentRead=True)
        image = response.get("Item")
        return _from_dynamodb(image) if image else None

    @_throttling_as_domain_error
    def scan_page(
        self, limit: int, start: Mapping[str, str] | None
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
        """Up to ``limit`` items after ``start``, and the key to resume from (None at the end)."""
        if start is None:
            response = self._client.scan(TableName=self._table, Limit=limit)
        else:
            response = self._client.scan(
                TableName=self._table,
                Limit=limit,
                ExclusiveStartKey={name: {"S": value} for name, value in start.items()},
            )
        last = response.get("LastEvaluatedKey")
        resume = {name: str(_deserializer.deserialize(value)) for name, value in last.items()} if last else None
        return [_from_dynamodb(image) for image in response.get("Items", [])], resume

    @_throttling_as_domain_error
    def create(self, item: Mapping[str, Any]) -> None:
        """Store a new item; never overwrites one (the id is fresh, the condition makes it certain)."""
        self._client.put_item(
            TableName=self._table,
            Item={name: _to_dynamodb(value) for name, value in item.items() if value is not None},
            ConditionExpression="attribute_not_exists(#id)",
            ExpressionAttributeNames={"#id": PARTITION_KEY},
        )

    @_throttling_as_domain_error
    def replace(
        self, item_id: str, fields: Mapping[str, Any], *, expected_version: int, updated_at: str
    ) -> dict[str, Any]:
        """Set the client's fields and bump the version, only if the version is still ``expected_version``.

        Absent (None) fields are removed. Counters and createdAt are untouched.
        """
        names = {"#id": PARTITION_KEY, "#version": "version", "#updatedAt": "updatedAt"}
        values: dict[str, AttributeValueTypeDef] = {
            ":expected": {"N": str(expected_version)},
            ":next": {"N": str(expected_version + 1)},
            ":updatedAt": {"S": updated_at},
        }
        assignments = ["#version = :next", "#updatedAt = :updatedAt"]
        removals = []
        for index, (name, value) in enumerate(sorted(fields.items())):
            names[f"#f{index}"] = name
            if value is None:
                removals.append(f"#f{index}")
            else:
                values[f":f{index}"] = _to_dynamodb(value)
                assignments.append(f"#f{index} = :f{index}")
        expression = "SET " + ", ".join(assignments) + (" REMOVE " + ", ".join(removals) if removals else "")
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=_key(item_id),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(#id) AND #version = :expected",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            raise self._condition_error(error, item_id, expected_version) from None
        return _from_dynamodb(response["Attributes"])

    @_throttling_as_domain_error
    def delete(self, item_id: str, *, expected_version: int | None) -> None:
        """Delete the item; with ``expected_version``, only if it is still at that version."""
        names = {"#id": PARTITION_KEY}
        condition = "attribute_exists(#id)"
        values: dict[str, AttributeValueTypeDef] = {}
        if expected_version is not None:
            names["#version"] = "version"
            values[":expected"] = {"N": str(expected_version)}
            condition += " AND #version = :expected"
        try:
            if values:
                self._client.delete_item(
                    TableName=self._table,
                    Key=_key(item_id),
                    ConditionExpression=condition,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            else:
                self._client.delete_item(
                    TableName=self._table,
                    Key=_key(item_id),
                    ConditionExpression=condition,
                    ExpressionAttributeNames=names,
                )
        except ClientError as error:
            raise self._condition_error(error, item_id, expected_version or 0) from None

    @_throttling_as_domain_error
    def increment(self, item_id: str, counter: str, by: int, *, max_counters: int) -> int:
        """Atomically add ``by`` to the item's counter (DynamoDB ADD); returns the new value.

        A new counter is refused (``CounterLimitError``) once the item has ``max_counters``.
        """
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=_key(item_id),
                UpdateExpression="ADD #counters.#counter :by",
                ConditionExpression="attribute_exists(#id) AND "
                "(attribute_exists(#counters.#counter) OR size(#counters) < :max)",
                ExpressionAttributeNames={"#id": PARTITION_KEY, "#counters": "counters", "#counter": counter},
                ExpressionAttributeValues={":by": {"N": str(by)}, ":max": {"N": str(max_counters)}},
                ReturnValues="UPDATED_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if _is_conditional_failure(error):
                if error.response.get("Item"):
                    raise CounterLimitError(item_id, max_counters) from None
                raise ItemNotFoundError(item_id) from None
            raise
        counters = _from_dynamodb(response["Attributes"])["counters"]
        return int(counters[counter])

    @staticmethod
    def _condition_error(error: ClientError, item_id: str, expected_version: int) -> Exception:
        if not _is_conditional_failure(error):
            return error
        current = error.response.get("Item")  # the item as it was, when the condition failed
        if not isinstance(current, dict) or not current:
            return ItemNotFoundError(item_id)
        return VersionConflictError(item_id, expected_version, int(_from_dynamodb(current)["version"]))
