"""A small stage "deployed" into moto, its synthesized assembly on disk, a virtual clock and a local HTTP API.

The template mirrors what AwsTarget relies on in the real app: a function consuming a queue
through an event source mapping, a dead-letter queue nobody consumes, a bucket, a standard
state machine, and an ``ApiUrl`` output (here pointing at the local server).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from serverless_patterns.scenarios.aws_target import AwsTarget, Polling, SynthesizedStack

STACK_NAME = "Dev-Service"
STAGE_PATH = "/Dev/Service"


class VirtualClock:
    """``Polling``'s clock and sleep: sleeping advances time at once and is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.while_asleep: list[Callable[[], None]] = []  # what the stage does meanwhile, one step per sleep

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.while_asleep:
            self.while_asleep.pop(0)()

    def polling(self, **overrides: Any) -> Polling:
        return Polling(sleep=self.sleep, clock=self.clock, **overrides)


@dataclass
class Received:
    """One request as the server saw it."""

    method: str
    raw_path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    """What the server answers next."""

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=lambda: [("Content-Type", "application/json")])
    body: bytes = b'{"ok": true}'


class ApiServer:
    """An HTTP server on 127.0.0.1 standing in for API Gateway: records requests, answers ``reply``."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.reply = Reply()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.requests.append(
                    Received(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                reply = server.reply
                self.send_response(reply.status)
                for name, value in reply.headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def do_PUT(self) -> None:
                self._handle()

            def do_DELETE(self) -> None:
                self._handle()

            def log_message(self, format: str, *args: Any) -> None:
                """Keep test output clean."""

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}/dev/"

    def __enter__(self) -> ApiServer:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()

    def last(self) -> Received:
        return self.requests[-1]


@pytest.fixture(scope="session")
def api_server() -> Iterator[ApiServer]:
    with ApiServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_reply(api_server: ApiServer) -> None:
    api_server.reply = Reply()
    api_server.requests.clear()


def _role(service: str) -> dict[str, Any]:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
            }
        },
    }


def _method(http_method: str, authorization_type: str) -> dict[str, Any]:
    return {
        "Type": "AWS::ApiGateway::Method",
        "Properties": {
            "HttpMethod": http_method,
            "AuthorizationType": authorization_type,
            "RestApiId": {"Ref": "ApiJJJJ"},
            "ResourceId": {"Fn::GetAtt": ["ApiJJJJ", "RootResourceId"]},
            "Integration": {"Type": "MOCK", "IntegrationHttpMethod": "POST", "Uri": ""},
        },
    }


def template(api_url: str, *, auth: str = "NONE") -> dict[str, Any]:
    """What the stage synthesizes (``cdk:path`` metadata on some resources, as ``cdk deploy`` adds it)."""
    return {
        "Resources": {
            "HandlerServiceRole1234": _role("lambda.amazonaws.com"),
            "HandlerFn5678": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Runtime": "python3.13",
                    "Handler": "index.handler",
                    "Role": {"Fn::GetAtt": ["HandlerServiceRole1234", "Arn"]},
                    "Code": {"ZipFile": "def handler(event, context):\n    return event\n"},
                },
                "Metadata": {"aws:cdk:path": "Dev/Service/Pipeline/Handler/Resource"},
            },
            "WorkQueueAAAA": {"Type": "AWS::SQS::Queue"},
            "WorkDlqBBBB": {"Type": "AWS::SQS::Queue"},
            "HandlerSourceCCCC": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {
                    "FunctionName": {"Ref": "HandlerFn5678"},
                    "EventSourceArn": {"Fn::GetAtt": ["WorkQueueAAAA", "Arn"]},
                    # moto delivers to an enabled mapping within send_message: keep the messages to count
                    "Enabled": False,
                },
            },
            "UploadsDDDD": {"Type": "AWS::S3::Bucket"},
            "MachineRoleEEEE": _role("states.amazonaws.com"),
            "MachineFFFF": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "RoleArn": {"Fn::GetAtt": ["MachineRoleEEEE", "Arn"]},
                    "DefinitionString": json.dumps(
                        {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
                    ),
                },
            },
            "ApiJJJJ": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "items"}},
            "ApiMethodGGGG": _method("ANY", auth),
            "ApiPreflightHHHH": _method("OPTIONS", "NONE"),
        },
        "Outputs": {
            "ApiUrl": {"Value": api_url},
            "UploadBucketName": {"Value": {"Ref": "UploadsDDDD"}},
        },
    }


# Construct paths the assembly's metadata file names (the rest come from the template's metadata).
METADATA_PATHS = {
    "HandlerServiceRole1234": "Pipeline/Handler/ServiceRole/Resource",
    "WorkQueueAAAA": "Pipeline/Queue/Resource",
    "WorkDlqBBBB": "Pipeline/DeadLetterQueue/Resource",
    "HandlerSourceCCCC": "Pipeline/Handler/SqsEventSource/Resource",
    "UploadsDDDD": "Pipeline/Uploads/Resource",
    "MachineRoleEEEE": "Workflow/StateMachine/Role/Resource",
    "MachineFFFF": "Workflow/StateMachine/Resource",
    "ApiJJJJ": "Api/Resource",
    "ApiMethodGGGG": "Api/Default/ANY/Resource",
    "ApiPreflightHHHH": "Api/Default/OPTIONS/Resource",
    "NotYetDeployedIIII": "Pipeline/NewQueue/Resource",
}


def write_assembly(directory: Path, synthesized: dict[str, Any]) -> Path:
    """A cloud assembly as ``cdk synth`` writes it for one stage: manifest, template, metadata file."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "DevServiceED593074.template.json").write_text(json.dumps(synthesized))
    metadata = {
        f"{STAGE_PATH}/{path}": [{"type": "aws:cdk:logicalId", "data": logical_id}]
        for logical_id, path in METADATA_PATHS.items()
    }
    metadata[f"{STAGE_PATH}/Api"] = [{"type": "aws:cdk:warning", "data": "not a logical id"}]
    (directory / "DevServiceED593074.metadata.json").write_text(json.dumps(metadata))
    manifest = {
        "version": "48.0.0",
        "artifacts": {
            "DevServiceED593074.assets": {"type": "cdk:asset-manifest", "properties": {"file": "x.assets.json"}},
            "DevServiceED593074": {
                "type": "aws:cloudformation:stack",
                "environment": "aws://unknown-account/unknown-region",
                "properties": {"templateFile": "DevServiceED593074.template.json", "stackName": STACK_NAME},
                "additionalMetadataFile": "DevServiceED593074.metadata.json",
                "displayName": "Dev/Service",
            },
        },
    }
    (directory / "manifest.json").write_text(json.dumps(manifest))
    return directory


