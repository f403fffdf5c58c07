"""EventPipeline in each environment's configuration, with the compliance gates and cfn-lint run."""

from __future__ import annotations

import ast
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack, Stage, assertions, aws_lambda as lambda_, aws_s3 as s3
from cfnlint.api import ManualArgs, lint_file

from serverless_patterns.config import EnvironmentConfig, FunctionSettings, PipelineSettings
from serverless_patterns.constructs.event_pipeline import EventPipeline
from serverless_patterns.constructs.handler_code import HandlerCode
from serverless_patterns.constructs.lambda_code import LAMBDAS_ROOT
from serverless_patterns.constructs.observable import Observable
from serverless_patterns.lambdas.event_pipeline.layout import Env
from serverless_patterns.stacks.compliance import add_compliance_checks
from serverless_patterns.stacks.environments import environment

Match = assertions.Match
ENVIRONMENTS = ("dev", "staging", "prod")
DAY = 24 * 3600


@dataclass
class Built:
    config: EnvironmentConfig
    construct: EventPipeline
    template: assertions.Template
    template_path: Path

    def resources(self, kind: str) -> dict[str, Any]:
        return dict(self.template.find_resources(kind))

    def logical_id(self, kind: str, path: str) -> str:
        """The id CDK gives ``Pipeline/<path>`` (``Resource`` dropped, eight hex digits added)."""
        (found,) = [
            logical_id
            for logical_id in self.resources(kind)
            if re.fullmatch(rf"Pipeline{path}[0-9A-F]{{8}}", logical_id)
        ]
        return found

    def function(self, fragment: str) -> dict[str, Any]:
        props: dict[str, Any] = self.resources("AWS::Lambda::Function")[
            self.logical_id("AWS::Lambda::Function", fragment)
        ]["Properties"]
        return props

    def policy_statements(self, role_fragment: str) -> list[dict[str, Any]]:
        role_id = self.logical_id("AWS::IAM::Role", f"{role_fragment}ServiceRole")
        return [
            statement
            for policy in self.resources("AWS::IAM::Policy").values()
            if {"Ref": role_id} in policy["Properties"]["Roles"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        ]


def _build(cdk_context: dict[str, Any], outdir: Path, config: EnvironmentConfig, **overrides: Any) -> Built:
    """What ServiceStack will do: the environment's config, in a Stage with the gates on."""
    app = App(context=cdk_context, outdir=str(outdir))
    stage = Stage(app, config.name)
    add_compliance_checks(stage)
    stack = Stack(stage, "Service")
    props: dict[str, Any] = {
        "settings": config.pipeline,
        "functions": config.functions_for(EventPipeline.ROLES),
        "defaults": config.defaults,
    }
    construct = EventPipeline(stack, "Pipeline", **{**props, **overrides})
    assembly = app.synth()  # runs the compliance gates; Template.from_stack alone does not
    artifact = assembly.get_stack_artifact(stack.artifact_id)
    return Built(config, construct, assertions.Template.from_stack(stack), Path(artifact.template_full_path))


@pytest.fixture(scope="module")
def built(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    return {
        env: _build(cdk_context, tmp_path_factory.mktemp(f"pipeline-{env}"), environment(env)) for env in ENVIRONMENTS
    }


# --- per environment ----------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_template_passes_cfn_lint(built: dict[str, Built], env: str) -> None:
    matches = lint_file(built[env].template_path, ManualArgs(ignore_checks=["W3005"]))
    assert [str(match) for match in matches] == []


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_buckets_are_private_encrypted_versioned_tls_only_and_logged(built: dict[str, Built], env: str) -> None:
    b = built[env]
    buckets = b.resources("AWS::S3::Bucket")
    assert len(buckets) == 3
    logs_id = b.logical_id("AWS::S3::Bucket", "AccessLogs")
    for logical_id, bucket in buckets.items():
        props = bucket["Properties"]
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        assert props["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True
        assert "BucketEncryption" in props
        if logical_id != logs_id:
            assert props["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": logs_id}
        retained = b.config.removal_policy.name == "RETAIN"
        assert bucket["DeletionPolicy"] == ("Retain" if retained else "Delete")
    tls_denials = [
        statement
        for policy in b.resources("AWS::S3::BucketPolicy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert len(tls_denials) == 3


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_uploads_expire_by_status_tag_and_old_versions_go(built: dict[str, Built], env: str) -> None:
    b = built[env]
    settings = b.config.pipeline
    uploads = b.resources("AWS::S3::Bucket")[b.logical_id("AWS::S3::Bucket", "Uploads")]
    rules = {rule["Id"]: rule for rule in uploads["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert rules["ExpireProcessed"]["TagFilters"] == [{"Key": "pipeline-status", "Value": "processed"}]
    assert rules["ExpireProcessed"]["Prefix"] == settings.upload_prefix
    assert rules["ExpireProcessed"]["ExpirationInDays"] == settings.processed_retention_days
    assert rules["ExpireRejected"]["TagFilters"] == [{"Key": "pipeline-status", "Value": "rejected"}]
    assert rules["ExpireRejected"]["ExpirationInDays"] == settings.rejected_retention_days
    assert rules["NoncurrentVersions"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == (
        settings.noncurrent_retention_days
    )
    assert rules["NoncurrentVersions"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_uploads_under_the_prefix_notify_the_validate_alias(built: dict[str, Built], env: str) -> None:
    b = built[env]
    (notifications,) = b.resources("Custom::S3BucketNotifications").values()
    config = notifications["Properties"]["NotificationConfiguration"]
    (target,) = config["LambdaFunctionConfigurations"]
    assert target["Events"] == ["s3:ObjectCreated:*"]
    assert target["Filter"] == {"Key": {"FilterRules": [{"Name": "prefix", "Value": b.config.pipeline.upload_prefix}]}}
    assert target["LambdaFunctionArn"] == {"Ref": b.logical_id("AWS::Lambda::Alias", "ValidateLiveAlias")}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_queue_visibility_is_six_process_timeouts_and_dlq_after_max_receive_count(
    built: dict[str, Built], env: str
) -> None:
    b = built[env]
    settings = b.config.pipeline
    timeout = b.config.function("process").timeout_seconds
    queue = b.resources("AWS::SQS::Queue")[b.logical_id("AWS::SQS::Queue", "Queue")]
    props = queue["Properties"]
    assert props["VisibilityTimeout"] >= 6 * timeout
    assert props["VisibilityTimeout"] == 6 * timeout + settings.batching_window_seconds
    assert props["SqsManagedSseEnabled"] is True
    assert props["RedrivePolicy"]["maxReceiveCount"] == settings.max_receive_count
    dlq_id = b.logical_id("AWS::SQS::Queue", "QueueDlq")
    assert props["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": [dlq_id, "Arn"]}
    dlq = b.resources("AWS::SQS::Queue")[dlq_id]["Properties"]
    assert dlq["MessageRetentionPeriod"] == 14 * DAY
    assert dlq["RedriveAllowPolicy"]["redrivePermission"] == "byQueue"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_process_alias_polls_with_batching_concurrency_cap_and_partial_failures(
    built: dict[str, Built], env: str
) -> None:
    b = built[env]
    settings = b.config.pipeline
    (mapping,) = b.resources("AWS::Lambda::EventSourceMapping").values()
    props = mapping["Properties"]
    assert props["BatchSize"] == settings.batch_size
    assert props["MaximumBatchingWindowInSeconds"] == settings.batching_window_seconds
    assert props["ScalingConfig"] == {"MaximumConcurrency": settings.max_concurrency}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    function_name = json.dumps(props["FunctionName"])  # <function name>:live, derived from the alias
    assert b.logical_id("AWS::Lambda::Alias", "ProcessLiveAlias") in function_name
    assert function_name.endswith('":live"]]}')
    assert props["EventSourceArn"] == {"Fn::GetAtt": [b.logical_id("AWS::SQS::Queue", "Queue"), "Arn"]}


def test_dev_is_smaller_than_prod(built: dict[str, Built]) -> None:
    dev, prod = built["dev"].template, built["prod"].template
    dev.has_resource_properties("AWS::Lambda::EventSourceMapping", {"ScalingConfig": {"MaximumConcurrency": 2}})
    prod.has_resource_properties("AWS::Lambda::EventSourceMapping", {"ScalingConfig": {"MaximumConcurrency": 5}})
    dev.has_resource_properties("AWS::SQS::Queue", {"RedrivePolicy": Match.object_like({"maxReceiveCount": 3})})
    prod.has_resource_properties("AWS::SQS::Queue", {"RedrivePolicy": Match.object_like({"maxReceiveCount": 5})})


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_validate_failures_retry_then_reach_an_on_failure_queue(built: dict[str, Built], env: str) -> None:
    b = built[env]
    (config,) = b.resources("AWS::Lambda::EventInvokeConfig").values()
    props = config["Properties"]
    assert props["MaximumRetryAttempts"] == b.config.pipeline.validate_retry_attempts
    failure_queue = b.logical_id("AWS::SQS::Queue", "ValidateAsyncFailureQueue")
    assert props["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": [failure_queue, "Arn"]}
    alias = b.logical_id("AWS::Lambda::Alias", "ValidateLiveAlias")
    assert props["Qualifier"] == {"Fn::Select": [7, {"Fn::Split": [":", {"Ref": alias}]}]}  # the live alias


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_handlers_get_exactly_the_settings_they_read(built: dict[str, Built], env: str) -> None:
    b = built[env]
    settings = b.config.pipeline
    validate = b.function("Validate")
    process = b.function("Process")
    assert validate["Handler"] == "serverless_patterns.lambdas.event_pipeline.validate.handler"
    assert process["Handler"] == "serverless_patterns.lambdas.event_pipeline.process.handler"
    validate_env = validate["Environment"]["Variables"]
    process_env = process["Environment"]["Variables"]
    assert validate_env[Env.MAX_FILE_BYTES] == str(settings.max_file_bytes)
    assert validate_env[Env.UPLOAD_PREFIX] == settings.upload_prefix
    assert validate_env[Env.ALLOWED_EXTENSIONS] == ",".join(settings.allowed_extensions)
    assert process_env[Env.MAX_RECEIVE_COUNT] == str(settings.max_receive_count)
    assert process_env[Env.IDEMPOTENCY_SECONDS] == str(settings.idempotency_hours * 3600)
    assert process_env[Env.IDEMPOTENCY_TABLE] == {"Ref": b.logical_id("AWS::DynamoDB::GlobalTable", "Idempotency")}
    assert validate_env[Env.QUEUE_URL] == process_env[Env.QUEUE_URL]
    assert validate["MemorySize"] == b.config.function("validate").memory_mb
    assert process["Timeout"] == b.config.function("process").timeout_seconds


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_s3_access_is_scoped_to_prefixes(built: dict[str, Built], env: str) -> None:
    b = built[env]
    uploads = b.logical_id("AWS::S3::Bucket", "Uploads")
    results = b.logical_id("AWS::S3::Bucket", "Results")
    for role, record_prefixes in (("Validate", {"rejected/*"}), ("Process", {"processed/*", "rejected/*"})):
        s3_statements = [
            statement
            for statement in b.policy_statements(role)
            if any(str(action).startswith("s3:") for action in _as_list(statement["Action"]))
        ]
        object_resources = {
            json.dumps(resource)
            for statement in s3_statements
            for resource in _as_list(statement["Resource"])
            if "Fn::Join" in resource
        }
        assert object_resources == {
            json.dumps({"Fn::Join": ["", [{"Fn::GetAtt": [uploads, "Arn"]}, f"/{b.config.pipeline.upload_prefix}*"]]}),
            *(
                json.dumps({"Fn::Join": ["", [{"Fn::GetAtt": [results, "Arn"]}, f"/{prefix}"]]})
                for prefix in record_prefixes
            ),
        }
        actions = {action for statement in s3_statements for action in _as_list(statement["Action"])}
        assert not any(action.endswith("*") for action in actions)
        assert "s3:DeleteObject" not in actions
        # Listing only under the prefixes the function reads (a missing key answers 404, nothing else shows).
        listings = {
            json.dumps(statement["Resource"]): statement.get("Condition")
            for statement in s3_statements
            if _as_list(statement["Action"]) == ["s3:ListBucket"]
        }
        assert listings == {
            json.dumps({"Fn::GetAtt": [uploads, "Arn"]}): {
                "StringLike": {"s3:prefix": [f"{b.config.pipeline.upload_prefix}*"]}
            },
            json.dumps({"Fn::GetAtt": [results, "Arn"]}): {"StringLike": {"s3:prefix": sorted(record_prefixes)}},
        }


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_alarms_dead_letters_oldest_message_validator_failures_and_functions(built: dict[str, Built], env: str) -> None:
    b = built[env]
    thresholds = b.config.alarm_thresholds
    alarms = list(b.resources("AWS::CloudWatch::Alarm").values())
    by_metric: dict[str, list[dict[str, Any]]] = {}
    for alarm in alarms:
        by_metric.setdefault(alarm["Properties"]["MetricName"], []).append(alarm["Properties"])
    assert len(by_metric["ApproximateNumberOfMessagesVisible"]) == 2  # the DLQ, the validator's on-failure queue
    dlq_alarm = next(
        alarm
        for alarm in by_metric["ApproximateNumberOfMessagesVisible"]
        if alarm["Dimensions"][0]["Value"] == {"Fn::GetAtt": [b.logical_id("AWS::SQS::Queue", "QueueDlq"), "QueueName"]}
    )
    assert dlq_alarm["Threshold"] == thresholds.dlq_visible_messages
    (age,) = by_metric["ApproximateAgeOfOldestMessage"]
    assert age["Threshold"] == thresholds.queue_oldest_message_seconds
    assert len(by_metric["Errors"]) == 2  # validate and process
    assert len(alarms) == len(b.construct.alarms)


def test_pipeline_is_observable_in_one_dashboard_row(built: dict[str, Built]) -> None:
    pipeline = built["prod"].construct
    assert isinstance(pipeline, Observable)
    widgets = pipeline.dashboard_widgets()
    assert sum(widget.width for widget in widgets[:4]) == 24  # the pattern's own row
    assert sum(widget.width for widget in widgets) % 24 == 0  # then whole rows: table, each function


# --- overrides and escape hatches ---------------------------------------------------------------


def test_own_processor_code_existing_buckets_and_suffix_filters(
    cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    package = tmp_path_factory.mktemp("user") / "acme_processor"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "handler.py").write_text(
        "from serverless_patterns.lambdas.event_pipeline.process import build_handler\n"
        "handler = build_handler(lambda message, stream: {'bytes': len(stream.read(1 << 20))})\n"
    )
    config = environment("staging")

    def props(stack: Stack) -> dict[str, Any]:
        return {
            "handlers": {
                "process": HandlerCode.from_package(
                    package,
                    "acme_processor.handler.handler",
                    environment={"ENRICHMENT_URL": "https://enrich.example.com"},
                )
            },
            "existing_results_bucket": s3.Bucket.from_bucket_name(stack, "Lake", "acme-data-lake"),
            "existing_access_logs_bucket": s3.Bucket.from_bucket_name(stack, "OrgLogs", "acme-org-access-logs"),
            "settings": PipelineSettings(upload_suffixes=(".csv", ".jsonl")),
        }

    app = App(context=cdk_context, outdir=str(tmp_path_factory.mktemp("pipeline-custom")))
    stage = Stage(app, "Custom")
    add_compliance_checks(stage)
    stack = Stack(stage, "Service")
    pipeline = EventPipeline(
        stack,
        "Pipeline",
        functions=config.functions_for(EventPipeline.ROLES),
        defaults=config.defaults,
        **props(stack),
    )
    app.synth()
    template = assertions.Template.from_stack(stack)
    assert len(template.find_resources("AWS::S3::Bucket")) == 1  # only the upload bucket
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "acme_processor.handler.handler",
            "Environment": {
                "Variables": Match.object_like(
                    {"ENRICHMENT_URL": "https://enrich.example.com", Env.RESULTS_BUCKET: "acme-data-lake"}
                )
            },
        },
    )
    (notifications,) = template.find_resources("Custom::S3BucketNotifications").values()
    suffixes = [
        rule["Value"]
        for config_ in notifications["Properties"]["NotificationConfiguration"]["LambdaFunctionConfigurations"]
        for rule in config_["Filter"]["Key"]["FilterRules"]
        if rule["Name"] == "suffix"
    ]
    assert suffixes == [".csv", ".jsonl"]
    assert pipeline.results_bucket.bucket_name == "acme-data-lake"


def test_handler_code_stages_the_pipeline_package_beside_yours(tmp_path: Path) -> None:
    package = tmp_path / "acme_processor"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "handler.py").write_text("def handler(event, context):\n    return event\n")
    code = HandlerCode.from_package(package, "acme_processor.handler.handler").bind("event_pipeline")
    assert isinstance(code, lambda_.AssetCode)
    staged = Path(code.path)
    assert (staged / "acme_processor" / "__init__.py").is_file()
    assert (staged / "serverless_patterns" / "lambdas" / "event_pipeline" / "process.py").is_file()
    assert (staged / "serverless_patterns" / "lambdas" / "shared" / "observability.py").is_file()


def test_inconsistent_props_are_refused(cdk_context: dict[str, Any]) -> None:
    stack = Stack(App(context=cdk_context), "Refused")
    with pytest.raises(
        ValueError, match=r"functions\['process'\].reserved_concurrency 1 is below settings.max_concurrency"
    ):
        EventPipeline(stack, "Starved", functions={"process": FunctionSettings(reserved_concurrency=1)})
    with pytest.raises(ValueError, match="give existing_results_bucket or results_bucket_props, not both"):
        EventPipeline(
            stack,
            "Both",
            existing_results_bucket=s3.Bucket.from_bucket_name(stack, "Lake", "lake"),
            results_bucket_props=s3.BucketProps(),
        )


def test_handler_code_never_imports_cdk() -> None:
    for path in (LAMBDAS_ROOT / "event_pipeline").glob("*.py"):
        tree = ast.parse(path.read_text())
        imported = {
            alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
        } | {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        assert imported <= {
            "__future__",
            "aws_lambda_powertools",
            "boto3",
            "botocore",
            "serverless_patterns",
            "mypy_boto3_s3",
            "mypy_boto3_sqs",
            *_STDLIB,
        }, path.name


_STDLIB = set(sys.stdlib_module_names)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_process_may_back_off_and_requeue_and_use_its_idempotency_table(built: dict[str, Built], env: str) -> None:
    b = built[env]
    statements = b.policy_statements("Process")
    queue = {"Fn::GetAtt": [b.logical_id("AWS::SQS::Queue", "Queue"), "Arn"]}
    on_queue = {action for s in statements if queue in _as_list(s["Resource"]) for action in _as_list(s["Action"])}
    assert {"sqs:ChangeMessageVisibility", "sqs:SendMessage", "sqs:DeleteMessage", "sqs:ReceiveMessage"} <= on_queue
    table = {"Fn::GetAtt": [b.logical_id("AWS::DynamoDB::GlobalTable", "Idempotency"), "Arn"]}
    on_table = {action for s in statements if table in _as_list(s["Resource"]) for action in _as_list(s["Action"])}
    # Exactly Powertools idempotency's calls: no batches, queries, scans or stream reads.
    assert on_table == {"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
    validate_actions = {action for s in b.policy_statements("Validate") for action in _as_list(s["Action"])}
    assert not any(action.startswith("dynamodb:") for action in validate_actions)
