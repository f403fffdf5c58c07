"""The payment gateway seam of ChargePayment and RefundPayment.

An adapter turns a charge or refund request into a gateway reference. Its contract:

- raise ``PaymentError`` for a business decline (never retried; the order ends in PaymentFailed);
- raise ``PaymentGatewayUnavailable`` for anything transient: connection errors, timeouts,
  5xx answers, an open circuit breaker (retried with backoff, then the order is compensated);
- pass ``idempotency_key`` to the gateway, so a charge repeated after a crash between the
  gateway call and the ledger write is not taken twice;
- answer ``find_charge``: after a timeout we cannot know whether the gateway took the money,
  so the compensation asks before it decides there is nothing to refund.

Whatever the adapter, the charge and the refund are recorded in our payments ledger by
``logic``. Adapters are chosen by name (``PAYMENT_GATEWAY``) from ``GATEWAYS``; an adapter
with heavy imports registers a factory that imports lazily. Two ship: ``ledger`` (the default)
and ``http`` (a provider's REST API behind a circuit breaker: ``http_gateway``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from serverless_patterns.lambdas.order_workflow import names
from serverless_patterns.lambdas.order_workflow.errors import PaymentError
from serverless_patterns.lambdas.order_workflow.settings import GatewaySettings


@dataclass(frozen=True)
class ChargeRequest:
    order_id: str
    customer_id: str
    amount_cents: int
    currency: str
    idempotency_key: str


@dataclass(frozen=True)
class RefundRequest:
    order_id: str
    amount_cents: int
    currency: str
    charge_reference: str
    idempotency_key: str


@dataclass(frozen=True)
class GatewayReceipt:
    """The gateway's reference of a charge or refund."""

    reference: str


class PaymentGateway(Protocol):
    """What ChargePayment and RefundPayment need from a payment provider."""

    @property
    def name(self) -> str:
        """Recorded with every ledger entry."""
        ...

    def charge(self, request: ChargeRequest) -> GatewayReceipt:
        """Take the payment, or raise PaymentError / PaymentGatewayUnavailable."""
        ...

    def refund(self, request: RefundRequest) -> GatewayReceipt:
        """Give a charge back, or raise PaymentGatewayUnavailable."""
        ...

    def find_charge(self, order_id: str, idempotency_key: str) -> GatewayReceipt | None:
        """The charge taken under ``idempotency_key`` whose answer never reached us, if any."""
        ...


class LedgerGateway:
    """The default adapter: the charge is the entry in our own payments ledger.

    For internal settlement (store credit, invoicing) and for environments without a
    provider. It declines charges above the per-order limit, as a provider would.
    """

    name = "ledger"

    def __init__(self, *, max_charge_cents: int) -> None:
        self._max_charge_cents = max_charge_cents

    def charge(self, request: ChargeRequest) -> GatewayReceipt:
        if request.amount_cents > self._max_charge_cents:
            raise PaymentError(
                f"payment for order {request.order_id} declined: {request.amount_cents} {request.currency} "
                f"cents exceeds the per-order limit of {self._max_charge_cents}"
            )
        return GatewayReceipt(reference=f"ledger-{request.idempotency_key}")

    def refund(self, request: RefundRequest) -> GatewayReceipt:
        return GatewayReceipt(reference=f"ledger-{request.idempotency_key}")

    def find_charge(self, order_id: str, idempotency_key: str) -> GatewayReceipt | None:
        # The ledger entry is the charge itself: no entry, no charge.
        return None


GatewayFactory = Callable[[GatewaySettings], PaymentGateway]


def _http_gateway(settings: GatewaySettings) -> PaymentGateway:
    # Imported here: only containers configured for the provider load its client, breaker and secret.
    from serverless_patterns.lambdas.order_workflow.http_gateway import HttpPaymentGateway

    return HttpPaymentGateway.from_env(max_charge_cents=settings.max_charge_cents)


GATEWAYS: dict[str, GatewayFactory] = {
    LedgerGateway.name: lambda settings: LedgerGateway(max_charge_cents=settings.max_charge_cents),
    names.HTTP_PAYMENT_GATEWAY: _http_gateway,
}


@functools.cache
def payment_gateway(settings: GatewaySettings) -> PaymentGateway:
    """The configured adapter, built once per container (it may hold connections or secrets)."""
    try:
        factory = GATEWAYS[settings.payment_gateway]
    except KeyError:
        raise ValueError(
            f"unknown payment gateway {settings.payment_gateway!r}; choose one of {sorted(GATEWAYS)}"
        ) from None
    return factory(settings)
