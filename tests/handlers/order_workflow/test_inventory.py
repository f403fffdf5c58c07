"""UpdateInventory under moto: all lines or none, never below zero, idempotent."""

from __future__ import annotations

from typing import Any

import pytest

from serverless_patterns.lambdas.order_workflow import charge, inventory, validate
from serverless_patterns.lambdas.order_workflow.errors import OrderStateError, OutOfStock
from tests.handlers.order_workflow.conftest import INVENTORY_TABLE, Cloud, LambdaContext, order_request


def _charged(cloud: Cloud, context: LambdaContext, **stock: int) -> dict[str, Any]:
    cloud.seed_stock(**stock)
    order: dict[str, Any] = validate.handler(order_request(), context)["order"]
    charge.handler(order, context)
    return order


def test_every_line_is_taken_and_the_order_reserved(cloud: Cloud, context: LambdaContext) -> None:
    order = _charged(cloud, context, **{"SKU-A": 5, "SKU-B": 1})

    reservation = inventory.handler(order, context)

    assert reservation["order_id"] == "order-1"
    assert reservation["units"] == 3
    assert (cloud.stock("SKU-A"), cloud.stock("SKU-B")) == (3, 0)
    stored = cloud.order("order-1")
    assert stored["status"] == "RESERVED"
    assert stored["reserved_at"] == reservation["reserved_at"]


def test_a_repeated_reservation_takes_nothing_more(cloud: Cloud, context: LambdaContext) -> None:
    order = _charged(cloud, context, **{"SKU-A": 5, "SKU-B": 5})
    first = inventory.handler(order, context)

    assert inventory.handler(order, context) == first
    assert (cloud.stock("SKU-A"), cloud.stock("SKU-B")) == (3, 4)


def test_one_short_line_reserves_nothing_and_names_the_shortage(cloud: Cloud, context: LambdaContext) -> None:
    order = _charged(cloud, context, **{"SKU-A": 1, "SKU-B": 5})

    with pytest.raises(OutOfStock, match="SKU-A: requested 2, 1 available"):
        inventory.handler(order, context)

    assert (cloud.stock("SKU-A"), cloud.stock("SKU-B")) == (1, 5)
    assert cloud.order("order-1")["status"] == "CHARGED"


def test_a_sku_removed_since_validation_is_out_of_stock(cloud: Cloud, context: LambdaContext) -> None:
    order = _charged(cloud, context, **{"SKU-A": 5, "SKU-B": 5})
    cloud.dynamodb.delete_item(TableName=INVENTORY_TABLE, Key={"sku": {"S": "SKU-B"}})

    with pytest.raises(OutOfStock, match="SKU-B: requested 1, unknown SKU"):
        inventory.handler(order, context)
    assert cloud.stock("SKU-A") == 5


def test_an_order_that_is_not_charged_takes_no_stock(cloud: Cloud, context: LambdaContext) -> None:
    cloud.seed_stock(**{"SKU-A": 5, "SKU-B": 5})
    order = validate.handler(order_request(), context)["order"]

    with pytest.raises(OrderStateError, match="VALIDATED, not CHARGED"):
        inventory.handler(order, context)
    assert (cloud.stock("SKU-A"), cloud.stock("SKU-B")) == (5, 5)
