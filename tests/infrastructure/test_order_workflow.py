"""OrderWorkflow in each environment's configuration, under the compliance gates.

The definition assertions read the synthesized DefinitionString (a Fn::Join): it is
rendered with ``<LogicalId>`` placeholders for the references and parsed as JSON.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack, Stage, assertions, aws_cloudwatch as cloudwatch, aws_iam as iam
from cfnlint.api import ManualArgs, lint_file

from serverless_patterns.config import FunctionSettings, WorkflowSettings
from serverless_patterns.constructs.observable import Observable
from serverless_patterns.constructs.order_workflow import FUNCTION_ROLES, OrderWorkflow
from serverless_patterns.stacks.compliance import add_compliance_checks
from serverless_patterns.stacks.environments import environment

Match = assertions.Match
ENVIRONMENTS = ("dev", "staging", "prod")
RETENTION_DAYS = {"dev": 7, "staging": 30, "prod": 90}
LAMBDA_SERVICE_RETRY = {
    "ErrorEquals": [
        "Lambda.ClientExecutionTimeoutException",
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
    ],
    "IntervalSeconds": 2,
    "MaxAttempts": 6,
    "BackoffRate": 2,
}


class Built:
    """One environment's synthesized workflow stack."""

    def __init__(self, stage: Stage, stack: Stack, workflow: OrderWorkflow) -> None:
        self.stage, self.stack, self.workflow = stage, stack, workflow
        self.json: dict[str, Any] = {}

    def read_template(self) -> None:
        """After ``app.synth()``: the template the compliance gates passed."""
        self.json = dict(assertions.Template.from_stack(self.stack).to_json())

    def resources(self, kind: str) -> dict[str, Any]:
        return {key: value for key, value in self.json["Resources"].items() if value["Type"] == kind}

    def logical_id(self, construct: Any) -> str:
        return str(self.stack.resolve(construct.node.default_child.logical_id))

    @property
    def state_machine(self) -> dict[str, Any]:
        (machine,) = self.resources("AWS::StepFunctions::StateMachine").values()
        return dict(machine["Properties"])

    @property
    def definition(self) -> dict[str, Any]:
        parts = self.state_machine["DefinitionString"]["Fn::Join"][1]
        rendered = "".join(part if isinstance(part, str) else _placeholder(part) for part in parts)
        return dict(json.loads(rendered))

    @property
    def states(self) -> dict[str, Any]:
        return dict(self.definition["States"])


def _placeholder(reference: dict[str, Any]) -> str:
    if "Ref" in reference:
        return f"<{reference['Ref']}>"
    if "Fn::GetAtt" in reference:
        return f"<{'.'.join(reference['Fn::GetAtt'])}>"
    raise AssertionError(f"unexpected reference in the definition: {reference}")


def _add(app: App, name: str, env: str, **overrides: Any) -> Built:
    config = environment(env)
    stage = Stage(app, name)
    add_compliance_checks(stage)
    stack = Stack(stage, "Workflow")
    workflow = OrderWorkflow(
        stack,
        "Orders",
        defaults=config.defaults,
        settings=overrides.pop("settings", config.workflow),
        functions=config.functions_for(OrderWorkflow.ROLES),
        **overrides,
    )
    # Render the construct's dashboard row, so references in it can be checked against the template.
    cloudwatch.Dashboard(stack, "Dashboard", widgets=[list(workflow.dashboard_widgets())])
    workflow.grant_start_execution(iam.Role(stack, "Starter", assumed_by=iam.AccountRootPrincipal()))
    return Built(stage, stack, workflow)


