"""The only module that touches AWS: the workflow's three tables and its event bus.

Every write that moves an order is conditional, so retried steps and duplicated
executions never apply twice. Throttling and transaction conflicts surface as
``TransientError`` (retried by the state machine); everything else propagates.
Clients are created lazily, once per container; they are thread-safe (resources
are not), which the concurrency tests rely on.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import ClientError

from serverless_patterns.lambdas.order_workflow.errors import OrderStateError, OutOfStock, TransientError
from serverless_patterns.lambdas.order_workflow.models import (
    LedgerEntry,
    LedgerEntryKind,
    Order,
    OrderStatus,
    StoredOrder,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Well under every function's timeout; botocore's standard mode retries throttling itself first.
CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3})

TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ThrottlingException",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionConflictException",
        "TransactionInProgressException",
    }
)
# Cancellation reasons of a transaction that a later attempt may not meet again.
TRANSIENT_CANCELLATIONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})
STOCK_BATCH_ATTEMPTS = 3

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


@functools.cache
def dynamodb_client() -> DynamoDBClient:
    """The container's DynamoDB client (also handed to Powertools idempotency)."""
    return boto3.client("dynamodb", config=CLIENT_CONFIG)


@functools.cache
def events_client() -> Any:
    """The container's EventBridge client (no type stubs installed for it)."""
    return boto3.client("events", config=CLIENT_CONFIG)


def _timestamp(now: datetime) -> str:
    return now.isoformat(timespec="milliseconds")


def _to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in values.items() if value is not None}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(element) for element in value]
    if isinstance(value, dict):
        return {key: _plain(element) for key, element in value.items()}
    return value


def _from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _plain(_deserializer.deserialize(value)) for name, value in item.items()}


def _error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


@contextmanager
def _transient_errors(action: str) -> Iterator[None]:
    try:
        yield
    except ClientError as error:
        code = _error_code(error)
        if code in TRANSIENT_CODES:
            raise TransientError(f"{action}: {code}") from error
        raise


# The order's own fields are stored flat beside its status attributes.
_ORDER_ATTRIBUTES = Order.model_field_names()


def _stored_order(item: Mapping[str, Any]) -> StoredOrder:
    """The item checked as the order it holds plus its status attributes (``ShapeError`` if it is not one)."""
    values = _from_item(item)
    order = {name: values[name] for name in _ORDER_ATTRIBUTES if name in values}
    return StoredOrder.model_validate({**values, "order": order})


class _Table:
    """One table of the saga, reached through this container's DynamoDB client (or a given one)."""

    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self.table_name = table_name
        self._client = client

    @property
    def client(self) -> DynamoDBClient:
        return self._client or dynamodb_client()


