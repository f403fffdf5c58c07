"""Redrives as AWS runs them: SQS message move tasks (through the ops CLI) and Step Functions RedriveExecution."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from serverless_patterns.local import LocalCloud
from serverless_patterns.ops.__main__ import main as ops
from tests.integration.fixtures.machinery_stack import MAX_RECEIVE_COUNT


def _queue_arn(cloud: LocalCloud, url: str) -> str:
    attributes = cloud.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return str(attributes["QueueArn"])


def _attempts(cloud: LocalCloud, job_id: str) -> int:
    item = cloud.client("dynamodb").get_item(TableName=cloud.outputs["TableName"], Key={"pk": {"S": f"batch#{job_id}"}})
    return int(item["Item"]["attempts"]["N"])


def _dead_letters(cloud: LocalCloud, run: str, count: int) -> list[str]:
    """Send ``count`` messages that fail until their fourth receive: each ends in the DLQ after three."""
    ids = [f"{run}-{n}" for n in range(count)]
    for job_id in ids:
        body = {"id": job_id, "fail_until_receive": MAX_RECEIVE_COUNT + 1}
        cloud.client("sqs").send_message(QueueUrl=cloud.outputs["QueueUrl"], MessageBody=json.dumps(body))
    assert not cloud.drain().exhausted
    assert sorted(json.loads(m["Body"])["id"] for m in cloud.read_queue(cloud.outputs["DlqUrl"])) == ids
    return ids


def test_the_ops_redrive_moves_dead_letters_back_to_their_queue_where_they_are_received_afresh(
    cloud: LocalCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _dead_letters(cloud, uuid.uuid4().hex[:8], 3)
    dlq = _queue_arn(cloud, cloud.outputs["DlqUrl"])

    assert ops(["redrive", "--dlq", dlq, "--wait"]) == 0  # a move task, followed to its end
    printed = capsys.readouterr().out
    assert "started move task" in printed
    assert "COMPLETED: 3/3 moved" in printed
    assert cloud.read_queue(cloud.outputs["DlqUrl"]) == []

    # Back on their source queue as new messages (receive count 1 again): the handler, still failing
    # them below four receives, gets each three more times, and SQS dead-letters them once more.
    assert not cloud.drain().exhausted
    assert [_attempts(cloud, job_id) for job_id in ids] == [2 * MAX_RECEIVE_COUNT] * 3
    assert sorted(json.loads(m["Body"])["id"] for m in cloud.read_queue(cloud.outputs["DlqUrl"], delete=True)) == ids
    assert cloud.queue_depth(cloud.outputs["QueueUrl"]) == {"visible": 0, "in_flight": 0}

    assert ops(["redrive-status", "--dlq", dlq]) == 0
    assert "COMPLETED: 3/3 moved" in capsys.readouterr().out


def test_a_rate_limited_move_task_moves_that_many_per_virtual_second_and_can_be_cancelled(cloud: LocalCloud) -> None:
    _dead_letters(cloud, uuid.uuid4().hex[:8], 5)
    sqs, dlq = cloud.client("sqs"), _queue_arn(cloud, cloud.outputs["DlqUrl"])
    handle = sqs.start_message_move_task(SourceArn=dlq, MaxNumberOfMessagesPerSecond=2)["TaskHandle"]

    def task() -> dict[str, Any]:
        (newest,) = sqs.list_message_move_tasks(SourceArn=dlq)["Results"]
        return dict(newest)

    assert (task()["Status"], task()["ApproximateNumberOfMessagesMoved"]) == ("RUNNING", 2)
    with pytest.raises(ClientError, match="already a task running"):
        sqs.start_message_move_task(SourceArn=dlq)
    cloud.advance(1)
    assert task()["ApproximateNumberOfMessagesMoved"] == 4
    assert sqs.cancel_message_move_task(TaskHandle=handle)["ApproximateNumberOfMessagesMoved"] == 4
    cloud.advance(5)
    cancelled = task()
    assert (cancelled["Status"], cancelled["ApproximateNumberOfMessagesToMove"]) == ("CANCELLED", 5)
    assert "TaskHandle" not in cancelled  # only a RUNNING task shows its handle
    assert len(cloud.read_queue(cloud.outputs["DlqUrl"], delete=True)) == 1  # the one it did not move
    assert not cloud.drain().exhausted


def test_a_move_task_needs_a_dead_letter_queue_as_its_source(cloud: LocalCloud) -> None:
    with pytest.raises(ClientError, match="Dead Letter Queue"):
        cloud.client("sqs").start_message_move_task(SourceArn=_queue_arn(cloud, cloud.outputs["QueueUrl"]))


def test_a_failed_execution_is_redriven_from_the_state_that_failed(cloud: LocalCloud) -> None:
    sfn = cloud.client("stepfunctions")
    order = {"id": f"redrive-{uuid.uuid4().hex[:8]}", "succeed_on_attempt": 3}
    failed = cloud.run_execution(cloud.outputs["RedrivableArn"], order)
    assert (failed.status, failed.error) == ("FAILED", "TransientError")  # two attempts: the Retry allows one
    succeeded = cloud.run_execution(cloud.outputs["StateMachineArn"], {"id": f"{order['id']}-other"})
    with pytest.raises(ClientError, match="ExecutionNotRedrivable"):
        sfn.redrive_execution(executionArn=succeeded.execution_arn)

    sfn.redrive_execution(executionArn=failed.execution_arn)
    redriven = cloud.wait_for_execution(failed.execution_arn)

    assert redriven.status == "SUCCEEDED"
    assert redriven.output is not None
    assert redriven.output["charge"] == {"id": order["id"], "attempts": 3}
    assert redriven.output["prepared"]["event"] == order  # the first run's step, carried into the redrive
    echo = cloud.outputs["EchoAlias"].split(":")[6]
    prepared = [i for i in cloud.invocations if i.function_name == echo and i.event == order]
    assert len(prepared) == 1, "the step that had succeeded is not run again"
    described = sfn.describe_execution(executionArn=failed.execution_arn)
    assert described["redriveCount"] == 1
    history = [e["type"] for e in sfn.get_execution_history(executionArn=failed.execution_arn)["events"]]
    assert history.count("ExecutionFailed") == 1
    assert history.count("ExecutionRedriven") == 1
    assert history[-1] == "ExecutionSucceeded"
    assert history.index("ExecutionFailed") < history.index("ExecutionRedriven")
    with pytest.raises(ClientError, match="ExecutionNotRedrivable"):
        sfn.redrive_execution(executionArn=failed.execution_arn)  # it succeeded now
