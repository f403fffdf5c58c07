"""Async invokes with EventInvokeConfig, S3 notifications, and REST API routing."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.parser.models import S3Model

from serverless_patterns.local import LocalCloud
from tests.integration.fixtures.machinery_stack import ASYNC_RETRIES, UPLOAD_PREFIX


def _attempts(cloud: LocalCloud, key: str) -> int:
    item = cloud.client("dynamodb").get_item(TableName=cloud.outputs["TableName"], Key={"pk": {"S": key}})
    return int(item["Item"]["attempts"]["N"]) if "Item" in item else 0


def test_async_failures_are_retried_then_sent_to_the_on_failure_destination(cloud: LocalCloud) -> None:
    started = cloud.clock.now()
    assert cloud.invoke_async(cloud.outputs["WorkerAlias"], {"id": "doomed", "fail": True}) == 202
    assert _attempts(cloud, "async#doomed") == 0  # accepted, not run yet

    cloud.drain()

    assert _attempts(cloud, "async#doomed") == 1 + ASYNC_RETRIES
    (event,) = [e for e in cloud.async_invoker.completed if json.loads(e.payload) == {"id": "doomed", "fail": True}]
    assert [a.error_type for a in event.attempts] == ["RuntimeError"] * (1 + ASYNC_RETRIES)
    assert {a.invocation_type for a in event.attempts} == {"Event"}
    assert cloud.clock.now() - started >= 60 + 120  # AWS's one- and two-minute retry delays
    (message,) = cloud.read_queue(cloud.outputs["WorkerFailureQueueUrl"], delete=True)
    record: dict[str, Any] = json.loads(message["Body"])
    assert record["version"] == "1.0"
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 1 + ASYNC_RETRIES
    assert record["requestContext"]["functionArn"] == cloud.outputs["WorkerAlias"]
    assert record["requestPayload"] == {"id": "doomed", "fail": True}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "1", "functionError": "Unhandled"}
    assert record["responsePayload"]["errorType"] == "RuntimeError"
    assert record["timestamp"].endswith("Z")


def test_async_success_runs_once_and_sends_nothing_to_the_failure_queue(cloud: LocalCloud) -> None:
    cloud.invoke_async(cloud.outputs["WorkerAlias"], {"id": "fine"})
    cloud.drain()
    assert _attempts(cloud, "async#fine") == 1
    assert cloud.read_queue(cloud.outputs["WorkerFailureQueueUrl"]) == []


def test_s3_notifications_reach_the_function_through_the_filters(cloud: LocalCloud) -> None:
    bucket = cloud.outputs["BucketName"]
    key = f"{UPLOAD_PREFIX}monthly report+1.csv"
    cloud.put_object(bucket, key, "a,b\n1,2\n")
    cloud.put_object(bucket, f"{UPLOAD_PREFIX}notes.txt", "wrong suffix")
    cloud.put_object(bucket, "elsewhere/data.csv", "wrong prefix")
    cloud.drain()

    assert _attempts(cloud, f"s3#{key}") == 1
    assert _attempts(cloud, f"s3#{UPLOAD_PREFIX}notes.txt") == 0
    assert _attempts(cloud, "s3#elsewhere/data.csv") == 0
    (invocation,) = [i for i in cloud.invocations if i.source == "s3"]
    assert invocation.invocation_type == "Event"
    (record,) = S3Model.model_validate(invocation.event).Records  # the shape Powertools' parser expects
    assert record.s3.object is not None
    assert record.s3.object.key == "incoming/monthly+report%2B1.csv"  # URL-encoded as AWS does
    assert record.s3.bucket.name == bucket
    assert record.eventName == "ObjectCreated:Put"


def test_api_routes_by_resource_and_method(cloud: LocalCloud) -> None:
    listed = cloud.api_request("GET", "/items", query={"limit": "5"})
    assert listed.status_code == 200
    assert listed.json() | {"stage": "v1"} == {
        "resource": "/items",
        "path": "/items",
        "method": "GET",
        "pathParameters": None,
        "query": {"limit": "5"},
        "body": None,
        "stage": "v1",
        "identity": None,
    }

    item = cloud.api_request("DELETE", "/items/a%20b").json()
    assert (item["resource"], item["pathParameters"]) == ("/items/{id}", {"id": "a b"})

    proxied = cloud.api_request("PATCH", "/files/2024/report.csv").json()
    assert (proxied["resource"], proxied["pathParameters"]) == ("/files/{proxy+}", {"proxy": "2024/report.csv"})

    created = cloud.api_request("POST", "/items", body={"name": "x"}).json()
    assert created["body"] == json.dumps({"name": "x"})
    assert created["identity"] == f"arn:aws:iam::{cloud.account_id}:user/local-cloud-user"  # IAM auth taken as granted


def test_api_unknown_routes_and_methods_and_errors(cloud: LocalCloud) -> None:
    assert cloud.api_request("GET", "/nothing/here").status_code == 404
    wrong = cloud.api_request("PUT", "/items")
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "GET, OPTIONS, POST"
    assert cloud.api_request("GET", "/items/1/extra").status_code == 404
    failed = cloud.api_request("GET", "/files/boom")
    assert (failed.status_code, failed.json()) == (502, {"message": "Internal server error"})


def test_api_cors_preflight_answers_from_the_mock_integration(cloud: LocalCloud) -> None:
    preflight = cloud.api_request("OPTIONS", "/items")
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "DELETE" in preflight.headers["access-control-allow-methods"]
