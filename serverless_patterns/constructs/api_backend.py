"""ApiBackend: API Gateway (REST) -> Lambda (``live`` alias) -> DynamoDB, production defaults."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import ClassVar

from aws_cdk import (
    Names,
    Size,
    aws_apigateway as apigw,
    aws_cloudwatch as cloudwatch,
    aws_cognito as cognito,
    aws_dynamodb as dynamodb,
    aws_iam as iam,
    aws_lambda as lambda_,
    aws_logs as logs,
    aws_secretsmanager as secretsmanager,
    aws_wafv2 as wafv2,
)
from constructs import Construct

from serverless_patterns.config import ApiAuth, ApiSettings, FunctionSettings, PatternDefaults
from serverless_patterns.config.checks import check_type
from serverless_patterns.constructs import storage
from serverless_patterns.constructs.api_backend_monitoring import ApiMonitoring
from serverless_patterns.constructs.api_backend_wiring import (
    acknowledge_stage_findings,
    add_proxy_methods,
    create_cursor_secret,
    grant_handler_access,
)
from serverless_patterns.constructs.api_gateway_parts import (
    ACCESS_LOG_FIELDS,
    add_gateway_responses,
    execution_log_level as default_execution_log_level,
    preflight,
)
from serverless_patterns.constructs.function import ServerlessFunction
from serverless_patterns.constructs.handler_code import HandlerCode, merged_environment
from serverless_patterns.constructs.lambda_code import handler_code, handler_path
from serverless_patterns.constructs.props import (
    existing_or_props,
    owner_name,
    resolve_defaults,
    resolve_functions,
    resolve_handlers,
    resolve_settings,
)
from serverless_patterns.constructs.scope import api_gateway_account, claim_service, pin_feature_flags
from serverless_patterns.constructs.web_acl import ApiWebAcl
from serverless_patterns.lambdas.api_backend.metric_names import BUSINESS_METRICS

HANDLER_PACKAGE = "api_backend"
# API Gateway's REST integrations time out after 29 s: a longer function timeout would only
# let the function run on after the client got a 504.
INTEGRATION_TIMEOUT_SECONDS = 29
ITEMS_PARTITION_KEY = "id"


class ApiBackend(Construct):
    """A REST API: a Powertools Lambda behind a regional API Gateway, over DynamoDB.

    API Gateway proxies every path to the function's ``live`` alias (so provisioned
    concurrency is used and routing, 404 and 405 live in one place: the handler). By default
    the handler is the items API (CRUD with optimistic locking, idempotent creation, signed
    cursors, counters); give ``handlers={"api": HandlerCode.from_package(...)}`` to serve your
    own routes with the same plumbing (``serverless_patterns.lambdas.api_backend.custom``: the
    request guard, the error mapping, CORS, observability, the versioned repository, idempotent
    create and signed cursors). Your function may Get, Put, Update, Delete and Scan ``table``;
    grant it more there or on a table of yours, e.g.
    ``backend.table.grant(backend.functions["api"].role, "dynamodb:Query")``.
    Every method is authenticated (IAM or a Cognito user pool; open only in a development
    environment). Outside development environments a WAFv2 web ACL (``ApiWebAcl``: AWS managed
    rules, a per-IP rate limit) screens requests first. The stage is throttled, X-Ray traced, logs
    JSON access lines and execution errors (never bodies). Creation is idempotent on the ``Idempotency-Key`` header
    (Powertools, on its own table); page cursors are signed with a key generated into Secrets
    Manager. Alarms cover the 5XX rate, p99 latency, the 4XX rate and web ACL blocks (warnings),
    Lambda errors/throttles/duration and DynamoDB throttles.
    """

    ROLES: ClassVar[tuple[str, ...]] = ("api",)
    FUNCTION_DEFAULTS: ClassVar[Mapping[str, FunctionSettings]] = {
        "api": FunctionSettings(memory_mb=512, timeout_seconds=10)
    }

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        defaults: PatternDefaults | None = None,
        settings: ApiSettings | None = None,
        functions: Mapping[str, FunctionSettings] | None = None,
        handlers: Mapping[str, HandlerCode] | None = None,
        existing_table: dynamodb.ITable | None = None,
        table_props: dynamodb.TablePropsV2 | None = None,
        existing_idempotency_table: dynamodb.ITable | None = None,
        existing_user_pool: cognito.IUserPool | None = None,
        existing_cursor_signing_secret: secretsmanager.ISecret | None = None,
        existing_web_acl_arn: str | None = None,
        service: str | None = None,
        execution_log_level: apigw.MethodLoggingLevel | None = None,
        cloud_watch_role: bool = True,
    ) -> None:
        """Build the API.

        :param defaults: the environment's cross-cutting settings (retention, removal policy,
            PITR, tracing, thresholds, metrics namespace, development allowances).
        :param settings: ``ApiSettings``: auth, CORS origins, stage throttling, stage name,
            idempotency window.
        :param functions: ``FunctionSettings`` per role (``ROLES``: ``api``); the timeout must
            stay within API Gateway's 29 s integration timeout.
        :param handlers: your code per role: ``{"api": HandlerCode.from_package(...)}`` serves your
            own routes (built with ``serverless_patterns.lambdas.api_backend.custom``). The function
            gets ``TABLE_NAME``, ``IDEMPOTENCY_TABLE_NAME``, ``CURSOR_SECRET_ARN``, ``CORS_ORIGINS``,
            ``CORS_ALLOW_HEADERS`` (when set) and ``IDEMPOTENCY_TTL_SECONDS`` (read by the runtime, see
            its ``resources``), plus the variables of your ``HandlerCode``; ``table_props`` may then
            give the table another key.
        :param existing_table: an existing table for the items (partition key ``id``, string, for the
            items API); the handler may read, write and scan it.
        :param table_props: ``dynamodb.TablePropsV2`` merged over the created table's defaults.
        :param existing_idempotency_table: an existing Powertools idempotency table (key ``id``, TTL
            ``expiration``).
        :param existing_user_pool: the pool whose ID tokens ``ApiAuth.COGNITO`` accepts; one is
            created (MFA required, no self sign-up) with an app client when omitted.
        :param existing_cursor_signing_secret: a secret whose string signs page cursors; a random
            64-character one is generated when omitted.
        :param existing_web_acl_arn: a regional WAFv2 web ACL to associate with the stage instead of the
            one created (``settings.web_acl``: by default outside development environments).
        :param service: the Powertools service name (log field and metric dimension); unique per
            metrics namespace in a Stage; by default the construct id in kebab case.
        :param execution_log_level: API Gateway execution logging; INFO when the handlers log at
            DEBUG, ERROR otherwise. Request and response bodies are never logged.
        :param cloud_watch_role: make sure the account has the role API Gateway writes execution logs
            with (``AWS::ApiGateway::Account``, once per stack, retained). False where the account
            already has one set up elsewhere.
        """
        super().__init__(scope, construct_id)
        pin_feature_flags(self)
        owner = owner_name(self)
        defaults = resolve_defaults(self, defaults)
        settings = resolve_settings(self, "settings", settings, ApiSettings)
        settings.check_environment(development=defaults.development, where=owner)
        sizing = resolve_functions(self, self.FUNCTION_DEFAULTS, functions)
        custom = resolve_handlers(self, self.ROLES, handlers)
        if sizing["api"].timeout_seconds > INTEGRATION_TIMEOUT_SECONDS:
            raise ValueError(
                f"{owner}: functions['api'].timeout_seconds is {sizing['api'].timeout_seconds}, above API Gateway's "
                f"{INTEGRATION_TIMEOUT_SECONDS} s integration timeout: the client would get a 504 while the "
                "function runs on"
            )
        existing_or_props(self, "existing_table", existing_table, "table_props", table_props)
        check_type(owner, "existing_table", existing_table, dynamodb.ITable | None)
        check_type(owner, "existing_idempotency_table", existing_idempotency_table, dynamodb.ITable | None)
        check_type(owner, "existing_user_pool", existing_user_pool, cognito.IUserPool | None)
        check_type(
            owner, "existing_cursor_signing_secret", existing_cursor_signing_secret, secretsmanager.ISecret | None
        )
        check_type(owner, "existing_web_acl_arn", existing_web_acl_arn, str | None)
        if settings.auth is not ApiAuth.COGNITO and existing_user_pool is not None:
            raise ValueError(f"{owner}: existing_user_pool is only used with settings.auth=ApiAuth.COGNITO")
        self.settings = settings
        self.auth = settings.auth
        self._defaults = defaults
        self.service = claim_service(self, service, namespace=defaults.metrics_namespace)

        self.table: dynamodb.ITable = existing_table or storage.secure_table(
            self,
            "Table",
            defaults=defaults,
            partition_key=ITEMS_PARTITION_KEY,
            props=table_props,
            props_name="table_props",
            key_fixed="api" not in custom,
        )
        self.idempotency_table: dynamodb.ITable = existing_idempotency_table or storage.idempotency_table(
            self, "IdempotencyTable", defaults=defaults
        )
        self.cursor_secret: secretsmanager.ISecret = existing_cursor_signing_secret or create_cursor_secret(
            self, defaults
        )

        code = custom.get("api")
        self.handler = ServerlessFunction(
            self,
            "Handler",
            code=code.bind(HANDLER_PACKAGE) if code else handler_code(HANDLER_PACKAGE),
            handler=code.handler if code else handler_path(HANDLER_PACKAGE),
            settings=sizing["api"],
            role="api",
            service=self.service,
            defaults=defaults,
            description=f"{self.service}: REST API handler behind API Gateway (proxy integration)",
            environment=merged_environment(
                f"{owner}: handlers['api']",
                {
                    "TABLE_NAME": self.table.table_name,
                    "IDEMPOTENCY_TABLE_NAME": self.idempotency_table.table_name,
                    "CURSOR_SECRET_ARN": self.cursor_secret.secret_arn,
                    "CORS_ORIGINS": ",".join(settings.cors_origins),
                    **(
                        {"CORS_ALLOW_HEADERS": ",".join(settings.cors_allow_headers)}
                        if settings.cors_allow_headers
                        else {}
                    ),
                    "IDEMPOTENCY_TTL_SECONDS": str(settings.idempotency_hours * 3600),
                },
                code,
            ),
        )
        self.functions: Mapping[str, ServerlessFunction] = {"api": self.handler}
        self.function: lambda_.Function = self.handler.function
        self.alias: lambda_.Alias = self.handler.alias
        grant_handler_access(self)

        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=defaults.log_retention, removal_policy=defaults.removal_policy
        )
        self.api = apigw.RestApi(
            self,
            "Resource",
            rest_api_name=Names.unique_resource_name(self, max_length=128, separator="-"),
            description=f"{self.service}: REST API of {self.node.path}"
            if code
            else f"{self.service}: items CRUD, idempotent creation, optimistic locking, counters",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=False,
            min_compression_size=Size.kibibytes(1),
            fail_on_warnings=True,
            default_cors_preflight_options=preflight(settings.cors_origins, settings.cors_allow_headers),
            deploy_options=apigw.StageOptions(
                stage_name=settings.stage_name,
                throttling_rate_limit=settings.throttle_rate,
                throttling_burst_limit=settings.throttle_burst,
                logging_level=execution_log_level or default_execution_log_level(defaults),
                data_trace_enabled=False,
                metrics_enabled=True,
                tracing_enabled=defaults.tracing,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS)),
            ),
        )
        self.stage: apigw.Stage = self.api.deployment_stage
        if cloud_watch_role:
            # The stage turns on execution logging, which needs the account's role set first.
            self.stage.node.add_dependency(api_gateway_account(self))
        self.url: str = self.api.url
        add_gateway_responses(self.api, settings.cors_origins)
        self.user_pool: cognito.IUserPool | None
        self.user_pool_client: cognito.UserPoolClient | None
        self.user_pool, self.user_pool_client = add_proxy_methods(self, settings.auth, existing_user_pool, defaults)
        self.web_acl: ApiWebAcl | None = None
        if existing_web_acl_arn:
            wafv2.CfnWebACLAssociation(
                self, "WebAcl", resource_arn=self.stage.stage_arn, web_acl_arn=existing_web_acl_arn
            )
        elif settings.creates_web_acl(development=defaults.development):
            self.web_acl = ApiWebAcl(
                self,
                "Firewall",
                stage=self.stage,
                rate_limit=settings.web_acl_rate_limit,
                thresholds=defaults.thresholds,
            )
        self.web_acl_arn: str | None = existing_web_acl_arn or (self.web_acl.arn if self.web_acl else None)
        acknowledge_stage_findings(self, defaults.tracing)

        self._monitoring = ApiMonitoring(
            self,
            api=self.api,
            table=self.table,
            idempotency_table=self.idempotency_table,
            handler=self.handler,
            defaults=defaults,
            service=self.service,
            business_metrics=() if code else BUSINESS_METRICS,
            web_acl=self.web_acl,
        )

    # --- public API ---------------------------------------------------------------------------------

    @property
    def alarms(self) -> Sequence[cloudwatch.Alarm]:
        """API 5XX rate, p99 latency, DynamoDB throttles, web ACL blocks and 4XX rate (warnings), the function's."""
        return [*self._monitoring.alarms, *self.handler.alarms]

    @property
    def warning_alarms(self) -> Sequence[cloudwatch.Alarm]:
        """The alarms that signal client misuse rather than an outage (route them to a ticket, not a page)."""
        return list(self._monitoring.warning_alarms)

    def grant_invoke_api(self, grantee: iam.IGrantable, method: str = "*", path: str = "/*") -> iam.Grant:
        """Allow an IAM principal to call ``method`` on ``path`` (IAM auth); e.g. ``("GET", "/items")``."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["execute-api:Invoke"],
            resource_arns=[self.api.arn_for_execute_api(method=method, path=path, stage=self.stage.stage_name)],
        )

    def metric_server_error_rate(self) -> cloudwatch.IMetric:
        """Percentage of requests answered 5XX (0 while traffic is below the noise floor)."""
        return self._monitoring.metric_server_error_rate()

    def metric_client_error_rate(self) -> cloudwatch.IMetric:
        """Percentage of requests answered 4XX (0 while traffic is below the noise floor)."""
        return self._monitoring.metric_client_error_rate()

    def metric_latency(self, statistic: str = "p99") -> cloudwatch.Metric:
        """End-to-end latency as API Gateway measures it, in milliseconds."""
        return self._monitoring.metric_latency(statistic)

    def metric_business(self, name: str) -> cloudwatch.Metric:
        """One of the handler's EMF business metrics (e.g. ``ItemsCreated``, or your own), summed per period."""
        return self._monitoring.metric_business(name)

    def dashboard_widgets(self) -> Sequence[cloudwatch.IWidget]:
        """Requests, errors, latency, DynamoDB, the items API's business metrics, the web ACL's; the function's row."""
        return self._monitoring.dashboard_widgets()
