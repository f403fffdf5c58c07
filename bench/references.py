"""Reference handlers: what a library costs before any of our code, timed beside the floor.

``powertools_rest`` is the smallest API Gateway handler with the ApiBackend's contract: Powertools
Logger and Metrics, the REST resolver with validation (``enable_validation=True``, which brings
pydantic and the OpenAPI machinery), one pydantic request model and one response model, and one
DynamoDB client created by the first request. It serves one POST. Our API handler adds its own
plumbing on top (request guard, error mapping, CORS, idempotency, repository); the difference
between the two ratios is what is ours to cut. A reference has no budget: it says where the
budget is reachable at all.
"""

from __future__ import annotations

import json
from typing import Any

from bench.measure import Check, Command, python

POWERTOOLS_REST_EVENT = {
    "resource": "/items",
    "path": "/items",
    "httpMethod": "POST",
    "headers": {"content-type": "application/json"},
    "multiValueHeaders": {},
    "queryStringParameters": None,
    "multiValueQueryStringParameters": None,
    "pathParameters": None,
    "stageVariables": None,
    "requestContext": {
        "requestId": "bench-reference",
        "stage": "dev",
        "httpMethod": "POST",
        "path": "/items",
        "resourcePath": "/items",
        "identity": {"sourceIp": "192.0.2.1"},
    },
    "body": json.dumps({"name": "reference"}),
    "isBase64Encoded": False,
}
POWERTOOLS_REST = """
import json, sys
import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from pydantic import BaseModel, Field

logger = Logger()
metrics = Metrics()
app = APIGatewayRestResolver(enable_validation=True)
clients = {}


class ItemInput(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class Item(BaseModel):
    id: str
    name: str


@app.post("/items", status_code=201)
def create(item: ItemInput) -> Item:
    if "dynamodb" not in clients:
        clients["dynamodb"] = boto3.client("dynamodb")
    return Item(id="1", name=item.name)


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event, context):
    return app.resolve(event, context)


class Context:
    function_name = "reference"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:111111111111:function:reference"
    memory_limit_in_mb = 256
    aws_request_id = "bench-reference"
    log_group_name = "/aws/lambda/reference"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self):
        return 60_000


response = handler(json.loads(sys.argv[1]), Context())
sys.stdout.write(str(response["statusCode"]))
"""
DESCRIPTIONS = {
    "powertools_rest": "Powertools Logger, Metrics and REST resolver with validation, two pydantic models, "
    "one DynamoDB client, one POST served",
}


def _served(name: str, status: str) -> Check:
    def check(result: Any) -> None:
        if result.stdout.strip() != status:
            raise RuntimeError(f"reference {name} answered {result.stdout.strip()!r}, not {status}")

    return check


def commands(
    base: dict[str, str], workdir: str, flags: tuple[str, ...], interpreter: str | None = None
) -> dict[str, Command]:
    """The reference handlers as commands, with the floor's environment (``base``), interpreter and a service name."""
    env = {**base, "POWERTOOLS_SERVICE_NAME": "reference", "POWERTOOLS_METRICS_NAMESPACE": "Bench"}
    return {
        "powertools_rest": python(
            POWERTOOLS_REST,
            json.dumps(POWERTOOLS_REST_EVENT),
            env=env,
            cwd=workdir,
            check=_served("powertools_rest", "201"),
            flags=flags,
            interpreter=interpreter,
        )
    }
