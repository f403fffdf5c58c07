"""ApiBackend in each environment's configuration, with the compliance gates run."""

from __future__ import annotations

import ast
import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import (
    App,
    Stack,
    Stage,
    assertions,
    aws_cognito as cognito,
    aws_dynamodb as dynamodb,
    aws_iam as iam,
    aws_secretsmanager as secretsmanager,
)
from cfnlint.api import ManualArgs, lint_file

from serverless_patterns.config import ApiAuth, ApiSettings, EnvironmentConfig, FunctionSettings, PatternDefaults
from serverless_patterns.constructs.api_backend import ApiBackend
from serverless_patterns.constructs.lambda_code import LAMBDAS_ROOT
from serverless_patterns.constructs.observable import Observable
from serverless_patterns.stacks.compliance import add_compliance_checks
from serverless_patterns.stacks.environments import environment
from tests.custom_api import HANDLER, PACKAGE
from tests.integration.fixtures.notes_stack import ORIGIN, notes_app

Match = assertions.Match
ENVIRONMENTS = ("dev", "staging", "prod")


@dataclass
class Built:
    config: EnvironmentConfig
    construct: ApiBackend
    template: assertions.Template
    template_path: Path


def _build(cdk_context: dict[str, Any], outdir: Path, config: EnvironmentConfig, **overrides: Any) -> Built:
    """What ServiceStack will do: the environment's config, in a Stage with the gates on."""
    app = App(context=cdk_context, outdir=str(outdir))
    stage = Stage(app, config.name)
    add_compliance_checks(stage)
    stack = Stack(stage, "Service")
    props: dict[str, Any] = {
        "functions": config.functions_for(ApiBackend.ROLES),
        "defaults": config.defaults,
        "settings": config.api,
        "service": "items-api",
    }
    construct = ApiBackend(stack, "Api", **{**props, **overrides})
    assembly = app.synth()  # runs the compliance gates; Template.from_stack alone does not
    artifact = assembly.get_stack_artifact(stack.artifact_id)
    return Built(config, construct, assertions.Template.from_stack(stack), Path(artifact.template_full_path))


