"""ChargePayment: charge the order exactly once (Powertools idempotency on the order id).

Input: the validated order (``$.order``). Output: the payment receipt (``$.payment``);
a repeated charge of the same order returns the first receipt without asking the
provider. Raises PaymentError on a decline (not retried) and PaymentGatewayUnavailable
when the provider cannot be reached (retried, then compensated).

``handler`` charges through the built-in provider the environment names; ``build_handler``
makes the same handler around your own provider (``custom.build_charge_handler``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_patterns.lambdas.order_workflow import logic, names
from serverless_patterns.lambdas.order_workflow.data import Ledger, Orders, dynamodb_client
from serverless_patterns.lambdas.order_workflow.errors import PaymentError, PaymentGatewayUnavailable
from serverless_patterns.lambdas.order_workflow.gateway import PaymentProvider, checked_provider, configured_provider
from serverless_patterns.lambdas.order_workflow.models import Order
from serverless_patterns.lambdas.order_workflow.settings import ChargeSettings, GatewaySettings
from serverless_patterns.lambdas.shared.observability import logger, metrics
from serverless_patterns.lambdas.shared.settings import load_settings
from serverless_patterns.lambdas.shared.warmup import LambdaHandler, warmup_aware

ChargeOnce = Callable[..., dict[str, Any]]
ProviderSource = Callable[[], PaymentProvider]


@functools.cache
def idempotent_charge(provider: ProviderSource) -> tuple[ChargeOnce, IdempotencyConfig]:
    """The charge through ``provider()`` wrapped in Powertools idempotency, built once per container.

    Keyed on the order id under a fixed prefix (so a renamed function keeps its keys); the
    customer, currency and total must match the first charge, else IdempotencyValidationError.
    """
    settings = load_settings(ChargeSettings)

    def charge(*, order: dict[str, Any]) -> dict[str, Any]:
        receipt = logic.charge_payment(
            Order.model_validate(order),
            orders=Orders(settings.orders_table),
            ledger=Ledger(settings.payments_table),
            provider=provider(),
            max_charge_cents=load_settings(GatewaySettings).max_charge_cents,
            now=datetime.now(UTC),
        )
        return receipt.model_dump(mode="json")

    config = IdempotencyConfig(
        event_key_jmespath="order_id",
        payload_validation_jmespath="[customer_id, currency, total_cents]",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=settings.idempotency_ttl_seconds,
    )
    store = DynamoDBPersistenceLayer(table_name=settings.idempotency_table, boto3_client=dynamodb_client())
    charge_once = idempotent_function(
        charge,
        data_keyword_argument="order",
        config=config,
        persistence_store=store,
        key_prefix=names.CHARGE_IDEMPOTENCY_PREFIX,
    )
    return charge_once, config


def _handler(provider: ProviderSource) -> LambdaHandler:
    @warmup_aware
    @logger.inject_lambda_context(correlation_id_path="order_id", log_event=False, clear_state=True)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        charge_once, config = idempotent_charge(provider)
        config.register_lambda_context(context)
        try:
            receipt = charge_once(order=event)
        except PaymentError as declined:
            metrics.add_metric(name=names.PAYMENTS_DECLINED, unit=MetricUnit.Count, value=1)
            logger.info("payment declined", extra={"reason": str(declined)})
            raise
        except PaymentGatewayUnavailable as unavailable:
            metrics.add_metric(name=names.GATEWAY_UNAVAILABLE, unit=MetricUnit.Count, value=1)
            logger.warning("payment gateway unavailable", extra={"reason": str(unavailable)})
            raise
        except Exception:
            logger.exception("charge failed; retried, then compensated")
            raise
        metrics.add_metric(name=names.PAYMENTS_CHARGED, unit=MetricUnit.Count, value=1)
        logger.info("payment charged", extra={"payment_id": receipt["payment_id"]})
        return receipt

    return cast(LambdaHandler, handler)


def build_handler(provider: PaymentProvider) -> LambdaHandler:
    """ChargePayment's handler charging through ``provider`` (checked now: a TypeError names what is missing)."""
    checked = checked_provider(provider)
    return _handler(lambda: checked)


handler = _handler(configured_provider)
