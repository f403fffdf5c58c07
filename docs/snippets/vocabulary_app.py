"""The vocabulary guide's example app: your code, your resources and your overrides in the patterns."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import App, Duration, Stack, aws_s3 as s3, aws_sqs as sqs

from serverless_patterns import (
    EventPipeline,
    FanOut,
    FanOutSettings,
    FunctionSettings,
    HandlerCode,
    ObservabilityDashboard,
    PatternDefaults,
    PipelineSettings,
    add_compliance_checks,
)

SNIPPETS = Path(__file__).resolve().parent


def build(app: App) -> tuple[Stack, Stack]:
    """The patterns in one stack, their dashboard and alarm topic in another."""
    add_compliance_checks(app)
    defaults = PatternDefaults(metrics_namespace="Labels")  # production-safe when omitted
    patterns = Stack(app, "Labels")

    # --8<-- [start:pipeline]
    labels = EventPipeline(
        patterns,
        "LabelFiles",
        defaults=defaults,
        settings=PipelineSettings(upload_prefix="labels/", allowed_extensions=(".txt",)),
        functions={"process": FunctionSettings(memory_mb=512, timeout_seconds=30)},  # "validate" keeps its default
        handlers={
            "process": HandlerCode.from_package(
                SNIPPETS / "label_checks", "label_checks.handler.handler", environment={"LABEL_SET": "2026"}
            )
        },
        existing_results_bucket=s3.Bucket.from_bucket_name(patterns, "Lake", "acme-data-lake"),
        queue_props=sqs.QueueProps(retention_period=Duration.days(7)),
    )
    # --8<-- [end:pipeline]

    # --8<-- [start:two-fan-outs]
    nightly = FanOut(patterns, "Nightly", defaults=defaults)  # service "nightly"
    adhoc = FanOut(patterns, "AdHoc", defaults=defaults, settings=FanOutSettings(worker_max_concurrency=2))
    # --8<-- [end:two-fan-outs]

    # --8<-- [start:escape-hatch]
    worker = nightly.functions["worker"].cfn_function  # the AWS::Lambda::Function itself
    worker.add_property_override("EphemeralStorage.Size", 1024)
    # --8<-- [end:escape-hatch]

    # --8<-- [start:dashboard]
    operations = Stack(app, "Operations")
    ObservabilityDashboard(
        operations,
        "Dashboard",
        observables=[labels, nightly, adhoc],
        defaults=defaults,
        alarm_emails=("labels-oncall@example.com",),
    )
    # --8<-- [end:dashboard]
    return patterns, operations


if __name__ == "__main__":
    app = App()
    build(app)
    app.synth()
