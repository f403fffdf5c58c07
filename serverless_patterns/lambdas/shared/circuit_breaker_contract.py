"""What the circuit-breaker construct and the handler runtime agree on.

Environment variable names, metric names and the naming rule of breakers live
here, in a module with no third-party imports, so the CDK construct can import
it at synthesis time without pulling boto3, pydantic or Powertools in.
"""

from __future__ import annotations

import re
from typing import Final

TABLE_ENV: Final = "CIRCUIT_BREAKER_TABLE"
FAILURE_THRESHOLD_ENV: Final = "CIRCUIT_BREAKER_FAILURE_THRESHOLD"
WINDOW_SECONDS_ENV: Final = "CIRCUIT_BREAKER_WINDOW_SECONDS"
COOLDOWN_SECONDS_ENV: Final = "CIRCUIT_BREAKER_COOLDOWN_SECONDS"
CACHE_SECONDS_ENV: Final = "CIRCUIT_BREAKER_CACHE_SECONDS"
TRIAL_LEASE_SECONDS_ENV: Final = "CIRCUIT_BREAKER_TRIAL_LEASE_SECONDS"
CONNECT_TIMEOUT_ENV: Final = "HTTP_CONNECT_TIMEOUT_SECONDS"
READ_TIMEOUT_ENV: Final = "HTTP_READ_TIMEOUT_SECONDS"

# Partition key of the state table: one item per breaker name.
PARTITION_KEY = "pk"

# EMF metrics, in the function's metrics namespace, with the one dimension below.
DIMENSION = "CircuitBreaker"
METRIC_OPENED = "CircuitOpened"
METRIC_HALF_OPENED = "CircuitHalfOpened"
METRIC_CLOSED = "CircuitClosed"
METRIC_SHORT_CIRCUITED = "CircuitShortCircuited"

MAX_NAME_LENGTH = 48
_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")


def validate_name(name: str) -> str:
    """Refuse names that would not map one-to-one onto environment variable prefixes."""
    if len(name) > MAX_NAME_LENGTH or not _NAME.fullmatch(name):
        raise ValueError(
            f"breaker name {name!r} must be lowercase words of letters and digits joined by single hyphens, "
            f"at most {MAX_NAME_LENGTH} characters (e.g. 'payment-gateway')"
        )
    return name


def env_prefix(name: str) -> str:
    """``payment-gateway`` -> ``PAYMENT_GATEWAY``: the prefix of that dependency's own variables."""
    return validate_name(name).upper().replace("-", "_")


def url_env(name: str) -> str:
    """The variable holding the base URL of the HTTP dependency ``name``."""
    return f"{env_prefix(name)}_URL"


def secret_env(name: str) -> str:
    """The variable holding the ARN of the secret with the HTTP headers (credentials) of ``name``."""
    return f"{env_prefix(name)}_SECRET_ARN"


class DependencyUnavailableError(Exception):
    """A dependency cannot serve now: retry later. Neither the caller's fault nor a poison message.

    Defined here, free of third-party imports, so callers can catch it without importing the breaker.
    """
