"""The shared Lambda building block, in each environment's configuration."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App, Environment, Stack, Stage, assertions, aws_lambda as lambda_

from serverless_patterns.config import EnvironmentConfig, FunctionSettings
from serverless_patterns.constructs.function import ServerlessFunction
from serverless_patterns.lambdas.shared.warmup import WARMUP_EVENT
from serverless_patterns.stacks.compliance import add_compliance_checks
from serverless_patterns.stacks.environments import environment

Match = assertions.Match


def _template(
    cdk_context: dict[str, Any], config: EnvironmentConfig, settings: FunctionSettings, **props: Any
) -> assertions.Template:
    app = App(context=cdk_context)
    stage = Stage(app, config.name)
    add_compliance_checks(stage)
    stack = Stack(stage, "Block")
    ServerlessFunction(
        stack,
        "Worker",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
        handler="index.handler",
        settings=settings,
        service="block-test",
        defaults=config.defaults,
        **props,
    )
    app.synth()  # runs the compliance gates; Template.from_stack alone does not
    return assertions.Template.from_stack(stack)


@pytest.fixture(scope="module")
def dev(cdk_context: dict[str, Any]) -> assertions.Template:
    config = environment("dev")
    return _template(cdk_context, config, config.default_function)


@pytest.fixture(scope="module")
def prod(cdk_context: dict[str, Any]) -> assertions.Template:
    config = environment("prod")
    return _template(cdk_context, config, config.function("api"), async_invocation=True)


@pytest.fixture(scope="module")
def staging(cdk_context: dict[str, Any]) -> assertions.Template:
    config = environment("staging")
    return _template(cdk_context, config, config.default_function)


def test_runtime_architecture_layer_logging_and_tracing(dev: assertions.Template) -> None:
    dev.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.13",
            "Architectures": ["arm64"],
            "MemorySize": 256,
            "Timeout": 10,
            "TracingConfig": {"Mode": "Active"},
            "LoggingConfig": Match.object_like({"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG"}),
            "Layers": [
                {
                    "Fn::Join": [
                        "",
                        Match.array_with(
                            [Match.string_like_regexp("AWSLambdaPowertoolsPythonV3-python313-arm64:\\d+")]
                        ),
                    ]
                }
            ],
            "Environment": {
                "Variables": Match.object_like(
                    {"POWERTOOLS_SERVICE_NAME": "block-test", "POWERTOOLS_METRICS_NAMESPACE": "ServerlessPatterns/Dev"}
                )
            },
        },
    )


def test_own_log_group_with_retention_and_no_managed_policies(dev: assertions.Template) -> None:
    dev.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 7})
    dev.has_resource("AWS::Logs::LogGroup", {"DeletionPolicy": "Delete"})
    roles = dev.find_resources("AWS::IAM::Role")
    assert len(roles) == 1
    assert all("ManagedPolicyArns" not in role["Properties"] for role in roles.values())


def test_dev_has_live_alias_without_provisioned_concurrency(dev: assertions.Template) -> None:
    dev.has_resource_properties("AWS::Lambda::Alias", {"Name": "live", "ProvisionedConcurrencyConfig": Match.absent()})
    dev.resource_count_is("AWS::ApplicationAutoScaling::ScalableTarget", 0)
    dev.resource_count_is("AWS::Events::Rule", 0)
    dev.resource_count_is("AWS::Lambda::EventInvokeConfig", 0)


def test_dev_alarms_errors_throttles_duration(dev: assertions.Template) -> None:
    alarms = dev.find_resources("AWS::CloudWatch::Alarm")
    metrics = sorted(alarm["Properties"].get("MetricName", "") for alarm in alarms.values())
    assert metrics == ["Duration", "Errors", "Throttles"]
    dev.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"MetricName": "Duration", "ExtendedStatistic": "p99", "Threshold": 8000}
    )


def test_prod_provisioned_concurrency_autoscaling_and_spillover_alarm(prod: assertions.Template) -> None:
    prod.has_resource_properties(
        "AWS::Lambda::Alias",
        {"Name": "live", "ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 5}},
    )
    prod.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {"MinCapacity": 5, "MaxCapacity": 50, "ScalableDimension": "lambda:function:ProvisionedConcurrency"},
    )
    prod.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "TargetTrackingScalingPolicyConfiguration": Match.object_like(
                {
                    "TargetValue": 0.7,
                    "PredefinedMetricSpecification": {
                        "PredefinedMetricType": "LambdaProvisionedConcurrencyUtilization"
                    },
                }
            )
        },
    )
    prod.has_resource_properties("AWS::CloudWatch::Alarm", {"MetricName": "ProvisionedConcurrencySpilloverInvocations"})
    prod.has_resource_properties("AWS::Lambda::Function", {"ReservedConcurrentExecutions": 200})
    prod.has_resource("AWS::Logs::LogGroup", {"DeletionPolicy": "Retain"})


def test_prod_async_invocations_are_bounded_with_on_failure_queue(prod: assertions.Template) -> None:
    prod.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "Qualifier": Match.any_value(),
            "MaximumRetryAttempts": 2,
            "MaximumEventAgeInSeconds": 3600,
            "DestinationConfig": {"OnFailure": {"Destination": Match.any_value()}},
        },
    )
    prod.has_resource_properties(
        "AWS::SQS::Queue", {"SqsManagedSseEnabled": True, "MessageRetentionPeriod": 14 * 24 * 3600}
    )
    prod.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"MetricName": "ApproximateNumberOfMessagesVisible", "Threshold": 1}
    )


def test_sampled_debug_logs_pass_lambdas_level_filter(staging: assertions.Template) -> None:
    staging.has_resource_properties(
        "AWS::Lambda::Function",
        {"LoggingConfig": Match.object_like({"ApplicationLogLevel": "DEBUG", "SystemLogLevel": "INFO"})},
    )


def test_staging_keep_warm_targets_the_alias_with_the_warmup_event(staging: assertions.Template) -> None:
    rules = staging.find_resources("AWS::Events::Rule")
    assert len(rules) == 1
    (rule,) = rules.values()
    assert rule["Properties"]["ScheduleExpression"] == "rate(5 minutes)"
    (target,) = rule["Properties"]["Targets"]
    assert target["Input"] == '{"source":"serverless-patterns.warmup"}' == _compact(WARMUP_EVENT)
    assert "Ref" in target["Arn"]  # the alias, not the unqualified function (a GetAtt Arn)


def _compact(event: dict[str, str]) -> str:
    return json.dumps(event, separators=(",", ":"))


# --- SnapStart: a cold-start strategy of its own ------------------------------------------------------


def test_staging_api_starts_from_a_snapshot_and_is_not_pinged(cdk_context: dict[str, Any]) -> None:
    """Staging keeps its functions warm, except the API, which SnapStart restores (no pings, no provisioning)."""
    config = environment("staging")
    assert config.keep_warm
    template = _template(cdk_context, config, config.function("api"))
    template.has_resource_properties("AWS::Lambda::Function", {"SnapStart": {"ApplyOn": "PublishedVersions"}})
    template.resource_count_is("AWS::Events::Rule", 0)
    (alias,) = template.find_resources("AWS::Lambda::Alias").values()
    assert "ProvisionedConcurrencyConfig" not in alias["Properties"]
    assert "Version" in json.dumps(alias["Properties"]["FunctionVersion"])  # a published version


@pytest.mark.parametrize(
    ("env", "role", "strategy"),
    [
        ("staging", "api", "snapstart"),
        ("staging", "worker", "keep_warm"),
        ("prod", "api", "provisioned"),
        ("dev", "api", "none"),
    ],
)
def test_every_function_names_its_cold_start_strategy(env: str, role: str, strategy: str) -> None:
    config = environment(env)
    stack = Stack(App(), "Strategies")
    function = ServerlessFunction(
        stack,
        "Fn",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
        handler="index.handler",
        settings=config.function(role),
        service="strategy-test",
        defaults=config.defaults,
    )
    assert function.cold_start == strategy


def test_snapstart_with_provisioned_concurrency_is_refused_naming_both() -> None:
    with pytest.raises(ValueError, match="snap_start cannot be combined with provisioned_concurrency"):
        FunctionSettings(snap_start=True, provisioned_concurrency=2)


def test_snapstart_in_a_region_without_it_is_refused() -> None:
    stack = Stack(App(), "Taipei", env=Environment(account="111122223333", region="ap-east-2"))
    with pytest.raises(ValueError, match=r"settings\.snap_start: Lambda SnapStart is not available in ap-east-2"):
        ServerlessFunction(
            stack,
            "Fn",
            code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
            handler="index.handler",
            settings=FunctionSettings(snap_start=True),
            service="region-test",
        )


def test_snapstart_with_more_ephemeral_storage_than_it_allows_fails_synth(cdk_context: dict[str, Any]) -> None:
    app = App(context=cdk_context)
    stage = Stage(app, "Gated")
    add_compliance_checks(stage)
    function = ServerlessFunction(
        Stack(stage, "Block"),
        "Fn",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
        handler="index.handler",
        settings=FunctionSettings(snap_start=True),
        service="storage-test",
    )
    function.cfn_function.add_property_override("EphemeralStorage.Size", 1024)  # an escape hatch
    with pytest.raises(RuntimeError, match=r"(?s)more than 512 MB of ephemeral storage.*SnapStartCompatible"):
        app.synth()