class Orders(_Table):
    """The orders table: one item per order id, moved through ``OrderStatus`` with conditional writes."""

    def get(self, order_id: str) -> StoredOrder | None:
        with _transient_errors("read order"):
            response = self.client.get_item(
                TableName=self.table_name, Key={"order_id": {"S": order_id}}, ConsistentRead=True
            )
        item = response.get("Item")
        return _stored_order(item) if item else None

    def create(self, order: Order, *, now: datetime) -> tuple[StoredOrder, bool]:
        """Record a validated order; an existing order with that id is returned unchanged (False)."""
        at = _timestamp(now)
        item = _to_item(
            {
                **order.model_dump(mode="json"),
                "status": OrderStatus.VALIDATED.value,
                "fingerprint": order.fingerprint(),
                "created_at": at,
                "updated_at": at,
                "history": [{"status": OrderStatus.VALIDATED.value, "at": at}],
            }
        )
        try:
            with _transient_errors("record order"):
                self.client.put_item(
                    TableName=self.table_name,
                    Item=item,
                    ConditionExpression="attribute_not_exists(order_id)",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ClientError as error:
            if _error_code(error) != "ConditionalCheckFailedException":
                raise
            existing = cast(Mapping[str, Any], error.response).get("Item")
            stored = _stored_order(existing) if existing else self.get(order.order_id)
            if stored is None:
                raise
            return stored, False
        return _stored_order(item), True

    def transition(
        self,
        order_id: str,
        *,
        allowed_from: Collection[OrderStatus],
        to: OrderStatus,
        now: datetime,
        attributes: Mapping[str, Any] | None = None,
    ) -> tuple[StoredOrder, bool]:
        """Move the order to ``to`` if it is in one of ``allowed_from``.

        Returns the order after the write and True, or the order as it is and False when
        its status did not allow the move. An unknown order is an OrderStateError.
        """
        at = _timestamp(now)
        values = {":to": to.value, ":at": at, ":entry": [{"status": to.value, "at": at}], **_placeholders(attributes)}
        names = {"#status": "status", **{f"#{name}": name for name in attributes or {}}}
        sets = ["#status = :to", "updated_at = :at", "history = list_append(history, :entry)"]
        sets += [f"#{name} = :{name}" for name in attributes or {}]
        from_values = {f":from{index}": status.value for index, status in enumerate(sorted(allowed_from))}
        condition = f"attribute_exists(order_id) AND #status IN ({', '.join(from_values)})"
        try:
            with _transient_errors("update order"):
                response = self.client.update_item(
                    TableName=self.table_name,
                    Key={"order_id": {"S": order_id}},
                    UpdateExpression="SET " + ", ".join(sets),
                    ConditionExpression=condition,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=_to_item({**values, **from_values}),
                    ReturnValues="ALL_NEW",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ClientError as error:
            if _error_code(error) != "ConditionalCheckFailedException":
                raise
            existing = cast(Mapping[str, Any], error.response).get("Item")
            current = _stored_order(existing) if existing else self.get(order_id)
            if current is None:
                raise OrderStateError(f"order {order_id} is unknown") from None
            return current, False
        return _stored_order(response["Attributes"]), True

    def annotate(self, order_id: str, attributes: Mapping[str, Any], *, now: datetime) -> None:
        """Set attributes of an existing order without changing its status."""
        sets = ["updated_at = :at", *(f"#{name} = :{name}" for name in attributes)]
        with _transient_errors("update order"):
            self.client.update_item(
                TableName=self.table_name,
                Key={"order_id": {"S": order_id}},
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression="attribute_exists(order_id)",
                ExpressionAttributeNames={f"#{name}": name for name in attributes},
                ExpressionAttributeValues=_to_item({":at": _timestamp(now), **_placeholders(attributes)}),
            )


def _placeholders(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    return {f":{name}": value for name, value in (attributes or {}).items()}


class Inventory(_Table):
    """The inventory table: ``stock`` per ``sku``, never below zero."""

    def stock_levels(self, skus: Sequence[str]) -> dict[str, int]:
        """Current stock of the known SKUs among ``skus`` (unknown SKUs are absent)."""
        levels: dict[str, int] = {}
        keys: list[Mapping[str, Any]] = [{"sku": {"S": sku}} for sku in dict.fromkeys(skus)]
        for _ in range(STOCK_BATCH_ATTEMPTS):
            if not keys:
                return levels
            with _transient_errors("read stock"):
                response = self.client.batch_get_item(
                    RequestItems={self.table_name: {"Keys": keys, "ProjectionExpression": "sku, stock"}}
                )
            for item in response.get("Responses", {}).get(self.table_name, []):
                values = _from_item(item)
                levels[values["sku"]] = int(values.get("stock", 0))
            unprocessed = response.get("UnprocessedKeys", {}).get(self.table_name)
            keys = list(unprocessed["Keys"]) if unprocessed else []
        if keys:
            raise TransientError(f"read stock: {len(keys)} SKUs left unprocessed")
        return levels

    def reserve(self, order: Order, *, orders_table: str, now: datetime) -> bool:
        """Take every line's quantity from stock and mark the order RESERVED, in one transaction.

        Returns False (and changes nothing) when the order is not CHARGED; raises OutOfStock
        naming every short line, or TransientError on a conflict with another transaction.
        """
        at = _timestamp(now)
        order_update: dict[str, Any] = {
            "Update": {
                "TableName": orders_table,
                "Key": {"order_id": {"S": order.order_id}},
                "UpdateExpression": "SET #status = :to, updated_at = :at, reserved_at = :at, "
                "history = list_append(history, :entry)",
                "ConditionExpression": "#status = :from",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": _to_item(
                    {
                        ":to": OrderStatus.RESERVED.value,
                        ":from": OrderStatus.CHARGED.value,
                        ":at": at,
                        ":entry": [{"status": OrderStatus.RESERVED.value, "at": at}],
                    }
                ),
            }
        }
        stock_updates: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self.table_name,
                    "Key": {"sku": {"S": line.sku}},
                    "UpdateExpression": "SET stock = stock - :quantity",
                    "ConditionExpression": "attribute_exists(sku) AND stock >= :quantity",
                    "ExpressionAttributeValues": _to_item({":quantity": line.quantity}),
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
            for line in order.lines
        ]
        try:
            with _transient_errors("reserve stock"):
                self.client.transact_write_items(TransactItems=cast(Any, [order_update, *stock_updates]))
        except ClientError as error:
            if _error_code(error) != "TransactionCanceledException":
                raise
            reasons = list(cast(Mapping[str, Any], error.response).get("CancellationReasons", []))
            return self._cancelled(order, reasons, error)
        return True

    def _cancelled(self, order: Order, reasons: list[Mapping[str, Any]], error: ClientError) -> bool:
        codes = [reason.get("Code", "None") for reason in reasons]
        if codes and codes[0] == "ConditionalCheckFailed":
            return False
        shortages = []
        for line, reason in zip(order.lines, reasons[1:], strict=False):
            if reason.get("Code") == "ConditionalCheckFailed":
                item = reason.get("Item")
                available = _from_item(item).get("stock", 0) if item else None
                shortages.append(
                    f"{line.sku}: requested {line.quantity}, "
                    + ("unknown SKU" if available is None else f"{available} available")
                )
        if shortages:
            raise OutOfStock(f"order {order.order_id} cannot be reserved: {'; '.join(shortages)}") from None
        if TRANSIENT_CANCELLATIONS.intersection(codes):
            raise TransientError(f"reserve stock: transaction cancelled ({', '.join(codes)})") from error
        raise error


class Ledger(_Table):
    """The payments ledger: at most one CHARGE and one REFUND item per order."""

    def entries(self, order_id: str) -> dict[LedgerEntryKind, LedgerEntry]:
        with _transient_errors("read ledger"):
            response = self.client.query(
                TableName=self.table_name,
                KeyConditionExpression="order_id = :order_id",
                ExpressionAttributeValues={":order_id": {"S": order_id}},
                ConsistentRead=True,
            )
        entries = (LedgerEntry.model_validate(_from_item(item)) for item in response.get("Items", []))
        return {entry.entry: entry for entry in entries}

    def record(self, entry: LedgerEntry) -> LedgerEntry:
        """Write the entry unless the order already has one of its kind; return the one that stands."""
        try:
            with _transient_errors("write ledger"):
                self.client.put_item(
                    TableName=self.table_name,
                    Item=_to_item(entry.model_dump(mode="json")),
                    ConditionExpression="attribute_not_exists(order_id)",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ClientError as error:
            if _error_code(error) != "ConditionalCheckFailedException":
                raise
            existing = cast(Mapping[str, Any], error.response).get("Item")
            if existing:
                return LedgerEntry.model_validate(_from_item(existing))
            stored = self.entries(entry.order_id).get(entry.entry)
            if stored is None:
                raise
            return stored
        return entry


class OrderEvents:
    """Order events on the workflow's EventBridge bus."""

    def __init__(self, bus_name: str, *, source: str, client: Any = None) -> None:
        self.bus_name = bus_name
        self.source = source
        self._client = client

    def publish(self, detail_type: str, detail: Mapping[str, Any]) -> str:
        """Put one event; raise TransientError when the bus does not accept it. Returns its id."""
        with _transient_errors("publish event"):
            response = (self._client or events_client()).put_events(
                Entries=[
                    {
                        "EventBusName": self.bus_name,
                        "Source": self.source,
                        "DetailType": detail_type,
                        "Detail": json.dumps(detail, separators=(",", ":")),
                    }
                ]
            )
        (entry,) = response["Entries"]
        if response.get("FailedEntryCount", 0) or "EventId" not in entry:
            raise TransientError(f"event {detail_type} not accepted: {entry.get('ErrorCode', 'unknown error')}")
        return str(entry["EventId"])
