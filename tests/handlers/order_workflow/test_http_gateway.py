"""ChargePayment and RefundPayment with the ``http`` gateway: a provider on 127.0.0.1 fails, then recovers.

The real handlers run under moto with the breaker's state table, the provider's credentials
in Secrets Manager and an injected breaker clock (no sleeps). Each ``attempt`` is one
invocation of ChargePayment, as the state machine's retries make them. One moto account
serves the module (creating one costs more than a test); its tables are emptied before each test.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from serverless_patterns.constructs.order_workflow_definition import (
    CHARGE_TRANSIENT_RETRY,
    gateway_unavailable_retry,
)
from serverless_patterns.lambdas.order_workflow import charge, gateway, names, refund, validate
from serverless_patterns.lambdas.order_workflow.errors import PaymentError, PaymentGatewayUnavailable
from serverless_patterns.lambdas.order_workflow.http_gateway import PaymentGatewayIntegrationError
from serverless_patterns.lambdas.shared import circuit_breaker, http
from serverless_patterns.lambdas.shared.circuit_breaker import BreakerState, CircuitBreaker, CircuitOpenError
from serverless_patterns.lambdas.shared.settings import load_settings
from tests.handlers.order_workflow import saga
from tests.handlers.order_workflow.conftest import (
    IDEMPOTENCY_TABLE,
    INVENTORY_TABLE,
    ORDERS_TABLE,
    PAYMENTS_TABLE,
    Cloud,
    LambdaContext,
    create_cloud,
    order_request,
    use_environment,
)
from tests.handlers.order_workflow.payment_provider import TOKEN, PaymentProvider
from tests.unit.circuit_breaker.support import Clock, create_table, metric_names

BREAKER_TABLE = "circuit-breakers"
THRESHOLD = 3
COOLDOWN = 30
CACHE = 5
ORDERS = [f"order-{number:02d}" for number in range(6)]
SECRET_NAME = "payment-gateway/credentials"
KEYS = {
    ORDERS_TABLE: ("order_id",),
    INVENTORY_TABLE: ("sku",),
    PAYMENTS_TABLE: ("order_id", "entry"),
    IDEMPOTENCY_TABLE: ("id",),
    BREAKER_TABLE: ("pk",),
}


class Connection:
    """The variables ``CircuitBreakers.connect`` sets on ChargePayment and RefundPayment, and the clock."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, provider: PaymentProvider, clock: Clock) -> None:
        self._monkeypatch, self._provider, self._clock = monkeypatch, provider, clock
        secrets = boto3.client("secretsmanager")
        self.secret_arn = secrets.put_secret_value(
            SecretId=SECRET_NAME, SecretString=json.dumps({"Authorization": TOKEN})
        )["ARN"]

    def configure(self, *, read_timeout: float = 5.0) -> None:
        """A fresh container: its own client, breaker view and cached secret."""
        for name, value in {
            "POWERTOOLS_METRICS_NAMESPACE": "ServerlessPatterns/Test",  # the breaker's own metrics
            names.PAYMENT_GATEWAY_ENV: names.HTTP_PAYMENT_GATEWAY,
            "PAYMENT_GATEWAY_URL": self._provider.url,
            "PAYMENT_GATEWAY_SECRET_ARN": self.secret_arn,
            "CIRCUIT_BREAKER_TABLE": BREAKER_TABLE,
            "CIRCUIT_BREAKER_FAILURE_THRESHOLD": str(THRESHOLD),
            "CIRCUIT_BREAKER_WINDOW_SECONDS": "60",
            "CIRCUIT_BREAKER_COOLDOWN_SECONDS": str(COOLDOWN),
            "CIRCUIT_BREAKER_CACHE_SECONDS": str(CACHE),
            "CIRCUIT_BREAKER_TRIAL_LEASE_SECONDS": "10",
            "HTTP_CONNECT_TIMEOUT_SECONDS": "1",
            "HTTP_READ_TIMEOUT_SECONDS": str(read_timeout),
        }.items():
            self._monkeypatch.setenv(name, value)
        clear_caches()
        self._monkeypatch.setattr(CircuitBreaker.from_env(names.PAYMENT_GATEWAY_BREAKER), "_clock", self._clock)

    def breaker(self) -> BreakerState:
        """The breaker's state as this container sees it (a call: no narrowing across transitions)."""
        return CircuitBreaker.from_env(names.PAYMENT_GATEWAY_BREAKER).state


