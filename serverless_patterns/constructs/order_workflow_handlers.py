"""OrderWorkflow's payment roles: what it refuses when your code replaces them, and the ``http`` gateway's wiring.

Your provider (``handlers={"charge_payment": ..., "refund_payment": ...}``, built with
``serverless_patterns.lambdas.order_workflow.custom``) replaces the built-in ``ledger`` and
``http`` adapters in both payment roles at once: a charge must be refunded through the
provider that took it, and the ``http`` adapter's settings would configure nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from aws_cdk import aws_secretsmanager as secretsmanager

from serverless_patterns.config import WorkflowSettings
from serverless_patterns.constructs.circuit_breaker import CircuitBreakers
from serverless_patterns.constructs.handler_code import HandlerCode
from serverless_patterns.constructs.order_workflow_definition import RetryPolicy, gateway_unavailable_retry
from serverless_patterns.constructs.props import owner_name
from serverless_patterns.lambdas.order_workflow import names

if TYPE_CHECKING:
    from serverless_patterns.constructs.order_workflow import OrderWorkflow

PAYMENT_ROLES = ("charge_payment", "refund_payment")
DEFAULT_GATEWAY = WorkflowSettings().payment_gateway


def has_own_provider(
    owner: str, handlers: Mapping[str, HandlerCode], settings: WorkflowSettings, *, secret: object
) -> bool:
    """Whether ``handlers`` bring your payment provider, refusing the contradictions with a ValueError.

    :param owner: how errors name the construct (``owner_name``).
    :param handlers: the checked ``handlers`` prop.
    :param settings: the checked ``settings`` prop.
    :param secret: the ``existing_payment_gateway_secret`` prop.
    """
    given = [role for role in PAYMENT_ROLES if role in handlers]
    if not given:
        return False
    if len(given) == 1:
        (role,) = given
        (other,) = (missing for missing in PAYMENT_ROLES if missing != role)
        raise ValueError(
            f"{owner}: handlers[{role!r}] is given without handlers[{other!r}]: the compensation must refund "
            f"through the provider that charged; give both, built with build_charge_handler(provider) and "
            f"build_refund_handler(provider) from serverless_patterns.lambdas.order_workflow.custom"
        )
    yours = "handlers['charge_payment'] and handlers['refund_payment'] bring your own payment provider"
    if settings.payment_gateway != DEFAULT_GATEWAY:
        raise ValueError(
            f"{owner}: {yours}, but settings.payment_gateway={settings.payment_gateway!r} selects a built-in "
            f"adapter for the same roles: leave settings.payment_gateway at its default ({DEFAULT_GATEWAY!r})"
        )
    http_props = [
        name
        for name, value in (
            ("settings.payment_gateway_url", settings.payment_gateway_url),
            ("settings.payment_gateway_secret_name", settings.payment_gateway_secret_name),
            ("existing_payment_gateway_secret", secret),
        )
        if value
    ]
    if http_props:
        raise ValueError(
            f"{owner}: {yours}, but {', '.join(http_props)} configure(s) the built-in "
            f"{names.HTTP_PAYMENT_GATEWAY!r} adapter, which it replaces: pass your provider's URL and secret name "
            "through HandlerCode.from_package(..., environment=...) and grant the functions' roles what it reads"
        )
    return True


def connect_payment_gateway(
    workflow: OrderWorkflow,
    breakers: CircuitBreakers | None,
    secret: secretsmanager.ISecret | None,
    *,
    own_provider: bool,
) -> tuple[RetryPolicy | None, secretsmanager.ISecret | None]:
    """Wire the ``http`` gateway into ChargePayment and RefundPayment: the retry its outages get, and its secret.

    Refuses, with a ValueError, the gateway's settings without ``payment_gateway="http"``, breakers
    that would guard nothing, and retries that would outlast the execution timeout.

    :param own_provider: the workflow's handlers bring the user's payment provider.
    """
    settings = workflow.settings
    if settings.payment_gateway != names.HTTP_PAYMENT_GATEWAY:
        if settings.payment_gateway_url or secret is not None:
            raise ValueError(
                f"a payment gateway URL or secret is given, but payment_gateway is {settings.payment_gateway!r}; "
                f"set payment_gateway={names.HTTP_PAYMENT_GATEWAY!r} to call it"
            )
        if breakers is not None:
            gateway = "your own payment provider" if own_provider else repr(settings.payment_gateway)
            raise ValueError(
                f"{owner_name(workflow)}: circuit_breakers guards the calls of the built-in "
                f"{names.HTTP_PAYMENT_GATEWAY!r} payment gateway only, and the workflow charges through "
                f"{gateway}: it would do nothing; remove it (or set payment_gateway={names.HTTP_PAYMENT_GATEWAY!r})"
            )
        return None, None
    if not settings.payment_gateway_url:
        raise ValueError(f"payment_gateway={names.HTTP_PAYMENT_GATEWAY!r} needs settings.payment_gateway_url")
    if breakers is None:
        raise ValueError(
            f"payment_gateway={names.HTTP_PAYMENT_GATEWAY!r} needs circuit_breakers declaring "
            f"{names.PAYMENT_GATEWAY_BREAKER!r}: every external call goes through a breaker"
        )
    if secret is None and settings.payment_gateway_secret_name:
        secret = secretsmanager.Secret.from_secret_name_v2(
            workflow, "PaymentGatewayCredentials", settings.payment_gateway_secret_name
        )
    for function in (workflow.charge_payment, workflow.refund_payment):
        breakers.connect(function, names.PAYMENT_GATEWAY_BREAKER, url=settings.payment_gateway_url, secret=secret)
    retry = gateway_unavailable_retry(breakers.settings.cooldown_seconds)
    # An execution that times out runs no compensation: a charge whose answer was lost would
    # never be refunded. Both tasks' retries (each attempt bounded by the HTTP timeouts) must fit.
    attempt_seconds = breakers.settings.connect_timeout_seconds + breakers.settings.read_timeout_seconds
    task_seconds = sum(retry.waits()) + (retry.max_attempts + 1) * attempt_seconds
    if 2 * task_seconds > 60 * settings.execution_timeout_minutes:
        raise ValueError(
            f"the payment gateway's retries of ChargePayment and RefundPayment take up to {2 * task_seconds:g} s, "
            f"longer than the execution timeout ({settings.execution_timeout_minutes} min): raise "
            "execution_timeout_minutes or shorten the breaker's cooldown"
        )
    return retry, secret
