"""What the ApiBackend construct gives the API function, as the function sees it.

The construct sets these variables (``ApiEnvironment``, validated once per container):

``TABLE_NAME``
    the table (``ApiBackend.table``); the function may Get, Put, Update, Delete and Scan it.
``IDEMPOTENCY_TABLE_NAME``
    Powertools' idempotency records (key ``id``, TTL ``expiration``), for ``IdempotentCreate``.
``CURSOR_SECRET_ARN``
    the secret whose string signs page cursors (``VersionedRepository.scan_page``).
``IDEMPOTENCY_TTL_SECONDS``
    how long a retried create is answered from its first result.
``CORS_ORIGINS``
    the browser origins, comma-separated (read by ``ApiApp`` when it is built).

Clients are created once per container, on first use (never at import, so the warm-up ping
and a route that needs no AWS pay nothing), with timeouts well inside the function's own.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from pydantic import BaseModel, ConfigDict, Field

from serverless_patterns.lambdas.shared.settings import load_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_secretsmanager import SecretsManagerClient

CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=3, retries={"mode": "standard", "max_attempts": 3})
"""Timeouts and retries of the clients here; use it for clients of your own."""


class ApiEnvironment(BaseModel):
    """The variables the construct sets on the API function."""

    model_config = ConfigDict(frozen=True)

    table_name: str = Field(alias="TABLE_NAME", min_length=1)
    idempotency_table_name: str = Field(alias="IDEMPOTENCY_TABLE_NAME", min_length=1)
    cursor_secret_arn: str = Field(alias="CURSOR_SECRET_ARN", min_length=1)
    idempotency_ttl_seconds: int = Field(alias="IDEMPOTENCY_TTL_SECONDS", default=86_400, ge=60)


def environment() -> ApiEnvironment:
    """The construct's variables, read and validated once per container."""
    settings: ApiEnvironment = load_settings(ApiEnvironment)
    return settings


@functools.cache
def dynamodb() -> DynamoDBClient:
    """The container's DynamoDB client."""
    return boto3.client("dynamodb", config=CLIENT_CONFIG)


@functools.cache
def secrets_manager() -> SecretsManagerClient:
    """The container's Secrets Manager client."""
    return boto3.client("secretsmanager", config=CLIENT_CONFIG)


@functools.cache
def cursor_signing_key() -> bytes:
    """The HMAC key for page cursors, read from Secrets Manager once per container."""
    secret = secrets_manager().get_secret_value(SecretId=environment().cursor_secret_arn)
    return secret["SecretString"].encode("utf-8")


@functools.cache
def idempotency_store() -> DynamoDBPersistenceLayer:
    """Powertools' idempotency records table (key ``id``, TTL ``expiration``)."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(table_name=environment().idempotency_table_name, boto3_client=dynamodb())