@pytest.fixture(scope="module")
def built(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    """Dev, Staging, Prod and an Express variant, synthesized once (compliance gates included)."""
    app = App(context=cdk_context, outdir=str(tmp_path_factory.mktemp("order-workflow")))
    stacks = {env: _add(app, env.capitalize(), env) for env in ENVIRONMENTS}
    express = WorkflowSettings(express=True, log_execution_data=True, execution_timeout_minutes=2)
    stacks["express"] = _add(app, "Express", "dev", settings=express)
    app.synth()  # runs the compliance gates; Template.from_stack alone does not
    for each in stacks.values():
        each.read_template()
    return stacks


@pytest.fixture(params=ENVIRONMENTS)
def env(request: pytest.FixtureRequest, built: dict[str, Built]) -> tuple[str, Built]:
    return request.param, built[request.param]


def test_states_and_their_transitions(env: tuple[str, Built]) -> None:
    _, b = env
    definition = b.definition
    assert definition["StartAt"] == "ValidateOrder"
    assert definition["TimeoutSeconds"] == 300
    assert {name: state["Type"] for name, state in b.states.items()} == {
        "ValidateOrder": "Task",
        "ChargePayment": "Task",
        "UpdateInventory": "Task",
        "SendConfirmation": "Task",
        "RefundPayment": "Task",
        "CheckFulfilment": "Choice",
        "QueueConfirmation": "Task",
        "OrderConfirmed": "Succeed",
        "ConfirmationQueued": "Succeed",
        "ValidationFailed": "Fail",
        "PaymentFailed": "Fail",
        "OrderFailed": "Fail",
        "CompensationFailed": "Fail",
    }
    nexts = {name: state.get("Next") for name, state in b.states.items() if "Next" in state}
    assert nexts == {
        "ValidateOrder": "ChargePayment",
        "ChargePayment": "UpdateInventory",
        "UpdateInventory": "SendConfirmation",
        "SendConfirmation": "OrderConfirmed",
        "RefundPayment": "CheckFulfilment",
        "QueueConfirmation": "ConfirmationQueued",
    }
    assert b.states["CheckFulfilment"]["Choices"] == [
        {"Variable": "$.compensation.fulfilled", "BooleanEquals": True, "Next": "SendConfirmation"}
    ]
    assert b.states["CheckFulfilment"]["Default"] == "OrderFailed"


def test_tasks_invoke_the_live_aliases_and_pass_the_order(env: tuple[str, Built]) -> None:
    _, b = env
    aliases = {key: value["Properties"] for key, value in b.resources("AWS::Lambda::Alias").items()}
    assert {props["Name"] for props in aliases.values()} == {"live"}
    tasks = {
        "ValidateOrder": b.workflow.validate_order,
        "ChargePayment": b.workflow.charge_payment,
        "UpdateInventory": b.workflow.update_inventory,
        "SendConfirmation": b.workflow.send_confirmation,
        "RefundPayment": b.workflow.refund_payment,
    }
    for state_name, function in tasks.items():
        alias_id = b.stack.resolve(function.alias.node.default_child.logical_id)  # type: ignore[union-attr]
        assert b.states[state_name]["Resource"] == f"<{alias_id}>"
    assert "InputPath" not in b.states["ValidateOrder"]
    assert b.states["ValidateOrder"]["ResultPath"] == "$"
    for state_name, result in (
        ("ChargePayment", "$.payment"),
        ("UpdateInventory", "$.reservation"),
        ("SendConfirmation", "$.confirmation"),
    ):
        assert (b.states[state_name]["InputPath"], b.states[state_name]["ResultPath"]) == ("$.order", result)
    assert b.states["RefundPayment"]["Parameters"] == {"order.$": "$.order", "failure.$": "$.failure"}
    assert b.states["RefundPayment"]["ResultPath"] == "$.compensation"


def test_validate_order_retry_and_catch(env: tuple[str, Built]) -> None:
    state = env[1].states["ValidateOrder"]
    assert state["Retry"] == [
        LAMBDA_SERVICE_RETRY,
        {"ErrorEquals": ["TransientError"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2},
    ]
    assert state["Catch"] == [{"ErrorEquals": ["ValidationError"], "ResultPath": "$", "Next": "ValidationFailed"}]


def test_charge_payment_retries_transient_failures_never_declines(env: tuple[str, Built]) -> None:
    state = env[1].states["ChargePayment"]
    assert state["Retry"] == [
        LAMBDA_SERVICE_RETRY,
        {"ErrorEquals": ["PaymentError", "OrderStateError"], "MaxAttempts": 0},
        {
            "ErrorEquals": ["PaymentGatewayUnavailable", "TransientError", "States.TaskFailed"],
            "IntervalSeconds": 2,
            "MaxAttempts": 3,
            "BackoffRate": 2,
        },
    ]
    assert state["Catch"] == [
        {"ErrorEquals": ["PaymentError"], "ResultPath": "$.failure", "Next": "PaymentFailed"},
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "RefundPayment"},
    ]


def test_update_inventory_compensates_out_of_stock(env: tuple[str, Built]) -> None:
    state = env[1].states["UpdateInventory"]
    assert state["Retry"] == [
        LAMBDA_SERVICE_RETRY,
        {
            "ErrorEquals": ["TransientError"],
            "IntervalSeconds": 1,
            "MaxAttempts": 5,
            "BackoffRate": 2,
            "MaxDelaySeconds": 10,
            "JitterStrategy": "FULL",
        },
    ]
    assert state["Catch"] == [
        {"ErrorEquals": ["OutOfStock"], "ResultPath": "$.failure", "Next": "RefundPayment"},
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "RefundPayment"},
    ]


