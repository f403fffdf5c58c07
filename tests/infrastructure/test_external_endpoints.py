"""OrderWorkflow with the ``http`` payment gateway and EventPipeline with enrichment, behind CircuitBreakers.

No environment calls an external service yet, so ServiceStack does not wire this; these stacks
compose it as an environment would (see docs/configuration.md: ``CircuitBreakers``
under "Building blocks", ``enrichment_url`` under "EventPipeline and PipelineSettings", the ``http``
payment gateway under "OrderWorkflow and WorkflowSettings"): each environment's config with a
gateway URL, an enrichment URL and secret names, under the compliance gates.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack, Stage, assertions, aws_secretsmanager as secretsmanager
from cfnlint.api import ManualArgs, lint_file

from serverless_patterns.config import EnvironmentConfig
from serverless_patterns.constructs.circuit_breaker import CircuitBreakers
from serverless_patterns.constructs.event_pipeline import EventPipeline
from serverless_patterns.constructs.function import ServerlessFunction
from serverless_patterns.constructs.order_workflow import OrderWorkflow
from serverless_patterns.stacks.compliance import add_compliance_checks
from serverless_patterns.stacks.environments import environment

ENVIRONMENTS = ("dev", "staging", "prod")
GATEWAY_URL = "https://payments.example.com/v1"
ENRICHMENT_URL = "https://catalogue.example.com/enrich"
GATEWAY_SECRET = "payments/provider-api-key"
ENRICHMENT_SECRET = "catalogue/api-key"
BREAKER_VARIABLES = {
    "CIRCUIT_BREAKER_TABLE",
    "CIRCUIT_BREAKER_FAILURE_THRESHOLD",
    "CIRCUIT_BREAKER_WINDOW_SECONDS",
    "CIRCUIT_BREAKER_COOLDOWN_SECONDS",
    "CIRCUIT_BREAKER_CACHE_SECONDS",
    "CIRCUIT_BREAKER_TRIAL_LEASE_SECONDS",
    "HTTP_CONNECT_TIMEOUT_SECONDS",
    "HTTP_READ_TIMEOUT_SECONDS",
}


@dataclasses.dataclass
class Built:
    config: EnvironmentConfig
    stage: Stage
    stack: Stack
    breakers: CircuitBreakers
    workflow: OrderWorkflow
    pipeline: EventPipeline
    json: dict[str, Any] = dataclasses.field(default_factory=dict)

    def resources(self, kind: str) -> dict[str, Any]:
        return {key: value for key, value in self.json["Resources"].items() if value["Type"] == kind}

    def logical_id(self, construct: Any) -> str:
        return str(self.stack.resolve(construct.node.default_child.logical_id))

    def variables(self, function: ServerlessFunction) -> dict[str, Any]:
        found: dict[str, Any] = self.json["Resources"][self.logical_id(function.function)]["Properties"]["Environment"][
            "Variables"
        ]
        return found

    def actions_on(self, function: ServerlessFunction, resource_fragment: str) -> set[str]:
        """The actions ``function``'s role may take on resources whose JSON contains the fragment."""
        role = {"Ref": self.logical_id(function.role)}
        actions: set[str] = set()
        for policy in self.resources("AWS::IAM::Policy").values():
            if role not in policy["Properties"]["Roles"]:
                continue
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                if resource_fragment in json.dumps(statement["Resource"]):
                    listed = statement["Action"]
                    actions.update([listed] if isinstance(listed, str) else listed)
        return actions

    @property
    def states(self) -> dict[str, Any]:
        (machine,) = self.resources("AWS::StepFunctions::StateMachine").values()
        parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
        rendered = "".join(part if isinstance(part, str) else json.dumps(part).replace('"', "'") for part in parts)
        states: dict[str, Any] = json.loads(rendered)["States"]
        return states