@pytest.fixture(scope="module")
def built(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    return {env: _build(cdk_context, tmp_path_factory.mktemp(f"api-{env}"), environment(env)) for env in ENVIRONMENTS}


def _resources(template: assertions.Template, kind: str) -> dict[str, Any]:
    return dict(template.find_resources(kind))


def _proxy_methods(template: assertions.Template) -> list[dict[str, Any]]:
    methods = _resources(template, "AWS::ApiGateway::Method").values()
    return [method["Properties"] for method in methods if method["Properties"]["HttpMethod"] == "ANY"]


def _alias_id(template: assertions.Template) -> str:
    (alias_id,) = _resources(template, "AWS::Lambda::Alias")
    return alias_id


# --- per environment ----------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_path_goes_to_the_alias_through_one_validated_proxy(built: dict[str, Built], env: str) -> None:
    template = built[env].template
    alias = _alias_id(template)
    methods = _proxy_methods(template)
    assert len(methods) == 2  # ANY / and ANY /{proxy+}: the handler routes, 404s and 405s
    for method in methods:
        integration = method["Integration"]
        assert integration["Type"] == "AWS_PROXY"
        assert {"Ref": alias} in integration["Uri"]["Fn::Join"][1]
        assert "RequestValidatorId" in method
    permissions = _resources(template, "AWS::Lambda::Permission").values()
    assert permissions
    assert all(permission["Properties"]["FunctionName"] == {"Ref": alias} for permission in permissions)
    template.has_resource_properties(
        "AWS::ApiGateway::RequestValidator", {"ValidateRequestBody": True, "ValidateRequestParameters": True}
    )
    template.has_resource_properties("AWS::ApiGateway::RestApi", {"EndpointConfiguration": {"Types": ["REGIONAL"]}})


def test_prod_alias_has_provisioned_concurrency_and_api_gateway_invokes_it(built: dict[str, Built]) -> None:
    template = built["prod"].template
    template.has_resource_properties(
        "AWS::Lambda::Alias",
        {"Name": "live", "ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 5}},
    )
    assert all({"Ref": _alias_id(template)} in m["Integration"]["Uri"]["Fn::Join"][1] for m in _proxy_methods(template))
    template.has_resource_properties("AWS::Lambda::Function", {"MemorySize": 1024, "ReservedConcurrentExecutions": 200})


@pytest.mark.parametrize(
    ("env", "authorization"), [("dev", "NONE"), ("staging", "AWS_IAM"), ("prod", "COGNITO_USER_POOLS")]
)
def test_auth_per_environment_and_never_open_outside_dev(built: dict[str, Built], env: str, authorization: str) -> None:
    methods = _proxy_methods(built[env].template)
    assert {method["AuthorizationType"] for method in methods} == {authorization}
    if authorization == "COGNITO_USER_POOLS":
        (authorizer,) = _resources(built[env].template, "AWS::ApiGateway::Authorizer")
        assert all(method["AuthorizerId"] == {"Ref": authorizer} for method in methods)


def test_prod_creates_a_hardened_user_pool(built: dict[str, Built]) -> None:
    template = built["prod"].template
    template.has_resource(
        "AWS::Cognito::UserPool",
        {
            "DeletionPolicy": "Retain",
            "Properties": Match.object_like(
                {
                    "MfaConfiguration": "ON",
                    "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
                    "UserPoolTier": "PLUS",
                    "Policies": {"PasswordPolicy": Match.object_like({"MinimumLength": 12})},
                }
            ),
        },
    )
    assert built["prod"].construct.user_pool is not None


def test_prod_app_client_allows_only_srp_sign_in_and_no_oauth(built: dict[str, Built]) -> None:
    (client,) = _resources(built["prod"].template, "AWS::Cognito::UserPoolClient").values()
    properties = client["Properties"]
    assert sorted(properties["ExplicitAuthFlows"]) == ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"]
    assert properties["AllowedOAuthFlowsUserPoolClient"] is False
    for oauth in ("AllowedOAuthFlows", "AllowedOAuthScopes", "CallbackURLs", "LogoutURLs"):
        assert oauth not in properties
    assert properties["SupportedIdentityProviders"] == ["COGNITO"]
    assert properties["GenerateSecret"] is False
    assert properties["PreventUserExistenceErrors"] == "ENABLED"
    assert properties["EnableTokenRevocation"] is True
    assert (properties["IdTokenValidity"], properties["AccessTokenValidity"]) == (60, 60)
    assert properties["RefreshTokenValidity"] == 30 * 24 * 60
    assert properties["AuthSessionValidity"] == 3
    assert properties["TokenValidityUnits"] == {
        "IdToken": "minutes",
        "AccessToken": "minutes",
        "RefreshToken": "minutes",
    }


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_a_web_acl_screens_the_stage_outside_dev(built: dict[str, Built], env: str) -> None:
    template = built[env].template
    acls = _resources(template, "AWS::WAFv2::WebACL")
    if env == "dev":
        assert acls == {}
        assert built[env].construct.web_acl is None
        template.resource_count_is("AWS::WAFv2::WebACLAssociation", 0)
        return
    ((acl_id, acl),) = acls.items()
    properties = acl["Properties"]
    assert properties["Scope"] == "REGIONAL"
    assert properties["DefaultAction"] == {"Allow": {}}
    assert properties["VisibilityConfig"]["MetricName"] == properties["Name"]
    rules = {rule["Name"]: rule for rule in properties["Rules"]}
    assert [rule["Name"] for rule in sorted(rules.values(), key=lambda rule: rule["Priority"])] == [
        "IpReputation",
        "RateLimitPerIp",
        "KnownBadInputs",
        "CommonRuleSet",
    ]
    rate = rules["RateLimitPerIp"]["Statement"]["RateBasedStatement"]
    assert rate == {
        "AggregateKeyType": "IP",
        "Limit": built[env].config.api.web_acl_rate_limit,
        "EvaluationWindowSec": 300,
    }
    assert rules["RateLimitPerIp"]["Action"] == {"Block": {}}
    groups = {name: rules[name]["Statement"]["ManagedRuleGroupStatement"] for name in rules if name != "RateLimitPerIp"}
    assert {group["Name"] for group in groups.values()} == {
        "AWSManagedRulesAmazonIpReputationList",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesCommonRuleSet",
    }
    # The API takes bodies up to 32 KiB (413 beyond, from its request guard): the 8 KB body rule only counts.
    assert groups["CommonRuleSet"]["RuleActionOverrides"] == [
        {"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}
    ]
    assert all("RuleActionOverrides" not in groups[name] for name in ("IpReputation", "KnownBadInputs"))
    assert all(rule["VisibilityConfig"]["CloudWatchMetricsEnabled"] for rule in rules.values())
    (stage_id,) = _resources(template, "AWS::ApiGateway::Stage")
    (association,) = _resources(template, "AWS::WAFv2::WebACLAssociation").values()
    assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    assert stage_id in str(association["Properties"]["ResourceArn"])


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_blocked_requests_warn_on_the_web_acls_metric(built: dict[str, Built], env: str) -> None:
    construct = built[env].construct
    assert construct.web_acl is not None
    (acl,) = _resources(built[env].template, "AWS::WAFv2::WebACL").values()
    alarms = [
        alarm["Properties"]
        for alarm in _resources(built[env].template, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("Namespace") == "AWS/WAFV2"
    ]
    (alarm,) = alarms
    assert alarm["MetricName"] == "BlockedRequests"
    dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    assert dimensions["WebACL"] == acl["Properties"]["Name"]
    assert dimensions["Rule"] == "ALL"
    assert alarm["Threshold"] == built[env].config.alarm_thresholds.waf_blocked_requests
    assert alarm["AlarmDescription"].startswith("WARNING")
    assert construct.web_acl.blocked_requests_alarm in construct.warning_alarms


def test_web_acl_can_be_turned_on_in_dev_and_off_elsewhere(cdk_context: dict[str, Any], tmp_path: Path) -> None:
    dev = environment("dev")
    on = _build(cdk_context, tmp_path / "on", dev, settings=dataclasses.replace(dev.api, web_acl=True))
    on.template.resource_count_is("AWS::WAFv2::WebACL", 1)
    prod = environment("prod")
    off = _build(cdk_context, tmp_path / "off", prod, settings=dataclasses.replace(prod.api, web_acl=False))
    off.template.resource_count_is("AWS::WAFv2::WebACL", 0)
    assert off.construct.web_acl_arn is None


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_cors_matches_config_and_is_never_a_wildcard_outside_dev(built: dict[str, Built], env: str) -> None:
    template = built[env].template
    (function,) = _resources(template, "AWS::Lambda::Function").values()
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables["CORS_ORIGINS"] == ",".join(built[env].config.api.cors_origins)
    preflights = [
        method["Properties"]
        for method in _resources(template, "AWS::ApiGateway::Method").values()
        if method["Properties"]["HttpMethod"] == "OPTIONS"
    ]
    assert len(preflights) == 2
    origins = {
        response["ResponseParameters"]["method.response.header.Access-Control-Allow-Origin"]
        for preflight in preflights
        for response in preflight["Integration"]["IntegrationResponses"]
    }
    if env == "dev":
        assert origins == {"'*'"}
    else:
        assert "*" not in variables["CORS_ORIGINS"]
        assert origins == {f"'{origin}'" for origin in built[env].config.api.cors_origins}
        assert all("*" not in origin for origin in origins)
    assert all(preflight["AuthorizationType"] == "NONE" for preflight in preflights)  # browsers send no credentials


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_stage_throttling_logging_tracing(built: dict[str, Built], env: str) -> None:
    config = built[env].config
    (stage,) = _resources(built[env].template, "AWS::ApiGateway::Stage").values()
    properties = stage["Properties"]
    assert properties["TracingEnabled"] is True
    (settings,) = properties["MethodSettings"]
    assert settings == {
        "HttpMethod": "*",
        "ResourcePath": "/*",
        "ThrottlingRateLimit": config.api.throttle_rate,
        "ThrottlingBurstLimit": config.api.throttle_burst,
        "DataTraceEnabled": False,  # never log request or response bodies
        "MetricsEnabled": True,
        "LoggingLevel": "INFO" if env == "dev" else "ERROR",
    }


@pytest.mark.parametrize(("env", "retention"), [("dev", 7), ("staging", 30), ("prod", 90)])
def test_json_access_logs_with_retention(built: dict[str, Built], env: str, retention: int) -> None:
    template = built[env].template
    (stage,) = _resources(template, "AWS::ApiGateway::Stage").values()
    setting = stage["Properties"]["AccessLogSetting"]
    fields = json.loads(setting["Format"])
    assert {"requestId", "status", "httpMethod", "path", "sourceIp", "responseLatency", "errorMessage"} <= fields.keys()
    log_group_id = setting["DestinationArn"]["Fn::GetAtt"][0]
    log_group = template.to_json()["Resources"][log_group_id]
    assert log_group["Properties"]["RetentionInDays"] == retention
    assert log_group["DeletionPolicy"] == ("Delete" if env == "dev" else "Retain")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_tables_are_secure_and_pitr_follows_the_environment(built: dict[str, Built], env: str) -> None:
    template = built[env].template
    tables = _resources(template, "AWS::DynamoDB::GlobalTable")
    assert len(tables) == 2  # items and idempotency records
    retained = env != "dev"
    for table in tables.values():
        assert table["DeletionPolicy"] == ("Retain" if retained else "Delete")
        properties = table["Properties"]
        assert properties["BillingMode"] == "PAY_PER_REQUEST"
        assert properties["SSESpecification"]["SSEEnabled"] is True
        (replica,) = properties["Replicas"]
        assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": retained}
        assert properties["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]


def test_handler_permissions_are_exactly_what_it_calls(built: dict[str, Built]) -> None:
    template = built["prod"].template
    statements = [
        statement
        for policy in _resources(template, "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    dynamodb_actions = [statement["Action"] for statement in statements if "dynamodb:GetItem" in statement["Action"]]
    assert sorted(map(sorted, dynamodb_actions)) == [
        ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Scan", "dynamodb:UpdateItem"],
        ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
    ]
    secret_reads = [statement for statement in statements if "secretsmanager:GetSecretValue" in statement["Action"]]
    (secret_id,) = _resources(template, "AWS::SecretsManager::Secret")
    assert [statement["Resource"] for statement in secret_reads] == [{"Ref": secret_id}]
    assert [statement["Action"] for statement in secret_reads] == ["secretsmanager:GetSecretValue"]
    wildcard = [statement for statement in statements if statement["Resource"] == "*"]
    assert {action for statement in wildcard for action in statement["Action"]} <= {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }


def test_function_environment_names_its_resources(built: dict[str, Built]) -> None:
    template = built["staging"].template
    (function,) = _resources(template, "AWS::Lambda::Function").values()
    properties = function["Properties"]
    assert properties["Handler"] == "serverless_patterns.lambdas.api_backend.handler.handler"
    variables = properties["Environment"]["Variables"]
    assert variables["IDEMPOTENCY_TTL_SECONDS"] == "86400"
    assert variables["POWERTOOLS_SERVICE_NAME"] == "items-api"
    tables = _resources(template, "AWS::DynamoDB::GlobalTable")
    assert {variables["TABLE_NAME"]["Ref"], variables["IDEMPOTENCY_TABLE_NAME"]["Ref"]} == set(tables)
    (secret_id,) = _resources(template, "AWS::SecretsManager::Secret")
    assert variables["CURSOR_SECRET_ARN"] == {"Ref": secret_id}


def test_cursor_signing_key_is_generated_not_written_in_the_template(built: dict[str, Built]) -> None:
    (secret,) = _resources(built["prod"].template, "AWS::SecretsManager::Secret").values()
    assert secret["Properties"]["GenerateSecretString"] == {"ExcludePunctuation": True, "PasswordLength": 64}
    assert "SecretString" not in secret["Properties"]
    assert secret["DeletionPolicy"] == "Retain"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_gateway_errors_use_the_handler_error_shape(built: dict[str, Built], env: str) -> None:
    responses = _resources(built[env].template, "AWS::ApiGateway::GatewayResponse").values()
    assert {response["Properties"]["ResponseType"] for response in responses} == {"DEFAULT_4XX", "DEFAULT_5XX"}
    for response in responses:
        template = response["Properties"]["ResponseTemplates"]["application/json"]
        assert '"requestId":"$context.requestId"' in template


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_alarms_cover_the_api_the_function_and_the_tables(built: dict[str, Built], env: str) -> None:
    built_env = built[env]
    thresholds = built_env.config.alarm_thresholds
    alarms = list(_resources(built_env.template, "AWS::CloudWatch::Alarm").values())
    assert len(alarms) == len(built_env.construct.alarms)
    by_metric = {alarm["Properties"].get("MetricName"): alarm["Properties"] for alarm in alarms}
    assert by_metric["Latency"]["ExtendedStatistic"] == "p99"
    assert by_metric["Latency"]["Threshold"] == thresholds.api_p99_latency_ms
    assert {"Errors", "Throttles", "Duration"} <= by_metric.keys()
    expressions = [alarm["Properties"] for alarm in alarms if "Metrics" in alarm["Properties"]]
    rate_thresholds = [
        alarm["Threshold"]
        for alarm in expressions
        if any("100 * errors / requests" in m.get("Expression", "") for m in alarm["Metrics"])
    ]
    assert sorted(rate_thresholds) == sorted([thresholds.api_5xx_rate_percent, thresholds.api_4xx_rate_percent])
    throttle_alarms = [
        alarm
        for alarm in expressions
        if any(
            m.get("MetricStat", {}).get("Metric", {}).get("MetricName") == "ThrottledRequests" for m in alarm["Metrics"]
        )
    ]
    assert len(throttle_alarms) == 2  # the items table and the idempotency table
    warnings = built_env.construct.warning_alarms
    assert len(warnings) == (1 if env == "dev" else 2)  # the 4XX rate; the web ACL's blocks outside Dev
    assert all(warning in built_env.construct.alarms for warning in warnings)
    if env == "prod":
        assert "ProvisionedConcurrencySpilloverInvocations" in by_metric


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_observable_with_a_full_dashboard_row(built: dict[str, Built], env: str) -> None:
    construct = built[env].construct
    assert isinstance(construct, Observable)
    widgets = construct.dashboard_widgets()
    # The API row and the function row; outside Dev the web ACL's row between them.
    assert sum(widget.width for widget in widgets) == (48 if env == "dev" else 72)
    assert construct.url


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_template_passes_cfn_lint(built: dict[str, Built], env: str) -> None:
    matches = lint_file(built[env].template_path, ManualArgs(ignore_checks=["W3005"]))
    assert [str(match) for match in matches] == []


# --- escape hatches and options -----------------------------------------------------------------


@pytest.fixture(scope="module")
def with_existing_resources(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Built:
    config = environment("staging")
    app = App(context=cdk_context, outdir=str(tmp_path_factory.mktemp("api-existing")))
    stage = Stage(app, config.name)
    add_compliance_checks(stage)
    stack = Stack(stage, "Service")
    table = dynamodb.TableV2.from_table_name(stack, "Items", "existing-items")
    records = dynamodb.TableV2.from_table_name(stack, "Records", "existing-idempotency")
    secret = secretsmanager.Secret.from_secret_name_v2(stack, "Key", "existing-cursor-key")
    pool = cognito.UserPool.from_user_pool_id(stack, "Pool", "us-east-1_example")
    construct = ApiBackend(
        stack,
        "Api",
        functions=config.functions_for(ApiBackend.ROLES),
        defaults=config.defaults,
        settings=ApiSettings(
            auth=ApiAuth.COGNITO,
            cors_origins=("https://a.example.com", "https://b.example.com"),
            cors_allow_headers=("X-Tenant-Id",),
            stage_name="live",
        ),
        existing_user_pool=pool,
        existing_table=table,
        existing_idempotency_table=records,
        existing_cursor_signing_secret=secret,
        cloud_watch_role=False,
        existing_web_acl_arn="arn:aws:wafv2:us-east-1:123456789012:regional/webacl/api/abc",
    )
    caller = iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal())
    construct.grant_invoke_api(caller, "GET", "/items")
    app.synth()
    return Built(config, construct, assertions.Template.from_stack(stack), Path())


def test_existing_tables_secret_and_pool_are_used_not_created(with_existing_resources: Built) -> None:
    template = with_existing_resources.template
    template.resource_count_is("AWS::DynamoDB::GlobalTable", 0)
    template.resource_count_is("AWS::SecretsManager::Secret", 0)
    template.resource_count_is("AWS::Cognito::UserPool", 0)
    template.resource_count_is("AWS::ApiGateway::Account", 0)
    (function,) = _resources(template, "AWS::Lambda::Function").values()
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables["TABLE_NAME"] == "existing-items"
    assert variables["IDEMPOTENCY_TABLE_NAME"] == "existing-idempotency"
    assert variables["CORS_ORIGINS"] == "https://a.example.com,https://b.example.com"
    assert variables["CORS_ALLOW_HEADERS"] == "X-Tenant-Id"
    template.has_resource_properties(
        "AWS::ApiGateway::Authorizer", {"Type": "COGNITO_USER_POOLS", "ProviderARNs": [Match.any_value()]}
    )


def test_waf_stage_name_and_grant_invoke(with_existing_resources: Built) -> None:
    template = with_existing_resources.template
    template.resource_count_is("AWS::WAFv2::WebACL", 0)  # the existing one is used instead
    template.has_resource_properties("AWS::ApiGateway::Stage", {"StageName": "live"})
    template.has_resource_properties(
        "AWS::WAFv2::WebACLAssociation",
        {"WebACLArn": "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/api/abc"},
    )
    statements = [
        statement
        for policy in _resources(template, "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "execute-api:Invoke"
    ]
    (statement,) = statements
    (stage_id,) = _resources(template, "AWS::ApiGateway::Stage")
    assert statement["Resource"]["Fn::Join"][1][-2:] == [{"Ref": stage_id}, "/GET/items"]


def test_multiple_origins_get_no_static_origin_on_gateway_errors(with_existing_resources: Built) -> None:
    for response in _resources(with_existing_resources.template, "AWS::ApiGateway::GatewayResponse").values():
        assert "ResponseParameters" not in response["Properties"]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"auth": ApiAuth.NONE}, r"auth=ApiAuth.NONE \(an open API\) is allowed in development environments only"),
        ({"cors_origins": ("*",)}, "the CORS origin '\\*' is allowed in development environments only"),
        ({"cors_origins": ("http://app.example.com",)}, "plain-http CORS origin 'http://app.example.com'"),
    ],
)
def test_development_allowances_are_refused_with_production_defaults(settings: dict[str, Any], message: str) -> None:
    stack = Stack(App(), "Refused")
    with pytest.raises(ValueError, match=message):
        ApiBackend(stack, "Api", settings=ApiSettings(**settings))


def test_development_allowances_are_accepted_in_development() -> None:
    stack = Stack(App(), "Allowed")
    api = ApiBackend(
        stack,
        "Api",
        defaults=PatternDefaults(development=True),
        settings=ApiSettings(auth=ApiAuth.NONE, cors_origins=("http://localhost:3000",)),
    )
    assert api.auth is ApiAuth.NONE


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"cors_origins": ("*", "https://a.example.com")}, "only origin"),
        ({"cors_origins": ("https://a.example.com/path",)}, "without a path"),
        ({"cors_origins": ("a.example.com",)}, "https://host"),
        ({"throttle_rate": 0}, "throttle_rate and throttle_burst must be >= 1"),
        ({"stage_name": "v 1"}, "stage_name"),
        ({"web_acl_rate_limit": 9}, "web_acl_rate_limit must be 10..2000000000"),
    ],
)
def test_malformed_settings_are_refused(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ApiSettings(**settings)


def test_a_function_timeout_above_the_integration_timeout_is_refused() -> None:
    stack = Stack(App(), "Refused")
    with pytest.raises(ValueError, match=r"functions\['api'\].timeout_seconds is 30, above API Gateway's 29 s"):
        ApiBackend(stack, "Api", functions={"api": FunctionSettings(timeout_seconds=30)})


def test_user_pool_without_cognito_auth_is_refused() -> None:
    stack = Stack(App(), "Refused")
    pool = cognito.UserPool.from_user_pool_id(stack, "Pool", "us-east-1_example")
    with pytest.raises(ValueError, match=r"existing_user_pool is only used with settings\.auth=ApiAuth\.COGNITO"):
        ApiBackend(stack, "Api", existing_user_pool=pool)


def test_handler_code_never_imports_aws_cdk() -> None:
    for module in (LAMBDAS_ROOT / "api_backend").glob("*.py"):
        tree = ast.parse(module.read_text())
        imported = {name.name for node in ast.walk(tree) if isinstance(node, ast.Import) for name in node.names} | {
            node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        }
        assert not {name for name in imported if name.split(".")[0] in {"aws_cdk", "constructs", "cdk_nag"}}, module


# --- your own routes ----------------------------------------------------------------------------


def test_your_own_handler_package_is_staged_beside_the_runtime_with_the_patterns_plumbing() -> None:
    """``handlers={"api": HandlerCode.from_package(...)}``: the guide's notes API, as a user deploys it."""
    notes = notes_app()
    template = assertions.Template.from_stack(notes.stack)
    (function,) = _resources(template, "AWS::Lambda::Function").values()
    assert function["Properties"]["Handler"] == HANDLER
    assets = json.loads((notes.assembly / f"{notes.stack.artifact_id}.assets.json").read_text())["files"]
    asset_hash = function["Properties"]["Code"]["S3Key"].removesuffix(".zip")
    staged = notes.assembly / assets[asset_hash]["source"]["path"]
    assert (staged / PACKAGE / "handler.py").read_text() == (notes.package / "handler.py").read_text()
    runtime = staged / "serverless_patterns" / "lambdas"
    for module in ("api_backend/custom.py", "api_backend/app.py", "api_backend/repository.py", "shared/warmup.py"):
        assert (runtime / module).is_file(), module
    assert not (runtime / "fan_out").exists()  # only the pattern's runtime beside yours

    variables = function["Properties"]["Environment"]["Variables"]
    assert {"TABLE_NAME", "IDEMPOTENCY_TABLE_NAME", "CURSOR_SECRET_ARN", "IDEMPOTENCY_TTL_SECONDS"} <= variables.keys()
    assert (variables["CORS_ORIGINS"], variables["NOTES_OWNER"]) == (ORIGIN, "team-a")
    # The plumbing stays the construct's: every path to the live alias, throttled stage, access logs, alarms.
    alias_id = _alias_id(template)
    for method in _proxy_methods(template):
        assert alias_id in json.dumps(method["Integration"]["Uri"])
    template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {"MethodSettings": [Match.object_like({"ThrottlingRateLimit": 100})], "AccessLogSetting": Match.any_value()},
    )
    assert len(notes.stack.backend.alarms) >= 5
    widgets = notes.stack.backend.dashboard_widgets()
    titles = [rendered["properties"].get("title") for widget in widgets for rendered in widget.to_json()]
    assert "Items business metrics" not in titles  # the items API's metrics are not the notes API's
    assert sum(widget.width for widget in widgets) == 48  # still the API row and the function row

    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    actions = {
        action
        for policy in _resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
    assert {"dynamodb:Scan", "dynamodb:UpdateItem", "dynamodb:Query", "secretsmanager:GetSecretValue"} <= actions


def test_the_preflight_allows_every_method_and_your_headers(with_existing_resources: Built) -> None:
    """A PATCH route of your own, or a header it reads, must not be refused by API Gateway's preflight."""
    options = [
        method
        for method in _resources(with_existing_resources.template, "AWS::ApiGateway::Method").values()
        if method["Properties"]["HttpMethod"] == "OPTIONS"
    ]
    assert options
    for method in options:
        (response,) = method["Properties"]["Integration"]["IntegrationResponses"]
        headers = response["ResponseParameters"]
        assert "PATCH" in headers["method.response.header.Access-Control-Allow-Methods"]
        assert "X-Tenant-Id" in headers["method.response.header.Access-Control-Allow-Headers"]


@pytest.mark.parametrize("header", ["X Tenant", "", "Tenant:Id"])
def test_a_cors_header_that_is_not_a_header_name_is_refused(header: str) -> None:
    with pytest.raises(ValueError, match="cors_allow_headers"):
        ApiSettings(cors_allow_headers=(header,))
