"""ApiBackend: API Gateway (REST) -> Lambda (``live`` alias) -> DynamoDB, production defaults."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from aws_cdk import (
    Duration,
    Names,
    RemovalPolicy,
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

from serverless_patterns.config import ApiAuth, FunctionSettings, PatternDefaults
from serverless_patterns.constructs import storage
from serverless_patterns.constructs.alarms import threshold_alarm
from serverless_patterns.constructs.compliance import acknowledge
from serverless_patterns.constructs.function import ServerlessFunction
from serverless_patterns.constructs.lambda_code import handler_code, handler_path
from serverless_patterns.lambdas.api_backend.metric_names import BUSINESS_METRICS

HANDLER_PACKAGE = "api_backend"
# Rates over fewer requests than this per period are noise (1 error in 2 requests is 50%).
RATE_ALARM_MIN_REQUESTS = 10
CORS_ALLOW_HEADERS = (
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "If-Match",
    "X-Amz-Date",
    "X-Amz-Security-Token",
)
CORS_MAX_AGE = Duration.minutes(10)
DEFAULT_IDEMPOTENCY_TTL = Duration.hours(24)
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")
_TABLE_OPERATIONS = (
    dynamodb.Operation.GET_ITEM,
    dynamodb.Operation.PUT_ITEM,
    dynamodb.Operation.UPDATE_ITEM,
    dynamodb.Operation.DELETE_ITEM,
)

ACCESS_LOG_FIELDS = {
    "requestId": apigw.AccessLogField.context_request_id(),
    "extendedRequestId": apigw.AccessLogField.context_extended_request_id(),
    "requestTime": apigw.AccessLogField.context_request_time(),
    "httpMethod": apigw.AccessLogField.context_http_method(),
    "path": apigw.AccessLogField.context_path(),
    "resourcePath": apigw.AccessLogField.context_resource_path(),
    "status": apigw.AccessLogField.context_status(),
    "protocol": apigw.AccessLogField.context_protocol(),
    "responseLength": apigw.AccessLogField.context_response_length(),
    "responseLatency": apigw.AccessLogField.context_response_latency(),
    "integrationLatency": apigw.AccessLogField.context_integration_latency(),
    "integrationStatus": apigw.AccessLogField.context_integration_status(),
    "errorMessage": apigw.AccessLogField.context_error_message(),
    "errorType": apigw.AccessLogField.context_error_response_type(),
    "sourceIp": apigw.AccessLogField.context_identity_source_ip(),
    "userAgent": apigw.AccessLogField.context_identity_user_agent(),
    "caller": apigw.AccessLogField.context_identity_caller(),
    "userArn": apigw.AccessLogField.context_identity_user_arn(),
    "cognitoSub": apigw.AccessLogField.context_authorizer_claims("sub"),
    "xrayTraceId": apigw.AccessLogField.context_xray_trace_id(),
}


class ApiBackend(Construct):
    """An items API: a Powertools Lambda behind a regional REST API, over DynamoDB.

    API Gateway proxies every path to the function's ``live`` alias (so provisioned
    concurrency is used and routing, 404 and 405 live in one place: the handler).
    Every method is authenticated (IAM or a Cognito user pool; none only when the caller
    explicitly allows it, for Dev). The stage is throttled, X-Ray traced, logs JSON access
    lines and execution errors (never bodies). Creation is idempotent on the
    ``Idempotency-Key`` header (Powertools, on its own table); page cursors are signed
    with a key generated into Secrets Manager. Alarms cover the 5XX rate, p99 latency,
    the 4XX rate (a warning), Lambda errors/throttles/duration and DynamoDB throttles.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function_settings: FunctionSettings,
        defaults: PatternDefaults,
        auth: ApiAuth = ApiAuth.IAM,
        allow_unauthenticated: bool = False,
        user_pool: cognito.IUserPool | None = None,
        cors_origins: Sequence[str] = (),
        throttle_rate: int = 100,
        throttle_burst: int = 200,
        table: dynamodb.ITable | None = None,
        idempotency_table: dynamodb.ITable | None = None,
        cursor_signing_secret: secretsmanager.ISecret | None = None,
        idempotency_ttl: Duration | None = None,
        stage_name: str = "v1",
        service: str = "items-api",
        execution_log_level: apigw.MethodLoggingLevel | None = None,
        cloud_watch_role: bool = True,
        web_acl_arn: str | None = None,
    ) -> None:
        """Build the API.

        :param function_settings: memory, timeout, provisioned/reserved concurrency of the
            handler (the stack passes ``config.function("api")``).
        :param defaults: the environment's cross-cutting settings (retention, removal policy,
            PITR, tracing, thresholds, metrics namespace).
        :param auth: IAM (SigV4 callers: services, signed clients) or COGNITO (end users with
            an ID token). NONE leaves the API open and is refused unless ``allow_unauthenticated``.
        :param allow_unauthenticated: the explicit opt-in ``ApiAuth.NONE`` needs (Dev only:
            the environment config already refuses NONE elsewhere).
        :param user_pool: the pool whose ID tokens COGNITO auth accepts; one is created
            (MFA required, no self sign-up) when omitted.
        :param cors_origins: browser origins allowed to call the API (exact ``https://host``
            values; ``*`` only as the sole entry). Empty: no CORS, same-origin/server callers only.
        :param throttle_rate: steady-state requests per second for the stage (all methods).
        :param throttle_burst: burst bucket for the stage.
        :param table: an existing items table (partition key ``id``, string); created
            on-demand, encrypted, PITR and removal policy per environment when omitted.
        :param idempotency_table: an existing Powertools idempotency table (key ``id``,
            TTL ``expiration``); created when omitted.
        :param cursor_signing_secret: an existing secret whose string signs page cursors;
            a 64-character random one is generated when omitted.
        :param idempotency_ttl: how long a retry with the same Idempotency-Key is replayed (default 24 h).
        :param stage_name: the deployed stage (the URL's first path segment).
        :param service: the Powertools service name (log field and metric dimension).
        :param execution_log_level: API Gateway execution logging; INFO when the environment
            logs at DEBUG, ERROR otherwise. Request/response bodies are never logged.
        :param cloud_watch_role: create the account-level role API Gateway needs to write
            execution logs (retained on delete). Pass False where the account already has one.
        :param web_acl_arn: a WAFv2 web ACL (regional) to associate with the stage.
        """
        super().__init__(scope, construct_id)
        origins = _validated_origins(cors_origins)
        if auth is ApiAuth.NONE and not allow_unauthenticated:
            raise ValueError("ApiAuth.NONE leaves the API open: pass allow_unauthenticated=True (Dev only)")
        if auth is not ApiAuth.COGNITO and user_pool is not None:
            raise ValueError("user_pool is only used with ApiAuth.COGNITO")
        if throttle_rate < 1 or throttle_burst < 1:
            raise ValueError("throttle_rate and throttle_burst must be positive")
        self.auth = auth
        self._defaults = defaults
        self._service = service

        self.table: dynamodb.ITable = table or storage.secure_table(
            self, "Table", defaults=defaults, partition_key="id"
        )
        self.idempotency_table: dynamodb.ITable = idempotency_table or storage.idempotency_table(
            self, "IdempotencyTable", defaults=defaults
        )
        self.cursor_secret: secretsmanager.ISecret = cursor_signing_secret or self._create_cursor_secret(defaults)

        self.handler = ServerlessFunction(
            self,
            "Handler",
            code=handler_code(HANDLER_PACKAGE),
            handler=handler_path(HANDLER_PACKAGE),
            settings=function_settings,
            service=service,
            defaults=defaults,
            description="Items API behind API Gateway (proxy integration)",
            environment={
                "TABLE_NAME": self.table.table_name,
                "IDEMPOTENCY_TABLE_NAME": self.idempotency_table.table_name,
                "CURSOR_SECRET_ARN": self.cursor_secret.secret_arn,
                "CORS_ORIGINS": ",".join(origins),
                "IDEMPOTENCY_TTL_SECONDS": str(int((idempotency_ttl or DEFAULT_IDEMPOTENCY_TTL).to_seconds())),
            },
        )
        self.function: lambda_.Function = self.handler.function
        self.alias: lambda_.Alias = self.handler.alias
        self._grant_handler_access()

        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=defaults.log_retention, removal_policy=defaults.removal_policy
        )
        self.api = apigw.RestApi(
            self,
            "Resource",
            rest_api_name=Names.unique_resource_name(self, max_length=128, separator="-"),
            description=f"{service}: items CRUD, idempotent creation, optimistic locking, counters",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=cloud_watch_role,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN if cloud_watch_role else None,
            min_compression_size=Size.kibibytes(1),
            fail_on_warnings=True,
            default_cors_preflight_options=_preflight(origins),
            deploy_options=apigw.StageOptions(
                stage_name=stage_name,
                throttling_rate_limit=throttle_rate,
                throttling_burst_limit=throttle_burst,
                logging_level=execution_log_level or _execution_log_level(defaults),
                data_trace_enabled=False,
                metrics_enabled=True,
                tracing_enabled=defaults.tracing,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS)),
            ),
        )
        self.stage: apigw.Stage = self.api.deployment_stage
        self.url: str = self.api.url
        self.user_pool: cognito.IUserPool | None = None
        self.user_pool_client: cognito.UserPoolClient | None = None
        self._add_gateway_responses(origins)
        self._add_proxy_methods(auth, user_pool, allow_unauthenticated)
        self._acknowledge_stage_findings(cloud_watch_role, web_acl_arn, defaults.tracing)
        if web_acl_arn:
            wafv2.CfnWebACLAssociation(self, "WebAcl", resource_arn=self.stage.stage_arn, web_acl_arn=web_acl_arn)

        self._warning_alarms: list[cloudwatch.Alarm] = []
        self._api_alarms = self._create_alarms()

    # --- public API ---------------------------------------------------------------------------------

    @property
    def alarms(self) -> Sequence[cloudwatch.Alarm]:
        """API 5XX rate, p99 latency, 4XX rate (warning), DynamoDB throttles, then the function's alarms."""
        return [*self._api_alarms, *self.handler.alarms]

    @property
    def warning_alarms(self) -> Sequence[cloudwatch.Alarm]:
        """The alarms that signal client misuse rather than an outage (route them to a ticket, not a page)."""
        return list(self._warning_alarms)

    def grant_invoke_api(self, grantee: iam.IGrantable, method: str = "*", path: str = "/*") -> iam.Grant:
        """Allow an IAM principal to call ``method`` on ``path`` (IAM auth); e.g. ``("GET", "/items")``."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["execute-api:Invoke"],
            resource_arns=[self.api.arn_for_execute_api(method=method, path=path, stage=self.stage.stage_name)],
        )

    def metric_server_error_rate(self) -> cloudwatch.IMetric:
        """Percentage of requests answered 5XX (0 while traffic is below the noise floor)."""
        return self._error_rate(self.api.metric_server_error(period=self._period, statistic="Sum"), "5XX rate (%)")

    def metric_client_error_rate(self) -> cloudwatch.IMetric:
        """Percentage of requests answered 4XX (0 while traffic is below the noise floor)."""
        return self._error_rate(self.api.metric_client_error(period=self._period, statistic="Sum"), "4XX rate (%)")

    def metric_latency(self, statistic: str = "p99") -> cloudwatch.Metric:
        """End-to-end latency as API Gateway measures it, in milliseconds."""
        return self.api.metric_latency(statistic=statistic, period=self._period)

    def metric_business(self, name: str) -> cloudwatch.Metric:
        """One of the handler's EMF business metrics (e.g. ``ItemsCreated``), summed per period."""
        return cloudwatch.Metric(
            namespace=self._defaults.metrics_namespace,
            metric_name=name,
            dimensions_map={"service": self._service},
            statistic="Sum",
            period=self._period,
        )

    def dashboard_widgets(self) -> Sequence[cloudwatch.IWidget]:
        """Requests and errors, latency, DynamoDB, business metrics; then the function's row."""
        return [
            cloudwatch.GraphWidget(
                title="API requests and errors",
                left=[self.api.metric_count(period=self._period, statistic="Sum")],
                right=[
                    self.api.metric_client_error(period=self._period, statistic="Sum"),
                    self.api.metric_server_error(period=self._period, statistic="Sum"),
                ],
                width=6,
            ),
            cloudwatch.GraphWidget(
                title="API latency (ms)",
                left=[self.metric_latency(statistic) for statistic in ("p50", "p90", "p99")],
                right=[self.api.metric_integration_latency(statistic="p99", period=self._period)],
                width=6,
            ),
            # One throttle expression per graph: the per-operation ids of two tables would collide.
            cloudwatch.GraphWidget(
                title="Idempotency table throttles",
                left=[self._table_throttles(self.idempotency_table)],
                width=4,
            ),
            cloudwatch.GraphWidget(
                title="Items table throttles and p99 latency",
                left=[self._table_throttles(self.table)],
                right=[
                    self.table.metric_successful_request_latency(
                        dimensions_map={"TableName": self.table.table_name, "Operation": operation.value},
                        statistic="p99",
                        period=self._period,
                    )
                    for operation in (dynamodb.Operation.GET_ITEM, dynamodb.Operation.UPDATE_ITEM)
                ],
                width=4,
            ),
            cloudwatch.GraphWidget(
                title="Items business metrics",
                left=[self.metric_business(name) for name in BUSINESS_METRICS],
                width=4,
            ),
            *self.handler.dashboard_widgets(),
        ]

    # --- construction -------------------------------------------------------------------------------

    @property
    def _period(self) -> Duration:
        return Duration.seconds(self._defaults.thresholds.period_seconds)

    def _create_cursor_secret(self, defaults: PatternDefaults) -> secretsmanager.Secret:
        secret = secretsmanager.Secret(
            self,
            "CursorSigningKey",
            description=f"HMAC key that signs the page cursors of {self.node.path}",
            generate_secret_string=secretsmanager.SecretStringGenerator(password_length=64, exclude_punctuation=True),
            removal_policy=defaults.removal_policy,
        )
        acknowledge(
            secret,
            (
                "AwsSolutions::AwsSolutions-SMG4",
                "The key only signs short-lived page cursors; rotating it just makes clients restart a listing "
                "from the first page (400 on an old cursor). Rotate on demand with put-secret-value; warm "
                "containers pick the new key up when they are recycled.",
            ),
        )
        return secret

    def _grant_handler_access(self) -> None:
        """Exactly the calls the handler makes: no BatchWrite, Query, or table-level admin."""
        role = self.handler.role
        self.table.grant(
            role,
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:Scan",
        )
        self.idempotency_table.grant(
            role, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"
        )
        # GetSecretValue only: Secret.grant_read adds DescribeSecret, which Powertools' get_secret never calls.
        secret = self.cursor_secret
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["secretsmanager:GetSecretValue"],
                resources=[secret.secret_full_arn or f"{secret.secret_arn}-??????"],
            )
        )
        if secret.encryption_key is not None:
            secret.encryption_key.grant_decrypt(role)

    def _add_proxy_methods(
        self, auth: ApiAuth, user_pool: cognito.IUserPool | None, allow_unauthenticated: bool
    ) -> None:
        """``ANY /`` and ``ANY /{proxy+}`` to the alias, authenticated and validated."""
        integration = apigw.LambdaIntegration(self.alias, proxy=True, allow_test_invoke=False)
        validator = self.api.add_request_validator(
            "RequestValidator", validate_request_body=True, validate_request_parameters=True
        )
        authorizer: apigw.IAuthorizer | None = None
        authorization_type = apigw.AuthorizationType.IAM
        if auth is ApiAuth.COGNITO:
            self.user_pool = user_pool or self._create_user_pool()
            authorizer = apigw.CognitoUserPoolsAuthorizer(
                self, "Authorizer", cognito_user_pools=[self.user_pool], results_cache_ttl=Duration.minutes(5)
            )
            authorization_type = apigw.AuthorizationType.COGNITO
        elif auth is ApiAuth.NONE:
            authorization_type = apigw.AuthorizationType.NONE

        methods = [
            self.api.root.add_method(
                "ANY",
                integration,
                authorization_type=authorization_type,
                authorizer=authorizer,
                request_validator=validator,
            ),
            self.api.root.add_resource("{proxy+}").add_method(
                "ANY",
                integration,
                authorization_type=authorization_type,
                authorizer=authorizer,
                request_validator=validator,
                request_parameters={"method.request.path.proxy": True},
            ),
        ]
        for method in methods:
            if auth is ApiAuth.IAM:
                acknowledge(
                    method,
                    (
                        "AwsSolutions::AwsSolutions-COG4",
                        "IAM (SigV4) authorization is this environment's choice: callers are AWS principals.",
                    ),
                )
            elif auth is ApiAuth.NONE and allow_unauthenticated:
                reason = "Unauthenticated API explicitly allowed by the caller (Dev only; refused in config elsewhere)."
                acknowledge(
                    method,
                    ("AwsSolutions::AwsSolutions-APIG4", reason),
                    ("AwsSolutions::AwsSolutions-COG4", reason),
                )

    def _create_user_pool(self) -> cognito.UserPool:
        retained = self._defaults.removal_policy is RemovalPolicy.RETAIN
        pool = cognito.UserPool(
            self,
            "UserPool",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_digits=True,
                require_lowercase=True,
                require_uppercase=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            deletion_protection=retained,
            removal_policy=self._defaults.removal_policy,
        )
        self.user_pool_client = pool.add_client(
            "AppClient",
            auth_flows=cognito.AuthFlow(user_srp=True),
            generate_secret=False,
            prevent_user_existence_errors=True,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
        )
        return pool

    def _add_gateway_responses(self, origins: Sequence[str]) -> None:
        """API Gateway's own errors (auth, throttling, timeouts) in the handler's error shape."""
        headers = {"Access-Control-Allow-Origin": f"'{origins[0]}'", "Vary": "'Origin'"} if len(origins) == 1 else None
        template = {
            "application/json": '{"message":$context.error.messageString,"requestId":"$context.requestId"}',
        }
        for response_id, response_type in (
            ("Default4xx", apigw.ResponseType.DEFAULT_4_XX),
            ("Default5xx", apigw.ResponseType.DEFAULT_5_XX),
        ):
            self.api.add_gateway_response(response_id, type=response_type, templates=template, response_headers=headers)

    def _acknowledge_stage_findings(self, cloud_watch_role: bool, web_acl_arn: str | None, tracing: bool) -> None:
        if cloud_watch_role:
            acknowledge(
                self.api,
                (
                    "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                    "AmazonAPIGatewayPushToCloudWatchLogs]",
                    "The account-level role API Gateway assumes to write execution logs; AWS's managed policy "
                    "is the documented one and grants only log writes.",
                ),
            )
        if not web_acl_arn:
            acknowledge(
                self.stage,
                (
                    "AwsSolutions::AwsSolutions-APIG3",
                    "No web ACL configured for this environment (pass web_acl_arn); every method is "
                    "authenticated and the stage is throttled.",
                ),
            )
        if not tracing:
            acknowledge(
                self.stage,
                ("Serverless::Serverless-APIGWXrayEnabled", "Tracing is disabled by this environment's config."),
            )

    def _create_alarms(self) -> list[cloudwatch.Alarm]:
        thresholds = self._defaults.thresholds
        path = self.node.path
        alarms = [
            threshold_alarm(
                self,
                "ServerErrorRateAlarm",
                self.metric_server_error_rate(),
                thresholds.api_5xx_rate_percent,
                f"{path}: 5XX responses above {thresholds.api_5xx_rate_percent}% of requests",
                thresholds,
            ),
            threshold_alarm(
                self,
                "LatencyAlarm",
                self.metric_latency("p99"),
                thresholds.api_p99_latency_ms,
                f"{path}: p99 latency above {thresholds.api_p99_latency_ms} ms",
                thresholds,
            ),
            threshold_alarm(
                self,
                "TableThrottlesAlarm",
                self._table_throttles(self.table),
                thresholds.dynamodb_throttles,
                f"{path}: items table requests throttled",
                thresholds,
            ),
            threshold_alarm(
                self,
                "IdempotencyTableThrottlesAlarm",
                self._table_throttles(self.idempotency_table),
                thresholds.dynamodb_throttles,
                f"{path}: idempotency table requests throttled",
                thresholds,
            ),
        ]
        warning = threshold_alarm(
            self,
            "ClientErrorRateWarning",
            self.metric_client_error_rate(),
            thresholds.api_4xx_rate_percent,
            f"WARNING {path}: 4XX responses above {thresholds.api_4xx_rate_percent}% of requests "
            "(client misuse, auth failures or throttling)",
            thresholds,
        )
        self._warning_alarms.append(warning)
        return [*alarms, warning]

    def _error_rate(self, errors: cloudwatch.Metric, label: str) -> cloudwatch.MathExpression:
        period = self._period
        return cloudwatch.MathExpression(
            expression=f"IF(requests >= {RATE_ALARM_MIN_REQUESTS}, 100 * errors / requests, 0)",
            using_metrics={"requests": self.api.metric_count(period=period, statistic="Sum"), "errors": errors},
            label=label,
            period=period,
        )

    def _table_throttles(self, table: dynamodb.ITable) -> cloudwatch.IMetric:
        operations = [*_TABLE_OPERATIONS, dynamodb.Operation.SCAN] if table is self.table else list(_TABLE_OPERATIONS)
        return table.metric_throttled_requests_for_operations(operations=operations, period=self._period)


def _validated_origins(origins: Sequence[str]) -> tuple[str, ...]:
    """Exact origins, or ``*`` alone: a typo here would silently break or widen CORS."""
    cleaned = tuple(origin.strip() for origin in origins)
    if "*" in cleaned and len(cleaned) > 1:
        raise ValueError("CORS origin '*' must be the only origin")
    for origin in cleaned:
        if origin != "*" and not _ORIGIN.fullmatch(origin):
            raise ValueError(f"CORS origin {origin!r} must look like https://host[:port], without a path")
    return cleaned


def _preflight(origins: Sequence[str]) -> apigw.CorsOptions | None:
    """Browser preflights answered by API Gateway itself (they carry no credentials to authorize)."""
    if not origins:
        return None
    return apigw.CorsOptions(
        allow_origins=list(origins),
        allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
        allow_headers=list(CORS_ALLOW_HEADERS),
        max_age=CORS_MAX_AGE,
    )


def _execution_log_level(defaults: PatternDefaults) -> apigw.MethodLoggingLevel:
    return apigw.MethodLoggingLevel.INFO if defaults.log_level.upper() == "DEBUG" else apigw.MethodLoggingLevel.ERROR
