"""The box office's own tables, read and written with one DynamoDB client per container.

Each function learns a table's name from its environment (the stack sets it on the handler code).
"""

from __future__ import annotations

import functools
import os
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

WALLETS_TABLE_ENV = "BOX_OFFICE_WALLETS_TABLE"
TICKETS_TABLE_ENV = "BOX_OFFICE_TICKETS_TABLE"
# What "try again later" looks like; any other error is a fault of this code.
BUSY = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "TransactionConflictException",
        "TransactionInProgressException",
    }
)


_deserializer = TypeDeserializer()


class StorageBusy(Exception):  # noqa: N818 (a condition, not a bug)
    """The table cannot take the request right now; the caller retries."""


@functools.cache
def client() -> Any:
    """The container's DynamoDB client, created on first use."""
    return boto3.client("dynamodb")


def table(variable: str) -> str:
    """A table's name, from the variable the stack set."""
    return os.environ[variable]


def error_code(error: ClientError) -> str:
    """The DynamoDB error code of ``error``."""
    return str(error.response.get("Error", {}).get("Code", ""))


def busy_or_raise(error: ClientError) -> StorageBusy:
    """``StorageBusy`` for a transient error (for the caller to raise); re-raise anything else."""
    if error_code(error) in BUSY:
        return StorageBusy(error_code(error))
    raise error


def read(variable: str, key: dict[str, str]) -> dict[str, Any] | None:
    """An item by its string key attributes, read consistently, as Python values (numbers as ``Decimal``)."""
    try:
        response = client().get_item(
            TableName=table(variable), Key={name: {"S": value} for name, value in key.items()}, ConsistentRead=True
        )
    except ClientError as error:
        raise busy_or_raise(error) from error
    item = response.get("Item")
    return {name: _deserializer.deserialize(value) for name, value in item.items()} if item else None
