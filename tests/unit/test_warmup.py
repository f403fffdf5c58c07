"""``warmup_aware`` answers the keep-warm ping itself and hands every other event, of any shape, to the handler."""

from __future__ import annotations

from typing import Any

from hypothesis import assume, given, strategies as st

from serverless_patterns.lambdas.shared.warmup import WARMUP_EVENT, WARMUP_RESPONSE, warmup_aware

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


def _echo(event: Any, context: Any) -> dict[str, Any]:
    return {"handled": event}


@given(JSON)
def test_any_event_but_the_ping_reaches_the_handler_unchanged(event: Any) -> None:
    assume(not (isinstance(event, dict) and event.get("source") == WARMUP_EVENT["source"]))
    assert warmup_aware(_echo)(event, None) == {"handled": event}


@given(st.dictionaries(st.text(), JSON, max_size=4))
def test_the_ping_with_any_other_keys_is_still_the_ping(extra: dict[str, Any]) -> None:
    assert warmup_aware(_echo)({**extra, **WARMUP_EVENT}, None) == WARMUP_RESPONSE
