"""The synth bench's baseline: plain aws-cdk-lib L2 constructs, about as many of each kind as our templates hold.

Per environment, one Stage with one Stack holding functions (from the same staged code, so asset
staging hashes the same bytes), their versions and aliases, queues with SQS event sources, tables,
buckets (one with a notification), a KMS-encrypted topic that every alarm notifies, alarms and
composite alarms, an event bus with rules, a state machine, a REST API with Lambda methods, secrets,
query definitions and a dashboard: wired with the L2 ``grant_*`` calls, so IAM roles and policies
arise as they do in our app. The counts come from our synthesized templates (``shape``), so the
baseline follows the app as it grows. No compliance gates, no constructs of ours.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypedDict

from aws_cdk import (
    App,
    Duration,
    Stack,
    Stage,
    aws_apigateway as apigateway,
    aws_cloudwatch as cloudwatch,
    aws_cloudwatch_actions as actions,
    aws_dynamodb as dynamodb,
    aws_events as events,
    aws_events_targets as targets,
    aws_kms as kms,
    aws_lambda as lambda_,
    aws_lambda_event_sources as sources,
    aws_logs as logs,
    aws_s3 as s3,
    aws_s3_notifications as notifications,
    aws_secretsmanager as secretsmanager,
    aws_sns as sns,
    aws_sqs as sqs,
    aws_stepfunctions as sfn,
    aws_stepfunctions_tasks as tasks,
)


class Shape(TypedDict):
    """What one environment's baseline stack is built to match."""

    resources: dict[str, int]  # CloudFormation type -> count in our template
    code: list[str]  # the staged code directory of each of our functions


def resource_counts(template: Mapping[str, Any]) -> dict[str, int]:
    """CloudFormation type -> number of resources of that type in ``template``."""
    return dict(Counter(resource["Type"] for resource in template.get("Resources", {}).values()))


def app_code(outdir: Path, shapes: Mapping[str, Shape], context_code: str) -> str:
    """The Python of the baseline app synthesizing into ``outdir``; ``context_code`` creates ``app``."""
    return (
        context_code.replace("OUTDIR", repr(str(outdir)))
        + "import json\nfrom bench.baseline_app import add_baseline\n"
        + f"add_baseline(app, json.loads({json.dumps(shapes)!r}))\napp.synth()\n"
    )


def add_baseline(app: App, shapes: Mapping[str, Shape]) -> None:
    """One Stage (named as the environment) with one Stack per shape."""
    for name, shape in shapes.items():
        _fill(Stack(Stage(app, name), "Service"), shape)


def _count(resources: Mapping[str, int], *types: str) -> int:
    return sum(resources.get(kind, 0) for kind in types)


def _fill(stack: Stack, shape: Shape) -> None:
    resources, code = shape["resources"], shape["code"] or ["."]
    functions = [
        lambda_.Function(
            stack,
            f"Function{i}",
            runtime=lambda_.Runtime.PYTHON_3_12,
            handler="index.handler",
            code=lambda_.Code.from_asset(directory),
            timeout=Duration.seconds(10),
            tracing=lambda_.Tracing.ACTIVE,
            environment={"POWERTOOLS_SERVICE_NAME": f"function-{i}"},
        )
        for i, directory in enumerate(code)
    ]
    for i in range(_count(resources, "AWS::Lambda::Alias")):
        function = functions[i % len(functions)]
        lambda_.Alias(stack, f"Live{i}", alias_name=f"live{i}", version=function.current_version)
    queues = [
        sqs.Queue(stack, f"Queue{i}", enforce_ssl=True, encryption=sqs.QueueEncryption.SQS_MANAGED)
        for i in range(_count(resources, "AWS::SQS::Queue"))
    ]
    for i in range(min(_count(resources, "AWS::Lambda::EventSourceMapping"), len(queues))):
        functions[i % len(functions)].add_event_source(
            sources.SqsEventSource(queues[i], report_batch_item_failures=True)
        )
    tables = [
        dynamodb.TableV2(
            stack,
            f"Table{i}",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
        )
        for i in range(_count(resources, "AWS::DynamoDB::GlobalTable", "AWS::DynamoDB::Table"))
    ]
    buckets = [
        s3.Bucket(stack, f"Bucket{i}", enforce_ssl=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL)
        for i in range(_count(resources, "AWS::S3::Bucket"))
    ]
    for i, function in enumerate(functions):  # grants: the IAM policies
        if tables:
            tables[i % len(tables)].grant_read_write_data(function)
        if queues:
            queues[i % len(queues)].grant_send_messages(function)
        if buckets:
            buckets[i % len(buckets)].grant_read(function)
    if buckets and _count(resources, "Custom::S3BucketNotifications"):
        buckets[0].add_event_notification(s3.EventType.OBJECT_CREATED, notifications.LambdaDestination(functions[0]))
    key = kms.Key(stack, "TopicKey", enable_key_rotation=True)
    topic = sns.Topic(stack, "AlarmTopic", master_key=key, enforce_ssl=True)
    for i in range(_count(resources, "AWS::SecretsManager::Secret")):
        secretsmanager.Secret(stack, f"Secret{i}").grant_read(functions[i % len(functions)])
    bus = events.EventBus(stack, "Bus")
    for i in range(_count(resources, "AWS::Events::Rule")):
        events.Rule(
            stack,
            f"Rule{i}",
            event_bus=bus if i % 2 == 0 else None,
            event_pattern=events.EventPattern(source=[f"baseline.{i}"]),
            targets=[targets.LambdaFunction(functions[i % len(functions)])],
        )
    if _count(resources, "AWS::StepFunctions::StateMachine"):
        _state_machine(stack, functions)
    if _count(resources, "AWS::ApiGateway::RestApi"):
        _rest_api(stack, functions, _count(resources, "AWS::ApiGateway::Method"))
    _alarms(stack, resources, functions, queues, tables, topic)
    for i in range(_count(resources, "AWS::Logs::QueryDefinition")):
        logs.QueryDefinition(
            stack,
            f"Query{i}",
            query_definition_name=f"baseline/{stack.stack_name}/query{i}",
            query_string=logs.QueryString(fields=["@timestamp", "@message"], limit=50),
            log_groups=[function.log_group for function in functions],
        )