DEFAULT_MOTO_CONFIG: dict[str, Any] = {"lambda": {"use_docker": False}}


@dataclass
class Deployed:
    """The stage as synthesized, and a way to make targets over its moto deployment."""

    stack: SynthesizedStack
    session: boto3.Session  # one per module: a session loads its service models once

    def target(self, clock: VirtualClock | None = None, **kwargs: Any) -> AwsTarget:
        kwargs.setdefault("polling", (clock or VirtualClock()).polling())
        return AwsTarget(self.stack, session=self.session, **kwargs)


@pytest.fixture(scope="module")
def deployed(
    api_server: ApiServer, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Deployed]:
    """The stage deployed, once per module, without its newest resource (one change behind the checkout).

    A module sets ``MOTO_CONFIG`` to change moto's behaviour (e.g. to run state machines).
    """
    synthesized = template(api_server.url)
    synthesized["Resources"]["NotYetDeployedIIII"] = {"Type": "AWS::SQS::Queue"}
    stack = SynthesizedStack.from_assembly(write_assembly(tmp_path_factory.mktemp("assembly-Dev"), synthesized))
    config: Any = getattr(request.module, "MOTO_CONFIG", DEFAULT_MOTO_CONFIG)
    with mock_aws(config=config):
        boto3.client("cloudformation", region_name="us-east-1").create_stack(
            StackName=STACK_NAME, TemplateBody=json.dumps(template(api_server.url)), Capabilities=["CAPABILITY_IAM"]
        )
        yield Deployed(stack, boto3.Session(region_name="us-east-1"))


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()
