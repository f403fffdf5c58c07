"""Names the handlers and the construct share: environment variables, events, metrics.

Pure constants (no imports), so the CDK construct can use them without pulling in
handler dependencies.
"""

from __future__ import annotations

SERVICE = "order-workflow"

# Environment variables the construct sets and the handlers' settings read.
ORDERS_TABLE_ENV = "ORDERS_TABLE"
INVENTORY_TABLE_ENV = "INVENTORY_TABLE"
PAYMENTS_TABLE_ENV = "PAYMENTS_TABLE"
IDEMPOTENCY_TABLE_ENV = "IDEMPOTENCY_TABLE"
IDEMPOTENCY_TTL_ENV = "IDEMPOTENCY_TTL_SECONDS"
EVENT_BUS_ENV = "EVENT_BUS_NAME"
PAYMENT_GATEWAY_ENV = "PAYMENT_GATEWAY"
MAX_CHARGE_ENV = "MAX_CHARGE_CENTS"

# The HTTP payment gateway adapter's name (``WorkflowSettings.payment_gateway``) and the circuit
# breaker that guards its calls (its URL and secret variables: ``PAYMENT_GATEWAY_URL``/``_SECRET_ARN``).
HTTP_PAYMENT_GATEWAY = "http"
PAYMENT_GATEWAY_BREAKER = "payment-gateway"

# Order events on the workflow's event bus: OrderPlaced starts the workflow,
# OrderConfirmed is emitted once the order is paid, reserved and confirmed.
EVENT_SOURCE = "serverless-patterns.orders"
ORDER_PLACED = "OrderPlaced"
ORDER_CONFIRMED = "OrderConfirmed"

# Business metrics (EMF, dimension ``service``).
ORDERS_VALIDATED = "OrdersValidated"
ORDERS_REJECTED = "OrdersRejected"
PAYMENTS_CHARGED = "PaymentsCharged"
PAYMENTS_DECLINED = "PaymentsDeclined"
GATEWAY_UNAVAILABLE = "PaymentGatewayUnavailable"
ORDERS_RESERVED = "OrdersReserved"
ORDERS_OUT_OF_STOCK = "OrdersOutOfStock"
ORDERS_CONFIRMED = "OrdersConfirmed"
PAYMENTS_REFUNDED = "PaymentsRefunded"
ORDERS_FAILED = "OrdersFailed"

# Stable idempotency-key prefix of the charge: survives function renames and replacements.
CHARGE_IDEMPOTENCY_PREFIX = "order-workflow.charge"
