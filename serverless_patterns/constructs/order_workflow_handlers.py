"""What OrderWorkflow refuses when your code replaces its payment roles.

Your provider (``handlers={"charge_payment": ..., "refund_payment": ...}``, built with
``serverless_patterns.lambdas.order_workflow.custom``) replaces the built-in ``ledger`` and
``http`` adapters in both payment roles at once: a charge must be refunded through the
provider that took it, and the ``http`` adapter's settings would configure nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from serverless_patterns.config import WorkflowSettings
from serverless_patterns.constructs.handler_code import HandlerCode
from serverless_patterns.lambdas.order_workflow import names

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
