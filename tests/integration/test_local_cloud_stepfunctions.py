"""Step Functions: executions really run; Retry backoffs are recorded as on AWS; Catch routes by class name."""

from __future__ import annotations

from serverless_patterns.local import LocalCloud
from tests.integration.fixtures.machinery_stack import RETRY_BACKOFF, RETRY_INTERVAL_SECONDS, RETRY_MAX_ATTEMPTS


def _charge_attempts(cloud: LocalCloud, order_id: str) -> int:
    item = cloud.client("dynamodb").get_item(
        TableName=cloud.outputs["TableName"], Key={"pk": {"S": f"flaky#{order_id}"}}
    )["Item"]
    return int(item["attempts"]["N"])


def test_retry_waits_are_recorded_with_the_exponential_backoff(cloud: LocalCloud) -> None:
    result = cloud.run_execution(cloud.outputs["StateMachineArn"], {"id": "retried", "succeed_on_attempt": 3})

    assert result.succeeded
    assert result.output == {"id": "retried", "attempts": 3}
    assert cloud.retry_waits(result.execution_arn) == [2.0, 4.0]
    assert _charge_attempts(cloud, "retried") == 3


def test_catch_routes_by_the_exception_class_name(cloud: LocalCloud) -> None:
    result = cloud.run_execution(cloud.outputs["StateMachineArn"], {"id": "declined", "decline": True})

    assert result.succeeded
    assert result.output == {"outcome": "declined"}
    assert cloud.retry_waits(result.execution_arn) == []  # PaymentDeclinedError is not a TransientError
    assert _charge_attempts(cloud, "declined") == 1
    history = cloud.client("stepfunctions").get_execution_history(executionArn=result.execution_arn)["events"]
    failures = [e["lambdaFunctionFailedEventDetails"]["error"] for e in history if e["type"] == "LambdaFunctionFailed"]
    assert failures == ["PaymentDeclinedError"]


def test_exhausted_retries_fall_through_to_the_catch_all(cloud: LocalCloud) -> None:
    result = cloud.run_execution(cloud.outputs["StateMachineArn"], {"id": "hopeless", "succeed_on_attempt": 99})

    expected = [float(RETRY_INTERVAL_SECONDS * RETRY_BACKOFF**n) for n in range(RETRY_MAX_ATTEMPTS)]
    assert result.status == "FAILED"
    assert (result.error, result.cause) == ("OrderFailed", "charge failed")
    assert cloud.retry_waits(result.execution_arn) == expected == [2.0, 4.0, 8.0]
    assert _charge_attempts(cloud, "hopeless") == 1 + RETRY_MAX_ATTEMPTS


def test_named_executions_do_not_collide(cloud: LocalCloud) -> None:
    arns = {cloud.start_execution(cloud.outputs["StateMachineArn"], {"id": f"n{i}"}) for i in range(3)}
    assert len(arns) == 3
    assert all(cloud.wait_for_execution(arn).succeeded for arn in arns)
