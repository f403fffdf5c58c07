"""RefundPayment: the saga's compensation. Close the order as FAILED and refund its charge.

Input: ``{"order": $.order, "failure": $.failure}`` (the Catch's error and cause).
Output: the compensation (``$.compensation``) whose ``error`` and ``reason`` the
OrderFailed state reports, or ``fulfilled: true`` when the order was reserved after all.

``handler`` refunds through the built-in provider the environment names; ``build_handler``
makes the same handler around your own provider (``custom.build_refund_handler``): it must
be the provider ChargePayment charged through.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_patterns.lambdas.order_workflow import logic, names
from serverless_patterns.lambdas.order_workflow.data import Ledger, Orders
from serverless_patterns.lambdas.order_workflow.gateway import PaymentProvider, checked_provider, configured_provider
from serverless_patterns.lambdas.order_workflow.models import CompensationRequest
from serverless_patterns.lambdas.order_workflow.settings import RefundSettings
from serverless_patterns.lambdas.shared.observability import logger, metrics
from serverless_patterns.lambdas.shared.settings import load_settings
from serverless_patterns.lambdas.shared.warmup import LambdaHandler, warmup_aware


def _handler(provider: Callable[[], PaymentProvider]) -> LambdaHandler:
    @warmup_aware
    @logger.inject_lambda_context(correlation_id_path="order.order_id", log_event=False, clear_state=True)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        settings = load_settings(RefundSettings)
        try:
            result = logic.compensate_order(
                CompensationRequest.model_validate(event),
                orders=Orders(settings.orders_table),
                ledger=Ledger(settings.payments_table),
                provider=provider(),
                now=datetime.now(UTC),
            )
        except Exception:
            logger.exception("compensation failed; retried, then CompensationFailed")
            raise
        if result.fulfilled:
            logger.warning("order already fulfilled; not compensated", extra={"error": result.error})
        else:
            metrics.add_metric(name=names.ORDERS_FAILED, unit=MetricUnit.Count, value=1)
            if result.refunded:
                metrics.add_metric(name=names.PAYMENTS_REFUNDED, unit=MetricUnit.Count, value=1)
            logger.info("order compensated", extra={"error": result.error, "refunded": result.refunded})
        return result.model_dump(mode="json")

    return cast(LambdaHandler, handler)


def build_handler(provider: PaymentProvider) -> LambdaHandler:
    """RefundPayment's handler refunding through ``provider`` (checked now: a TypeError names what is missing)."""
    checked = checked_provider(provider)
    return _handler(lambda: checked)


handler = _handler(configured_provider)
