"""Where a circuit breaker's shared state lives: one DynamoDB item per breaker, changed only by
conditional writes (``DynamoDBStateStore``), read back as a ``Snapshot``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from serverless_patterns.lambdas.shared.circuit_breaker_contract import PARTITION_KEY

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

# Attempts to count one failure while other containers keep restarting the window.
_COUNT_ATTEMPTS = 3


class BreakerState(StrEnum):
    """Where a breaker is in its cycle."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class Snapshot:
    """One breaker's shared state, as last read or written (epoch seconds)."""

    state: BreakerState = BreakerState.CLOSED
    failures: int = 0
    window_start: float = 0.0
    open_until: float = 0.0
    trial_until: float = 0.0


@dataclass(frozen=True)
class Transition:
    """A conditional write: whether it applied, and the state it left (or, if not, found)."""

    applied: bool
    snapshot: Snapshot


class DynamoDBStateStore:
    """The only code that touches the state table; every change is one conditional UpdateItem.

    Failed conditions return the item as it is (``ReturnValuesOnConditionCheckFailure``),
    so losing a race costs no extra read.
    """

    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self.table_name = table_name
        self._client = client

    def load(self, name: str) -> Snapshot:
        """The breaker's state; a breaker never written is closed."""
        response = self._client.get_item(TableName=self.table_name, Key=_key(name), ConsistentRead=True)
        return _snapshot(response.get("Item"))

    def record_failure(self, name: str, now: float, window_seconds: float) -> Snapshot:
        """Count one failure in the current window, or start a new window with it.

        A breaker that is no longer closed counts nothing: the state found is returned.
        """
        cutoff = now - window_seconds
        found = Snapshot()
        for _ in range(_COUNT_ATTEMPTS):
            counted = self._update(
                name,
                update="ADD failures :one SET #state = if_not_exists(#state, :closed), "
                "window_start = if_not_exists(window_start, :now)",
                condition=f"attribute_not_exists({PARTITION_KEY}) OR (#state = :closed AND window_start > :cutoff)",
                values={":one": 1, ":closed": BreakerState.CLOSED, ":now": now, ":cutoff": cutoff},
            )
            if counted.applied or counted.snapshot.state is not BreakerState.CLOSED:
                return counted.snapshot
            restarted = self._update(
                name,
                update="SET failures = :one, window_start = :now",
                condition="#state = :closed AND window_start <= :cutoff",
                values={":one": 1, ":closed": BreakerState.CLOSED, ":now": now, ":cutoff": cutoff},
            )
            found = restarted.snapshot
            if restarted.applied or found.state is not BreakerState.CLOSED:
                return found
            # Another container started the new window first: count this failure in it.
        return found

    def open(self, name: str, now: float, cooldown_seconds: float, *, trial_id: str = "") -> Transition:
        """Open a closed breaker, or reopen it after the failed trial ``trial_id``."""
        values: dict[str, str | float] = {":closed": BreakerState.CLOSED}
        condition = "#state = :closed"
        if trial_id:
            values, condition = _trial_values(trial_id), "#state = :half_open AND trial_id = :trial"
        return self._update(
            name,
            update="SET #state = :open, open_until = :until, failures = :zero, changed_at = :now "
            "REMOVE trial_id, trial_until",
            condition=condition,
            values={**values, ":open": BreakerState.OPEN, ":until": now + cooldown_seconds, ":zero": 0, ":now": now},
        )

    def begin_trial(self, name: str, now: float, lease_seconds: float, trial_id: str) -> Transition:
        """Claim the one trial call of an open breaker whose cooldown (or last trial's lease) has passed."""
        return self._update(
            name,
            update="SET #state = :half_open, trial_id = :trial, trial_until = :until, changed_at = :now",
            condition="(#state = :open AND open_until <= :now) OR (#state = :half_open AND trial_until <= :now)",
            values={
                ":open": BreakerState.OPEN,
                ":half_open": BreakerState.HALF_OPEN,
                ":trial": trial_id,
                ":until": now + lease_seconds,
                ":now": now,
            },
        )

    def close(self, name: str, now: float, trial_id: str) -> Transition:
        """Close the breaker after the successful trial ``trial_id`` (only its owner can)."""
        return self._update(
            name,
            update="SET #state = :closed, failures = :zero, window_start = :now, changed_at = :now "
            "REMOVE trial_id, trial_until, open_until",
            condition="#state = :half_open AND trial_id = :trial",
            values={**_trial_values(trial_id), ":closed": BreakerState.CLOSED, ":zero": 0, ":now": now},
        )

    def _update(self, name: str, *, update: str, condition: str, values: Mapping[str, str | float]) -> Transition:
        try:
            response = self._client.update_item(
                TableName=self.table_name,
                Key=_key(name),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={placeholder: _attribute(value) for placeholder, value in values.items()},
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return Transition(applied=False, snapshot=_snapshot(cast(Mapping[str, Any], error.response).get("Item")))
        return Transition(applied=True, snapshot=_snapshot(response.get("Attributes")))


def _key(name: str) -> dict[str, AttributeValueTypeDef]:
    return {PARTITION_KEY: {"S": name}}


def _trial_values(trial_id: str) -> dict[str, str | float]:
    return {":half_open": BreakerState.HALF_OPEN, ":trial": trial_id}


def _attribute(value: str | float) -> AttributeValueTypeDef:
    if isinstance(value, str):
        return {"S": str(value)}  # a BreakerState becomes its plain value
    return {"N": str(value) if isinstance(value, int) else f"{value:.3f}"}


def _snapshot(item: Mapping[str, Any] | None) -> Snapshot:
    if not item:
        return Snapshot()

    def number(attribute: str) -> float:
        return float(item[attribute]["N"]) if attribute in item else 0.0

    return Snapshot(
        state=BreakerState(item["state"]["S"]),
        failures=int(number("failures")),
        window_start=number("window_start"),
        open_until=number("open_until"),
        trial_until=number("trial_until"),
    )