def test_confirmation_retries_then_is_queued_never_failed(env: tuple[str, Built]) -> None:
    b = env[1]
    state = b.states["SendConfirmation"]
    assert state["Retry"] == [
        LAMBDA_SERVICE_RETRY,
        {
            "ErrorEquals": ["States.ALL"],
            "IntervalSeconds": 2,
            "MaxAttempts": 5,
            "BackoffRate": 2,
            "MaxDelaySeconds": 30,
        },
    ]
    assert state["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.confirmation_failure", "Next": "QueueConfirmation"}
    ]
    queue_id = b.logical_id(b.workflow.confirmation_queue)
    queue_state = b.states["QueueConfirmation"]
    assert queue_state["Resource"] == "arn:<AWS::Partition>:states:::sqs:sendMessage"
    assert queue_state["Parameters"] == {"QueueUrl": f"<{queue_id}>", "MessageBody.$": "$.order"}
    assert queue_state["Retry"] == [
        {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 2}
    ]
    assert "Catch" not in queue_state


def test_refund_retries_and_failures_report_their_reason(env: tuple[str, Built]) -> None:
    states = env[1].states
    assert states["RefundPayment"]["Retry"] == [
        LAMBDA_SERVICE_RETRY,
        {
            "ErrorEquals": ["States.ALL"],
            "IntervalSeconds": 2,
            "MaxAttempts": 5,
            "BackoffRate": 2,
            "MaxDelaySeconds": 30,
        },
    ]
    assert states["RefundPayment"]["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.compensation_failure", "Next": "CompensationFailed"}
    ]
    fails = {
        name: {k: v for k, v in state.items() if k not in ("Type", "Comment")}
        for name, state in states.items()
        if state["Type"] == "Fail"
    }
    assert fails == {
        "ValidationFailed": {"Error": "ValidationError", "CausePath": "$.Cause"},
        "PaymentFailed": {"Error": "PaymentError", "CausePath": "$.failure.Cause"},
        "OrderFailed": {"ErrorPath": "$.compensation.error", "CausePath": "$.compensation.reason"},
        "CompensationFailed": {"Error": "CompensationFailed", "CausePath": "$.compensation_failure.Cause"},
    }


