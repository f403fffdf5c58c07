"""Return at once on the keep-warm schedule's event, before any other work."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from serverless_patterns.lambdas.shared import cold_init

WARMUP_SOURCE = "serverless-patterns.warmup"
WARMUP_EVENT: dict[str, str] = {"source": WARMUP_SOURCE}
WARMUP_RESPONSE: dict[str, bool] = {"warmup": True}

HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])
# What a ``build_handler`` returns: the event as Lambda passes it, and Lambda's context (or a test's stand-in).
LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def is_warmup(event: object) -> bool:
    """True for the payload the keep-warm schedule sends."""
    return isinstance(event, dict) and event.get("source") == WARMUP_SOURCE


def warmup_aware(handler: HandlerT) -> HandlerT:
    """Outermost decorator: a warm-up event skips logging, metrics and logic; the first event ends init (``cold_init``).

    :param handler: the Lambda entry point to wrap.
    """

    @functools.wraps(handler)
    def wrapper(event: Any, context: Any) -> Any:
        cold_init.init_done()
        if is_warmup(event):
            return WARMUP_RESPONSE
        return handler(event, context)

    return wrapper  # type: ignore[return-value]
