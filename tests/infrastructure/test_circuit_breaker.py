"""CircuitBreakers in each environment's configuration, under the compliance gates."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack, Stage, assertions, aws_lambda as lambda_, aws_secretsmanager as secretsmanager
from cfnlint.api import ManualArgs, lint_file

from serverless_patterns.config import EnvironmentConfig, FunctionSettings
from serverless_patterns.constructs.circuit_breaker import CircuitBreakers
from serverless_patterns.constructs.compliance import acknowledge
from serverless_patterns.constructs.function import ServerlessFunction
from serverless_patterns.stacks.compliance import add_compliance_checks
from serverless_patterns.stacks.environments import environment

Match = assertions.Match
BREAKERS = ("payment-gateway", "enrichment")
GATEWAY_URL = "https://payments.example.com/v1"


@dataclasses.dataclass
class Built:
    config: EnvironmentConfig
    stack: Stack
    breakers: CircuitBreakers
    charge: ServerlessFunction
    process: ServerlessFunction
    template: assertions.Template
    template_path: Path


def _function(stack: Stack, construct_id: str, config: EnvironmentConfig, role: str) -> ServerlessFunction:
    return ServerlessFunction(
        stack,
        construct_id,
        code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
        handler="index.handler",
        settings=config.function(role),
        service="breaker-test",
        defaults=config.defaults,
    )


def _build(cdk_context: dict[str, Any], env: str) -> Built:
    config = environment(env)
    app = App(context=cdk_context)
    stage = Stage(app, config.name)
    add_compliance_checks(stage)
    stack = Stack(stage, "Breakers")
    breakers = CircuitBreakers(
        stack, "CircuitBreakers", breakers=BREAKERS, settings=config.circuit_breaker, defaults=config.defaults
    )
    charge = _function(stack, "ChargePayment", config, "charge_payment")
    process = _function(stack, "Process", config, "process")
    credentials = secretsmanager.Secret(stack, "GatewayCredentials")
    acknowledge(
        credentials,
        ("AwsSolutions::AwsSolutions-SMG4", "Test fixture: the payment provider issues and rotates this key."),
    )
    breakers.connect(charge, "payment-gateway", url=GATEWAY_URL, secret=credentials)
    breakers.grant(process)
    assembly = app.synth()  # runs the compliance gates; Template.from_stack alone does not
    template_path = Path(assembly.get_stack_artifact(stack.artifact_id).template_full_path)
    return Built(config, stack, breakers, charge, process, assertions.Template.from_stack(stack), template_path)


@pytest.fixture(scope="module", params=["dev", "staging", "prod"])
def built(request: pytest.FixtureRequest, cdk_context: dict[str, Any]) -> Built:
    return _build(cdk_context, request.param)


def _environment_of(built: Built, function: ServerlessFunction) -> dict[str, Any]:
    logical_id = built.stack.get_logical_id(function.function.node.default_child)  # type: ignore[arg-type]
    variables: dict[str, Any] = built.template.to_json()["Resources"][logical_id]["Properties"]["Environment"][
        "Variables"
    ]
    return variables


def _table_logical_id(built: Built) -> str:
    (logical_id,) = built.template.find_resources("AWS::DynamoDB::GlobalTable")
    return logical_id


def test_state_table_is_keyed_by_breaker_name_with_environment_defaults(built: Built) -> None:
    retained = built.config.name != "Dev"
    built.template.has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
            "SSESpecification": {"SSEEnabled": True},
            "Replicas": [
                Match.object_like(
                    {
                        "PointInTimeRecoverySpecification": {
                            "PointInTimeRecoveryEnabled": built.config.point_in_time_recovery
                        },
                        "DeletionProtectionEnabled": retained,
                    }
                )
            ],
        },
    )
    built.template.has_resource("AWS::DynamoDB::GlobalTable", {"DeletionPolicy": "Retain" if retained else "Delete"})


def test_granted_functions_get_thresholds_timeouts_and_a_trial_lease_of_their_timeout(built: Built) -> None:
    settings = built.config.circuit_breaker
    for function in (built.charge, built.process):
        variables = _environment_of(built, function)
        assert variables["CIRCUIT_BREAKER_TABLE"] == {"Ref": _table_logical_id(built)}
        assert variables["CIRCUIT_BREAKER_FAILURE_THRESHOLD"] == str(settings.failure_threshold)
        assert variables["CIRCUIT_BREAKER_WINDOW_SECONDS"] == str(settings.window_seconds)
        assert variables["CIRCUIT_BREAKER_COOLDOWN_SECONDS"] == str(settings.cooldown_seconds)
        assert variables["CIRCUIT_BREAKER_CACHE_SECONDS"] == str(settings.cache_seconds)
        assert variables["CIRCUIT_BREAKER_TRIAL_LEASE_SECONDS"] == str(function.settings.timeout_seconds)
        assert float(variables["HTTP_CONNECT_TIMEOUT_SECONDS"]) + float(variables["HTTP_READ_TIMEOUT_SECONDS"]) <= (
            function.settings.timeout_seconds / 2
        )


def test_only_the_connected_function_gets_the_url_and_the_secret(built: Built) -> None:
    charge = _environment_of(built, built.charge)
    assert charge["PAYMENT_GATEWAY_URL"] == GATEWAY_URL
    (secret,) = built.template.find_resources("AWS::SecretsManager::Secret")
    assert charge["PAYMENT_GATEWAY_SECRET_ARN"] == {"Ref": secret}
    process = _environment_of(built, built.process)
    assert not any(name.startswith(("PAYMENT_GATEWAY_", "ENRICHMENT_")) for name in process)
    statements = _statements_of(built)
    readers = [role for role, stmts in statements.items() if any("secretsmanager:GetSecretValue" in s for s in stmts)]
    assert readers == [built.stack.get_logical_id(built.charge.role.node.default_child)]  # type: ignore[arg-type]


def test_state_access_is_get_and_update_item_on_the_table_only(built: Built) -> None:
    table = _table_logical_id(built)
    for role, actions_by_statement in _statements_of(built).items():
        dynamodb = [actions for actions in actions_by_statement if any(a.startswith("dynamodb:") for a in actions)]
        assert dynamodb == [["dynamodb:GetItem", "dynamodb:UpdateItem"]], role
    policies = built.template.find_resources("AWS::IAM::Policy")
    for policy in policies.values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Action"] == ["dynamodb:GetItem", "dynamodb:UpdateItem"]:
                assert statement["Resource"] == {"Fn::GetAtt": [table, "Arn"]}


def test_an_alarm_fires_when_any_breaker_opens(built: Built) -> None:
    for name in BREAKERS:
        built.template.has_resource_properties(
            "AWS::CloudWatch::Alarm",
            {
                "Namespace": f"ServerlessPatterns/{built.config.name}",
                "MetricName": "CircuitOpened",
                "Dimensions": [{"Name": "CircuitBreaker", "Value": name}],
                "Statistic": "Sum",
                "Period": 60,
                "Threshold": 1,
                "EvaluationPeriods": 1,
                "DatapointsToAlarm": 1,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "TreatMissingData": "notBreaching",
            },
        )
    assert len(built.breakers.alarms) == len(BREAKERS) + 1  # plus throttled state reads/writes


def test_dashboard_row_shows_every_breaker_and_the_state_table(built: Built) -> None:
    body = json.dumps([built.stack.resolve(widget.to_json()) for widget in built.breakers.dashboard_widgets()])
    for name in BREAKERS:
        assert f'"CircuitBreaker", "{name}"' in body
    for metric_name in ("CircuitOpened", "CircuitHalfOpened", "CircuitClosed", "CircuitShortCircuited"):
        assert metric_name in body
    assert json.dumps({"Ref": _table_logical_id(built)}) in body
    for operation in ("GetItem", "UpdateItem"):
        assert f'"SuccessfulRequestLatency", "Operation", "{operation}"' in body
        assert f'"ThrottledRequests", "Operation", "{operation}"' in body


def test_template_passes_cfn_lint(built: Built) -> None:
    matches = lint_file(built.template_path, ManualArgs(ignore_checks=["W3005"]))
    assert [str(match) for match in matches] == []


def test_alarm_period_covers_a_cooldown_longer_than_a_minute(cdk_context: dict[str, Any]) -> None:
    config = environment("dev")
    stack = Stack(App(context=cdk_context), "Slow")
    CircuitBreakers(
        stack,
        "CircuitBreakers",
        breakers=["partner-api"],
        settings=dataclasses.replace(config.circuit_breaker, cooldown_seconds=150),
        defaults=config.defaults,
    )
    assertions.Template.from_stack(stack).has_resource_properties(
        "AWS::CloudWatch::Alarm", {"MetricName": "CircuitOpened", "Period": 180}
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"breakers": []}, "at least one"),
        ({"breakers": ["a", "a"]}, "unique"),
        ({"breakers": ["Payment_Gateway"]}, "lowercase"),
    ],
)
def test_breaker_names_are_checked(cdk_context: dict[str, Any], change: dict[str, Any], message: str) -> None:
    config = environment("dev")
    props: dict[str, Any] = {"breakers": BREAKERS, "settings": config.circuit_breaker, "defaults": config.defaults}
    with pytest.raises(ValueError, match=message):
        CircuitBreakers(Stack(App(context=cdk_context), "Bad"), "CircuitBreakers", **{**props, **change})


def test_wiring_mistakes_fail_synthesis(cdk_context: dict[str, Any]) -> None:
    config = environment("dev")
    stack = Stack(App(context=cdk_context), "Wiring")
    breakers = CircuitBreakers(
        stack, "CircuitBreakers", breakers=BREAKERS, settings=config.circuit_breaker, defaults=config.defaults
    )
    short = ServerlessFunction(
        stack,
        "Short",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
        handler="index.handler",
        settings=FunctionSettings(timeout_seconds=5),  # 1 s + 3 s of HTTP timeouts > half of 5 s
        service="breaker-test",
        defaults=config.defaults,
    )
    with pytest.raises(ValueError, match="must stay within 50% of the function timeout"):
        breakers.grant(short)
    roomy = _function(stack, "Roomy", config, "process")
    with pytest.raises(ValueError, match="unknown breaker"):
        breakers.connect(roomy, "payments", url=GATEWAY_URL)
    with pytest.raises(ValueError, match="https"):
        breakers.connect(roomy, "enrichment", url="http://enrichment.example.com")
    with pytest.raises(ValueError, match="unknown breaker"):
        breakers.metric_opened("payments")
    breakers.connect(roomy, "enrichment", url="http://127.0.0.1:8080")  # local runs may use plain http


def _statements_of(built: Built) -> dict[str, list[list[str]]]:
    """Each role's policy statements, as lists of actions, keyed by the role's logical id."""
    by_role: dict[str, list[list[str]]] = {}
    for policy in built.template.find_resources("AWS::IAM::Policy").values():
        (role,) = (ref["Ref"] for ref in policy["Properties"]["Roles"])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"]
            by_role.setdefault(role, []).append([actions] if isinstance(actions, str) else actions)
    return by_role