def test_standard_machine_logs_all_without_execution_data_and_traces(env: tuple[str, Built]) -> None:
    name, b = env
    machine = b.state_machine
    assert machine["StateMachineType"] == "STANDARD"
    assert machine["TracingConfiguration"] == {"Enabled": True}
    assert machine["LoggingConfiguration"]["Level"] == "ALL"
    assert machine["LoggingConfiguration"]["IncludeExecutionData"] is False
    log_group_id = b.logical_id(b.workflow.log_group)
    assert machine["LoggingConfiguration"]["Destinations"] == [
        {"CloudWatchLogsLogGroup": {"LogGroupArn": {"Fn::GetAtt": [log_group_id, "Arn"]}}}
    ]
    log_group = b.json["Resources"][log_group_id]
    assert log_group["Properties"]["RetentionInDays"] == RETENTION_DAYS[name]
    assert log_group["Properties"]["LogGroupName"].startswith("/aws/vendedlogs/states/")
    assert log_group["DeletionPolicy"] == ("Delete" if name == "dev" else "Retain")


def test_express_through_config(built: dict[str, Built]) -> None:
    b = built["express"]
    machine = b.state_machine
    assert machine["StateMachineType"] == "EXPRESS"
    assert machine["LoggingConfiguration"]["IncludeExecutionData"] is True
    assert b.definition["TimeoutSeconds"] == 120
    assert b.states.keys() == built["dev"].states.keys()


