"""The HTTP payment gateway adapter: a provider's REST API, called through the ``payment-gateway`` breaker.

Chosen with ``PAYMENT_GATEWAY=http``. The base URL (``PAYMENT_GATEWAY_URL``), the secret holding the
HTTP headers with the credentials (``PAYMENT_GATEWAY_SECRET_ARN``), the timeouts and the breaker's
thresholds are set by ``CircuitBreakers.connect``; ``HttpClient.from_env`` reads them.

The provider contract (what a real provider's API is mapped to)::

    POST {url}/charges   Idempotency-Key: <order id>
         {"order_id", "customer_id", "amount_cents", "currency"}       -> 2xx {"charge_id": "..."}
                                                                        -> 402 declined {"decline_code": "..."}
    POST {url}/refunds   Idempotency-Key: refund-<order id>
         {"charge_id", "order_id", "amount_cents", "currency"}         -> 2xx {"refund_id": "..."}
    GET  {url}/charges?idempotency_key=<order id>                      -> 200 {"charge_id": "..."} | 404

The provider takes a charge once per Idempotency-Key and answers a repeated request with the
first result, so a retried step never charges twice. How answers map to the workflow's errors:

- 402 -> ``PaymentError`` (a decline: not retried, the order ends in PaymentFailed);
- timeouts, refused connections, 408, 429, 5xx (``UpstreamUnavailableError``, counted by the
  breaker), an open breaker (``CircuitOpenError``, no call made) and 409 (a request with this
  key is still being processed) -> ``PaymentGatewayUnavailable`` (retried with backoff, then the
  order is compensated);
- any other answer outside the contract (401/403: our credentials; 400/404/422: the request; a
  2xx without its id) -> ``PaymentGatewayIntegrationError``: our fault, not the customer's; the
  task fails like any other error, the order is compensated and the function's error alarm fires.
"""

from __future__ import annotations

import re
from typing import NoReturn, TypeVar
from urllib.parse import quote

from serverless_patterns.lambdas.order_workflow import names
from serverless_patterns.lambdas.order_workflow.errors import (
    OrderWorkflowError,
    PaymentError,
    PaymentGatewayUnavailable,
)
from serverless_patterns.lambdas.order_workflow.gateway import ChargeRequest, ProviderReceipt, RefundRequest
from serverless_patterns.lambdas.shared.circuit_breaker import DependencyUnavailableError
from serverless_patterns.lambdas.shared.http import HttpClient, HttpResponse, UpstreamRejectedError
from serverless_patterns.lambdas.shared.shapes import Shape, ShapeError, field

DECLINED = 402
IN_PROGRESS = 409
NOT_FOUND = 404
IDEMPOTENCY_HEADER = "Idempotency-Key"
# A provider's decline code is echoed into the order's failure reason only if it looks like one.
_DECLINE_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class PaymentGatewayIntegrationError(OrderWorkflowError):
    """The provider refused our request or answered outside the contract: a configuration or
    integration fault (credentials, URL, API version), not a decline and not an outage."""


class _Answer(Shape, extra="ignore"):
    """A provider's JSON answer; what the contract does not name is ignored."""


class _ChargeAnswer(_Answer):
    charge_id: str = field(min_length=1, max_length=255)


class _RefundAnswer(_Answer):
    refund_id: str = field(min_length=1, max_length=255)


class _Decline(_Answer):
    decline_code: str | None = None


AnswerT = TypeVar("AnswerT", bound=_Answer)


class HttpPaymentGateway:
    """Charges, refunds and looks up charges at the provider (a ``PaymentProvider``)."""

    name = names.HTTP_PAYMENT_GATEWAY

    def __init__(self, client: HttpClient) -> None:
        self._client = client

    @classmethod
    def from_env(cls) -> HttpPaymentGateway:
        """The adapter over this container's ``payment-gateway`` client (pooled connections, cached secret)."""
        return cls(HttpClient.from_env(names.PAYMENT_GATEWAY_BREAKER))

    def charge(self, request: ChargeRequest, idempotency_key: str) -> ProviderReceipt:
        body = {
            "order_id": request.order_id,
            "customer_id": request.customer_id,
            "amount_cents": request.amount_cents,
            "currency": request.currency,
        }
        what = f"charge of order {request.order_id}"
        try:
            response = self._client.post("charges", json_body=body, headers={IDEMPOTENCY_HEADER: idempotency_key})
        except DependencyUnavailableError as error:
            raise _unavailable(what, error) from error
        except UpstreamRejectedError as error:
            if error.status == DECLINED:
                raise PaymentError(_declined(request.order_id, error.body)) from None
            _rejected(what, error)
        return ProviderReceipt(reference=_parse(_ChargeAnswer, response, what).charge_id)

    def refund(self, request: RefundRequest, idempotency_key: str) -> ProviderReceipt:
        body = {
            "charge_id": request.charge_reference,
            "order_id": request.order_id,
            "amount_cents": request.amount_cents,
            "currency": request.currency,
        }
        what = f"refund of order {request.order_id}"
        try:
            response = self._client.post("refunds", json_body=body, headers={IDEMPOTENCY_HEADER: idempotency_key})
        except DependencyUnavailableError as error:
            raise _unavailable(what, error) from error
        except UpstreamRejectedError as error:
            _rejected(what, error)
        return ProviderReceipt(reference=_parse(_RefundAnswer, response, what).refund_id)

    def find_charge(self, request: ChargeRequest, idempotency_key: str) -> ProviderReceipt | None:
        """Ask the provider: an unavailable provider is retried, never taken for "not charged"."""
        what = f"charge lookup of order {request.order_id}"
        try:
            response = self._client.get(f"charges?idempotency_key={quote(idempotency_key, safe='')}")
        except DependencyUnavailableError as error:
            raise _unavailable(what, error) from error
        except UpstreamRejectedError as error:
            if error.status == NOT_FOUND:
                return None
            _rejected(what, error)
        return ProviderReceipt(reference=_parse(_ChargeAnswer, response, what).charge_id)


def _unavailable(what: str, error: DependencyUnavailableError) -> PaymentGatewayUnavailable:
    return PaymentGatewayUnavailable(f"payment gateway unavailable for the {what}: {error}")


def _rejected(what: str, error: UpstreamRejectedError) -> NoReturn:
    if error.status == IN_PROGRESS:
        raise PaymentGatewayUnavailable(
            f"payment gateway is still processing an earlier request for the {what} (HTTP 409)"
        ) from None
    raise PaymentGatewayIntegrationError(
        f"payment gateway refused the {what} with HTTP {error.status}: check its URL, credentials and API version"
    ) from None


def _declined(order_id: str, body: bytes) -> str:
    reason = f"payment for order {order_id} declined by the payment gateway"
    try:
        code = _Decline.model_validate_json(body).decline_code
    except ShapeError:
        return reason
    return f"{reason} ({code})" if code and _DECLINE_CODE.fullmatch(code) else reason


def _parse(model: type[AnswerT], response: HttpResponse, what: str) -> AnswerT:
    try:
        return model.model_validate_json(response.body)
    except ShapeError:
        # Never the body itself in the message: it may carry card or customer data.
        raise PaymentGatewayIntegrationError(
            f"payment gateway answered the {what} with HTTP {response.status} but not as the contract says"
        ) from None
