"""ObservabilityDashboard per environment, over several ServerlessFunctions and small fake patterns.

The fakes are made of real CDK resources (REST API, queue + DLQ, table, state machine) and show
themselves through the ``Observable`` protocol, as the real patterns do. The template-wide checks
(``observability_checks``) find resources by type, so they run unchanged on the real app.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from aws_cdk import (
    App,
    CfnElement,
    Duration,
    RemovalPolicy,
    Stack,
    Stage,
    assertions,
    aws_apigateway as apigw,
    aws_cloudwatch as cloudwatch,
    aws_lambda as lambda_,
    aws_logs as logs,
    aws_stepfunctions as sfn,
)
from cfnlint.api import ManualArgs, lint_file
from constructs import Construct, IConstruct

from serverless_patterns.config import EnvironmentConfig
from serverless_patterns.constructs.alarm_topic import AlarmTopic
from serverless_patterns.constructs.alarms import threshold_alarm
from serverless_patterns.constructs.compliance import acknowledge
from serverless_patterns.constructs.function import ServerlessFunction
from serverless_patterns.constructs.observability import MAX_ALARMS_PER_RULE, ObservabilityDashboard
from serverless_patterns.constructs.observable import Observable
from serverless_patterns.constructs.storage import queue_with_dlq, secure_table
from serverless_patterns.stacks.compliance import add_compliance_checks
from serverless_patterns.stacks.environments import environment
from tests.infrastructure.observability_checks import (
    OBSERVED_TYPES,
    alarms_not_notifying,
    alarms_outside_composites,
    dashboard_references,
    unobserved_resources,
)
from tests.unit.observability.probe import run_probe

Match = assertions.Match
INLINE = "def handler(event, context):\n    return event\n"
ACCESS_LOG_FIELDS = (
    "caller",
    "http_method",
    "ip",
    "protocol",
    "request_time",
    "resource_path",
    "response_length",
    "status",
    "user",
)
SAVED_QUERY_SLUGS = ("errors-by-function", "slowest-invocations", "cold-starts", "correlation-id")


def _function(scope: Construct, construct_id: str, config: EnvironmentConfig, role: str) -> ServerlessFunction:
    return ServerlessFunction(
        scope,
        construct_id,
        code=lambda_.Code.from_inline(INLINE),
        handler="index.handler",
        settings=config.function(role),
        service=f"fake-{construct_id.lower()}",
        defaults=config.defaults,
    )


class FakeApi(Construct):
    """A REST API in front of a ServerlessFunction, with the API's own widgets and a 5XX alarm."""

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, construct_id)
        self.handler = _function(self, "Handler", config, "api")
        self.access_logs = logs.LogGroup(self, "AccessLogs", removal_policy=RemovalPolicy.DESTROY)
        self.api = apigw.RestApi(
            self,
            "Resource",
            rest_api_name=f"{config.name}-fake-items",
            cloud_watch_role=False,
            deploy_options=apigw.StageOptions(
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    **dict.fromkeys(ACCESS_LOG_FIELDS, True)
                ),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                tracing_enabled=True,
                throttling_rate_limit=10,
                throttling_burst_limit=20,
            ),
        )
        self.api.root.add_method(
            "GET",
            apigw.LambdaIntegration(self.handler.invocable),
            authorization_type=apigw.AuthorizationType.IAM,
            request_validator_options=apigw.RequestValidatorOptions(
                validate_request_body=True, validate_request_parameters=True
            ),
        )
        acknowledge(
            self.api,
            ("AwsSolutions::AwsSolutions-APIG3", "test fixture: WAF belongs to the real ApiBackend"),
            ("AwsSolutions::AwsSolutions-COG4", "test fixture: IAM auth, no user pool"),
        )
        thresholds = config.alarm_thresholds
        self._alarms = [
            *self.handler.alarms,
            threshold_alarm(self, "ServerErrorsAlarm", self.api.metric_server_error(), 1, "fake API 5XX", thresholds),
        ]

    @property
    def alarms(self) -> Sequence[cloudwatch.Alarm]:
        return list(self._alarms)

    def dashboard_widgets(self) -> Sequence[cloudwatch.IWidget]:
        return [
            cloudwatch.GraphWidget(
                title="requests",
                left=[self.api.metric_count(), self.api.metric_client_error(), self.api.metric_server_error()],
            ),
            cloudwatch.GraphWidget(
                title="latency", left=[self.api.metric_latency(statistic=p) for p in ("p50", "p90", "p99")]
            ),
            *self.handler.dashboard_widgets(),
        ]


