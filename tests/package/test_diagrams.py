"""scripts/diagrams.py: the architecture pictures are drawn from what the app really synthesizes.

No Graphviz needed: these tests check the graph the pictures are drawn from (built from the
session's Prod stage, as ``make diagrams`` draws Prod), its DOT text, and that a picture is
committed for every pattern.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from serverless_patterns.stacks.stage import ServiceStage

ROOT = Path(__file__).resolve().parents[2]
PICTURES = ROOT / "docs" / "diagrams"
PATTERN_PICTURES = {"api", "event-pipeline", "fan-out", "order-workflow", "observability"}


@pytest.fixture(scope="module")
def diagrams_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("diagrams_script", ROOT / "scripts" / "diagrams.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def pictures(diagrams_module: ModuleType, stages: dict[str, ServiceStage]) -> dict[str, Any]:
    model = diagrams_module.describe(stages["prod"].service, environment="Prod")
    return {diagram.slug: diagram for diagram in diagrams_module.build_diagrams(model)}


def arrows(diagram: Any) -> set[tuple[str, str, str]]:
    """(source box name, target box name, label) with names as drawn: the first line of each box."""
    name = {key: node.label.split("\n")[0] for key, node in diagram.nodes.items()}
    return {(name[edge.source], name[edge.target], edge.label) for edge in diagram.edges}


def has_arrow(diagram: Any, source: str, target: str, label: str = "") -> bool:
    return any(s == source and t == target and label in text for s, t, text in arrows(diagram))


def test_one_picture_per_pattern_each_committed(pictures: dict[str, Any]) -> None:
    assert set(pictures) == PATTERN_PICTURES
    committed = {path.stem for path in PICTURES.glob("*.png")}
    assert committed == PATTERN_PICTURES, "run `make diagrams` and commit docs/diagrams"


def test_event_pipeline_shows_the_path_of_an_upload(pictures: dict[str, Any]) -> None:
    pipeline = pictures["event-pipeline"]
    assert has_arrow(pipeline, "Uploads", "Validate", "object created\nincoming/")
    assert has_arrow(pipeline, "Validate", "Queue", "QUEUE_URL")
    assert has_arrow(pipeline, "Queue", "Process", "batch 10")
    assert has_arrow(pipeline, "Process", "Results", "RESULTS_BUCKET")
    assert has_arrow(pipeline, "Queue", "QueueDlq", "after 5 receives")
    assert has_arrow(pipeline, "Validate", "Validate/AsyncFailureQueue", "on failure")
    assert has_arrow(pipeline, "Uploads", "AccessLogs", "access logs")
    labels = {node.label for node in pipeline.nodes.values()}
    assert "QueueDlq\nSQS · dead-letter queue" in labels
    assert "Process\nLambda · 1024 MB · 60 s" in labels


def test_order_workflow_names_each_task_state(pictures: dict[str, Any]) -> None:
    workflow = pictures["order-workflow"]
    for state in ("ValidateOrder", "ChargePayment", "UpdateInventory", "SendConfirmation", "RefundPayment"):
        assert has_arrow(workflow, "OrderWorkflow", state, state), state
    assert has_arrow(workflow, "EventBus", "OrderWorkflow", "OrderPlaced")
    assert has_arrow(workflow, "EventBus", "OrderPlacedDlq", "undeliverable")
    assert has_arrow(workflow, "ConfirmationQueue", "SendConfirmation", "batch 10")


def test_fan_out_shows_dispatch_schedule_and_aggregation(pictures: dict[str, Any]) -> None:
    fan_out = pictures["fan-out"]
    assert has_arrow(fan_out, "Master", "WorkQueue", "QUEUE_URL")
    assert has_arrow(fan_out, "WorkQueue", "Worker", "batch")
    assert has_arrow(fan_out, "Worker", "Aggregator", "AGGREGATOR_FUNCTION")
    assert has_arrow(fan_out, "schedule", "Sweeper", "invokes")
    assert has_arrow(fan_out, "Aggregator", "Aggregator/AsyncFailureQueue", "on failure")


def test_api_shows_auth_and_concurrency_of_prod(pictures: dict[str, Any]) -> None:
    api = pictures["api"]
    assert has_arrow(api, "UserPool", "Api", "ID tokens")
    assert has_arrow(api, "Api", "Handler", "auth: cognito user pools")
    assert has_arrow(api, "Handler", "Table", "TABLE_NAME")
    (handler,) = [node for node in api.nodes.values() if node.label.startswith("Handler\n")]
    assert handler.label.endswith("reserved 200 · provisioned 5")
    # Another pattern's resources are drawn as such: the alarms notify the stack's alarm topic.
    assert any(s.endswith("CloudWatch alarms") and t == "AlarmTopic" and "ALARM" in text for s, t, text in arrows(api))
    assert any(key in api.external for key, node in api.nodes.items() if node.label.startswith("AlarmTopic"))


def test_observability_shows_every_pattern_feeding_health_and_the_topic(pictures: dict[str, Any]) -> None:
    observability = pictures["observability"]
    # Past 70 alarms (Prod) the composite watches parts of them, each watched by ServiceHealth.
    parts = {"ServiceHealth"} | {
        t for _, t, _ in arrows(observability) if has_arrow(observability, t, "ServiceHealth", "any in ALARM")
    }
    for pattern in ("Api", "EventPipeline", "FanOut", "OrderWorkflow"):
        assert any(has_arrow(observability, pattern, part, "any in ALARM") for part in parts), pattern
        assert has_arrow(observability, pattern, "AlarmTopic", "ALARM / OK"), pattern
        assert has_arrow(observability, "Observability", pattern, "charts"), pattern
    assert has_arrow(observability, "ServiceHealth", "AlarmTopic", "ALARM / OK")
    assert has_arrow(observability, "AlarmTopic", "✉ oncall@example.com", "e-mail")


def test_dot_declares_every_box_an_arrow_uses(diagrams_module: ModuleType, pictures: dict[str, Any]) -> None:
    for diagram in pictures.values():
        dot = diagrams_module.to_dot(diagram)
        assert dot.startswith(f'digraph "{diagram.slug}" {{')
        declared = set(re.findall(r'^  "([^"]+)" \[label=', dot, flags=re.MULTILINE))
        used = re.findall(r'^  "([^"]+)" -> "([^"]+)"', dot, flags=re.MULTILINE)
        assert used
        assert {end for pair in used for end in pair} <= declared


def test_references_are_found_in_every_intrinsic_form(diagrams_module: ModuleType) -> None:
    value = {
        "A": {"Ref": "Queue1"},
        "B": [{"Fn::GetAtt": ["Table1", "Arn"]}, {"Fn::GetAtt": "Bucket1.Arn"}],
        "C": {"Fn::Sub": "arn:${AWS::Partition}:x:${Function1.Arn}/${Topic1}"},
        "D": {"Fn::Join": ["", ["a", {"Ref": "AWS::Region"}]]},
    }
    # Pseudo parameters come out of Ref too (no resource owns them); ${AWS::Partition} in a Sub does not.
    assert set(diagrams_module._references(value)) == {
        "Queue1",
        "Table1",
        "Bucket1",
        "Function1",
        "Topic1",
        "AWS::Region",
    }
