"""The patterns in anyone's app: one vocabulary, clear early errors, no dependence on our cdk.json.

Every case here builds in a bare ``App()`` without cdk.json's feature flags, the way a new user's
app (or an old one) would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack, assertions, aws_dynamodb as dynamodb, aws_s3 as s3, aws_sqs as sqs

from serverless_patterns import (
    AlarmTopic,
    ApiBackend,
    EnvironmentConfig,
    EventPipeline,
    FanOut,
    FanOutSettings,
    FunctionSettings,
    HandlerCode,
    ObservabilityDashboard,
    OrderWorkflow,
    PatternDefaults,
    PipelineSettings,
    add_compliance_checks,
)
from serverless_patterns.constructs.function import METADATA_KEY

PATTERNS: dict[str, type[Any]] = {
    "ApiBackend": ApiBackend,
    "EventPipeline": EventPipeline,
    "FanOut": FanOut,
    "OrderWorkflow": OrderWorkflow,
}


def _stack(name: str = "App") -> Stack:
    return Stack(App(), name)


@pytest.fixture(scope="module")
def bare_app(tmp_path_factory: pytest.TempPathFactory) -> tuple[App, Stack, Stack]:
    """Every pattern with its defaults only, two FanOuts in one stack, the dashboard in a stack of its own."""
    app = App(outdir=str(tmp_path_factory.mktemp("bare-app")))  # no context: no feature flags at all
    add_compliance_checks(app)
    patterns = Stack(app, "Patterns")
    built = [cls(patterns, name) for name, cls in PATTERNS.items()]
    built.append(FanOut(patterns, "Reports"))
    operations = Stack(app, "Operations")
    ObservabilityDashboard(operations, "Dashboard", observables=built, alarm_emails=("ops@example.com",))
    app.synth()  # the compliance gates run here; a DependencyCycle would raise here too
    return app, patterns, operations


def test_every_pattern_synthesizes_in_an_app_without_feature_flags(bare_app: tuple[App, Stack, Stack]) -> None:
    _, patterns, _ = bare_app
    template = assertions.Template.from_stack(patterns)
    for bucket in template.find_resources("AWS::S3::Bucket").values():
        assert bucket["Properties"]["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
        assert "AccessControl" not in bucket["Properties"]


def test_two_instances_of_a_pattern_get_their_own_metrics_and_one_account_setting(
    bare_app: tuple[App, Stack, Stack],
) -> None:
    _, patterns, _ = bare_app
    template = assertions.Template.from_stack(patterns)
    services = {
        function["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
        for function in template.find_resources("AWS::Lambda::Function").values()
        if "Environment" in function["Properties"]
    }
    assert {"fan-out", "reports", "api-backend", "event-pipeline", "order-workflow"} <= services
    dimensions = {
        alarm["Properties"]["Dimensions"][0]["Value"]
        for alarm in template.find_resources("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("MetricName") == "ChunkAttemptsFailed"
    }
    assert dimensions == {"fan-out", "reports"}
    template.resource_count_is("AWS::ApiGateway::Account", 1)


def test_the_dashboard_routes_alarms_of_another_stack_without_a_cycle(bare_app: tuple[App, Stack, Stack]) -> None:
    _, patterns, operations = bare_app
    alarms = assertions.Template.from_stack(patterns).find_resources("AWS::CloudWatch::Alarm")
    actions = {str(alarm["Properties"]["AlarmActions"]) for alarm in alarms.values()}
    assert len(actions) == 1
    assert ":sns:" in actions.pop()  # an ARN built in this stack, not an import
    topic = assertions.Template.from_stack(operations).find_resources("AWS::SNS::Topic")
    (topic_props,) = (t["Properties"] for t in topic.values())
    assert topic_props["TopicName"].startswith("Operations-Dashboard")


def test_functions_record_their_pattern_and_role(bare_app: tuple[App, Stack, Stack]) -> None:
    _, patterns, _ = bare_app
    recorded = {
        (meta["pattern"], meta["instance"], meta["role"])
        for function in assertions.Template.from_stack(patterns).find_resources("AWS::Lambda::Function").values()
        if (meta := function.get("Metadata", {}).get(METADATA_KEY))
    }
    expected = {(name, f"Patterns/{name}", role) for name, cls in PATTERNS.items() for role in cls.ROLES}
    expected |= {("FanOut", "Patterns/Reports", role) for role in FanOut.ROLES}
    assert recorded == expected


def test_the_cost_estimate_places_every_function_of_an_app_with_two_fan_outs(
    bare_app: tuple[App, Stack, Stack],
) -> None:
    from serverless_patterns.cost import Prices, estimate, load_profile, read_inventory
    from serverless_patterns.roles import METADATA_KEY as ROLES_KEY

    assert ROLES_KEY == METADATA_KEY  # the tools read what the constructs write
    _, patterns, _ = bare_app
    inventory = read_inventory(assertions.Template.from_stack(patterns).to_json())
    profile = load_profile(settings=['instances={"Reports": {"traffic": {"jobs_per_day": 2}}}'])
    result = estimate(inventory, profile, Prices.load(), environment="Patterns")
    roles = {spec.path: spec.role for spec in inventory.functions.values()}
    assert sum(role is not None for role in roles.values()) == sum(len(c.ROLES) for c in PATTERNS.values()) + len(
        FanOut.ROLES
    )
    daily = {
        (role.instance, role.role): usage.invocations / profile.days_per_month
        for usage in result.functions
        if (role := roles[usage.path])
    }
    assert daily[("Patterns/FanOut", "master")] == pytest.approx(profile.fan_out.jobs_per_day)
    assert daily[("Patterns/Reports", "master")] == pytest.approx(2)
    assert daily[("Patterns/ApiBackend", "api")] == pytest.approx(profile.api.requests_per_day)
    assert all(usage.lambda_usd > 0 for usage in result.functions if roles[usage.path] is not None)
    assert not [note for note in result.notes if "no such function" in note or "no pattern records" in note]


# --- clear early errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (
            lambda: FunctionSettings(timeout_seconds="30"),  # type: ignore[arg-type]
            TypeError,
            "FunctionSettings.timeout_seconds must be an int",
        ),
        (lambda: FunctionSettings(memory_mb=64), ValueError, "FunctionSettings.memory_mb must be 128..10240"),
        (
            lambda: FunctionSettings(provisioned_concurrency=10, reserved_concurrency=5),
            ValueError,
            "cannot exceed reserved_concurrency",
        ),
        (
            lambda: PipelineSettings(allowed_extensions=".csv"),  # type: ignore[arg-type]
            TypeError,
            "allowed_extensions must be a tuple of str",
        ),
        (lambda: PatternDefaults(log_level="LOUD"), ValueError, "log_level must be one of"),
        (
            lambda: EnvironmentConfig(name="Prod", alarm_emails="ops@example.com"),  # type: ignore[arg-type]
            TypeError,
            "alarm_emails must be a tuple of str",
        ),
        (
            lambda: EnvironmentConfig(name="Prod", alarm_emails=("not-an-email",)),
            ValueError,
            "'not-an-email', which is not an e-mail address",
        ),
        (
            lambda: AlarmTopic(_stack(), "Topic", emails="ops@example.com"),
            TypeError,
            "emails must be a sequence of e-mail addresses, got the single string",
        ),
        (lambda: AlarmTopic(_stack(), "Topic", emails=("a@b",)), ValueError, "not an e-mail address"),
        (
            lambda: FanOut(_stack(), "Jobs", settings={"chunk_size": 10}),  # type: ignore[arg-type]
            TypeError,
            "FanOut App/Jobs: settings must be a FanOutSettings or None, got dict",
        ),
        (
            lambda: FanOut(_stack(), "Jobs", functions={"workers": FunctionSettings()}),
            ValueError,
            r"unknown role\(s\) 'workers' \(did you mean 'worker'\?\); the roles are \['master', 'worker'",
        ),
        (
            lambda: FanOut(_stack(), "Jobs", functions={"worker": {"memory_mb": 512}}),  # type: ignore[dict-item]
            TypeError,
            "functions must be a mapping of str to FunctionSettings",
        ),
        (
            lambda: ApiBackend(_stack(), "Api", existing_table=s3.Bucket(_stack(), "B")),  # type: ignore[arg-type]
            TypeError,
            "existing_table must be an ITable or None, got Bucket",
        ),
        (
            lambda: EventPipeline(_stack(), "Pipe", upload_bucket_props=s3.BucketProps(enforce_ssl=False)),
            ValueError,
            "upload_bucket_props.enforce_ssl=False is refused: buckets refuse requests without TLS",
        ),
        (
            lambda: EventPipeline(
                _stack(), "Pipe", results_bucket_props=s3.BucketProps(encryption=s3.BucketEncryption.UNENCRYPTED)
            ),
            ValueError,
            "results_bucket_props.encryption=.* is refused: buckets are encrypted at rest",
        ),
        (
            lambda: FanOut(
                _stack(), "Jobs", work_queue_props=sqs.QueueProps(encryption=sqs.QueueEncryption.UNENCRYPTED)
            ),
            ValueError,
            "work_queue_props.encryption=.* is refused: queues are encrypted at rest",
        ),
        (
            lambda: FanOut(_stack(), "Jobs", work_queue_props=sqs.QueueProps(visibility_timeout=_seconds(30))),
            ValueError,
            "work_queue_props.visibility_timeout=.* is refused: it must stay at least 180 s",
        ),
        (
            lambda: OrderWorkflow(
                _stack(),
                "Orders",
                orders_table_props=dynamodb.TablePropsV2(
                    partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING)
                ),
            ),
            ValueError,
            "orders_table_props.partition_key=.* is refused: the pattern's handlers read and write the table by it",
        ),
        (
            lambda: OrderWorkflow(
                _stack(),
                "Orders",
                payments_table_props=dynamodb.TablePropsV2(
                    partition_key=dynamodb.Attribute(name="order_id", type=dynamodb.AttributeType.STRING),
                    sort_key=dynamodb.Attribute(name="entry", type=dynamodb.AttributeType.STRING),
                    deletion_protection=False,
                ),
            ),
            ValueError,
            "payments_table_props.deletion_protection=False is refused: retained data is deletion-protected",
        ),
        (lambda: FanOut(_stack(), "Jobs", service="Fan Out"), ValueError, "service 'Fan Out' must be lowercase"),
        (
            lambda: ObservabilityDashboard(_stack(), "Ops", observables="api"),  # type: ignore[arg-type]
            TypeError,
            "observables must be a sequence of patterns",
        ),
    ],
)
def test_bad_input_fails_at_construct_time_naming_the_prop(build: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        build()


def test_existing_and_props_together_are_refused() -> None:
    stack = _stack()
    with pytest.raises(ValueError, match="give existing_input_bucket or input_bucket_props, not both"):
        FanOut(stack, "Jobs", existing_input_bucket=s3.Bucket(stack, "Mine"), input_bucket_props=s3.BucketProps())


def test_two_patterns_may_not_share_a_service_in_one_stage() -> None:
    stack = _stack()
    FanOut(stack, "Jobs", service="jobs")
    with pytest.raises(ValueError, match="service 'jobs' is already used by App/Jobs in namespace"):
        FanOut(stack, "MoreJobs", service="jobs")


def test_props_are_merged_over_the_secure_defaults() -> None:
    stack = _stack()
    FanOut(
        stack,
        "Jobs",
        settings=FanOutSettings(worker_max_concurrency=4),
        input_bucket_props=s3.BucketProps(transfer_acceleration=True),
        work_queue_props=sqs.QueueProps(retention_period=_days(7)),
        table_props=dynamodb.TablePropsV2(
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            table_class=dynamodb.TableClass.STANDARD_INFREQUENT_ACCESS,
        ),
    )
    template = assertions.Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "AccelerateConfiguration": {"AccelerationStatus": "Enabled"},
            "BucketEncryption": assertions.Match.any_value(),
            "VersioningConfiguration": {"Status": "Enabled"},
        },
    )
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "MessageRetentionPeriod": 7 * 86400,
            "RedrivePolicy": assertions.Match.any_value(),
            "SqsManagedSseEnabled": True,
        },
    )
    template.has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {"Replicas": [assertions.Match.object_like({"TableClass": "STANDARD_INFREQUENT_ACCESS"})]},
    )


def test_handler_code_is_checked_when_it_is_given(tmp_path: Path) -> None:
    package = tmp_path / "my_jobs"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "worker.py").write_text("from somewhere import build\n\nhandler = build()\n")
    assert HandlerCode.from_package(package, "my_jobs.worker.handler").handler == "my_jobs.worker.handler"
    with pytest.raises(ValueError, match="must start with the package's name 'my_jobs'"):
        HandlerCode.from_package(package, "other.worker.handler")
    with pytest.raises(ValueError, match=r"no module 'my_jobs.aggregator'"):
        HandlerCode.from_package(package, "my_jobs.aggregator.handler")
    with pytest.raises(ValueError, match=r"worker\.py defines no top-level 'main'"):
        HandlerCode.from_package(package, "my_jobs.worker.main")
    with pytest.raises(ValueError, match="is not a Python package"):
        HandlerCode.from_package(tmp_path, "x.y.z")
    with pytest.raises(ValueError, match="'AWS_REGION' is reserved by the Lambda runtime"):
        HandlerCode.from_package(package, "my_jobs.worker.handler", environment={"AWS_REGION": "x"})
    code = HandlerCode.from_package(package, "my_jobs.worker.handler", environment={"TABLE_NAME": "mine"})
    with pytest.raises(
        ValueError, match=r"handlers\['worker'\]: the handler's environment may not set \['TABLE_NAME'\]"
    ):
        FanOut(_stack(), "Jobs", handlers={"worker": code})
    with pytest.raises(ValueError, match=r"unknown role\(s\) 'workr'"):
        FanOut(_stack(), "Jobs", handlers={"workr": code})


def _seconds(value: int) -> Any:
    from aws_cdk import Duration

    return Duration.seconds(value)


def _days(value: int) -> Any:
    from aws_cdk import Duration

    return Duration.days(value)