class FakeQueueWorker(Construct):
    """A queue and its DLQ feeding a ServerlessFunction that writes to a table."""

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, construct_id)
        self.queue, self.dlq = queue_with_dlq(
            self,
            "Work",
            visibility_timeout=Duration.seconds(60),
            max_receive_count=3,
            removal_policy=config.defaults.removal_policy,
        )
        self.table = secure_table(self, "Table", defaults=config.defaults)
        self.worker = _function(self, "Worker", config, "worker")
        thresholds = config.alarm_thresholds
        self._alarms = [
            *self.worker.alarms,
            threshold_alarm(
                self,
                "DlqAlarm",
                self.dlq.metric_approximate_number_of_messages_visible(),
                thresholds.dlq_visible_messages,
                "fake DLQ not empty",
                thresholds,
            ),
        ]

    @property
    def alarms(self) -> Sequence[cloudwatch.Alarm]:
        return list(self._alarms)

    def dashboard_widgets(self) -> Sequence[cloudwatch.IWidget]:
        return [
            *self.worker.dashboard_widgets(),
            cloudwatch.GraphWidget(
                title="queue",
                left=[self.queue.metric_approximate_number_of_messages_visible()],
                right=[self.queue.metric_approximate_age_of_oldest_message()],
            ),
            cloudwatch.GraphWidget(title="DLQ", left=[self.dlq.metric_approximate_number_of_messages_visible()]),
            cloudwatch.GraphWidget(
                title="table",
                left=[self.table.metric_throttled_requests_for_operations()],
                right=[self.table.metric_successful_request_latency(dimensions_map={"Operation": "PutItem"})],
            ),
        ]


class FakeWorkflow(Construct):
    """A traced, logged state machine with execution metrics and a failed-executions alarm."""

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(self, "Executions", removal_policy=RemovalPolicy.DESTROY)
        self.state_machine = sfn.StateMachine(
            self,
            "Resource",
            definition_body=sfn.DefinitionBody.from_chainable(sfn.Pass(self, "Done")),
            logs=sfn.LogOptions(destination=self.log_group, level=sfn.LogLevel.ALL),
            tracing_enabled=True,
        )
        acknowledge(
            self.state_machine,
            (
                "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                "X-Ray and CloudWatch Logs delivery actions support no resource-level permissions.",
            ),
        )
        self._alarms = [
            threshold_alarm(
                self,
                "FailedAlarm",
                self.state_machine.metric_failed(),
                1,
                "fake executions failed",
                config.alarm_thresholds,
            )
        ]

    @property
    def alarms(self) -> Sequence[cloudwatch.Alarm]:
        return list(self._alarms)

    def dashboard_widgets(self) -> Sequence[cloudwatch.IWidget]:
        machine = self.state_machine
        return [
            cloudwatch.GraphWidget(
                title="executions",
                left=[machine.metric_started(), machine.metric_succeeded(), machine.metric_failed()],
                right=[machine.metric_time()],
            )
        ]


@dataclass(frozen=True)
class Built:
    env: str
    config: EnvironmentConfig
    stack: Stack
    observability: ObservabilityDashboard
    observables: Sequence[Observable]
    template: assertions.Template
    template_path: Path

    @property
    def resources(self) -> dict[str, Any]:
        resources: dict[str, Any] = self.template.to_json()["Resources"]
        return resources

    def logical_id(self, construct: IConstruct) -> str:
        return self.stack.get_logical_id(cast(CfnElement, construct.node.default_child))


def _build(cdk_context: dict[str, Any], env: str, outdir: Path) -> Built:
    config = environment(env)
    app = App(context=cdk_context, outdir=str(outdir))
    stage = Stage(app, config.name)
    add_compliance_checks(stage)
    stack = Stack(stage, "Observability")
    api = FakeApi(stack, "Items", config=config)
    pipeline = FakeQueueWorker(stack, "Pipeline", config=config)
    orders = FakeWorkflow(stack, "Orders", config=config)
    reporter = _function(stack, "Reporter", config, "reporter")
    observables: list[Observable] = [api, pipeline, orders, reporter]
    # Staging routes to the stack's existing topic (as ServiceStack holds one); Dev and Prod let the
    # construct create its own.
    existing = (
        AlarmTopic(stack, "StackAlarmTopic", emails=config.alarm_emails, removal_policy=config.removal_policy)
        if env == "staging"
        else None
    )
    observability = ObservabilityDashboard(
        stack,
        "Observability",
        observables=observables,
        environment_name=config.name,
        defaults=config.defaults,
        alarm_emails=() if existing else config.alarm_emails,
        existing_alarm_topic=existing,
        extra_log_groups=[orders.log_group, api.access_logs],
    )
    assembly = app.synth()  # runs the compliance gates; Template.from_stack alone does not
    return Built(
        env=env,
        config=config,
        stack=stack,
        observability=observability,
        observables=observables,
        template=assertions.Template.from_stack(stack),
        template_path=Path(assembly.get_stack_artifact(stack.artifact_id).template_full_path),
    )


