"""The order model, its fingerprint and the Catch payload's reason."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from serverless_patterns.lambdas.order_workflow.errors import ValidationError
from serverless_patterns.lambdas.order_workflow.models import (
    MAX_LINES,
    MAX_QUANTITY,
    MAX_REASON_LENGTH,
    CompensationRequest,
    Failure,
    Order,
    OrderRequest,
    OrderStatus,
    StoredOrder,
    parse_order_request,
)
from serverless_patterns.lambdas.shared.shapes import ShapeError


def _request(**overrides: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "order_id": "order-1",
        "customer_id": "customer-1",
        "currency": "EUR",
        "lines": [{"sku": "SKU-A", "quantity": 3, "unit_price_cents": 700}],
    }
    return {**request, **overrides}


def test_the_validated_order_carries_its_total() -> None:
    order = Order.from_request(parse_order_request(_request()))
    assert order.total_cents == 2100
    assert Order.model_validate(order.model_dump(mode="json")) == order


def test_a_total_that_does_not_match_the_lines_is_refused() -> None:
    with pytest.raises(ShapeError, match="does not match the lines"):
        Order.model_validate({**_request(), "total_cents": 1})


def test_the_fingerprint_follows_the_content_not_the_key_order() -> None:
    order = Order.from_request(parse_order_request(_request()))
    reordered = Order.model_validate(dict(reversed(list(order.model_dump(mode="json").items()))))
    assert reordered.fingerprint() == order.fingerprint()
    other = Order.from_request(parse_order_request(_request(currency="USD")))
    assert other.fingerprint() != order.fingerprint()


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"order_id": "has space"}, "order_id: String should match pattern"),
        ({"order_id": "x" * 65}, "order_id: String should match pattern"),
        ({"currency": "EURO"}, "currency: String should match pattern"),
        ({"lines": [{"sku": "SKU-A", "quantity": 1.5, "unit_price_cents": 1}]}, "lines.0.quantity"),
        ({"lines": [{"sku": "SKU-A", "quantity": 1001, "unit_price_cents": 1}]}, "less than or equal to 1000"),
        ({"lines": [{"sku": "SKU-A", "quantity": 1, "unit_price_cents": -1}]}, "lines.0.unit_price_cents"),
        (
            {"lines": [{"sku": f"SKU-{n}", "quantity": 1, "unit_price_cents": 1} for n in range(MAX_LINES + 1)]},
            f"at most {MAX_LINES} items",
        ),
    ],
)
def test_every_problem_is_named_by_its_field(overrides: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        parse_order_request(_request(**overrides))


def test_an_unusable_order_id_is_not_echoed() -> None:
    with pytest.raises(ValidationError, match=r"^order <unidentified> is invalid"):
        parse_order_request(_request(order_id="y" * 500, currency="bad"))


def test_reason_is_the_lambda_error_message() -> None:
    cause = json.dumps({"errorMessage": "SKU-A: requested 2, 1 available", "errorType": "OutOfStock"})
    assert Failure.model_validate({"Error": "OutOfStock", "Cause": cause}).reason == "SKU-A: requested 2, 1 available"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"Error": "States.Timeout", "Cause": "The task timed out"}, "The task timed out"),
        ({"Error": "States.Timeout"}, "States.Timeout"),
        ({"Error": "X", "Cause": json.dumps(["not", "a", "dict"])}, '["not", "a", "dict"]'),
        ({"Error": "X", "Cause": "c" * 5000}, "c" * MAX_REASON_LENGTH),
    ],
)
def test_reason_falls_back_to_the_cause_text(payload: dict[str, str], reason: str) -> None:
    assert Failure.model_validate(payload).reason == reason


# Stored orders keep the fingerprint they were written with (pydantic's model_dump(mode="json")):
# the same content must hash the same, or every resubmitted order would be refused as a reused id.
@pytest.mark.parametrize(
    ("request_", "fingerprint"),
    [
        (_request(), "f0a4d00c99a60148e0a2065a6490f1df6c903e47a5e2b3c1166c724205e1891d"),
        (
            _request(
                order_id="o_2",
                customer_id="c",
                currency="USD",
                lines=[
                    {"sku": "B", "quantity": 1, "unit_price_cents": 0},
                    {"sku": "A", "quantity": 1000, "unit_price_cents": 100_000_000},
                ],
            ),
            "2efed7cb95f5c7a12809c74406299d89ac12daf0486e5c8b3e5703d772e43ce7",
        ),
    ],
)
def test_the_fingerprint_of_an_order_never_changes(request_: dict[str, Any], fingerprint: str) -> None:
    order = Order.from_request(parse_order_request(request_))
    assert order.fingerprint() == fingerprint
    assert list(order.model_dump(mode="json")) == ["order_id", "customer_id", "currency", "lines", "total_cents"]


@pytest.mark.parametrize("number", [True, "2", 2.0, Decimal(2)], ids=["bool", "string", "float", "decimal"])
@pytest.mark.parametrize("field", ["quantity", "unit_price_cents", "total_cents"])
def test_the_orders_integers_are_strict_wherever_it_is_read(number: object, field: str) -> None:
    line = {"sku": "SKU-A", "quantity": 2, "unit_price_cents": 1}
    order: dict[str, Any] = {**_request(lines=[line]), "total_cents": 2}
    where: tuple[str | int, ...]
    if field == "total_cents":
        order["total_cents"] = number
        where = ("total_cents",)
    else:
        line[field] = number
        where = ("lines", 0, field)
    with pytest.raises(ShapeError) as refused:
        Order.model_validate(order)
    assert refused.value.errors() == [{"loc": where, "msg": "Input should be a valid integer"}]


def test_a_repeated_sku_is_reported_at_the_lines_even_inside_another_record() -> None:
    line = {"sku": "SKU-A", "quantity": 1, "unit_price_cents": 5}
    order = {**_request(lines=[line, line]), "total_cents": 10}
    with pytest.raises(ShapeError) as refused:
        CompensationRequest.model_validate({"order": order, "failure": {"Error": "X"}})
    (problem,) = refused.value.errors()
    assert problem["loc"] == ("order", "lines")
    assert problem["msg"] == "Value error, each SKU may appear on one line only; repeated: SKU-A"
    with pytest.raises(ValidationError, match=r"^order order-1 is invalid: lines: Value error, each SKU"):
        parse_order_request(_request(lines=[line, line]))


def test_a_stored_order_nests_its_order_and_ignores_the_items_other_attributes() -> None:
    order = Order.from_request(parse_order_request(_request()))
    item = {"order": order.model_dump(mode="json"), "status": "CHARGED", "fingerprint": "f", "history": [{}]}
    stored = StoredOrder.model_validate(item)
    assert (stored.order, stored.status, stored.payment_id) == (order, OrderStatus.CHARGED, None)
    assert stored.status is OrderStatus.CHARGED


def test_failure_reads_the_catch_keys_or_its_own_names() -> None:
    assert Failure.model_validate({"Error": "E", "Cause": "c", "Other": 1}) == Failure(error="E", cause="c")
    assert Failure.model_validate({"error": "E"}) == Failure(error="E", cause="")
    assert Failure(error="E", cause="c").model_dump() == {"error": "E", "cause": "c"}


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


def _spoiled(valid: st.SearchStrategy[dict[str, Any]], keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """A valid record with none, one or two of ``keys`` set to any JSON: both outcomes get explored."""
    spoils = st.dictionaries(st.sampled_from(keys), _JSON, max_size=2)
    return st.builds(lambda record, spoil: {**record, **spoil}, valid, spoils)


_LINE = _spoiled(
    st.fixed_dictionaries(
        {
            "sku": st.sampled_from(["SKU-A", "SKU-B", "SKU-C"]),
            "quantity": st.integers(1, MAX_QUANTITY),
            "unit_price_cents": st.integers(0, 10_000),
        }
    ),
    ["sku", "quantity", "unit_price_cents", "note"],
)
_ORDERS = _spoiled(
    st.fixed_dictionaries(
        {
            "order_id": st.sampled_from(["order-1", "O_2", "x" * 64]),
            "customer_id": st.just("customer-1"),
            "currency": st.sampled_from(["EUR", "USD"]),
            "lines": st.lists(_LINE, min_size=1, max_size=3),
        }
    ),
    ["order_id", "customer_id", "currency", "lines", "total_cents"],
)


@settings(max_examples=150, deadline=None)
@given(st.one_of(_JSON, _ORDERS))
def test_any_json_is_an_order_request_or_a_validation_error(raw: object) -> None:
    outcome = _parsed(raw)
    if isinstance(outcome, ValidationError):
        assert str(outcome).startswith("order ")
    else:
        assert isinstance(outcome, OrderRequest)
        assert OrderRequest.model_validate(outcome.model_dump(mode="json")) == outcome


def _parsed(raw: object) -> OrderRequest | ValidationError:
    """The request, or the domain error; any other exception fails the test."""
    try:
        return parse_order_request(raw)
    except ValidationError as invalid:
        return invalid
