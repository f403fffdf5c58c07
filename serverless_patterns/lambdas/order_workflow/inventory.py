"""UpdateInventory: reserve every line of the order in one DynamoDB transaction.

Input: the validated order (``$.order``). Output: the reservation (``$.reservation``).
Raises OutOfStock (the payment is then refunded) or TransientError on a conflict.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_patterns.lambdas.order_workflow import logic, names
from serverless_patterns.lambdas.order_workflow.data import Inventory, Orders
from serverless_patterns.lambdas.order_workflow.errors import OutOfStock
from serverless_patterns.lambdas.order_workflow.models import Order
from serverless_patterns.lambdas.order_workflow.settings import InventorySettings
from serverless_patterns.lambdas.shared.observability import logger, metrics
from serverless_patterns.lambdas.shared.settings import load_settings
from serverless_patterns.lambdas.shared.warmup import warmup_aware


@warmup_aware
@logger.inject_lambda_context(correlation_id_path="order_id", log_event=False, clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings(InventorySettings)
    try:
        reservation = logic.reserve_inventory(
            Order.model_validate(event),
            orders=Orders(settings.orders_table),
            inventory=Inventory(settings.inventory_table),
            now=datetime.now(UTC),
        )
    except OutOfStock as short:
        metrics.add_metric(name=names.ORDERS_OUT_OF_STOCK, unit=MetricUnit.Count, value=1)
        logger.info("order out of stock", extra={"reason": str(short)})
        raise
    metrics.add_metric(name=names.ORDERS_RESERVED, unit=MetricUnit.Count, value=1)
    return reservation.model_dump(mode="json")
