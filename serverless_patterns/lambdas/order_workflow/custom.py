"""Your own code in the OrderWorkflow: your payment provider and your confirmation step, in one module.

The saga stays the workflow's: the state machine's retries, catches and compensation, the
per-order charge limit, exactly-once charges (Powertools idempotency on the order id, then a
payments ledger that holds at most one charge and one refund per order), the order's status
and the ``OrderConfirmed`` event. Your code plugs in at three roles:

- ``charge_payment`` and ``refund_payment``: your :class:`PaymentProvider`, always both (the
  compensation must refund through the provider that charged);
- ``send_confirmation``: your step, run once the order is paid and its stock reserved.

**The provider's contract.** ``charge(request, idempotency_key)`` takes the payment once per
key: a repeated call with a key it has seen returns the first charge's reference and takes
nothing. The workflow sends the same key on every attempt for an order, so a charge that
timed out after the provider took it is retried safely. Raise:

- :class:`PaymentError` for a decline (a business outcome): never retried, the order ends
  in ``PaymentFailed`` with your message as the reason (no card data in it);
- :class:`PaymentGatewayUnavailable` when the provider cannot be reached or its answer is
  lost (connection errors, timeouts, 5xx, throttling): retried with backoff (2, 4, 8 s),
  then the order is compensated;
- anything else is a fault of the integration, not of the order: logged with its traceback,
  renamed ``TransientError`` (so no class name of yours is mistaken for a decline), retried,
  then compensated.

``refund(request, idempotency_key)`` gives ``request.charge_reference`` back once per key
(retried until it succeeds, then ``CompensationFailed`` for an operator). ``find_charge``
answers, for the compensation, whether a charge was taken under the key although its answer
never reached us; it raises :class:`PaymentGatewayUnavailable` when it cannot tell, never
returns None for "I do not know". ``name`` is recorded with every ledger entry.

A provider over a REST API that honours an ``Idempotency-Key`` header (the API key in a
Secrets Manager secret, read on first use and cached)::

    # shop/payments.py
    import json
    import os
    import urllib.error
    import urllib.request
    from typing import Any
    from urllib.parse import quote

    from aws_lambda_powertools.utilities import parameters

    from serverless_patterns.lambdas.order_workflow.custom import (
        ChargeRequest,
        PaymentError,
        PaymentGatewayUnavailable,
        ProviderReceipt,
        RefundRequest,
        build_charge_handler,
        build_refund_handler,
    )


    class AcmePay:
        name = "acme-pay"

        def __init__(self, url: str, secret_name: str) -> None:
            self._url, self._secret_name = url, secret_name

        def charge(self, request: ChargeRequest, idempotency_key: str) -> ProviderReceipt:
            body = {
                "order_id": request.order_id,
                "customer_id": request.customer_id,
                "amount_cents": request.amount_cents,
                "currency": request.currency,
            }
            answer = self._call("POST", "/charges", body, idempotency_key)
            return ProviderReceipt(reference=answer["charge_id"])

        def refund(self, request: RefundRequest, idempotency_key: str) -> ProviderReceipt:
            body = {"charge_id": request.charge_reference, "amount_cents": request.amount_cents}
            answer = self._call("POST", "/refunds", body, idempotency_key)
            return ProviderReceipt(reference=answer["refund_id"])

        def find_charge(self, request: ChargeRequest, idempotency_key: str) -> ProviderReceipt | None:
            try:
                answer = self._call("GET", f"/charges?idempotency_key={quote(idempotency_key)}")
            except LookupError:
                return None
            return ProviderReceipt(reference=answer["charge_id"])

        def _call(self, method: str, path: str, body: Any = None, key: str | None = None) -> Any:
            api_key = parameters.get_secret(self._secret_name, max_age=300)
            headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
            if key is not None:
                headers["Idempotency-Key"] = key
            data = None if body is None else json.dumps(body).encode()
            call = urllib.request.Request(self._url + path, data=data, headers=headers, method=method)
            try:
                with urllib.request.urlopen(call, timeout=5) as response:
                    return json.load(response)
            except urllib.error.HTTPError as error:
                if error.code == 402:
                    raise PaymentError(f"declined by Acme ({json.load(error).get('decline_code')})") from None
                if error.code == 404:
                    raise LookupError(path) from None
                if error.code in (408, 409, 429) or error.code >= 500:
                    raise PaymentGatewayUnavailable(f"Acme answered HTTP {error.code}") from None
                raise  # 400, 401, 403: our integration's fault (retried, then compensated, and logged)
            except (urllib.error.URLError, TimeoutError) as error:
                raise PaymentGatewayUnavailable(f"Acme unreachable: {error}") from None


    provider = AcmePay(os.environ["ACME_URL"], os.environ["ACME_SECRET_NAME"])
    charge = build_charge_handler(provider)
    refund = build_refund_handler(provider)

**The confirmation step** is a function of the :class:`Order`. It runs while the order is
RESERVED; the workflow then records it CONFIRMED and emits ``OrderConfirmed``. A step that
raises is retried, then deferred to the confirmation queue (retried there, then its DLQ, with
an alarm): the order stays RESERVED until the step succeeds, and a step that succeeded is not
run again. It may still run twice for one order (a crash after it returned, before the
order was recorded): make it idempotent per order, e.g. with the order id as an idempotency
key::

    # shop/confirmation.py
    import json
    import os
    import urllib.request

    from serverless_patterns.lambdas.order_workflow.custom import Order, build_confirmation_handler


    def ship(order: Order) -> None:
        body = {
            "order_id": order.order_id,
            "lines": [{"sku": line.sku, "quantity": line.quantity} for line in order.lines],
        }
        request = urllib.request.Request(
            os.environ["WAREHOUSE_URL"] + "/shipments",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Idempotency-Key": order.order_id},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5):
            pass


    handler = build_confirmation_handler(ship)

**In your app**, each role gets its handler and the variables your code reads; grant what your
code calls (the functions' roles are ``workflow.functions[role].role``)::

    shop = Path(__file__).parent / "shop"
    acme = {"ACME_URL": "https://api.acme-pay.example/v1", "ACME_SECRET_NAME": "acme/api-key"}
    workflow = OrderWorkflow(
        self,
        "Orders",
        handlers={
            "charge_payment": HandlerCode.from_package(shop, "shop.payments.charge", environment=acme),
            "refund_payment": HandlerCode.from_package(shop, "shop.payments.refund", environment=acme),
            "send_confirmation": HandlerCode.from_package(
                shop, "shop.confirmation.handler", environment={"WAREHOUSE_URL": "https://warehouse.example"}
            ),
        },
    )
    secret = secretsmanager.Secret.from_secret_name_v2(self, "AcmeKey", "acme/api-key")
    for role in ("charge_payment", "refund_payment"):
        secret.grant_read(workflow.functions[role].role)

The construct refuses contradictions at synth time: one payment role without the other, or
your provider together with the built-in ``http`` adapter's settings
(``settings.payment_gateway="http"``, ``payment_gateway_url``, the gateway secret).

Names are imported on first use, so a handler pays only for what it uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from serverless_patterns.lambdas.shared.lazy_exports import lazy_exports

_GATEWAY = "serverless_patterns.lambdas.order_workflow.gateway"
_ERRORS = "serverless_patterns.lambdas.order_workflow.errors"
_MODELS = "serverless_patterns.lambdas.order_workflow.models"
_EXPORTS = {
    "build_charge_handler": ("serverless_patterns.lambdas.order_workflow.charge", "build_handler"),
    "build_refund_handler": ("serverless_patterns.lambdas.order_workflow.refund", "build_handler"),
    "build_confirmation_handler": ("serverless_patterns.lambdas.order_workflow.confirm", "build_handler"),
    "ConfirmationStep": ("serverless_patterns.lambdas.order_workflow.logic", "ConfirmationStep"),
    "PaymentProvider": (_GATEWAY, "PaymentProvider"),
    "ChargeRequest": (_GATEWAY, "ChargeRequest"),
    "RefundRequest": (_GATEWAY, "RefundRequest"),
    "ProviderReceipt": (_GATEWAY, "ProviderReceipt"),
    "PaymentError": (_ERRORS, "PaymentError"),
    "PaymentGatewayUnavailable": (_ERRORS, "PaymentGatewayUnavailable"),
    "TransientError": (_ERRORS, "TransientError"),
    "Order": (_MODELS, "Order"),
    "OrderLine": (_MODELS, "OrderLine"),
}

if TYPE_CHECKING:
    from serverless_patterns.lambdas.order_workflow.charge import build_handler as build_charge_handler
    from serverless_patterns.lambdas.order_workflow.confirm import build_handler as build_confirmation_handler
    from serverless_patterns.lambdas.order_workflow.errors import (
        PaymentError,
        PaymentGatewayUnavailable,
        TransientError,
    )
    from serverless_patterns.lambdas.order_workflow.gateway import (
        ChargeRequest,
        PaymentProvider,
        ProviderReceipt,
        RefundRequest,
    )
    from serverless_patterns.lambdas.order_workflow.logic import ConfirmationStep
    from serverless_patterns.lambdas.order_workflow.models import Order, OrderLine
    from serverless_patterns.lambdas.order_workflow.refund import build_handler as build_refund_handler

__all__ = [
    "ChargeRequest",
    "ConfirmationStep",
    "Order",
    "OrderLine",
    "PaymentError",
    "PaymentGatewayUnavailable",
    "PaymentProvider",
    "ProviderReceipt",
    "RefundRequest",
    "TransientError",
    "build_charge_handler",
    "build_confirmation_handler",
    "build_refund_handler",
]


__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
