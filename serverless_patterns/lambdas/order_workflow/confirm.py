"""SendConfirmation: run the confirmation step, mark the order CONFIRMED and emit OrderConfirmed.

Invoked by the state machine with the validated order (``$.order``), and by the
confirmation queue (an SQS batch) for confirmations the state machine deferred after
its retries ran out: those records fail individually and are retried by the queue.

``handler`` has no step of its own; ``build_handler`` adds yours (``custom.build_confirmation_handler``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_patterns.lambdas.order_workflow import logic, names
from serverless_patterns.lambdas.order_workflow.data import OrderEvents, Orders
from serverless_patterns.lambdas.order_workflow.logic import ConfirmationStep
from serverless_patterns.lambdas.order_workflow.models import ConfirmationResult, Order
from serverless_patterns.lambdas.order_workflow.settings import ConfirmSettings
from serverless_patterns.lambdas.shared.observability import logger, metrics
from serverless_patterns.lambdas.shared.settings import load_settings
from serverless_patterns.lambdas.shared.warmup import LambdaHandler, warmup_aware


def _confirm(order: Order, step: ConfirmationStep | None) -> ConfirmationResult:
    settings = load_settings(ConfirmSettings)
    result = logic.confirm_order(
        order,
        orders=Orders(settings.orders_table),
        events=OrderEvents(settings.event_bus_name, source=names.EVENT_SOURCE),
        now=datetime.now(UTC),
        step=step,
    )
    metrics.add_metric(name=names.ORDERS_CONFIRMED, unit=MetricUnit.Count, value=1)
    return result


def _confirm_batch(records: list[dict[str, Any]], step: ConfirmationStep | None) -> dict[str, Any]:
    failures = []
    for record in records:
        try:
            order = Order.model_validate_json(record["body"])
            logger.append_keys(correlation_id=order.order_id)
            _confirm(order, step)
        except Exception:
            logger.exception("deferred confirmation failed", extra={"message_id": record.get("messageId")})
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def _is_sqs_batch(event: dict[str, Any]) -> bool:
    records = event.get("Records")
    return isinstance(records, list) and all(record.get("eventSource") == "aws:sqs" for record in records)


def _handler(step: ConfirmationStep | None) -> LambdaHandler:
    @warmup_aware
    @logger.inject_lambda_context(correlation_id_path="order_id", log_event=False, clear_state=True)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        if _is_sqs_batch(event):
            return _confirm_batch(event["Records"], step)
        try:
            return _confirm(Order.model_validate(event), step).model_dump(mode="json")
        except Exception:
            logger.exception("confirmation failed; retried, then deferred to the confirmation queue")
            raise

    return cast(LambdaHandler, handler)


def build_handler(step: ConfirmationStep) -> LambdaHandler:
    """SendConfirmation's handler running ``step(order)`` before the order is recorded CONFIRMED."""
    if isinstance(step, type) or not callable(step):
        raise TypeError(
            f"the confirmation step must be a function taking the Order, got {type(step).__name__} {step!r}"
        )
    return _handler(step)


handler = _handler(None)