def clear_caches() -> None:
    load_settings.cache_clear()
    gateway.payment_gateway.cache_clear()
    http.clear_caches()
    circuit_breaker.clear_caches()


@pytest.fixture(scope="module")
def account() -> Iterator[Cloud]:
    with mock_aws():
        cloud = create_cloud()
        create_table(cloud.dynamodb, BREAKER_TABLE)
        boto3.client("secretsmanager").create_secret(Name=SECRET_NAME, SecretString="{}")
        yield cloud


@pytest.fixture
def cloud(account: Cloud, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cloud]:
    """The module's account, emptied, with the functions' environment."""
    use_environment(monkeypatch)
    for table, keys in KEYS.items():
        for item in account.dynamodb.scan(TableName=table)["Items"]:
            account.dynamodb.delete_item(TableName=table, Key={key: item[key] for key in keys})
    yield account
    clear_caches()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def connection(
    cloud: Cloud, provider: PaymentProvider, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Connection]:
    cloud.seed_stock(**{"SKU-A": 100, "SKU-B": 100})
    connection = Connection(monkeypatch, provider, clock)
    connection.configure()
    yield connection
    clear_caches()


def validated(order_id: str, context: LambdaContext) -> dict[str, Any]:
    order: dict[str, Any] = validate.handler(order_request(order_id), context)["order"]
    return order


def attempt(order: dict[str, Any], context: LambdaContext) -> str:
    """One ChargePayment invocation: ``charged``, ``unavailable`` (the call failed) or ``open`` (no call)."""
    try:
        charge.handler(order, context)
    except PaymentGatewayUnavailable as error:
        return "open" if isinstance(error.__cause__, CircuitOpenError) else "unavailable"
    return "charged"


def test_calls_stop_while_open_one_trial_in_half_open_and_every_order_is_charged_once(
    cloud: Cloud,
    context: LambdaContext,
    provider: PaymentProvider,
    clock: Clock,
    connection: Connection,
    capsys: pytest.CaptureFixture[str],
) -> None:
    orders = [validated(order_id, context) for order_id in ORDERS]
    capsys.readouterr()

    # The provider goes down: the breaker opens at the THRESHOLD-th failure; later orders fail fast.
    provider.service.down = 503
    assert [attempt(order, context) for order in orders] == ["unavailable"] * THRESHOLD + ["open"] * (
        len(ORDERS) - THRESHOLD
    )
    assert len(provider.charge_calls()) == THRESHOLD
    assert connection.breaker() is BreakerState.OPEN
    assert {cloud.order(order_id)["status"] for order_id in ORDERS} == {"VALIDATED"}
    assert cloud.all_ledger_entries() == []

    # While open, however often the state machine retries, nothing reaches the provider.
    clock.advance(COOLDOWN - 1)
    assert [attempt(order, context) for order in orders] == ["open"] * len(ORDERS)
    assert len(provider.charge_calls()) == THRESHOLD

    # Cooldown over: one trial call. The provider is still down, so the breaker opens again.
    clock.advance(1)
    assert [attempt(order, context) for order in orders] == ["unavailable"] + ["open"] * (len(ORDERS) - 1)
    assert len(provider.charge_calls()) == THRESHOLD + 1

    # The provider recovers. The next trial is held in flight: meanwhile other orders fail fast.
    provider.service.down = None
    provider.service.hold_next = True
    clock.advance(COOLDOWN)
    trial: list[str] = []
    in_flight = threading.Thread(target=lambda: trial.append(attempt(orders[0], context)))
    in_flight.start()
    assert provider.service.received.wait(5)
    assert attempt(orders[1], context) == "open"
    assert len(provider.charge_calls()) == THRESHOLD + 2
    provider.service.release.set()
    in_flight.join(5)
    assert trial == ["charged"]
    assert connection.breaker() is BreakerState.CLOSED

    # Normal service: every order left for a retry is charged.
    assert [attempt(order, context) for order in orders[1:]] == ["charged"] * (len(ORDERS) - 1)
    assert len(provider.charge_calls()) == THRESHOLD + 2 + len(ORDERS) - 1

    # No order lost, none charged twice; each call carried the order id as its Idempotency-Key.
    assert sorted(provider.charges) == ORDERS
    for order_id in ORDERS:
        assert cloud.order(order_id)["status"] == "CHARGED"
        (entry,) = cloud.ledger(order_id)
        assert (entry["gateway"], entry["gateway_reference"]) == ("http", provider.charges[order_id])
    calls = provider.charge_calls()
    assert {call.headers["Idempotency-Key"] for call in calls} == set(ORDERS)
    assert all(call.headers["Idempotency-Key"] == call.body["order_id"] for call in calls)
    assert {call.headers["Authorization"] for call in calls} == {TOKEN}
    output = capsys.readouterr().out
    assert TOKEN not in output
    transitions = metric_names(output)
    assert (transitions.count("CircuitOpened"), transitions.count("CircuitHalfOpened")) == (2, 2)
    assert transitions.count("CircuitClosed") == 1


