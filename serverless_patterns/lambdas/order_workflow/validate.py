"""ValidateOrder: parse the submitted order, check its SKUs, record it as VALIDATED.

Input: the order as submitted. Output: ``{"order": <validated order with total_cents>}``,
which becomes the execution's state. Raises ValidationError (caught: ValidationFailed).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_patterns.lambdas.order_workflow import logic, names
from serverless_patterns.lambdas.order_workflow.data import Inventory, Orders
from serverless_patterns.lambdas.order_workflow.errors import ValidationError
from serverless_patterns.lambdas.order_workflow.settings import ValidateSettings
from serverless_patterns.lambdas.shared.observability import logger, metrics
from serverless_patterns.lambdas.shared.settings import load_settings
from serverless_patterns.lambdas.shared.warmup import warmup_aware


@warmup_aware
@logger.inject_lambda_context(correlation_id_path="order_id", log_event=False, clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings(ValidateSettings)
    try:
        order = logic.validate_order(
            event,
            orders=Orders(settings.orders_table),
            inventory=Inventory(settings.inventory_table),
            now=datetime.now(UTC),
        )
    except ValidationError as rejected:
        metrics.add_metric(name=names.ORDERS_REJECTED, unit=MetricUnit.Count, value=1)
        logger.warning("order rejected", extra={"reason": str(rejected)})
        raise
    metrics.add_metric(name=names.ORDERS_VALIDATED, unit=MetricUnit.Count, value=1)
    logger.info("order validated", extra={"lines": len(order.lines), "total_cents": order.total_cents})
    return {"order": order.model_dump(mode="json")}
