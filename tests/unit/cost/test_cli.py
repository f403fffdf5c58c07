"""``python -m serverless_patterns.cost --template ...``: tables and JSON, without synthesizing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from serverless_patterns.cost.__main__ import main
from tests.unit.cost.builders import Resources, function, queue_source, template


@pytest.fixture
def template_file(tmp_path: Path) -> Path:
    resources: Resources = {"Board": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {}}}
    function(resources, "ApiHandlerF33F5146", memory=512, role="ApiBackend/api")
    process = function(resources, "EventPipelineProcess8DADE1A2", role="EventPipeline/process")
    queue_source(resources, process, "Queue", batch_size=10, window=5)
    path = tmp_path / "Prod.template.json"
    path.write_text(json.dumps(template(resources)))
    return path


def test_tables_of_line_items_functions_and_batching(template_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--template", str(template_file), "--set", "api.requests_per_day=1000"]) == 0
    out = capsys.readouterr().out
    assert "Monthly cost estimate: Prod (profile 'default'" in out
    assert "Traffic: 1,000 API requests/day" in out
    assert any(line.split()[:2] == ["CloudWatch", "Dashboards"] for line in out.splitlines())
    assert "ApiHandlerF33F5146" in out  # the per-function table
    assert "Batching: EventPipelineProcess8DADE1A2, per 1,000 files" in out
    assert "Batching saves 90% of the invocations" in out


def test_json_output_with_a_profile_file(
    template_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    quiet = tmp_path / "quiet.json"
    quiet.write_text(json.dumps({"name": "quiet", "api": {"requests_per_day": 0}, "pipeline": {"files_per_day": 0}}))
    assert main(["--template", str(template_file), "--name", "Staging", "--profile", str(quiet), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["environment"], document["profile"]) == ("Staging", "quiet")
    assert document["by_service_usd"]["CloudWatch"] > 3.0  # the dashboard, plus custom metrics
    assert document["batching"]["batched"]["invocations"] == 100
    assert not [f for f in document["functions"] if f["invocations"]]


def test_a_bad_profile_is_reported_not_raised(template_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--template", str(template_file), "--set", "api.requests=1"]) == 2
    assert "unknown key(s) ['requests']" in capsys.readouterr().err
