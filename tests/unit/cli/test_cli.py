"""``serverless-patterns``: help, and every expected failure as one ``error:`` line with a non-zero exit."""

from __future__ import annotations

import importlib.machinery
import json
import sys
import types
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from serverless_patterns.cli import main

DLQ = "arn:aws:sqs:eu-west-1:111122223333:orders-dlq"
QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/111122223333/orders"


def error_line(capsys: pytest.CaptureFixture[str]) -> str:
    """The one line an expected failure prints (and nothing else on stderr)."""
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("serverless-patterns: error: ")
    assert "Traceback" not in err
    return lines[0]


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("local", "serve", "cost", "redrive", "redrive-status", "redrive-cancel", "replay-failures"):
        assert command in out
    for command in ("local", "serve", "cost", "redrive", "replay-failures"):
        assert main([command, "--help"]) == 0
    assert "--endpoint-url" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["deploy"], "invalid choice: 'deploy'"),
        (
            ["redrive", "--dlq", "not-an-arn"],
            "not an SQS queue ARN (arn:aws:sqs:<region>:<account>:<name>) or queue URL",
        ),
        (["redrive", "--dlq", "arn:aws:sns:eu-west-1:111122223333:topic"], "not an SQS queue ARN"),
        (["redrive", "--dlq", "arn:aws:sqs:moon-1:111122223333:q"], "names no valid region ('moon-1')"),
        (["redrive", "--dlq", "arn:aws:sqs:eu-west-1:42:q"], "names no valid account id ('42')"),
        (["redrive", "--dlq", "https://example.com/q"], "a queue URL ends in /<account>/<name>"),
        (["redrive", "--dlq", DLQ, "--max-per-second", "0"], "expected at least 1, got 0"),
        (["redrive", "--dlq", DLQ, "--manual"], "redrive --manual needs --to <queue>"),
        (["redrive", "--dlq", DLQ, "--limit", "5"], "redrive --limit applies to --manual only"),
        (
            ["redrive", "--dlq", DLQ, "--to", "arn:aws:sqs:us-east-1:111122223333:orders"],
            "different regions (--dlq is in eu-west-1, --to is in us-east-1)",
        ),
        (
            ["redrive", "--dlq", DLQ, "--region", "us-west-2"],
            "--region us-west-2 contradicts --dlq, which is in eu-west-1",
        ),
        (["redrive-status"], "the following arguments are required: --dlq"),
        (["redrive-cancel", "--task-handle", " "], "--task-handle is empty"),
        (
            ["replay-failures", "--queue", QUEUE_URL, "--function", "arn:aws:lambda:eu-west-1:111122223333:validate"],
            "not a Lambda function ARN",
        ),
        (["replay-failures", "--queue", QUEUE_URL, "--function", "bad name"], "not a function name, name:alias"),
        (
            [
                "replay-failures",
                "--queue",
                QUEUE_URL,
                "--function",
                "arn:aws:lambda:us-east-1:111122223333:function:v:live",
            ],
            "different regions",
        ),
        (["serve", "--port", "70000"], "expected a port between 0 and 65535, got 70000"),
        (["cost", "--template", "missing.template.json"], "--template missing.template.json"),
        (["cost", "-c", "novalue"], "-c/--context: expected key=value, got 'novalue'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert message in error_line(capsys)


def test_a_bad_cost_profile_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    template = tmp_path / "t.json"
    template.write_text(json.dumps({"Resources": {}}))
    assert main(["cost", "--template", str(template), "--set", "api.requests=1"]) == 2
    assert "unknown key(s) ['requests']" in error_line(capsys)


def test_the_operator_commands_need_boto3_only_to_run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # as if the [ops] extra were not installed
    assert main(["redrive", "--help"]) == 0
    capsys.readouterr()
    assert main(["redrive", "--dlq", DLQ]) == 1
    assert 'pip install "serverless-patterns[ops]"' in error_line(capsys)


def test_local_and_serve_name_the_local_extra(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "moto", None)
    for command in ("local", "serve"):
        assert main([command, "--app", "cdk.out"]) == 1
        assert 'needs moto, which is not installed: pip install "serverless-patterns[local]"' in error_line(capsys)


def test_without_a_region_anywhere_the_command_says_how_to_give_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    local_url = "http://127.0.0.1:4566/123456789012/orders-dlq"  # a URL that names no region
    assert main(["redrive-status", "--dlq", local_url]) == 2
    assert "no AWS region: pass --region, give an ARN (it names the region) or set AWS_REGION" in error_line(capsys)


@mock_aws
def test_the_region_comes_from_the_arn_and_aws_refusals_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    sqs = boto3.client("sqs", region_name="eu-west-1")  # the environment's region is us-east-1
    sqs.create_queue(QueueName="orders-dlq")
    sqs.create_queue(QueueName="orders")
    dlq, queue = (f"arn:aws:sqs:eu-west-1:123456789012:{name}" for name in ("orders-dlq", "orders"))
    sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName="orders-dlq")["QueueUrl"], MessageBody="fixed")
    assert main(["redrive", "--dlq", dlq, "--to", queue, "--manual"]) == 0
    assert capsys.readouterr().out == "moved 1 messages\n"
    assert main(["redrive", "--dlq", dlq.replace("orders-dlq", "missing"), "--to", queue, "--manual"]) == 1
    assert "AWS refused: AWS.SimpleQueueService.NonExistentQueue" in error_line(capsys)


def test_an_app_is_needed_and_its_failures_are_reported(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["cost"]) == 2
    assert "no app: pass --app <cloud assembly directory or command>, or run where cdk.json is" in error_line(capsys)
    (tmp_path / "cdk.json").write_text(json.dumps({"app": "python3 -c 'import sys; sys.exit(3)'"}))
    assert main(["cost"]) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1].endswith("failed (exit 3)")
    assert main(["cost", "--app", "python3 -c pass"]) == 1
    assert "wrote no cloud assembly (does it call app.synth()?)" in error_line(capsys)
    (tmp_path / "empty").mkdir()
    assert main(["cost", "--app", "empty"]) == 2
    assert "is not a cloud assembly (no manifest.json)" in error_line(capsys)


def test_the_capacity_model_plugs_in_when_it_is_installed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    received: list[list[str]] = []

    def capacity_main(argv: list[str]) -> int:
        received.append(argv)
        return 0

    module: Any = types.ModuleType("serverless_patterns.capacity")
    module.__spec__ = importlib.machinery.ModuleSpec("serverless_patterns.capacity", None)
    module.main = capacity_main
    monkeypatch.setitem(sys.modules, "serverless_patterns.capacity", module)
    assert main(["capacity", "--env", "prod", "--rps", "100"]) == 0
    assert received == [["--env", "prod", "--rps", "100"]]
