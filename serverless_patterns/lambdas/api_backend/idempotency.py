"""Idempotent creation: a retried POST with the same ``Idempotency-Key`` returns the first result.

``IdempotentCreate`` wraps your create function with Powertools idempotency on the construct's
idempotency table (``IDEMPOTENCY_TABLE_NAME``, records kept ``IDEMPOTENCY_TTL_SECONDS``)::

    create_order = IdempotentCreate(store_order, item_model=Order, key_prefix="orders-create")

    created = create_order(order_input, key=idempotency_key, principal=caller_principal(event),
                           lambda_context=router.lambda_context)
    created.item, created.replayed

Keys are scoped to the caller (``principal``), so two callers cannot collide or read each
other's results. Reusing a key with another body is ``IdempotencyKeyReusedError`` (422); a
retry while the first request still runs is ``RequestInProgressError`` (409), and afterwards it
gets the stored result. A create that fails stores nothing, so the key can be retried. Without a
key, every call creates, and Powertools' idempotency utility is not even imported (it is loaded
by the first request that sends a key).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel

from serverless_patterns.lambdas.api_backend import resources
from serverless_patterns.lambdas.api_backend.errors import IdempotencyKeyReusedError, RequestInProgressError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

InputT = TypeVar("InputT", bound=BaseModel)
ItemT = TypeVar("ItemT", bound=BaseModel)


@dataclass(frozen=True)
class Created(Generic[ItemT]):
    """A created item, and whether it is the stored result of an earlier request with the same key."""

    item: ItemT
    replayed: bool


@dataclass(frozen=True)
class _Replay:
    item: Any


def _mark_replay(response: Any, idempotent_data: DataRecord) -> _Replay:
    return _Replay(item=response)


@dataclass(frozen=True)
class _Once:
    """What is built per idempotency store and TTL: the config and the idempotent function."""

    store: object
    ttl_seconds: int
    config: IdempotencyConfig
    create: Callable[..., Any]


class IdempotentCreate(Generic[InputT, ItemT]):
    """``create(data) -> item``, made idempotent on (caller, Idempotency-Key).

    :param create: stores a new item from the validated request and returns it.
    :param item_model: the item's pydantic model: a replay is the stored result, validated into it.
    :param key_prefix: names these records in the idempotency table (one per kind of create).
    """

    def __init__(self, create: Callable[[InputT], ItemT], *, item_model: type[ItemT], key_prefix: str) -> None:
        self._create = create
        self._item_model = item_model
        self._key_prefix = key_prefix
        self._once: _Once | None = None

    def __call__(
        self, data: InputT, *, key: str | None, principal: str, lambda_context: LambdaContext | None
    ) -> Created[ItemT]:
        """Create from ``data``; with a key, a retry returns the first result instead.

        :param key: the request's ``Idempotency-Key`` (None: create unconditionally).
        :param principal: who is calling (``caller_principal``); keys are scoped to it.
        :param lambda_context: lets an in-progress record expire with the invocation holding it,
            instead of blocking retries until the record's TTL when that invocation dies.
        """
        if key is None:
            return Created(self._create(data), replayed=False)
        from aws_lambda_powertools.utilities.idempotency.exceptions import (  # only requests that send a key
            IdempotencyAlreadyInProgressError,
            IdempotencyValidationError,
        )

        once = self._built()
        if lambda_context is not None:
            once.config.register_lambda_context(lambda_context)
        request = {"principal": principal, "key": key, "data": data.model_dump(mode="json")}
        try:
            result = once.create(request=request, data=data)
        except IdempotencyValidationError:
            raise IdempotencyKeyReusedError from None
        except IdempotencyAlreadyInProgressError:
            raise RequestInProgressError from None
        if isinstance(result, _Replay):
            return Created(result.item, replayed=True)
        return Created(result, replayed=False)

    def _built(self) -> _Once:
        """Built on first use (it needs the table client), again if the store or the TTL changed."""
        from aws_lambda_powertools.utilities.idempotency import (  # only requests that send a key
            IdempotencyConfig,
            idempotent_function,
        )
        from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import (
            PydanticSerializer,
        )

        store = resources.idempotency_store()
        ttl_seconds = resources.environment().idempotency_ttl_seconds
        once = self._once
        if once is None or once.store is not store or once.ttl_seconds != ttl_seconds:
            config = IdempotencyConfig(
                event_key_jmespath="[principal, key]",
                payload_validation_jmespath="data",
                raise_on_no_idempotency_key=True,
                expires_after_seconds=ttl_seconds,
                response_hook=_mark_replay,
            )
            create: Callable[..., Any] = idempotent_function(
                self._run,
                data_keyword_argument="request",
                persistence_store=store,
                config=config,
                output_serializer=PydanticSerializer(model=self._item_model),
                key_prefix=self._key_prefix,
            )
            once = self._once = _Once(store, ttl_seconds, config, create)
        return once

    def _run(self, *, request: dict[str, Any], data: InputT) -> ItemT:
        """The create itself; ``request`` (caller, key, body) is what the record is keyed and checked on."""
        return self._create(data)
