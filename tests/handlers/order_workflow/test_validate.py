"""ValidateOrder under moto."""

from __future__ import annotations

import json

import pytest

from serverless_patterns.lambdas.order_workflow import validate
from serverless_patterns.lambdas.order_workflow.errors import ValidationError
from serverless_patterns.lambdas.shared.warmup import WARMUP_EVENT, WARMUP_RESPONSE
from tests.handlers.order_workflow.conftest import Cloud, LambdaContext, order_request


def _emf_metrics(output: str) -> set[str]:
    names: set[str] = set()
    for line in output.splitlines():
        if '"_aws"' in line:
            for directive in json.loads(line)["_aws"]["CloudWatchMetrics"]:
                names.update(metric["Name"] for metric in directive["Metrics"])
    return names


def test_valid_order_is_recorded_with_its_total(
    cloud: Cloud, context: LambdaContext, capsys: pytest.CaptureFixture[str]
) -> None:
    cloud.seed_stock(**{"SKU-A": 5, "SKU-B": 5})

    result = validate.handler(order_request(), context)

    assert result["order"]["total_cents"] == 3000
    assert result["order"]["lines"][0] == {"sku": "SKU-A", "quantity": 2, "unit_price_cents": 1250}
    stored = cloud.order("order-1")
    assert stored["status"] == "VALIDATED"
    assert stored["total_cents"] == 3000
    assert [entry["status"] for entry in stored["history"]] == ["VALIDATED"]
    assert "OrdersValidated" in _emf_metrics(capsys.readouterr().out)


def test_invalid_order_lists_every_problem_without_values(
    cloud: Cloud, context: LambdaContext, capsys: pytest.CaptureFixture[str]
) -> None:
    submitted = order_request(
        customer_id="has spaces",
        currency="euro",
        lines=[{"sku": "SKU-A", "quantity": 0, "unit_price_cents": 100}, {"sku": "SKU-A", "quantity": 1}],
    )

    with pytest.raises(ValidationError) as rejected:
        validate.handler(submitted, context)

    message = str(rejected.value)
    assert message.startswith("order order-1 is invalid: ")
    for path in ("customer_id", "currency", "lines.0.quantity", "lines.1.unit_price_cents"):
        assert path in message
    assert "has spaces" not in message
    assert "euro" not in message
    assert cloud.order("order-1") == {}
    output = capsys.readouterr().out
    assert "OrdersRejected" in _emf_metrics(output)
    assert "has spaces" not in output


@pytest.mark.parametrize(
    ("submitted", "expected"),
    [
        ([], "the order must be a JSON object, not an array"),
        ("order-1", "not a string"),
        (7, "not a number"),
        (None, "not null"),
        (True, "not a boolean"),
        (order_request(lines=[{"sku": "SKU-A", "quantity": True, "unit_price_cents": 1}]), "quantity"),
        (order_request(lines=[{"sku": "SKU-A", "quantity": "2", "unit_price_cents": 1}]), "quantity"),
        (order_request(lines=[{"sku": "SKU-A", "quantity": 2.0, "unit_price_cents": 1}]), "quantity"),
        (order_request(lines=[{"sku": "SKU-A", "quantity": 1, "unit_price_cents": "1250"}]), "unit_price_cents"),
        (order_request(lines=[{"sku": "SKU-A", "quantity": 1, "unit_price_cents": True}]), "unit_price_cents"),
        (order_request(lines=[]), "lines: List should have at least 1 item"),
        (order_request(extra="x"), "extra: Extra inputs are not permitted"),
        (
            order_request(lines=[{"sku": "SKU-A", "quantity": 1, "unit_price_cents": 1}] * 2),
            "repeated: SKU-A",
        ),
        (order_request(lines=[{"sku": "SKU-A", "quantity": 1, "unit_price_cents": 0}]), "greater than zero"),
    ],
)
def test_malformed_orders_are_rejected_with_a_clear_message(
    cloud: Cloud, context: LambdaContext, submitted: object, expected: str
) -> None:
    cloud.seed_stock(**{"SKU-A": 5})
    with pytest.raises(ValidationError, match=expected):
        validate.handler(submitted, context)


def test_unknown_skus_are_a_validation_error(cloud: Cloud, context: LambdaContext) -> None:
    cloud.seed_stock(**{"SKU-A": 5})

    with pytest.raises(ValidationError, match="unknown SKU\\(s\\) SKU-B"):
        validate.handler(order_request(), context)
    assert cloud.order("order-1") == {}


def test_resubmitting_an_order_is_accepted_but_reusing_its_id_is_not(cloud: Cloud, context: LambdaContext) -> None:
    cloud.seed_stock(**{"SKU-A": 5, "SKU-B": 5})
    first = validate.handler(order_request(), context)

    assert validate.handler(order_request(), context) == first
    with pytest.raises(ValidationError, match="already used for a different order"):
        validate.handler(order_request(customer_id="someone-else"), context)
    assert cloud.order("order-1")["customer_id"] == "customer-7"


def test_warmup_event_returns_before_any_work(context: LambdaContext) -> None:
    assert validate.handler(dict(WARMUP_EVENT), context) == WARMUP_RESPONSE
