"""The order model, its fingerprint and the Catch payload's reason."""

from __future__ import annotations

import json
from typing import Any

import pytest

from serverless_patterns.lambdas.order_workflow.errors import ValidationError
from serverless_patterns.lambdas.order_workflow.models import (
    MAX_LINES,
    MAX_REASON_LENGTH,
    Failure,
    Order,
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
