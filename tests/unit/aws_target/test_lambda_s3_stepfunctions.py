"""invoke, put_object and run_execution through the session's clients (moto runs the state machines)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.stub import Stubber
from moto.moto_api._internal.models import moto_api_backend

from serverless_patterns.scenarios.aws_target import AwsTarget, Polling
from tests.unit.aws_target.conftest import Deployed, VirtualClock

MOTO_CONFIG: Any = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
ACCOUNT = "123456789012"


def state_machine(target: AwsTarget, name: str, states: dict[str, Any], start: str) -> str:
    role = target.resource("Workflow/StateMachine/Role").physical_id
    role_arn = target.client("iam").get_role(RoleName=role)["Role"]["Arn"]
    definition = json.dumps({"StartAt": start, "States": states})
    return str(
        target.client("stepfunctions").create_state_machine(name=name, roleArn=role_arn, definition=definition)[
            "stateMachineArn"
        ]
    )


def test_invoke_sends_json_and_decodes_the_result(deployed: Deployed) -> None:
    target = deployed.target()
    function = target.resource("Pipeline/Handler", "AWS::Lambda::Function").physical_id
    echoed = target.invoke(function, {"id": 7}, qualifier="$LATEST")  # moto's simple Lambda echoes the event
    assert (echoed.status_code, echoed.payload, echoed.function_error) == (200, {"id": 7}, None)

    moto_api_backend.set_lambda_simple_result("not json", account_id=ACCOUNT, region="us-east-1")
    assert target.invoke(function).payload == "not json"


def test_put_object_writes_to_the_bucket(deployed: Deployed) -> None:
    target = deployed.target()
    bucket = target.outputs["UploadBucketName"]
    target.put_object(bucket, "incoming/a.csv", "id,qty\n1,2\n")
    target.put_object(bucket, "incoming/b.bin", b"\x00\x01")
    s3 = target.client("s3")
    assert s3.get_object(Bucket=bucket, Key="incoming/a.csv")["Body"].read() == b"id,qty\n1,2\n"
    assert s3.get_object(Bucket=bucket, Key="incoming/b.bin")["Body"].read() == b"\x00\x01"


# Real (short) sleeps: moto's interpreter runs in a thread, which virtual polls could outrun on a busy machine.
REAL_TIME = Polling(interval_seconds=0.05, max_interval_seconds=0.2)


def test_run_execution_waits_for_the_output(deployed: Deployed) -> None:
    target = deployed.target(polling=REAL_TIME)
    arn = state_machine(
        target,
        "orders-ok",
        {"Confirm": {"Type": "Pass", "Parameters": {"status": "CONFIRMED", "order.$": "$.orderId"}, "End": True}},
        "Confirm",
    )
    result = target.run_execution(arn, {"orderId": "o-1"}, name="order-o-1", timeout_seconds=3600)
    assert result.succeeded
    assert result.output == {"status": "CONFIRMED", "order": "o-1"}
    assert result.execution_arn.endswith(":order-o-1")
    assert (result.error, result.cause) == (None, None)


def test_a_failed_execution_reports_its_error_and_cause(deployed: Deployed) -> None:
    target = deployed.target(polling=REAL_TIME)
    arn = state_machine(
        target, "orders-declined", {"Decline": {"Type": "Fail", "Error": "PaymentDeclined", "Cause": "card"}}, "Decline"
    )
    result = target.run_execution(arn, {"orderId": "o-2"}, timeout_seconds=3600)
    assert (result.status, result.error, result.cause, result.output) == ("FAILED", "PaymentDeclined", "card", None)
    assert ":e2e-" in result.execution_arn  # unnamed executions get a unique name


def test_an_execution_still_running_at_the_deadline_times_out(deployed: Deployed) -> None:
    clock = VirtualClock()
    target = deployed.target(clock)
    arn = state_machine(target, "orders-slow", {"Hold": {"Type": "Wait", "Seconds": 86400, "End": True}}, "Hold")
    with pytest.raises(TimeoutError, match="order-slow is still RUNNING after 60"):
        target.run_execution(arn, name="order-slow", timeout_seconds=60)
    _stop(target, arn.replace(":stateMachine:", ":execution:") + ":order-slow")
    assert sum(clock.sleeps) == pytest.approx(60)
    assert clock.sleeps[:3] == [1.0, 1.5, 2.25]  # backing off
    assert max(clock.sleeps) <= 10.0


def test_an_express_state_machine_runs_synchronously(deployed: Deployed) -> None:
    target = deployed.target()
    express = "arn:aws:states:us-east-1:123456789012:stateMachine:quick"
    with Stubber(target.client("stepfunctions")) as stubber:  # moto has no StartSyncExecution
        stubber.add_response("describe_state_machine", _described(express, "EXPRESS"), {"stateMachineArn": express})
        stubber.add_response(
            "start_sync_execution",
            {
                "executionArn": f"{express}:run-1",
                "startDate": "2025-01-01",
                "stopDate": "2025-01-01",
                "status": "SUCCEEDED",
                "output": '{"total": 3}',
            },
            {"stateMachineArn": express, "name": "run-1", "input": '{"n": 3}'},
        )
        result = target.run_execution(express, {"n": 3}, name="run-1")
        stubber.assert_no_pending_responses()
    assert (result.status, result.output, result.execution_arn) == ("SUCCEEDED", {"total": 3}, f"{express}:run-1")


def _described(arn: str, machine_type: str) -> dict[str, Any]:
    return {
        "stateMachineArn": arn,
        "name": arn.rsplit(":", 1)[1],
        "definition": "{}",
        "roleArn": "arn:aws:iam::123456789012:role/r",
        "type": machine_type,
        "creationDate": "2025-01-01",
    }


def _stop(target: AwsTarget, execution_arn: str) -> None:
    """Stop the held execution; moto cannot stop one whose interpreter thread has not started yet."""
    for _ in range(100):
        try:
            target.client("stepfunctions").stop_execution(executionArn=execution_arn)
            return
        except AttributeError:  # moto: the execution's worker does not exist yet
            time.sleep(0.05)
    raise AssertionError(f"{execution_arn} could not be stopped")
