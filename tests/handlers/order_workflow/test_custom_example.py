"""The examples of ``order_workflow.custom``'s docstring, run as written: a REST provider and a warehouse step.

The provider is the local payment provider (``payment_provider``: one charge per
Idempotency-Key, 402 declines, lookups by key), its API key in (moto's) Secrets Manager; the
warehouse is a local service that records shipments.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest

from serverless_patterns.lambdas.order_workflow import custom, validate
from serverless_patterns.lambdas.order_workflow.errors import PaymentGatewayUnavailable, TransientError
from tests.docs_examples import imported_examples
from tests.handlers.local_service import Call, LocalService
from tests.handlers.order_workflow import saga
from tests.handlers.order_workflow.conftest import Cloud, LambdaContext, order_request
from tests.handlers.order_workflow.payment_provider import TOKEN, PaymentProvider

SECRET_NAME = "acme/api-key"
Shop = dict[str, ModuleType]  # the docstring's modules by name


@pytest.fixture
def warehouse() -> Iterator[LocalService]:
    service = LocalService(lambda call: (201, {"shipment_id": f"sh-{call.body['order_id']}"})).start()
    yield service
    service.stop()


@pytest.fixture
def shop(
    cloud: Cloud,
    provider: PaymentProvider,
    warehouse: LocalService,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Shop]:
    """The docstring's ``shop`` package, imported with the variables its app would set."""
    boto3.client("secretsmanager").create_secret(Name=SECRET_NAME, SecretString=TOKEN.removeprefix("Bearer "))
    monkeypatch.setenv("ACME_URL", provider.url)
    monkeypatch.setenv("ACME_SECRET_NAME", SECRET_NAME)
    monkeypatch.setenv("WAREHOUSE_URL", warehouse.url)
    cloud.seed_stock(**{"SKU-A": 10, "SKU-B": 10})
    with imported_examples(custom, tmp_path, "shop.payments", "shop.confirmation") as modules:
        yield modules


def handlers(shop: Shop) -> saga.Handlers:
    payments, confirmation = shop["shop.payments"], shop["shop.confirmation"]
    return saga.Handlers(charge=payments.charge, refund=payments.refund, confirm=confirmation.handler)


def shipments(warehouse: LocalService) -> list[Call]:
    return [call for call in warehouse.calls if (call.method, call.path) == ("POST", "/shipments")]


def test_an_order_is_charged_at_the_provider_and_shipped_once(
    cloud: Cloud,
    context: LambdaContext,
    shop: Shop,
    provider: PaymentProvider,
    warehouse: LocalService,
) -> None:
    outcome = saga.run(order_request(), context, handlers(shop))

    assert outcome.end_state == "OrderConfirmed"
    assert provider.charges == {"order-1": outcome.state["payment"]["gateway_reference"]}
    assert outcome.state["payment"]["gateway"] == "acme-pay"
    (shipment,) = shipments(warehouse)
    assert shipment.headers["Idempotency-Key"] == "order-1"
    assert shipment.body == {
        "order_id": "order-1",
        "lines": [{"sku": "SKU-A", "quantity": 2}, {"sku": "SKU-B", "quantity": 1}],
    }
    assert cloud.order("order-1")["status"] == "CONFIRMED"


def test_a_decline_at_the_provider_ends_in_payment_failed_with_its_code(
    cloud: Cloud,
    context: LambdaContext,
    shop: Shop,
    provider: PaymentProvider,
    warehouse: LocalService,
) -> None:
    provider.decline_code = "insufficient_funds"

    outcome = saga.run(order_request(), context, handlers(shop))

    assert (outcome.end_state, outcome.error, outcome.cause) == (
        "PaymentFailed",
        "PaymentError",
        "declined by Acme (insufficient_funds)",
    )
    assert cloud.order("order-1")["failure_reason"] == "declined by Acme (insufficient_funds)"
    assert shipments(warehouse) == []


def test_out_of_stock_is_refunded_at_the_provider(
    cloud: Cloud, context: LambdaContext, shop: Shop, provider: PaymentProvider
) -> None:
    cloud.seed_stock(**{"SKU-A": 1})

    outcome = saga.run(order_request(), context, handlers(shop))

    assert (outcome.end_state, outcome.error) == ("OrderFailed", "OutOfStock")
    assert provider.refunds == {"refund-order-1": "re_0001"}
    entries = {entry["entry"]: entry for entry in cloud.ledger("order-1")}
    assert entries["REFUND"]["gateway_reference"] == "re_0001"
    assert entries["CHARGE"]["gateway_reference"] == provider.charges["order-1"]


@pytest.mark.parametrize(
    ("status", "error", "message"),
    [
        (503, PaymentGatewayUnavailable, "Acme answered HTTP 503"),
        (401, TransientError, "payment provider 'acme-pay' failed on the charge with HTTPError"),
    ],
)
def test_the_providers_failures_map_to_the_workflows_errors(
    context: LambdaContext, shop: Shop, provider: PaymentProvider, status: int, error: type[Exception], message: str
) -> None:
    """A 5xx is an outage (retried, then compensated); a 401 is our integration's fault, never a decline."""
    order: dict[str, Any] = validate.handler(order_request(), context)["order"]
    provider.status = status

    with pytest.raises(error, match=message):
        shop["shop.payments"].charge(order, context)
