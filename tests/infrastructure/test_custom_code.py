"""Your own code in OrderWorkflow and EventPipeline: what the template says, and the contradictions refused.

The stack is the one the integration tests deploy (``tests/integration/fixtures/custom_code_stack``),
synthesized here under the compliance gates.
"""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Stack, assertions, aws_secretsmanager as secretsmanager

from serverless_patterns import CircuitBreakers, OrderWorkflow, WorkflowSettings
from serverless_patterns.lambdas.order_workflow import names
from tests.integration.fixtures.custom_code_stack import BOOKS_TABLE_ENV, shop_code, synthesized


@pytest.fixture(scope="module")
def template(cdk_context: dict[str, Any]) -> assertions.Template:
    stack, _ = synthesized(cdk_context)  # under the compliance gates
    return assertions.Template.from_stack(stack)


def _function(template: assertions.Template, handler: str) -> dict[str, Any]:
    (function,) = [
        dict(resource["Properties"])
        for resource in template.find_resources("AWS::Lambda::Function").values()
        if resource["Properties"].get("Handler") == handler
    ]
    return function


@pytest.mark.parametrize("handler", ["shop_extensions.payments.charge", "shop_extensions.payments.refund"])
def test_your_provider_replaces_the_built_in_adapters_and_keeps_the_limit(
    template: assertions.Template, handler: str
) -> None:
    variables = _function(template, handler)["Environment"]["Variables"]
    assert names.PAYMENT_GATEWAY_ENV not in variables  # no built-in adapter is named
    assert variables[names.MAX_CHARGE_ENV] == str(WorkflowSettings().max_charge_cents)
    assert BOOKS_TABLE_ENV in variables


def test_your_roles_keep_the_patterns_metadata_and_the_rest_stay_built_in(template: assertions.Template) -> None:
    roles = {
        resource["Metadata"]["ServerlessPatterns"]["role"]: resource["Properties"]["Handler"]
        for resource in template.find_resources("AWS::Lambda::Function").values()
        if "ServerlessPatterns" in resource.get("Metadata", {})
    }
    assert roles == {
        "validate_order": "serverless_patterns.lambdas.order_workflow.validate.handler",
        "charge_payment": "shop_extensions.payments.charge",
        "update_inventory": "serverless_patterns.lambdas.order_workflow.inventory.handler",
        "send_confirmation": "shop_extensions.confirmation.handler",
        "refund_payment": "shop_extensions.payments.refund",
        "validate": "shop_extensions.uploads.handler",
        "process": "serverless_patterns.lambdas.event_pipeline.process.handler",
        "master": "serverless_patterns.lambdas.fan_out.master.handler",
        "worker": "shop_extensions.words.worker",
        "aggregator": "shop_extensions.words.aggregator",
        "sweeper": "serverless_patterns.lambdas.fan_out.sweeper.handler",
        "status": "serverless_patterns.lambdas.fan_out.status.handler",
    }


def _workflow(**props: Any) -> OrderWorkflow:
    return OrderWorkflow(Stack(App(), "Refused"), "Orders", **props)


CHARGE = shop_code("payments.charge")
REFUND = shop_code("payments.refund")


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"handlers": {"charge_payment": CHARGE}},
            r"OrderWorkflow Refused/Orders: handlers\['charge_payment'\] is given without "
            r"handlers\['refund_payment'\]: the compensation must refund through the provider that charged",
        ),
        (
            {"handlers": {"refund_payment": REFUND, "send_confirmation": shop_code("confirmation.handler")}},
            r"handlers\['refund_payment'\] is given without handlers\['charge_payment'\]",
        ),
        (
            {
                "handlers": {"charge_payment": CHARGE, "refund_payment": REFUND},
                "settings": WorkflowSettings(payment_gateway="http", payment_gateway_url="https://pay.example.com"),
            },
            r"bring your own payment provider, but settings.payment_gateway='http' selects a built-in adapter "
            r"for the same roles: leave settings.payment_gateway at its default \('ledger'\)",
        ),
        (
            {
                "handlers": {"charge_payment": CHARGE, "refund_payment": REFUND},
                "settings": WorkflowSettings(
                    payment_gateway_url="https://pay.example.com", payment_gateway_secret_name="pay/key"
                ),
            },
            r"but settings.payment_gateway_url, settings.payment_gateway_secret_name configure\(s\) the built-in "
            r"'http' adapter, which it replaces: pass your provider's URL and secret name through "
            r"HandlerCode.from_package",
        ),
    ],
)
def test_contradictory_payment_handlers_are_refused_naming_the_props(props: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _workflow(**props)


def test_the_http_adapters_secret_is_refused_beside_your_provider() -> None:
    stack = Stack(App(), "Refused")
    secret = secretsmanager.Secret.from_secret_name_v2(stack, "Key", "pay/key")
    with pytest.raises(ValueError, match=r"but existing_payment_gateway_secret configure\(s\) the built-in 'http'"):
        OrderWorkflow(
            stack,
            "Orders",
            handlers={"charge_payment": CHARGE, "refund_payment": REFUND},
            existing_payment_gateway_secret=secret,
        )


def test_circuit_breakers_beside_your_provider_are_refused_as_guarding_nothing() -> None:
    stack = Stack(App(), "Refused")
    breakers = CircuitBreakers(stack, "Breakers", breakers=(names.PAYMENT_GATEWAY_BREAKER,))
    with pytest.raises(ValueError, match="charges through your own payment provider: it would do nothing"):
        OrderWorkflow(
            stack, "Orders", handlers={"charge_payment": CHARGE, "refund_payment": REFUND}, circuit_breakers=breakers
        )
