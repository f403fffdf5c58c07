"""The cdk-nag gates: an unacknowledged finding fails synthesis; an acknowledged one does not."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Stack, Stage, aws_sqs as sqs

from serverless_patterns.constructs.compliance import acknowledge
from serverless_patterns.stacks.compliance import add_compliance_checks


def _stage_with_bare_queue(cdk_context: dict[str, Any], outdir: str) -> tuple[App, sqs.Queue]:
    app = App(context=cdk_context, outdir=outdir)
    stage = Stage(app, "Gate")
    add_compliance_checks(stage)
    queue = sqs.Queue(Stack(stage, "Service"), "NoDlqNoTls")
    return app, queue


def test_unacknowledged_finding_fails_synth(cdk_context: dict[str, Any], tmp_path: Any) -> None:
    app, _ = _stage_with_bare_queue(cdk_context, str(tmp_path))
    with pytest.raises(RuntimeError, match="ValidationFailed") as failure:
        app.synth()
    assert "AwsSolutions-SQS4" in str(failure.value)
    assert "Serverless-SQSRedrivePolicy" in str(failure.value)


def test_acknowledged_findings_pass(cdk_context: dict[str, Any], tmp_path: Any) -> None:
    app, queue = _stage_with_bare_queue(cdk_context, str(tmp_path))
    acknowledge(
        queue,
        ("AwsSolutions::AwsSolutions-SQS3", "test: a queue without DLQ"),
        ("AwsSolutions::AwsSolutions-SQS4", "test: a queue without TLS enforcement"),
        ("Serverless::Serverless-SQSRedrivePolicy", "test: a queue without redrive"),
    )
    app.synth()
