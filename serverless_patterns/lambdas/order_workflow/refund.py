"""RefundPayment: the saga's compensation. Close the order as FAILED and refund its charge.

Input: ``{"order": $.order, "failure": $.failure}`` (the Catch's error and cause).
Output: the compensation (``$.compensation``) whose ``error`` and ``reason`` the
OrderFailed state reports, or ``fulfilled: true`` when the order was reserved after all.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_patterns.lambdas.order_workflow import logic, names
from serverless_patterns.lambdas.order_workflow.data import Ledger, Orders
from serverless_patterns.lambdas.order_workflow.gateway import payment_gateway
from serverless_patterns.lambdas.order_workflow.models import CompensationRequest
from serverless_patterns.lambdas.order_workflow.settings import GatewaySettings, RefundSettings
from serverless_patterns.lambdas.shared.observability import logger, metrics
from serverless_patterns.lambdas.shared.settings import load_settings
from serverless_patterns.lambdas.shared.warmup import warmup_aware


@warmup_aware
@logger.inject_lambda_context(correlation_id_path="order.order_id", log_event=False, clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings(RefundSettings)
    result = logic.compensate_order(
        CompensationRequest.model_validate(event),
        orders=Orders(settings.orders_table),
        ledger=Ledger(settings.payments_table),
        gateway=payment_gateway(load_settings(GatewaySettings)),
        now=datetime.now(UTC),
    )
    if result.fulfilled:
        logger.warning("order already fulfilled; not compensated", extra={"error": result.error})
    else:
        metrics.add_metric(name=names.ORDERS_FAILED, unit=MetricUnit.Count, value=1)
        if result.refunded:
            metrics.add_metric(name=names.PAYMENTS_REFUNDED, unit=MetricUnit.Count, value=1)
        logger.info("order compensated", extra={"error": result.error, "refunded": result.refunded})
    return result.model_dump(mode="json")