@pytest.mark.parametrize(("back_after", "charged_on_retry"), [(1, 4), (COOLDOWN + 1, 5)])
def test_the_workflow_retry_outlasts_the_cooldown_where_the_seed_retry_would_not(
    cloud: Cloud,
    context: LambdaContext,
    provider: PaymentProvider,
    clock: Clock,
    connection: Connection,
    back_after: int,
    charged_on_retry: int,
) -> None:
    """The order's own failure opens the breaker; it is retried on the state machine's schedule."""
    seed = CHARGE_TRANSIENT_RETRY.waits()
    schedule = gateway_unavailable_retry(COOLDOWN).waits()
    assert schedule[: len(seed)] == seed
    others = [validated(f"other-{number}", context) for number in range(THRESHOLD - 1)]
    order = validated("order-subject", context)

    provider.service.down = 503
    assert [attempt(other, context) for other in others] == ["unavailable"] * (THRESHOLD - 1)
    assert attempt(order, context) == "unavailable"
    assert connection.breaker() is BreakerState.OPEN
    outcomes = []
    elapsed = 0.0
    for wait in schedule:
        clock.advance(wait)
        elapsed += wait
        if elapsed >= back_after:
            provider.service.down = None
        outcomes.append(attempt(order, context))
        if outcomes[-1] == "charged":
            break

    # The seed's three retries (14 s) all meet the open breaker: the order would have failed.
    assert outcomes[: len(seed)] == ["open"] * len(seed)
    assert len(outcomes) == charged_on_retry
    assert outcomes[-1] == "charged"
    assert cloud.order("order-subject")["status"] == "CHARGED"
    assert list(provider.charges) == ["order-subject"]


def test_a_decline_is_a_payment_error_and_never_opens_the_breaker(
    cloud: Cloud, context: LambdaContext, provider: PaymentProvider, connection: Connection
) -> None:
    provider.decline_code = "insufficient_funds"
    orders = [validated(f"declined-{number}", context) for number in range(THRESHOLD + 1)]

    for order in orders:
        with pytest.raises(PaymentError, match=r"declined by the payment gateway \(insufficient_funds\)"):
            charge.handler(order, context)

    assert len(provider.charge_calls()) == THRESHOLD + 1  # a decline proves the provider is up
    assert connection.breaker() is BreakerState.CLOSED
    stored = cloud.order("declined-0")
    assert (stored["status"], stored["failure_error"]) == ("PAYMENT_DECLINED", "PaymentError")
    assert cloud.all_ledger_entries() == []