def test_tables_keys_and_protection(env: tuple[str, Built]) -> None:
    name, b = env
    keys = {
        tuple((key["AttributeName"], key["KeyType"]) for key in table["Properties"]["KeySchema"])
        for table in b.resources("AWS::DynamoDB::GlobalTable").values()
    }
    assert keys == {
        (("order_id", "HASH"),),
        (("sku", "HASH"),),
        (("order_id", "HASH"), ("entry", "RANGE")),
        (("id", "HASH"),),
    }
    for table in b.resources("AWS::DynamoDB::GlobalTable").values():
        (replica,) = table["Properties"]["Replicas"]
        assert replica["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is (name != "dev")
        assert replica["DeletionProtectionEnabled"] is (name != "dev")


def test_functions_handlers_environment_and_sizing(env: tuple[str, Built]) -> None:
    name, b = env
    functions = {
        props["Properties"]["Handler"]: props["Properties"] for props in b.resources("AWS::Lambda::Function").values()
    }
    expected_handlers = {
        f"serverless_patterns.lambdas.order_workflow.{module}.handler" for module, _ in FUNCTION_ROLES.values()
    }
    assert set(functions) == expected_handlers
    for handler in expected_handlers:
        module, attribute = handler.rsplit(".", 1)
        assert callable(getattr(importlib.import_module(module), attribute))
    memory = environment(name).default_function.memory_mb
    assert {props["MemorySize"] for props in functions.values()} == {memory}
    variables = {
        handler.split(".")[-2]: set(props["Environment"]["Variables"])
        - {
            "POWERTOOLS_SERVICE_NAME",
            "POWERTOOLS_METRICS_NAMESPACE",
            "POWERTOOLS_LOG_LEVEL",
            "POWERTOOLS_LOGGER_SAMPLE_RATE",
        }
        for handler, props in functions.items()
    }
    assert variables == {
        "validate": {"ORDERS_TABLE", "INVENTORY_TABLE"},
        "charge": {
            "ORDERS_TABLE",
            "PAYMENTS_TABLE",
            "IDEMPOTENCY_TABLE",
            "IDEMPOTENCY_TTL_SECONDS",
            "PAYMENT_GATEWAY",
            "MAX_CHARGE_CENTS",
        },
        "inventory": {"ORDERS_TABLE", "INVENTORY_TABLE"},
        "confirm": {"ORDERS_TABLE", "EVENT_BUS_NAME"},
        "refund": {"ORDERS_TABLE", "PAYMENTS_TABLE", "PAYMENT_GATEWAY", "MAX_CHARGE_CENTS"},
    }
    charge = functions["serverless_patterns.lambdas.order_workflow.charge.handler"]["Environment"]["Variables"]
    assert charge["IDEMPOTENCY_TTL_SECONDS"] == "86400"
    assert charge["PAYMENT_GATEWAY"] == "ledger"
    # The service defaults to the construct id in kebab case ("Orders").
    assert {props["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] for props in functions.values()} == {"orders"}


def _statements(b: Built, role: Any) -> list[tuple[frozenset[str], str]]:
    role_id = b.logical_id(role)
    found = []
    for policy in b.resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            found.append((frozenset(actions), json.dumps(statement["Resource"])))
    return found


def test_least_privilege(built: dict[str, Built]) -> None:
    b = built["prod"]
    w = b.workflow
    table = {
        "orders": b.logical_id(w.orders_table),
        "inventory": b.logical_id(w.inventory_table),
        "payments": b.logical_id(w.payments_table),
        "idempotency": b.logical_id(w.idempotency_table),
    }

    def data_access(role: Any) -> dict[str, set[str]]:
        access: dict[str, set[str]] = {}
        for actions, resource in _statements(b, role):
            for name, logical_id in table.items():
                if logical_id in resource:
                    access.setdefault(name, set()).update(actions)
        return access

    get, put, update, query = "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"
    assert data_access(w.validate_order.role) == {"orders": {get, put}, "inventory": {"dynamodb:BatchGetItem"}}
    assert data_access(w.charge_payment.role) == {
        "orders": {get, update},
        "payments": {put, query},
        "idempotency": {get, put, update, "dynamodb:DeleteItem"},
    }
    assert data_access(w.update_inventory.role) == {"orders": {get, update}, "inventory": {update}}
    assert data_access(w.send_confirmation.role) == {"orders": {get, update}}
    assert data_access(w.refund_payment.role) == {"orders": {get, update}, "payments": {put, query}}

    machine = _statements(b, w.state_machine.role)
    (invoke,) = [resource for actions, resource in machine if actions == {"lambda:InvokeFunction"}]
    alias_ids = sorted(b.logical_id(fn.alias) for fn in w.functions.values())
    assert json.loads(invoke) == [{"Ref": alias_id} for alias_id in alias_ids]
    wildcard_actions = set().union(*(actions for actions, resource in machine if resource == '"*"'))
    assert all(action.startswith(("logs:", "xray:")) for action in wildcard_actions)


def test_entry_points(env: tuple[str, Built]) -> None:
    _, b = env
    (rule,) = [rule for rule in b.resources("AWS::Events::Rule").values() if "EventPattern" in rule["Properties"]]
    assert rule["Properties"]["EventPattern"] == {
        "source": ["serverless-patterns.orders"],
        "detail-type": ["OrderPlaced"],
    }
    assert rule["Properties"]["EventBusName"] == {"Ref": b.logical_id(b.workflow.event_bus)}
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Ref": b.logical_id(b.workflow.state_machine)}
    assert target["InputPath"] == "$.detail"
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [b.logical_id(b.workflow.entry_dlq), "Arn"]}}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 6 * 3600}
    starter = b.stack.node.find_child("Starter")
    assert (frozenset({"states:StartExecution"}), json.dumps({"Ref": b.logical_id(b.workflow.state_machine)})) in (
        _statements(b, starter)
    )


def test_deferred_confirmations_are_drained_by_the_confirmation_function(env: tuple[str, Built]) -> None:
    _, b = env
    w = b.workflow
    (mapping,) = b.resources("AWS::Lambda::EventSourceMapping").values()
    properties = dict(mapping["Properties"])
    function_name = json.dumps(properties.pop("FunctionName"))
    assert f'{{"Ref": "{b.logical_id(w.send_confirmation.alias)}"}}' in function_name
    assert function_name.endswith('":live"]]}')
    assert properties == {
        "BatchSize": 10,
        "EventSourceArn": {"Fn::GetAtt": [b.logical_id(w.confirmation_queue), "Arn"]},
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "ScalingConfig": {"MaximumConcurrency": 2},
    }
    policy_ids = {
        key for key, policy in b.resources("AWS::IAM::Policy").items() if "sqs:ReceiveMessage" in json.dumps(policy)
    }
    assert set(mapping["DependsOn"]) >= policy_ids != set()
    queue = b.json["Resources"][b.logical_id(w.confirmation_queue)]["Properties"]
    assert queue["VisibilityTimeout"] == 6 * 10
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 5


