"""The FanOut construct in Dev, Staging and Prod, synthesized once under the compliance gates."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack, Stage, assertions, aws_s3 as s3
from cfnlint.api import ManualArgs, lint_file

from serverless_patterns.config import EnvironmentConfig, FanOutSettings, FunctionSettings
from serverless_patterns.constructs.fan_out import FanOut
from serverless_patterns.constructs.observable import Observable
from serverless_patterns.stacks.compliance import add_compliance_checks
from serverless_patterns.stacks.environments import environment

Match = assertions.Match
ROLES = ("master", "worker", "aggregator", "sweeper", "status")
PROD_WORKER = FunctionSettings(memory_mb=1024, timeout_seconds=30, reserved_concurrency=20)


def _config(name: str) -> EnvironmentConfig:
    config = environment(name)
    if name == "prod":
        config = dataclasses.replace(config, functions={**config.functions, "worker": PROD_WORKER})
    return config


def _fan_out(stack: Stack, config: EnvironmentConfig, **props: Any) -> FanOut:
    return FanOut(
        stack,
        "FanOut",
        defaults=config.defaults,
        settings=config.fan_out,
        functions=config.functions_for(FanOut.ROLES),
        **props,
    )


@pytest.fixture(scope="module")
def stacks(cdk_context: dict[str, Any]) -> dict[str, tuple[FanOut, Stage, Stack]]:
    """Every environment plus an imported-bucket variant, in one app, synthesized once."""
    app = App(context=cdk_context)
    built: dict[str, tuple[FanOut, Stage, Stack]] = {}
    for name in ("dev", "staging", "prod", "imported"):
        config = _config("prod" if name == "imported" else name)
        stage = Stage(app, name.capitalize())
        add_compliance_checks(stage)
        stack = Stack(stage, "FanOutTest")
        props: dict[str, Any] = {}
        if name == "imported":
            props["existing_input_bucket"] = s3.Bucket.from_bucket_name(stack, "Existing", "existing-job-input")
        built[name] = (_fan_out(stack, config, **props), stage, stack)
    app.synth()  # runs the compliance gates; Template.from_stack alone does not
    return built


@pytest.fixture(scope="module")
def built(stacks: dict[str, tuple[FanOut, Stage, Stack]]) -> dict[str, tuple[FanOut, assertions.Template]]:
    return {name: (fan_out, assertions.Template.from_stack(stack)) for name, (fan_out, _, stack) in stacks.items()}


@pytest.mark.parametrize("env", ["dev", "prod", "imported"])
def test_templates_pass_cfn_lint(stacks: dict[str, tuple[FanOut, Stage, Stack]], env: str) -> None:
    _, stage, stack = stacks[env]
    template = Path(stage.synth().get_stack_artifact(stack.artifact_id).template_full_path)
    assert [str(match) for match in lint_file(template, ManualArgs(ignore_checks=["W3005"]))] == []


def _template(built: dict[str, tuple[FanOut, assertions.Template]], name: str) -> assertions.Template:
    return built[name][1]


def _function(template: assertions.Template, module: str) -> dict[str, Any]:
    (function,) = template.find_resources(
        "AWS::Lambda::Function",
        {"Properties": {"Handler": f"serverless_patterns.lambdas.fan_out.{module}.handler"}},
    ).values()
    properties: dict[str, Any] = function["Properties"]
    return properties


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_five_functions_from_one_small_asset(built: dict[str, tuple[FanOut, assertions.Template]], env: str) -> None:
    template = _template(built, env)
    for module in ("master", "worker", "aggregator", "sweeper", "status"):
        assert _function(template, module)["Runtime"] == "python3.13"
    codes = {json.dumps(fn["Properties"]["Code"]) for fn in template.find_resources("AWS::Lambda::Function").values()}
    assert len(codes) == 1


@pytest.mark.parametrize(("env", "visibility", "reserved"), [("dev", 180, None), ("prod", 180, 20)])
def test_workers_consume_the_queue_with_backpressure_and_bounded_retries(
    built: dict[str, tuple[FanOut, assertions.Template]], env: str, visibility: int, reserved: int | None
) -> None:
    template = _template(built, env)
    settings = FanOutSettings()
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "BatchSize": settings.worker_batch_size,
            "ScalingConfig": {"MaximumConcurrency": settings.worker_max_concurrency},
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "FunctionName": {"Fn::Join": ["", Match.array_with([":live"])]},
        },
    )
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {"VisibilityTimeout": visibility, "RedrivePolicy": Match.object_like({"maxReceiveCount": 3})},
    )
    worker = _function(template, "worker")
    assert worker.get("ReservedConcurrentExecutions") == reserved
    variables = worker["Environment"]["Variables"]
    assert variables["MAX_RECEIVE_COUNT"] == "3"
    assert variables["WORKER_PARALLELISM"] == "8"
    assert variables["AGGREGATION_CLAIM_SECONDS"] == str(visibility // 6)
    assert "Ref" in variables["AGGREGATOR_FUNCTION"]  # the aggregator's live alias


def test_the_aggregator_is_invoked_async_with_bounded_retries_and_an_on_failure_queue(
    built: dict[str, tuple[FanOut, assertions.Template]],
) -> None:
    template = _template(built, "dev")
    template.resource_count_is("AWS::Lambda::EventInvokeConfig", 1)
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {"MaximumRetryAttempts": 2, "DestinationConfig": {"OnFailure": {"Destination": Match.any_value()}}},
    )


def test_master_settings_come_from_config(built: dict[str, tuple[FanOut, assertions.Template]]) -> None:
    variables = _function(_template(built, "dev"), "master")["Environment"]["Variables"]
    assert {
        key: variables[key] for key in ("CHUNK_SIZE", "MAX_ITEMS", "JOB_DEADLINE_SECONDS", "JOB_RETENTION_DAYS")
    } == {
        "CHUNK_SIZE": "100",
        "MAX_ITEMS": "100000",
        "JOB_DEADLINE_SECONDS": "1800",
        "JOB_RETENTION_DAYS": "30",
    }


@pytest.mark.parametrize(("env", "pitr"), [("dev", False), ("prod", True)])
def test_jobs_table_with_ttl_and_a_sparse_open_jobs_index(
    built: dict[str, tuple[FanOut, assertions.Template]], env: str, pitr: bool
) -> None:
    _template(built, env).has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "OpenJobsByDeadline",
                    "KeySchema": [
                        {"AttributeName": "open_jobs", "KeyType": "HASH"},
                        {"AttributeName": "deadline_at", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            ],
            "Replicas": [Match.object_like({"PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": pitr}})],
        },
    )


def test_the_sweeper_runs_on_a_schedule_without_keep_warm(built: dict[str, tuple[FanOut, assertions.Template]]) -> None:
    template = _template(built, "staging")  # Staging keeps functions warm
    rules = template.find_resources("AWS::Events::Rule")
    schedules = sorted(rule["Properties"]["ScheduleExpression"] for rule in rules.values())
    assert schedules == ["rate(5 minutes)"] * 5  # the sweep + keep-warm for the four request-driven functions
    sweeps = [rule for rule in rules.values() if "Input" not in rule["Properties"]["Targets"][0]]
    assert len(sweeps) == 1


def test_alarms_cover_workers_dlq_age_aggregator_and_stuck_jobs(
    built: dict[str, tuple[FanOut, assertions.Template]],
) -> None:
    fan_out, template = built["dev"]
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    assert len(alarms) == len(fan_out.alarms) == 4 + 5 * 3 + 1  # own, per function, aggregator on-failure queue
    names = sorted(alarm["Properties"]["MetricName"] for alarm in alarms.values())
    assert names.count("ApproximateNumberOfMessagesVisible") == 2  # work DLQ, aggregator on-failure queue
    assert names.count("ApproximateAgeOfOldestMessage") == 1
    assert names.count("Errors") == 5
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "JobsStuck",
            "Namespace": "ServerlessPatterns/Dev",
            "Dimensions": [{"Name": "service", "Value": "fan-out"}],
            "Period": 300,
            "EvaluationPeriods": 1,
            "Threshold": 1,
        },
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"MetricName": "ChunkAttemptsFailed", "Namespace": "ServerlessPatterns/Dev", "Threshold": 5},
    )


def _statements(template: assertions.Template, role_fragment: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = []
    for policy in template.find_resources("AWS::IAM::Policy").values():
        roles = json.dumps(policy["Properties"]["Roles"])
        if role_fragment in roles:
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def test_least_privilege(built: dict[str, tuple[FanOut, assertions.Template]]) -> None:
    template = _template(built, "dev")
    dynamodb = {
        role: sorted(
            action
            for statement in _statements(template, role)
            for action in _actions(statement)
            if "dynamodb" in action
        )
        for role in ("FanOutMaster", "FanOutWorker", "FanOutAggregator", "FanOutSweeper", "FanOutStatus")
    }
    assert dynamodb == {
        # BatchGetItem: a job's status reads its open completion shards' progress in one request.
        "FanOutMaster": ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
        "FanOutWorker": ["dynamodb:ConditionCheckItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
        "FanOutAggregator": ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"],
        "FanOutSweeper": ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"],
        "FanOutStatus": ["dynamodb:BatchGetItem", "dynamodb:GetItem"],
    }
    for policy in template.find_resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert not any(action.endswith("*") for action in _actions(statement))
            if statement["Resource"] == "*":
                assert all(action.startswith("xray:") for action in _actions(statement))
    worker_invokes = [s for s in _statements(template, "FanOutWorker") if "lambda:InvokeFunction" in _actions(s)]
    (invoke,) = worker_invokes
    assert invoke["Resource"]["Ref"].startswith("FanOutAggregatorLiveAlias")


def test_the_master_reads_and_lists_only_the_input_prefix(built: dict[str, tuple[FanOut, assertions.Template]]) -> None:
    template = _template(built, "prod")
    s3 = [s for s in _statements(template, "FanOutMaster") if any(a.startswith("s3:") for a in _actions(s))]
    reads = [s for s in s3 if "s3:GetObject" in _actions(s)]
    (read,) = reads
    assert read["Resource"]["Fn::Join"][1][-1] == "/jobs/*"
    (listing,) = [s for s in s3 if _actions(s) == ["s3:ListBucket"]]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["jobs/*"]}}
    (function,) = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": "serverless_patterns.lambdas.fan_out.master.handler"}}
    ).values()
    assert function["Properties"]["Environment"]["Variables"]["INPUT_PREFIX"] == "jobs/"


@pytest.mark.parametrize("prefix", ["", "/jobs/", "jobs", "jobs/*/", "a//"])
def test_an_input_prefix_that_is_not_a_plain_folder_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="input_prefix must be a folder"):
        FanOutSettings(input_prefix=prefix)


def test_input_bucket_logs_access_and_expires_inputs(built: dict[str, tuple[FanOut, assertions.Template]]) -> None:
    template = _template(built, "prod")
    template.resource_count_is("AWS::S3::Bucket", 2)
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "LoggingConfiguration": {"DestinationBucketName": Match.any_value(), "LogFilePrefix": "fan-out-input/"},
            "LifecycleConfiguration": {
                "Rules": [Match.object_like({"ExpirationInDays": 30, "NoncurrentVersionExpiration": Match.any_value()})]
            },
        },
    )


def test_an_existing_input_bucket_is_used_as_is(built: dict[str, tuple[FanOut, assertions.Template]]) -> None:
    fan_out, template = built["imported"]
    template.resource_count_is("AWS::S3::Bucket", 0)
    assert fan_out.access_logs_bucket is None
    variables = _function(template, "master")["Environment"]["Variables"]
    assert variables["INPUT_BUCKET"] == "existing-job-input"


def test_observable_with_one_dashboard_row(built: dict[str, tuple[FanOut, assertions.Template]]) -> None:
    fan_out, _ = built["dev"]
    assert isinstance(fan_out, Observable)
    widgets = fan_out.dashboard_widgets()
    assert sum(widget.width for widget in widgets[:4]) == 24  # the pattern's own row
    assert sum(widget.width for widget in widgets) % 24 == 0  # then whole rows: table, each function
    assert set(fan_out.functions) == set(ROLES)
    for function in fan_out.functions.values():
        titles = {w.to_json()[0]["properties"]["title"] for w in function.dashboard_widgets()}
        assert titles <= {w.to_json()[0]["properties"]["title"] for w in widgets}


def test_reserved_concurrency_below_the_event_source_cap_is_refused() -> None:
    with pytest.raises(ValueError, match=r"functions\['worker'\].reserved_concurrency \(5\) .* would be throttled"):
        FanOut(
            Stack(App(), "Refused"),
            "FanOut",
            defaults=environment("dev").defaults,
            settings=FanOutSettings(worker_max_concurrency=10),
            functions={"worker": FunctionSettings(reserved_concurrency=5)},
        )