@pytest.fixture(scope="module", params=["dev", "staging", "prod"])
def built(
    request: pytest.FixtureRequest, cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Built:
    return _build(cdk_context, request.param, tmp_path_factory.mktemp(f"observability-{request.param}"))


def test_template_passes_cfn_lint(built: Built) -> None:
    assert [str(match) for match in lint_file(built.template_path, ManualArgs(ignore_checks=["W3005"]))] == []


def test_every_alarm_has_the_topic_as_its_only_alarm_and_ok_action(built: Built) -> None:
    topic = built.logical_id(built.observability.topic)
    assert alarms_not_notifying(built.template, topic) == {}
    for resource in built.resources.values():
        if resource["Type"] in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"):
            assert resource["Properties"]["AlarmActions"] == [{"Ref": topic}]
            assert resource["Properties"]["OKActions"] == [{"Ref": topic}]


def test_one_service_health_composite_watches_every_alarm(built: Built) -> None:
    composites = built.template.find_resources("AWS::CloudWatch::CompositeAlarm")
    assert list(composites) == [built.logical_id(built.observability.service_health)]
    assert alarms_outside_composites(built.template) == set()
    wired = {built.logical_id(alarm) for alarm in built.observability.alarms}
    assert wired == set(built.template.find_resources("AWS::CloudWatch::Alarm"))


def test_dashboard_shows_every_function_queue_dlq_table_api_and_state_machine(built: Built) -> None:
    present = {resource["Type"] for resource in built.resources.values()}
    # The fixture holds every kind the check looks for (HTTP APIs and v1 tables aside), so it proves something.
    assert set(OBSERVED_TYPES) - {"AWS::ApiGatewayV2::Api", "AWS::DynamoDB::Table"} <= present
    assert unobserved_resources(built.template) == {}


def test_dashboard_has_a_headed_row_per_observable_in_order(built: Built) -> None:
    _, text = dashboard_references(built.template)
    headings = re.findall(r"## ([^\"\\]+)", text)
    assert headings == [
        "Items (FakeApi)",
        "Pipeline (FakeQueueWorker)",
        "Orders (FakeWorkflow)",
        "Reporter (ServerlessFunction)",
        "Business metrics, cold starts and errors",
        "Capacity: concurrency against its limits",
        "Alarm delivery",
    ]
    assert f"# {built.config.name} service health" in text


def test_business_metrics_are_searched_in_the_namespace_the_functions_write_to(built: Built) -> None:
    _, text = dashboard_references(built.template)
    searched = set(re.findall(r"SEARCH\('Namespace=\\\"([^\\]+)\\\"", text))
    functions = built.template.find_resources("AWS::Lambda::Function")
    written = {
        fn["Properties"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] for fn in functions.values()
    }
    assert searched == written == {f"ServerlessPatterns/{built.config.name}"}
    assert 'MetricName=\\"ColdStart\\"' in text


def test_saved_queries_read_every_function_log_group_and_the_extra_ones(built: Built) -> None:
    functions = built.template.find_resources("AWS::Lambda::Function")
    function_log_groups = [fn["Properties"]["LoggingConfig"]["LogGroup"] for fn in functions.values()]
    assert len(function_log_groups) == 3
    queries = built.template.find_resources("AWS::Logs::QueryDefinition")
    names = sorted(query["Properties"]["Name"] for query in queries.values())
    assert names == sorted(f"serverless-patterns/{built.config.name}/{slug}" for slug in SAVED_QUERY_SLUGS)
    for query in queries.values():
        read = query["Properties"]["LogGroupNames"]
        assert all(log_group in read for log_group in function_log_groups)
        assert len(read) == len(function_log_groups) + 2  # the state machine's and the API's access logs


def test_recent_errors_widget_queries_the_same_log_groups(built: Built) -> None:
    refs, text = dashboard_references(built.template)
    assert '"type":"log"' in text
    assert {built.logical_id(lg) for lg in built.observability.log_groups} <= refs


def test_alarm_topic_is_encrypted_and_subscribed_per_environment(built: Built) -> None:
    topic = built.resources[built.logical_id(built.observability.topic)]
    assert "KmsMasterKeyId" in topic["Properties"]
    assert len(built.template.find_resources("AWS::SNS::Topic")) == 1
    subscriptions = built.template.find_resources("AWS::SNS::Subscription")
    assert sorted(sub["Properties"]["Endpoint"] for sub in subscriptions.values()) == sorted(built.config.alarm_emails)
    delivery = built.template.find_resources(
        "AWS::CloudWatch::Alarm",
        {"Properties": {"AlarmDescription": Match.string_like_regexp("could not be delivered")}},
    )
    assert len(delivery) == (1 if built.config.alarm_emails else 0)


def test_handlers_configured_by_this_template_emit_emf_the_dashboard_finds(built: Built) -> None:
    """Run a handler with the environment a function of this template gets, as Lambda would set it."""
    function = next(iter(built.template.find_resources("AWS::Lambda::Function").values()))["Properties"]
    env = {
        **function["Environment"]["Variables"],
        "AWS_LAMBDA_LOG_LEVEL": function["LoggingConfig"]["ApplicationLogLevel"],
        "AWS_LAMBDA_FUNCTION_NAME": "fake-fn",
    }
    run = run_probe(env, [("process_files", {"Records": [{"s3": {"object": {"key": "incoming/x.csv"}}}]})])
    (business,) = (line for line in run.emf if "FilesProcessed" in line)
    directive = business["_aws"]["CloudWatchMetrics"][0]
    _, text = dashboard_references(built.template)
    assert f'Namespace=\\"{directive["Namespace"]}\\"' in text
    assert directive["Dimensions"] == [["service"]]
    assert business["service"] == env["POWERTOOLS_SERVICE_NAME"]


def _stack(cdk_context: dict[str, Any]) -> tuple[Stack, EnvironmentConfig]:
    config = environment("dev")
    return Stack(App(context=cdk_context), "Unsynthesized"), config


def test_an_existing_topic_and_emails_together_are_refused(cdk_context: dict[str, Any]) -> None:
    stack, config = _stack(cdk_context)
    fn = _function(stack, "Fn", config, "worker")
    with pytest.raises(ValueError, match="alarm_emails"):
        ObservabilityDashboard(
            stack,
            "Observability",
            observables=[fn],
            environment_name=config.name,
            defaults=config.defaults,
            existing_alarm_topic=AlarmTopic(stack, "Topic"),
            alarm_emails=("ops@example.com",),
        )


def test_nothing_to_observe_is_refused(cdk_context: dict[str, Any]) -> None:
    """Even with e-mails (which bring an alarm of their own), a dashboard over no pattern is a wiring bug."""
    stack, config = _stack(cdk_context)
    with pytest.raises(ValueError, match="nothing to observe"):
        ObservabilityDashboard(
            stack,
            "Observability",
            observables=[],
            environment_name="Dev",
            defaults=config.defaults,
            alarm_emails=("ops@example.com",),
        )


def test_an_alarm_reached_through_two_observables_is_wired_once(cdk_context: dict[str, Any]) -> None:
    stack, config = _stack(cdk_context)
    pipeline = FakeQueueWorker(stack, "Pipeline", config=config)
    observability = ObservabilityDashboard(
        stack,
        "Observability",
        observables=[pipeline, pipeline.worker],
        environment_name=config.name,
        defaults=config.defaults,
    )
    # The capacity alarms too are made once: the account's concurrency, the table's throttles.
    assert len(observability.capacity.alarms) == 2
    assert len(observability.alarms) == len(pipeline.alarms) + len(observability.capacity.alarms)
    assert len(observability.log_groups) == 1
    template = assertions.Template.from_stack(stack)
    for alarm in template.find_resources("AWS::CloudWatch::Alarm").values():
        assert len(alarm["Properties"]["AlarmActions"]) == 1


def test_dashboard_url_names_the_dashboard(cdk_context: dict[str, Any]) -> None:
    stack, config = _stack(cdk_context)
    fn = _function(stack, "Fn", config, "worker")
    observability = ObservabilityDashboard(
        stack, "Observability", observables=[fn], environment_name="Dev", defaults=config.defaults
    )
    url = stack.resolve(observability.dashboard_url)
    assert "console.aws.amazon.com/cloudwatch" in json.dumps(url)
    assert {"Ref": stack.get_logical_id(cast(CfnElement, observability.dashboard.node.default_child))} in url[
        "Fn::Join"
    ][1]


class ManyAlarms(Construct):
    """More alarms than one composite rule can name (each watches the same queue, at another threshold)."""

    def __init__(self, scope: Construct, construct_id: str, *, count: int, config: EnvironmentConfig) -> None:
        super().__init__(scope, construct_id)
        queue, _ = queue_with_dlq(
            self,
            "Work",
            visibility_timeout=Duration.seconds(30),
            max_receive_count=3,
            removal_policy=config.defaults.removal_policy,
        )
        metric = queue.metric_approximate_number_of_messages_visible()
        self._alarms = [
            threshold_alarm(self, f"Depth{n}Alarm", metric, n, f"depth {n}", config.alarm_thresholds)
            for n in range(1, count + 1)
        ]

    @property
    def alarms(self) -> Sequence[cloudwatch.Alarm]:
        return list(self._alarms)

    def dashboard_widgets(self) -> Sequence[cloudwatch.IWidget]:
        return [cloudwatch.AlarmStatusWidget(alarms=self._alarms)]


def test_past_one_rule_the_service_health_watches_parts_that_notify_too(cdk_context: dict[str, Any]) -> None:
    stack, config = _stack(cdk_context)
    many = ManyAlarms(stack, "Many", count=MAX_ALARMS_PER_RULE + 5, config=config)
    observability = ObservabilityDashboard(
        stack, "Observability", observables=[many], environment_name="Dev", defaults=config.defaults
    )
    template = assertions.Template.from_stack(stack)
    parts = [stack.get_logical_id(cast(CfnElement, part.node.default_child)) for part in observability.health_parts]
    health = stack.get_logical_id(cast(CfnElement, observability.service_health.node.default_child))
    composites = template.find_resources("AWS::CloudWatch::CompositeAlarm")
    assert sorted(composites) == sorted([*parts, health])
    assert len(parts) == 2
    assert alarms_outside_composites(template) == set()
    watched_by_health = [p for p in composites[health]["Properties"]["AlarmRule"]["Fn::Join"][1] if isinstance(p, dict)]
    assert [p["Fn::GetAtt"][0] for p in watched_by_health] == parts
    assert (
        alarms_not_notifying(template, stack.get_logical_id(cast(CfnElement, observability.topic.node.default_child)))
        == {}
    )


def _alarm_named(built: Built, fragment: str) -> list[dict[str, Any]]:
    """The capacity alarms whose logical id contains ``fragment``."""
    return [
        resource["Properties"]
        for logical_id, resource in built.resources.items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
        and logical_id.startswith("ObservabilityCapacity")
        and fragment in logical_id
    ]


def test_capacity_alarms_watch_account_and_reserved_concurrency_and_unwatched_tables(built: Built) -> None:
    """The account's concurrency at 80 % of its quota; each reserved function at 80 % of its
    reservation (Prod reserves for ``api`` and ``worker``); the pipeline's table, whose throttles no
    pattern alarm watches, gets one; nothing else does."""
    thresholds = built.config.alarm_thresholds
    (account,) = _alarm_named(built, "AccountConcurrencyAlarm")
    assert (account["Namespace"], account["MetricName"], account.get("Dimensions")) == (
        "AWS/Lambda",
        "ConcurrentExecutions",
        None,
    )
    assert account["Threshold"] == thresholds.capacity_share * thresholds.account_concurrency == 800
    reserved = {
        path: built.config.function(role).reserved_concurrency
        for path, role in (("ItemsHandler", "api"), ("PipelineWorker", "worker"), ("Reporter", "reporter"))
    }
    for path, reservation in reserved.items():
        alarms = _alarm_named(built, f"{path}ReservedConcurrencyAlarm")
        expected = [thresholds.capacity_share * reservation] if reservation else []
        assert [alarm["Threshold"] for alarm in alarms] == expected, path
    (table,) = _alarm_named(built, "PipelineTableThrottlesAlarm")
    assert {query.get("Expression") for query in table["Metrics"]} >= {"reads + writes"}
    assert len(_alarm_named(built, "ThrottlesAlarm")) == 1
    assert set(built.observability.capacity.alarms) <= set(built.observability.alarms)
