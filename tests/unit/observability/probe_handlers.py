"""Three handlers shaped like the patterns' (API, S3 batch, workflow step), using the shared module.

Imported only inside the probe's fresh process, after its environment is set.
"""

from __future__ import annotations

from typing import Any

from serverless_patterns.lambdas.shared.observability import (
    API_REQUEST_ID,
    BusinessMetric,
    CorrelationKey,
    business_metric,
    correlated,
    logger,
    observed,
)
from serverless_patterns.lambdas.shared.warmup import warmup_aware


class PaymentDeclinedError(Exception):
    """A business decline, as the order workflow raises it."""


@warmup_aware
@observed(correlation_id_path=API_REQUEST_ID)
def create_item(event: dict[str, Any], context: Any) -> dict[str, Any]:
    logger.debug("validated request")
    logger.info("item created", extra={"item_id": "item-1", "headers": event.get("headers", {})})
    business_metric(BusinessMetric.ITEMS_CREATED)
    return {"statusCode": 201}


@warmup_aware
@observed()
def process_files(event: dict[str, Any], context: Any) -> dict[str, int]:
    processed = 0
    for record in event["Records"]:
        key = record["s3"]["object"]["key"]
        with correlated(CorrelationKey.S3_KEY, key):
            if key.endswith(".exe"):
                logger.warning("file rejected")
                business_metric(BusinessMetric.FILES_REJECTED)
            else:
                logger.info("file processed")
                business_metric(BusinessMetric.FILES_PROCESSED)
                processed += 1
    logger.info("batch done")
    return {"processed": processed}


@warmup_aware
@observed(correlation_id_path="orderId")
def charge_payment(event: dict[str, Any], context: Any) -> dict[str, str]:
    with correlated(CorrelationKey.ORDER_ID, event["orderId"]):
        try:
            if event["amount"] > 1_000:
                raise PaymentDeclinedError("card declined")
        except PaymentDeclinedError:
            logger.exception("payment declined", extra={"card_number": event.get("cardNumber")})
            business_metric(BusinessMetric.PAYMENTS_DECLINED)
            raise
    business_metric(BusinessMetric.ORDERS_CONFIRMED)
    return {"status": "CONFIRMED"}