def _state_machine(stack: Stack, functions: Sequence[lambda_.Function]) -> None:
    steps = [
        tasks.LambdaInvoke(stack, f"Step{i}", lambda_function=function, retry_on_service_exceptions=True)
        for i, function in enumerate(functions[:5])
    ]
    chain = sfn.Chain.start(steps[0])
    for step in steps[1:]:
        chain = chain.next(step)
    sfn.StateMachine(
        stack,
        "StateMachine",
        definition_body=sfn.DefinitionBody.from_chainable(chain),
        tracing_enabled=True,
        logs=sfn.LogOptions(destination=logs.LogGroup(stack, "StateMachineLogs"), level=sfn.LogLevel.ALL),
    )


def _rest_api(stack: Stack, functions: Sequence[lambda_.Function], methods: int) -> None:
    api = apigateway.RestApi(
        stack, "Api", cloud_watch_role=True, deploy_options=apigateway.StageOptions(tracing_enabled=True)
    )
    validator = api.add_request_validator("Validator", validate_request_body=True)
    items = api.root.add_resource("items")
    verbs = ("GET", "POST", "PUT", "DELETE", "PATCH")
    for i in range(max(methods, 1)):
        scope = items if i < len(verbs) else items.add_resource(f"sub{i}")
        scope.add_method(
            verbs[i % len(verbs)],
            apigateway.LambdaIntegration(functions[i % len(functions)], allow_test_invoke=False),
            request_validator=validator,
        )


def _alarms(
    stack: Stack,
    resources: Mapping[str, int],
    functions: Sequence[lambda_.Function],
    queues: Sequence[sqs.Queue],
    tables: Sequence[dynamodb.TableV2],
    topic: sns.Topic,
) -> None:
    metrics: list[cloudwatch.IMetric] = [
        *(function.metric_errors() for function in functions),
        *(function.metric_throttles() for function in functions),
        *(queue.metric_approximate_age_of_oldest_message() for queue in queues),
        *(table.metric("ReadThrottleEvents", statistic="Sum") for table in tables),
    ]
    action = actions.SnsAction(topic)
    alarms = []
    for i in range(_count(resources, "AWS::CloudWatch::Alarm")):
        alarm = cloudwatch.Alarm(
            stack,
            f"Alarm{i}",
            metric=metrics[i % len(metrics)],
            threshold=1 + i // len(metrics),
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
        alarms.append(alarm)
    for i in range(_count(resources, "AWS::CloudWatch::CompositeAlarm")):
        composite = cloudwatch.CompositeAlarm(
            stack, f"Composite{i}", alarm_rule=cloudwatch.AlarmRule.any_of(*alarms[i::2] or alarms)
        )
        composite.add_alarm_action(action)
    if _count(resources, "AWS::CloudWatch::Dashboard"):
        dashboard = cloudwatch.Dashboard(stack, "Dashboard")
        dashboard.add_widgets(*(cloudwatch.AlarmWidget(alarm=alarm, width=6) for alarm in alarms))