def test_our_own_limit_declines_without_asking_the_provider(
    context: LambdaContext, provider: PaymentProvider, connection: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(names.MAX_CHARGE_ENV, "100")
    connection.configure()
    order = validated("order-large", context)

    with pytest.raises(PaymentError, match="exceeds the per-order limit of 100"):
        charge.handler(order, context)
    assert provider.service.calls == []


def test_a_request_still_in_progress_at_the_provider_is_retried_later(
    context: LambdaContext, provider: PaymentProvider, connection: Connection
) -> None:
    provider.status = 409
    order = validated("order-busy", context)

    with pytest.raises(PaymentGatewayUnavailable, match="still processing"):
        charge.handler(order, context)
    provider.status = None
    assert attempt(order, context) == "charged"
    assert connection.breaker() is BreakerState.CLOSED


@pytest.mark.parametrize(
    ("fault", "message"),
    [("credentials", "refused the charge of order order-1 with HTTP 401"), ("answer", "not as the contract says")],
)
def test_an_integration_fault_is_neither_a_decline_nor_an_outage(
    cloud: Cloud,
    context: LambdaContext,
    provider: PaymentProvider,
    connection: Connection,
    monkeypatch: pytest.MonkeyPatch,
    fault: str,
    message: str,
) -> None:
    if fault == "credentials":
        secrets = boto3.client("secretsmanager")
        secrets.put_secret_value(SecretId=connection.secret_arn, SecretString=json.dumps({"Authorization": "wrong"}))
    else:
        monkeypatch.setattr(provider.service, "route", lambda call: (200, {"id": "ch_without_the_contract_field"}))
    order = validated("order-1", context)

    with pytest.raises(PaymentGatewayIntegrationError, match=message) as raised:
        charge.handler(order, context)

    assert "ch_without" not in str(raised.value)  # the provider's answer is never echoed
    assert connection.breaker() is BreakerState.CLOSED
    assert cloud.order("order-1")["status"] == "VALIDATED"


def test_a_charge_whose_answer_was_lost_is_found_and_refunded_by_the_compensation(
    cloud: Cloud, context: LambdaContext, provider: PaymentProvider, connection: Connection
) -> None:
    connection.configure(read_timeout=0.3)
    order = validated("order-lost", context)
    provider.service.hold_next = True  # the provider takes the charge, its answer never arrives in time

    with pytest.raises(PaymentGatewayUnavailable, match="ReadTimeoutError"):
        charge.handler(order, context)
    provider.service.release.set()
    assert list(provider.charges) == ["order-lost"]
    assert cloud.ledger("order-lost") == []

    failure = saga.caught(PaymentGatewayUnavailable("payment gateway unavailable for the charge of order-lost"))
    result = refund.handler({"order": order, "failure": failure}, context)

    assert (result["refunded"], result["error"]) == (True, "PaymentGatewayUnavailable")
    entries = {entry["entry"]: entry for entry in cloud.ledger("order-lost")}
    assert entries["CHARGE"]["gateway_reference"] == provider.charges["order-lost"]
    assert entries["REFUND"]["gateway_reference"] == provider.refunds["refund-order-lost"]
    assert cloud.order("order-lost")["status"] == "FAILED"
    (lookup,) = [call for call in provider.service.calls if call.method == "GET"]
    assert lookup.query == {"idempotency_key": "order-lost"}


def test_the_compensation_asks_the_provider_and_retries_while_it_cannot_answer(
    cloud: Cloud, context: LambdaContext, provider: PaymentProvider, clock: Clock, connection: Connection
) -> None:
    orders = [validated(f"order-{number}", context) for number in range(THRESHOLD)]
    provider.service.down = 503
    assert [attempt(order, context) for order in orders] == ["unavailable"] * THRESHOLD
    failure = saga.caught(PaymentGatewayUnavailable("payment gateway unavailable"))

    # The breaker is open: "not charged" cannot be known, so RefundPayment fails and is retried,
    # while the order is already closed and can no longer be reserved.
    with pytest.raises(PaymentGatewayUnavailable, match="charge lookup of order order-0"):
        refund.handler({"order": orders[0], "failure": failure}, context)
    assert cloud.order("order-0")["status"] == "FAILED"

    provider.service.down = None
    clock.advance(COOLDOWN)
    result = refund.handler({"order": orders[0], "failure": failure}, context)

    assert (result["refunded"], result["refund_id"]) == (False, None)
    assert provider.charges == {}
    assert provider.refunds == {}
    assert cloud.ledger("order-0") == []


def test_an_order_failing_after_its_charge_is_refunded_through_the_provider(
    cloud: Cloud, context: LambdaContext, provider: PaymentProvider, connection: Connection
) -> None:
    cloud.seed_stock(**{"SKU-A": 1})  # the order needs two

    outcome = saga.run(order_request("order-short"), context)

    assert (outcome.end_state, outcome.error) == ("OrderFailed", "OutOfStock")
    assert list(provider.charges) == ["order-short"]
    (refund_call,) = [call for call in provider.service.calls if call.path.endswith("/refunds")]
    assert refund_call.headers["Idempotency-Key"] == "refund-order-short"
    assert refund_call.body == {
        "charge_id": provider.charges["order-short"],
        "order_id": "order-short",
        "amount_cents": 3000,
        "currency": "EUR",
    }
    assert sorted(entry["entry"] for entry in cloud.ledger("order-short")) == ["CHARGE", "REFUND"]
