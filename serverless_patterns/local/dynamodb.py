"""DynamoDB under concurrent handlers: one request at a time, and transactions that back up only their items.

``serialize``
    The emulator applies one DynamoDB request at a time, as DynamoDB orders conflicting
    writes. moto is not safe across threads otherwise: a transaction backs up whole tables
    and, when it is cancelled, puts the backups back, undoing whatever other requests wrote
    meanwhile.
``expire_ttl``
    Time to live on the virtual clock: items whose TTL attribute (a Number, epoch seconds)
    has passed are deleted when the clock moves past it (``drain``/``advance``). AWS deletes
    them "typically within a few days" and may return them until then; here they go at once,
    so a test that advances past an expiry sees the item gone. Readers that must not see
    expired items (Powertools idempotency) compare the expiry themselves, as on AWS.
``item_level_rollback``
    moto backs up every table a transaction names by deep-copying all of its items, which
    costs more as a table grows (a hundred orders make every reservation slower). Only the
    items the transaction's Put, Update and Delete operations name can change, so only
    those are copied, and put back when the transaction is cancelled. The outcome is the
    same; the cost no longer depends on the table's size.
"""

from __future__ import annotations

import copy
import threading
from contextlib import ExitStack
from types import ModuleType
from typing import Any
from unittest import mock

from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler

_WRITES = ("Put", "Update", "Delete")


_LOCK = threading.RLock()


def serialize(stack: ExitStack) -> None:
    """One DynamoDB request at a time in the emulator, for as long as ``stack`` is open."""
    original = DynamoHandler.call_action

    def call_action(handler: DynamoHandler) -> Any:
        with _LOCK:
            return original(handler)

    stack.enter_context(mock.patch.object(DynamoHandler, "call_action", call_action))


def expire_ttl(account_id: str, region: str, now: float) -> int:
    """Delete every item whose TTL (epoch seconds) is before ``now``; how many were deleted."""
    backend = dynamodb_models.dynamodb_backends[account_id][region]
    deleted = 0
    with _LOCK:
        for table in list(backend.tables.values()):
            ttl = table.ttl
            attribute = ttl.get("AttributeName")
            if ttl.get("TimeToLiveStatus") != "ENABLED" or not attribute:
                continue
            for item in table.all_items():
                value = item.attrs.get(attribute)
                if value is None or value.type != "N" or float(value.value) >= now:
                    continue
                key = {table.hash_key_attr: item.hash_key.to_json()}
                if table.range_key_attr is not None and item.range_key is not None:
                    key[table.range_key_attr] = item.range_key.to_json()
                backend.delete_item(table.name, key)
                deleted += 1
    return deleted


class _TablesNotCopied(ModuleType):
    """moto's ``copy`` module, except that a transaction in progress does not deep-copy tables."""

    def __init__(self, active: threading.local) -> None:
        super().__init__("copy")
        self._active = active

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        if isinstance(value, Table) and getattr(self._active, "transaction", False):
            return value  # moto's own rollback then puts back the live table: a no-op
        return copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def item_level_rollback(stack: ExitStack) -> None:
    """Back up only the items a transaction writes, for as long as ``stack`` is open."""
    original = DynamoDBBackend.transact_write_items
    active = threading.local()

    def transact_write_items(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        backups = [_backup(backend, item) for item in transact_items]
        active.transaction = True
        try:
            original(backend, transact_items)
        except BaseException:
            for backup in reversed(backups):
                if backup is not None:
                    _restore(*backup)
            raise
        finally:
            active.transaction = False

    stack.enter_context(mock.patch.object(dynamodb_models, "copy", _TablesNotCopied(active)))
    stack.enter_context(mock.patch.object(DynamoDBBackend, "transact_write_items", transact_write_items))


Backup = tuple[Table, DynamoType, DynamoType | None, Any]


def _backup(backend: DynamoDBBackend, transact_item: dict[str, Any]) -> Backup | None:
    """The item a write of the transaction names, as it is now (None inside: it does not exist yet)."""
    op_type, op = next(iter(transact_item.items()))
    table = backend.tables.get(op.get("TableName", "")) if isinstance(op, dict) else None
    if op_type not in _WRITES or table is None:
        return None
    attributes = op.get("Item" if op_type == "Put" else "Key") or {}
    if table.hash_key_attr not in attributes:
        return None  # moto rejects the request before writing anything
    hash_key = DynamoType(attributes[table.hash_key_attr])
    range_key = None
    if table.range_key_attr is not None:
        if table.range_key_attr not in attributes:
            return None
        range_key = DynamoType(attributes[table.range_key_attr])
    return table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))


def _restore(table: Table, hash_key: DynamoType, range_key: DynamoType | None, item: Any) -> None:
    """Put the item back as it was (directly: a rollback is not a write streams would see)."""
    if range_key is not None:
        if item is None:
            table.items.get(hash_key, {}).pop(range_key, None)
        else:
            table.items[hash_key][range_key] = item
    elif item is None:
        table.items.pop(hash_key, None)
    else:
        table.items[hash_key] = item