def _add(app: App, env: str) -> Built:
    config = environment(env)
    stage = Stage(app, config.name)
    add_compliance_checks(stage)
    stack = Stack(stage, "Service")
    breakers = CircuitBreakers(
        stack,
        "CircuitBreakers",
        breakers=("payment-gateway", "enrichment"),
        settings=config.circuit_breaker,
        defaults=config.defaults,
    )
    workflow = OrderWorkflow(
        stack,
        "OrderWorkflow",
        defaults=config.defaults,
        settings=dataclasses.replace(
            config.workflow,
            payment_gateway="http",
            payment_gateway_url=GATEWAY_URL,
            payment_gateway_secret_name=GATEWAY_SECRET,
        ),
        functions=config.functions_for(OrderWorkflow.ROLES),
        circuit_breakers=breakers,
    )
    pipeline = EventPipeline(
        stack,
        "EventPipeline",
        settings=dataclasses.replace(
            config.pipeline, enrichment_url=ENRICHMENT_URL, enrichment_secret_name=ENRICHMENT_SECRET
        ),
        functions=config.functions_for(EventPipeline.ROLES),
        defaults=config.defaults,
        circuit_breakers=breakers,
    )
    return Built(config, stage, stack, breakers, workflow, pipeline)


@pytest.fixture(scope="module")
def built(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    """Dev, Staging and Prod, synthesized once (compliance gates included)."""
    app = App(context=cdk_context, outdir=str(tmp_path_factory.mktemp("external-endpoints")))
    stacks = {env: _add(app, env) for env in ENVIRONMENTS}
    app.synth()  # runs the compliance gates; Template.from_stack alone does not
    for each in stacks.values():
        each.json = dict(assertions.Template.from_stack(each.stack).to_json())
    return stacks


@pytest.fixture(params=ENVIRONMENTS)
def b(request: pytest.FixtureRequest, built: dict[str, Built]) -> Built:
    return built[request.param]


def _secret_arn(name: str) -> dict[str, Any]:
    """The partial ARN CDK builds for a secret found by name (IAM then allows its random suffix)."""
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":secretsmanager:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                f":secret:{name}",
            ],
        ]
    }


def test_charge_and_refund_call_the_gateway_through_the_breaker(b: Built) -> None:
    table = {"Ref": b.logical_id(b.breakers.table)}
    for role in ("charge_payment", "refund_payment"):
        variables = b.variables(b.workflow.functions[role])
        assert variables["PAYMENT_GATEWAY"] == "http"
        assert variables["PAYMENT_GATEWAY_URL"] == GATEWAY_URL
        assert variables["PAYMENT_GATEWAY_SECRET_ARN"] == _secret_arn(GATEWAY_SECRET)
        assert variables["CIRCUIT_BREAKER_TABLE"] == table
        assert set(variables) >= BREAKER_VARIABLES
        assert variables["CIRCUIT_BREAKER_COOLDOWN_SECONDS"] == str(b.config.circuit_breaker.cooldown_seconds)
    for role in ("validate_order", "update_inventory", "send_confirmation"):
        names = set(b.variables(b.workflow.functions[role]))
        assert not names & (BREAKER_VARIABLES | {"PAYMENT_GATEWAY_URL", "PAYMENT_GATEWAY_SECRET_ARN"}), role


def test_only_the_process_function_calls_the_enrichment_service(b: Built) -> None:
    process = b.variables(b.pipeline.process_function)
    assert process["ENRICHMENT_URL"] == ENRICHMENT_URL
    assert process["ENRICHMENT_SECRET_ARN"] == _secret_arn(ENRICHMENT_SECRET)
    assert process["CIRCUIT_BREAKER_TABLE"] == {"Ref": b.logical_id(b.breakers.table)}
    assert not set(b.variables(b.pipeline.validate_function)) & (BREAKER_VARIABLES | {"ENRICHMENT_URL"})


