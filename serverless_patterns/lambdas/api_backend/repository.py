"""Versioned items in a DynamoDB table: optimistic locking, signed page cursors and atomic counters.

``VersionedRepository`` is the data access of the items API, and of your own routes on any
table keyed by one string attribute: every write is one conditional request, so concurrent
writers never lose an update, and DynamoDB's conditional-check failures come back as the
domain errors (``ItemNotFoundError`` 404, ``VersionConflictError`` 409,
``PreconditionFailedError`` 412, ``CounterLimitError`` 409), so nothing above it sees botocore.
Items come back as plain dicts (numbers as ``int``, or ``float`` when not whole); validate
them into your own model.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from serverless_patterns.lambdas.api_backend import resources
from serverless_patterns.lambdas.api_backend.cursor import decode_cursor, encode_cursor
from serverless_patterns.lambdas.api_backend.errors import (
    CounterLimitError,
    InvalidCursorError,
    ItemNotFoundError,
    PreconditionFailedError,
    VersionConflictError,
)
from serverless_patterns.lambdas.api_backend.preconditions import Precondition

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

VERSION = "version"
"""The attribute holding an item's version."""
MAX_KEY_BYTES = 2_048
"""DynamoDB's limit on a partition key value: a longer (or empty) key names no item."""
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class VersionedRepository:
    """Items of one table, each with a ``version`` that every replacement bumps.

    Build it at import (``ORDERS = VersionedRepository(key="orderId", kind="order")``): nothing
    is read and no client is created before the first call.

    :param table_name: the table; by default the construct's (``TABLE_NAME``), read on first use.
    :param key: the partition key attribute, a string (the construct's table: ``id``, unless
        ``table_props`` names another); the table has no sort key.
    :param kind: what an item is called in error messages (``"order 'o-1' not found"``).
    """

    def __init__(self, table_name: str | None = None, *, key: str = "id", kind: str = "item") -> None:
        self._table_name = table_name
        self.key = key
        self.kind = kind

    @property
    def table_name(self) -> str:
        """The table's name."""
        return self._table_name or resources.environment().table_name

    @property
    def _client(self) -> DynamoDBClient:
        return resources.dynamodb()

    def get(self, item_id: str) -> dict[str, Any] | None:
        """The item, read consistently (clients read the version they will send back), or None."""
        if not _is_storable(item_id):
            return None
        response = self._client.get_item(TableName=self.table_name, Key=self._key(item_id), ConsistentRead=True)
        image = response.get("Item")
        return _from_dynamodb(image) if image else None

    def scan_page(self, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """Up to ``limit`` items (table order) after ``cursor``, and the cursor of the next page (None at the end).

        Cursors are signed with the construct's key: one this repository did not issue, or that
        was altered, is ``InvalidCursorError`` (400).
        """
        if cursor:
            start = decode_cursor(cursor, resources.cursor_signing_key())
            if set(start) != {self.key}:
                raise InvalidCursorError
            response = self._client.scan(
                TableName=self.table_name,
                Limit=limit,
                ExclusiveStartKey={name: {"S": value} for name, value in start.items()},
            )
        else:
            response = self._client.scan(TableName=self.table_name, Limit=limit)
        last = response.get("LastEvaluatedKey")
        next_cursor = None
        if last:
            position = {name: str(_deserializer.deserialize(value)) for name, value in last.items()}
            next_cursor = encode_cursor(position, resources.cursor_signing_key())
        return [_from_dynamodb(image) for image in response.get("Items", [])], next_cursor

    def create(self, item: Mapping[str, Any]) -> None:
        """Store a new item at version 1; never overwrites one (give it a fresh key: the condition makes it certain).

        Absent (None) attributes are not stored.
        """
        if not _is_storable(item.get(self.key)):
            raise ValueError(f"a new {self.kind} needs its key {self.key!r}: a string of 1 to {MAX_KEY_BYTES} bytes")
        self._client.put_item(
            TableName=self.table_name,
            Item={name: _to_dynamodb(value) for name, value in {**item, VERSION: 1}.items() if value is not None},
            ConditionExpression="attribute_not_exists(#key)",
            ExpressionAttributeNames={"#key": self.key},
        )

    def replace(self, item_id: str, fields: Mapping[str, Any], *, precondition: Precondition) -> dict[str, Any]:
        """Set ``fields`` and bump the version, only if the item is still at the precondition's version.

        Absent (None) fields are removed; attributes not named are kept. Returns the item as
        stored. A miss is ``PreconditionFailedError`` (412) when the version came as If-Match,
        else ``VersionConflictError`` (409); no item is ``ItemNotFoundError``.
        """
        if {self.key, VERSION} & set(fields):
            raise ValueError(f"replace() sets {self.kind} fields; {self.key!r} and {VERSION!r} are the repository's")
        self._check_key(item_id)
        expected = precondition.version
        names = {"#key": self.key, "#version": VERSION}
        values: dict[str, AttributeValueTypeDef] = {
            ":expected": {"N": str(expected)},
            ":next": {"N": str(expected + 1)},
        }
        assignments = []
        removals = []
        for index, (name, value) in enumerate(sorted(fields.items())):
            names[f"#f{index}"] = name
            if value is None:
                removals.append(f"#f{index}")
            else:
                values[f":f{index}"] = _to_dynamodb(value)
                assignments.append(f"#f{index} = :f{index}")
        # The version last: an emulator that applies the actions one by one (moto) then never shows a
        # reader the new version beside old fields, which DynamoDB, applying them atomically, never does.
        assignments.append("#version = :next")
        expression = ("REMOVE " + ", ".join(removals) + " " if removals else "") + "SET " + ", ".join(assignments)
        try:
            response = self._client.update_item(
                TableName=self.table_name,
                Key=self._key(item_id),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(#key) AND #version = :expected",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            raise self._condition_error(error, item_id, precondition) from None
        return _from_dynamodb(response["Attributes"])

    def delete(self, item_id: str, *, precondition: Precondition | None = None) -> None:
        """Delete the item; with a precondition, only if it is still at that version."""
        self._check_key(item_id)
        names = {"#key": self.key}
        condition = "attribute_exists(#key)"
        try:
            if precondition is None:
                self._client.delete_item(
                    TableName=self.table_name,
                    Key=self._key(item_id),
                    ConditionExpression=condition,
                    ExpressionAttributeNames=names,
                )
            else:
                self._client.delete_item(
                    TableName=self.table_name,
                    Key=self._key(item_id),
                    ConditionExpression=condition + " AND #version = :expected",
                    ExpressionAttributeNames={**names, "#version": VERSION},
                    ExpressionAttributeValues={":expected": {"N": str(precondition.version)}},
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ClientError as error:
            raise self._condition_error(error, item_id, precondition) from None

    def increment(self, item_id: str, counter: str, by: int, *, max_counters: int, attribute: str = "counters") -> int:
        """Atomically add ``by`` to the item's counter (DynamoDB ADD, in the map ``attribute``); returns the new value.

        Counters are commutative, so concurrent increments never conflict and leave the version
        alone. A new counter is refused (``CounterLimitError``) once the item has ``max_counters``,
        so no caller can grow an item past DynamoDB's 400 KB.
        """
        self._check_key(item_id)
        try:
            response = self._client.update_item(
                TableName=self.table_name,
                Key=self._key(item_id),
                UpdateExpression="ADD #counters.#counter :by",
                ConditionExpression="attribute_exists(#key) AND "
                "(attribute_exists(#counters.#counter) OR size(#counters) < :max)",
                ExpressionAttributeNames={"#key": self.key, "#counters": attribute, "#counter": counter},
                ExpressionAttributeValues={":by": {"N": str(by)}, ":max": {"N": str(max_counters)}},
                ReturnValues="UPDATED_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if _is_conditional_failure(error):
                if error.response.get("Item"):
                    raise CounterLimitError(item_id, max_counters, kind=self.kind) from None
                raise ItemNotFoundError(item_id, kind=self.kind) from None
            raise
        counters = _from_dynamodb(response["Attributes"])[attribute]
        return int(counters[counter])

    def _check_key(self, item_id: str) -> None:
        """A key DynamoDB could not store names no item: 404, never DynamoDB's validation error (500)."""
        if not _is_storable(item_id):
            raise ItemNotFoundError(item_id, kind=self.kind)

    def _key(self, item_id: str) -> dict[str, AttributeValueTypeDef]:
        return {self.key: {"S": item_id}}

    def _condition_error(self, error: ClientError, item_id: str, precondition: Precondition | None) -> Exception:
        if not _is_conditional_failure(error):
            return error
        current = error.response.get("Item")  # the item as it was, when the condition failed
        if not isinstance(current, dict) or not current or precondition is None:
            return ItemNotFoundError(item_id, kind=self.kind)
        conflict = PreconditionFailedError if precondition.from_header else VersionConflictError
        return conflict(item_id, precondition.version, int(_from_dynamodb(current)[VERSION]), kind=self.kind)


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal: whole ones become int, others float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {name: _plain(inner) for name, inner in value.items()}
    if isinstance(value, list):
        return [_plain(inner) for inner in value]
    return value


def _stored(value: Any) -> Any:
    """Python values as DynamoDB takes them: floats as Decimal (boto3 refuses floats)."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {name: _stored(inner) for name, inner in value.items()}
    if isinstance(value, list | tuple):
        return [_stored(inner) for inner in value]
    return value


def _from_dynamodb(image: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _plain(_deserializer.deserialize(value)) for name, value in image.items()}


def _to_dynamodb(value: Any) -> AttributeValueTypeDef:
    serialized: AttributeValueTypeDef = _serializer.serialize(_stored(value))
    return serialized


def _is_storable(key: object) -> bool:
    if not isinstance(key, str):
        return False
    try:
        return 0 < len(key.encode("utf-8")) <= MAX_KEY_BYTES
    except UnicodeEncodeError:  # an unpaired surrogate: not text DynamoDB stores
        return False


def _is_conditional_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
