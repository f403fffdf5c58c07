"""``serverless-patterns serve`` from the installed wheel, on the example app, driven from outside.

The console script the wheel installs serves the example's cloud assembly on free ports; a
real HTTP client calls its API (IAM-authorized: unsigned requests are refused as API Gateway
refuses them, signed ones reach the function), the real AWS CLI creates the catalog table the
app imports and uploads a price list, the pipeline's result appears in the results bucket,
and Ctrl-C stops the server cleanly. Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.package.wheel_env import CATALOG_TABLE, isolated_env

READY_SECONDS = 120.0
RESULT_SECONDS = 30.0
REGION = "us-east-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}


@dataclass
class Served:
    """The running server: its process, what it printed so far, where it listens."""

    process: subprocess.Popen[str]
    lines: queue.Queue[str]
    output: list[str] = field(default_factory=list)

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.output:
                if match := re.search(pattern, line):
                    return match
            try:
                self.output.append(self.lines.get(timeout=0.2))
            except queue.Empty:
                if self.process.poll() is not None:
                    break
        pytest.fail(f"no line matching {pattern!r} within {timeout:.0f}s:\n" + "\n".join(self.output[-40:]))

    def drain_output(self) -> str:
        while not self.lines.empty():
            self.output.append(self.lines.get())
        return "\n".join(self.output)


@pytest.fixture
def served(wheel_python: Path, example_app: Path, example_assembly: Path) -> Iterator[Served]:
    command = [str(wheel_python.parent / "serverless-patterns"), "serve", "--app", str(example_assembly)]
    process = subprocess.Popen(  # noqa: S603
        [*command, "--port", "0", "--aws-port", "0"],
        cwd=example_app,  # the app's own package (price_lists) is watched from here
        env={**isolated_env(wheel_python), **CREDENTIALS},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=pump, daemon=True).start()
    server = Served(process, lines)
    try:
        yield server
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


Answer = tuple[int, dict[str, str], Any]


def signed_request(method: str, url: str, body: Any = None) -> Answer:
    """An HTTP request with a SigV4 Authorization header, as an IAM-authorized client sends it."""
    data = json.dumps(body).encode() if body is not None else None
    request = AWSRequest(method=method, url=url, data=data, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials("testing", "testing"), "execute-api", REGION).add_auth(request)
    return http(method, url, data, dict(request.headers.items()))


def http(method: str, url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> Answer:
    sent = urllib.request.Request(url, data=data, method=method, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(sent, timeout=30) as response:  # noqa: S310
            return response.status, dict(response.headers.items()), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), json.loads(error.read() or b"null")


def aws(endpoint: str, *arguments: str) -> str:
    """The real AWS CLI (the ``awscli`` package) against the dev server's endpoint."""
    command = [sys.executable, "-m", "awscli", "--endpoint-url", endpoint, "--output", "json", *arguments]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | CREDENTIALS
    result = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=60, check=False)  # noqa: S603
    assert result.returncode == 0, f"aws {' '.join(arguments)}: {result.stderr}"
    return result.stdout


def result_summary(s3: Any, bucket: str, key: str) -> Any:
    """The summary the pipeline wrote at ``key``, once it is there."""
    deadline = time.monotonic() + RESULT_SECONDS
    while time.monotonic() < deadline:
        if s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount"):
            return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())["summary"]
        time.sleep(0.2)
    pytest.fail(f"no {key} in {bucket} within {RESULT_SECONDS:.0f}s")


def test_the_dev_server_answers_the_api_and_the_aws_cli_and_stops_on_ctrl_c(
    served: Served, tmp_path: Path, example_app: Path
) -> None:
    api = served.wait_for(r"\[serve\] API [^:]+: (http://127\.0\.0\.1:\d+)/v1/", READY_SECONDS).group(1)
    endpoint = served.wait_for(r"AWS endpoint: (http://127\.0\.0\.1:\d+)", 5).group(1)
    uploads = served.wait_for(r"output PriceListBucketName = (\S+)", 5).group(1)
    results = served.wait_for(r"output PriceListResultsBucketName = (\S+)", 5).group(1)
    served.wait_for(r"\[serve\] ready", 5)

    # API Gateway's answers before the function: an IAM method without a signature, an unknown stage.
    status, headers, body = http("GET", f"{api}/v1/items")
    assert (status, body["message"]) == (403, "Missing Authentication Token")
    assert headers["Access-Control-Allow-Origin"] == "https://catalog.example.com"  # the DEFAULT_4XX response
    assert http("GET", f"{api}/v2/items")[0] == 403

    # The app imports an existing catalog table: create it through the emulated AWS, then use the API.
    aws(
        endpoint,
        *("dynamodb", "create-table", "--table-name", CATALOG_TABLE, "--billing-mode", "PAY_PER_REQUEST"),
        *(
            "--attribute-definitions",
            "AttributeName=id,AttributeType=S",
            "--key-schema",
            "AttributeName=id,KeyType=HASH",
        ),
    )
    status, _, created = signed_request("POST", f"{api}/v1/items", {"name": "desk lamp"})
    assert status == 201, created
    status, _, read = signed_request("GET", f"{api}/v1/items/{created['id']}")
    assert (status, read["name"]) == (200, "desk lamp")

    # An upload with the AWS CLI runs the pipeline in the background: its result appears.
    price_list = tmp_path / "acme.csv"
    price_list.write_text("sku,price,currency\nA-1,1.00,USD\nB-2,2.50,USD\n")
    aws(endpoint, "s3", "cp", str(price_list), f"s3://{uploads}/price-lists/acme.csv")
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION)
    summary = result_summary(s3, results, "processed/price-lists/acme.csv.json")
    assert (summary["skus"], summary["total_list_price"]) == (2, "3.50")

    # The team edits its processor while the server runs: the next upload runs the new code.
    handler = example_app / "price_lists" / "handler.py"
    original = handler.read_text()
    try:
        handler.write_text(original.replace(".as_record()", '.as_record() | {"edited": True}'))
        aws(endpoint, "s3", "cp", str(price_list), f"s3://{uploads}/price-lists/acme-2.csv")
        assert result_summary(s3, results, "processed/price-lists/acme-2.csv.json")["edited"] is True
    finally:
        handler.write_text(original)
    served.wait_for(r"\[serve\] reloaded price_lists/handler.py -> \S+ \(EventPipeline process", 5)

    # One line per invocation: the API function, then the validator and the processor, with their roles.
    served.wait_for(r"ApiBackend api, CatalogService/CatalogApi\)  apigateway  [\d.]+ ms  cold  OK", 5)
    served.wait_for(r"EventPipeline validate, CatalogService/PriceLists\)  s3  [\d.]+ ms  cold  OK", 5)
    served.wait_for(r"EventPipeline process, CatalogService/PriceLists\)  sqs  [\d.]+ ms  cold  OK", 5)

    served.process.send_signal(signal.SIGINT)
    assert served.process.wait(timeout=30) == 0
    assert "[serve] stopped" in served.drain_output()
    assert "Traceback" not in served.drain_output()
