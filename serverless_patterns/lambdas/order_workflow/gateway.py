"""The payment provider seam of ChargePayment and RefundPayment: the ``PaymentProvider`` protocol.

A provider turns a charge or a refund into the provider's reference of it. Every provider, the
two built in (``ledger``, the default, and ``http``, a REST API behind a circuit breaker:
``http_gateway``) and yours (``custom.build_charge_handler``), meets one contract:

- ``charge(request, idempotency_key)``: take the payment once per ``idempotency_key``. A
  repeated call with a key already used returns the first charge's reference and takes
  nothing: after a timeout the step is retried with the same key, and only this makes the
  retry safe, whether or not the first call reached the provider. Raise ``PaymentError`` for
  a decline (a business outcome: never retried, the order ends in PaymentFailed) and
  ``PaymentGatewayUnavailable`` when the provider cannot be reached or its answer is lost
  (connection errors, timeouts, 5xx, throttling, an open circuit breaker: retried with
  backoff, then the order is compensated).
- ``refund(request, idempotency_key)``: give the charge ``request.charge_reference`` back, once
  per key; raise ``PaymentGatewayUnavailable`` while it cannot (the compensation is retried).
- ``find_charge(request, idempotency_key)``: the charge taken under the key, or None if the
  provider holds none. The compensation asks when our ledger has no charge: the provider may
  have taken one whose answer never reached us. Raise ``PaymentGatewayUnavailable`` when the
  provider cannot tell; never answer None for "I do not know".
- ``name``: recorded with every ledger entry.

Anything else a provider raises is a fault of the integration, not of the order: the step
turns it into ``TransientError`` (retried, then compensated) and logs it (``logic``).

What stays the workflow's, whatever the provider does: the per-order limit
(``max_charge_cents``, declined before any provider is asked), Powertools idempotency on the
order id, the payments ledger holding at most one charge and one refund per order, the
order's status and the compensation. Built-in providers are chosen by name
(``PAYMENT_GATEWAY``) from ``GATEWAYS``; one with heavy imports registers a factory that
imports lazily.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, cast

from serverless_patterns.lambdas.order_workflow import names
from serverless_patterns.lambdas.order_workflow.settings import GatewaySettings
from serverless_patterns.lambdas.shared.settings import load_settings


@dataclass(frozen=True)
class ChargeRequest:
    """What to charge: the order's total, in minor units (cents) of ``currency``.

    :param order_id: the order being paid; the workflow's idempotency key is derived from it.
    :param customer_id: who pays, as the order names them.
    :param amount_cents: the amount in minor units (cents), at least 1 and at most the workflow's
        per-order limit.
    :param currency: the ISO 4217 code, e.g. ``"EUR"``.
    """

    order_id: str
    customer_id: str
    amount_cents: int
    currency: str


@dataclass(frozen=True)
class RefundRequest:
    """What to give back: the whole of one earlier charge.

    :param order_id: the order being compensated.
    :param amount_cents: the charged amount, in minor units.
    :param currency: the charged currency.
    :param charge_reference: the provider's reference of the charge (``ProviderReceipt.reference``).
    """

    order_id: str
    amount_cents: int
    currency: str
    charge_reference: str


@dataclass(frozen=True)
class ProviderReceipt:
    """The provider's reference of a charge or a refund (e.g. ``"ch_3Nk..."``), kept in the ledger.

    :param reference: non-empty; for a charge, what ``refund`` is later given as ``charge_reference``.
    """

    reference: str


class PaymentProvider(Protocol):
    """What ChargePayment and RefundPayment need from a payment provider (the contract above)."""

    @property
    def name(self) -> str:
        """Names the provider in every ledger entry, e.g. ``"acme-pay"``."""
        ...

    def charge(self, request: ChargeRequest, idempotency_key: str) -> ProviderReceipt:
        """Take the payment once per key; raise PaymentError (decline) or PaymentGatewayUnavailable."""
        ...

    def refund(self, request: RefundRequest, idempotency_key: str) -> ProviderReceipt:
        """Give the charge back once per key; raise PaymentGatewayUnavailable while it cannot."""
        ...

    def find_charge(self, request: ChargeRequest, idempotency_key: str) -> ProviderReceipt | None:
        """The charge taken under the key whose answer never reached us, if any."""
        ...


class LedgerGateway:
    """The default provider: the charge is the entry in our own payments ledger.

    For internal settlement (store credit, invoicing) and for environments without a provider.
    """

    name = "ledger"

    def charge(self, request: ChargeRequest, idempotency_key: str) -> ProviderReceipt:
        return ProviderReceipt(reference=f"ledger-{idempotency_key}")

    def refund(self, request: RefundRequest, idempotency_key: str) -> ProviderReceipt:
        return ProviderReceipt(reference=f"ledger-{idempotency_key}")

    def find_charge(self, request: ChargeRequest, idempotency_key: str) -> ProviderReceipt | None:
        # The ledger entry is the charge itself: no entry, no charge.
        return None


CONTRACT_METHODS = ("charge", "refund", "find_charge")
ProviderFactory = Callable[[GatewaySettings], PaymentProvider]


def _http_gateway(settings: GatewaySettings) -> PaymentProvider:
    # Imported here: only containers configured for the provider load its client, breaker and secret.
    from serverless_patterns.lambdas.order_workflow.http_gateway import HttpPaymentGateway

    return HttpPaymentGateway.from_env()


GATEWAYS: dict[str, ProviderFactory] = {
    LedgerGateway.name: lambda settings: LedgerGateway(),
    names.HTTP_PAYMENT_GATEWAY: _http_gateway,
}


@functools.cache
def payment_gateway(settings: GatewaySettings) -> PaymentProvider:
    """The built-in provider ``settings`` names, built once per container (it may hold connections or secrets)."""
    try:
        factory = GATEWAYS[settings.payment_gateway]
    except KeyError:
        raise ValueError(
            f"unknown payment gateway {settings.payment_gateway!r}; choose one of {sorted(GATEWAYS)}"
        ) from None
    return factory(settings)


def configured_provider() -> PaymentProvider:
    """The built-in provider this function's environment names (``PAYMENT_GATEWAY``)."""
    return payment_gateway(load_settings(GatewaySettings))


def checked_provider(provider: object) -> PaymentProvider:
    """``provider`` if it has what the contract needs, else a TypeError saying what is missing.

    Checked when the handler is built (at import, and in your unit tests), not at the first order.
    """
    if isinstance(provider, type):
        raise TypeError(
            f"pass a payment provider instance, not the class {provider.__name__} (e.g. {provider.__name__}())"
        )
    missing = [
        method for method in ("charge", "refund", "find_charge") if not callable(getattr(provider, method, None))
    ]
    if missing:
        raise TypeError(f"{type(provider).__name__} is not a PaymentProvider: it has no {', '.join(missing)} method(s)")
    name = getattr(provider, "name", None)
    if not isinstance(name, str) or not name:
        raise TypeError(f"{type(provider).__name__}.name must be a non-empty str (it is recorded in the ledger)")
    return cast(PaymentProvider, provider)  # duck-typed: the signatures are checked by mypy in your code