def test_each_secret_is_read_by_its_callers_alone_and_the_state_by_every_caller(b: Built) -> None:
    callers = {
        "charge": b.workflow.charge_payment,
        "refund": b.workflow.refund_payment,
        "process": b.pipeline.process_function,
    }
    others = [
        *(fn for role, fn in b.workflow.functions.items() if role not in ("charge_payment", "refund_payment")),
        b.pipeline.validate_function,
    ]
    read = {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
    for name, function in callers.items():
        gateway_secret = b.actions_on(function, f":secret:{GATEWAY_SECRET}-??????")
        enrichment_secret = b.actions_on(function, f":secret:{ENRICHMENT_SECRET}-??????")
        assert (gateway_secret, enrichment_secret) == ((read, set()) if name != "process" else (set(), read)), name
        assert b.actions_on(function, b.logical_id(b.breakers.table)) == {"dynamodb:GetItem", "dynamodb:UpdateItem"}
    for function in others:
        assert b.actions_on(function, ":secret:") == set()
        assert b.actions_on(function, b.logical_id(b.breakers.table)) == set()


def test_gateway_outages_are_retried_for_two_breaker_cooldowns_before_compensating(b: Built) -> None:
    gateway_retry = {
        "ErrorEquals": ["PaymentGatewayUnavailable"],
        "IntervalSeconds": 2,
        "MaxAttempts": 5,
        "BackoffRate": 2,
        "MaxDelaySeconds": 30,
    }
    assert b.config.circuit_breaker.cooldown_seconds == 30
    charge = b.states["ChargePayment"]["Retry"]
    assert charge[1:] == [
        {"ErrorEquals": ["PaymentError", "OrderStateError"], "MaxAttempts": 0},
        gateway_retry,  # ahead of States.TaskFailed, which matches it too
        {
            "ErrorEquals": ["TransientError", "States.TaskFailed"],
            "IntervalSeconds": 2,
            "MaxAttempts": 3,
            "BackoffRate": 2,
        },
    ]
    refund = b.states["RefundPayment"]["Retry"]
    assert refund[1:] == [
        gateway_retry,
        {
            "ErrorEquals": ["States.ALL"],
            "IntervalSeconds": 2,
            "MaxAttempts": 5,
            "BackoffRate": 2,
            "MaxDelaySeconds": 30,
        },
    ]
    assert b.states["ChargePayment"]["Catch"][-1] == {
        "ErrorEquals": ["States.ALL"],
        "ResultPath": "$.failure",
        "Next": "RefundPayment",
    }


def test_every_breaker_has_an_opened_alarm(b: Built) -> None:
    alarmed = {
        alarm["Properties"]["Dimensions"][0]["Value"]
        for alarm in b.resources("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("MetricName") == "CircuitOpened"
    }
    assert alarmed == {"payment-gateway", "enrichment"}


def test_template_passes_cfn_lint(built: dict[str, Built]) -> None:
    """Prod's template: the environments differ only in sizing, retention and protection here."""
    b = built["prod"]
    artifact = b.stage.synth().get_stack_artifact(b.stack.artifact_id)
    matches = lint_file(Path(artifact.template_full_path), ManualArgs(ignore_checks=["W3005"]))
    assert [str(match) for match in matches] == []


def test_a_secret_object_may_be_given_instead_of_a_name(cdk_context: dict[str, Any]) -> None:
    config = environment("dev")
    stack = Stack(App(context=cdk_context), "Given")
    breakers = CircuitBreakers(
        stack,
        "CircuitBreakers",
        breakers=("payment-gateway",),
        settings=config.circuit_breaker,
        defaults=config.defaults,
    )
    secret = secretsmanager.Secret(stack, "ProviderKey")
    workflow = OrderWorkflow(
        stack,
        "OrderWorkflow",
        defaults=config.defaults,
        settings=dataclasses.replace(config.workflow, payment_gateway="http", payment_gateway_url=GATEWAY_URL),
        circuit_breakers=breakers,
        existing_payment_gateway_secret=secret,
    )
    template = assertions.Template.from_stack(stack).to_json()
    charge_id = stack.resolve(workflow.charge_payment.function.node.default_child.logical_id)  # type: ignore[union-attr]
    variables = template["Resources"][charge_id]["Properties"]["Environment"]["Variables"]
    assert variables["PAYMENT_GATEWAY_SECRET_ARN"] == {"Ref": stack.resolve(secret.node.default_child.logical_id)}  # type: ignore[union-attr]
    assert workflow.payment_gateway_secret is secret


def _workflow(cdk_context: dict[str, Any], breakers: tuple[str, ...] | None, **settings: Any) -> None:
    config = environment("dev")
    stack = Stack(App(context=cdk_context), "Misconfigured")
    circuit_breakers = (
        CircuitBreakers(
            stack, "CircuitBreakers", breakers=breakers, settings=config.circuit_breaker, defaults=config.defaults
        )
        if breakers
        else None
    )
    OrderWorkflow(
        stack,
        "OrderWorkflow",
        defaults=config.defaults,
        settings=dataclasses.replace(config.workflow, **settings),
        circuit_breakers=circuit_breakers,
    )


@pytest.mark.parametrize(
    ("breakers", "settings", "message"),
    [
        (("payment-gateway",), {"payment_gateway": "http"}, "needs settings.payment_gateway_url"),
        (None, {"payment_gateway": "http", "payment_gateway_url": GATEWAY_URL}, "needs circuit_breakers"),
        (("enrichment",), {"payment_gateway": "http", "payment_gateway_url": GATEWAY_URL}, "unknown breaker"),
        (("payment-gateway",), {"payment_gateway_url": GATEWAY_URL}, "payment_gateway is 'ledger'"),
        (
            ("payment-gateway",),
            {},
            r"circuit_breakers guards the calls of the built-in 'http' payment gateway only, and the workflow "
            r"charges through 'ledger': it would do nothing",
        ),
        (
            ("payment-gateway",),
            {"payment_gateway": "http", "payment_gateway_url": "http://payments.example.com"},
            "https",
        ),
        (
            ("payment-gateway",),
            {"payment_gateway": "http", "payment_gateway_url": GATEWAY_URL, "execution_timeout_minutes": 2},
            "longer than the execution timeout",
        ),
    ],
)
def test_gateway_misconfiguration_fails_synthesis(
    cdk_context: dict[str, Any], breakers: tuple[str, ...] | None, settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _workflow(cdk_context, breakers, **settings)


def test_enrichment_misconfiguration_fails_synthesis(cdk_context: dict[str, Any]) -> None:
    config = environment("dev")
    props: dict[str, Any] = {
        "functions": config.functions_for(EventPipeline.ROLES),
        "defaults": config.defaults,
    }
    with pytest.raises(ValueError, match="needs circuit_breakers declaring 'enrichment'"):
        EventPipeline(
            Stack(App(context=cdk_context), "NoBreakers"),
            "EventPipeline",
            settings=dataclasses.replace(config.pipeline, enrichment_url=ENRICHMENT_URL),
            **props,
        )
    stack = Stack(App(context=cdk_context), "NoUrl")
    with pytest.raises(ValueError, match="enrichment_url is not"):
        EventPipeline(
            stack,
            "EventPipeline",
            settings=config.pipeline,
            existing_enrichment_secret=secretsmanager.Secret.from_secret_name_v2(stack, "Key", ENRICHMENT_SECRET),
            **props,
        )
    with pytest.raises(ValueError, match="needs enrichment_url"):
        dataclasses.replace(config.pipeline, enrichment_secret_name=ENRICHMENT_SECRET)
    with pytest.raises(ValueError, match="needs payment_gateway_url"):
        dataclasses.replace(config.workflow, payment_gateway_secret_name=GATEWAY_SECRET)
