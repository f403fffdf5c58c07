"""``python -m serverless_patterns.capacity``: the report from a template file; bad input is one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from serverless_patterns.capacity.__main__ import main
from tests.unit.capacity import builders
from tests.unit.cost.builders import Resources, template


@pytest.fixture
def template_file(tmp_path: Path) -> Path:
    resources: Resources = {}
    builders.api(resources, reserved=200, rate=1_000)
    builders.pipeline(resources, max_concurrency=5)
    builders.fan_out(resources, worker_reserved=20, max_concurrency=10, shards=8)
    builders.orders(resources)
    path = tmp_path / "Prod.template.json"
    path.write_text(json.dumps(template(resources)))
    return path


def test_a_section_per_pattern_then_the_summary(template_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--template", str(template_file)]) == 0

    out = capsys.readouterr().out
    assert out.startswith("Capacity: Prod (AWS default quotas as of ")
    for header in ("ApiBackend (Api): 1,000 requests/s", "EventPipeline (EventPipeline):", "FanOut (FanOut):"):
        assert header in out
    assert "OrderWorkflow (OrderWorkflow): 300 orders/s" in out
    summary = out[out.index("Summary: Prod") :].splitlines()
    assert [line.split()[0] for line in summary[3:]] == ["ApiBackend", "EventPipeline", "FanOut", "OrderWorkflow"]
    assert "API stage throttle" in summary[3]


def test_json_with_an_accounts_quotas(template_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    quotas = tmp_path / "mine.json"
    quotas.write_text(json.dumps({"stepfunctions": {"standard_start_execution_rate": 600}}))

    assert main(["--template", str(template_file), "--quotas", str(quotas), "--name", "Staging", "--json"]) == 0

    document = json.loads(capsys.readouterr().out)
    assert document["environment"] == "Staging"
    assert [q["key"] for q in document["quotas_overridden"]] == ["stepfunctions.standard_start_execution_rate"]
    orders = next(p for p in document["patterns"] if p["pattern"] == "OrderWorkflow")
    assert orders["ceiling_per_second"] == 600
    assert orders["limits"][0]["limit"] == "Step Functions StartExecution (Standard)"
    assert all(p["monthly_usd_at_ceiling"] > document["fixed_monthly_usd"] for p in document["patterns"])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--template", "missing.json"], "No such file or directory"),
        (["--template", "{broken}"], "not valid JSON"),
        (["--template", "{list}"], "not a CloudFormation template"),
        (["--template", "{empty}"], "no pattern found in the template"),
        (["--template", "{good}", "--quotas", "{bad_quotas}"], "unknown quota 'lambda.concurrency'"),
        (["--template", "{good}", "--profile", "{bad_profile}"], "unknown key(s) ['typo']"),
        (["--env", "moon"], "argument --env: invalid choice: 'moon'"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_2(
    arguments: list[str], message: str, template_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {
        "broken": "{not json",
        "list": "[1, 2]",
        "empty": json.dumps({"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}}}}),
        "bad_quotas": json.dumps({"lambda": {"concurrency": 5}}),
        "bad_profile": json.dumps({"typo": 1}),
    }
    paths = {"good": str(template_file)}
    for name, text in files.items():
        (tmp_path / f"{name}.json").write_text(text)
        paths[name] = str(tmp_path / f"{name}.json")

    assert main([argument.format(**paths) for argument in arguments]) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ")
    assert message in captured.err
    assert len(captured.err.strip().splitlines()) == 1
    assert "Traceback" not in captured.err
