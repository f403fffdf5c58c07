"""A payment gateway that is unreachable at first: deployed onto ChargePayment by test_order_workflow.py.

Not imported by the tests: the fixture adds this file to the ChargePayment function's own
code asset and deploys it through the Lambda API (new code, this module as the handler,
``PAYMENT_GATEWAY`` naming the adapter below, a new version behind the ``live`` alias), so
the deployed state machine meets a transient failure of the deployed function itself.

The handler is ChargePayment's own; the only addition is one more adapter in the gateway
registry (``gateway.GATEWAYS``, the documented extension point): the ledger gateway behind a
connection that fails the first ``FLAKY_GATEWAY_FAILURES`` charges of each order with
``PaymentGatewayUnavailable``, as the adapter contract says a timeout or a 5xx must.
Attempts are counted per container, as a real client's state would be.
"""

from __future__ import annotations

import os
from collections import Counter

from serverless_patterns.lambdas.order_workflow import gateway
from serverless_patterns.lambdas.order_workflow.charge import handler
from serverless_patterns.lambdas.order_workflow.errors import PaymentGatewayUnavailable
from serverless_patterns.lambdas.order_workflow.gateway import (
    ChargeRequest,
    LedgerGateway,
    ProviderReceipt,
    RefundRequest,
)
from serverless_patterns.lambdas.order_workflow.settings import GatewaySettings

NAME = "flaky-ledger"
FAILURES_ENV = "FLAKY_GATEWAY_FAILURES"

__all__ = ["FAILURES_ENV", "NAME", "FlakyLedgerGateway", "handler"]


class FlakyLedgerGateway:
    """The ledger gateway, unreachable for the first ``failures`` charges of every order."""

    name = NAME

    def __init__(self, ledger: LedgerGateway, *, failures: int) -> None:
        self._ledger = ledger
        self._failures = failures
        self.attempts: Counter[str] = Counter()

    def charge(self, request: ChargeRequest, idempotency_key: str) -> ProviderReceipt:
        self.attempts[request.order_id] += 1
        if self.attempts[request.order_id] <= self._failures:
            raise PaymentGatewayUnavailable(
                f"payment gateway timed out (attempt {self.attempts[request.order_id]} for {request.order_id})"
            )
        return self._ledger.charge(request, idempotency_key)

    def refund(self, request: RefundRequest, idempotency_key: str) -> ProviderReceipt:
        return self._ledger.refund(request, idempotency_key)

    def find_charge(self, request: ChargeRequest, idempotency_key: str) -> ProviderReceipt | None:
        return self._ledger.find_charge(request, idempotency_key)


def _flaky(settings: GatewaySettings) -> FlakyLedgerGateway:
    return FlakyLedgerGateway(LedgerGateway(), failures=int(os.environ[FAILURES_ENV]))


gateway.GATEWAYS[NAME] = _flaky