def test_alarms(env: tuple[str, Built]) -> None:
    _, b = env
    w = b.workflow
    assert isinstance(w, Observable)
    machine = {"Ref": b.logical_id(w.state_machine)}
    alarms = [alarm["Properties"] for alarm in b.resources("AWS::CloudWatch::Alarm").values()]
    on_machine = {
        alarm["MetricName"]: alarm["Threshold"]
        for alarm in alarms
        if {"Name": "StateMachineArn", "Value": machine} in alarm.get("Dimensions", [])
    }
    assert on_machine == {"ExecutionsFailed": 5, "ExecutionsTimedOut": 1, "ExecutionThrottled": 1}
    on_queues = sorted(alarm["MetricName"] for alarm in alarms if alarm.get("Namespace") == "AWS/SQS")
    assert on_queues == [
        "ApproximateAgeOfOldestMessage",
        "ApproximateNumberOfMessagesVisible",
        "ApproximateNumberOfMessagesVisible",
    ]
    function_alarms = sum(len(fn.alarms) for fn in w.functions.values())
    assert len(w.alarms) == 6 + function_alarms == len(alarms)


def test_expected_business_errors_alarm_at_the_workflow_threshold(env: tuple[str, Built]) -> None:
    _, b = env
    errors = {
        role: alarm["Properties"]["Threshold"]
        for role, function in b.workflow.functions.items()
        for alarm in b.resources("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("MetricName") == "Errors"
        and {"Name": "FunctionName", "Value": {"Ref": b.logical_id(function.function)}}
        in alarm["Properties"].get("Dimensions", [])
    }
    business = b.workflow.settings.failed_executions_threshold
    default = b.workflow.defaults.thresholds.lambda_errors
    assert errors == {
        "validate_order": business,  # invalid orders
        "charge_payment": business,  # declines
        "update_inventory": business,  # out of stock
        "send_confirmation": default,
        "refund_payment": default,
    }


def test_dashboard_row_covers_every_function_queue_table_and_the_machine(env: tuple[str, Built]) -> None:
    _, b = env
    (dashboard,) = b.resources("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    kinds = (
        "AWS::Lambda::Function",
        "AWS::SQS::Queue",
        "AWS::DynamoDB::GlobalTable",
        "AWS::StepFunctions::StateMachine",
    )
    missing = [key for kind in kinds for key in b.resources(kind) if f'"{key}"' not in body]
    assert missing == []
    assert "PaymentsDeclined" in body
    assert b.stack.resolve(b.workflow.metric_payment_declines().namespace) == f"ServerlessPatterns/{b.stage.stage_name}"


def test_unknown_function_roles_are_refused_and_omitted_roles_get_defaults(cdk_context: dict[str, Any]) -> None:
    stack = Stack(App(context=cdk_context), "Partial")
    with pytest.raises(ValueError, match=r"unknown role\(s\) 'refund' \(did you mean 'refund_payment'\?\)"):
        OrderWorkflow(stack, "Orders", functions={"refund": FunctionSettings()})
    workflow = OrderWorkflow(stack, "Sized", functions={"charge_payment": FunctionSettings(memory_mb=1024)})
    assert workflow.charge_payment.settings.memory_mb == 1024
    assert workflow.refund_payment.settings == OrderWorkflow.FUNCTION_DEFAULTS["refund_payment"]


@pytest.mark.parametrize("name", [*ENVIRONMENTS, "express"])
def test_template_passes_cfn_lint(name: str, built: dict[str, Built]) -> None:
    b = built[name]
    artifact = b.stage.synth().get_stack_artifact(b.stack.artifact_id)
    matches = lint_file(Path(artifact.template_full_path), ManualArgs(ignore_checks=["W3005"]))
    assert [str(match) for match in matches] == []
