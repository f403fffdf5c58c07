"""The REST API pieces ``ApiBackend`` assembles: access-log format, CORS preflight, user pool, gateway responses."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy, aws_apigateway as apigw, aws_cognito as cognito
from constructs import Construct

from serverless_patterns.config import PatternDefaults

CORS_ALLOW_HEADERS = (
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "If-Match",
    "X-Amz-Date",
    "X-Amz-Security-Token",
)
CORS_MAX_AGE = Duration.minutes(10)
# The app client's tokens: short-lived ID and access tokens, a month of refresh; 3 minutes to answer MFA.
TOKEN_VALIDITY = Duration.hours(1)
REFRESH_TOKEN_VALIDITY = Duration.days(30)
AUTH_SESSION_VALIDITY = Duration.minutes(3)

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


def preflight(origins: Sequence[str], allow_headers: Sequence[str] = ()) -> apigw.CorsOptions | None:
    """Browser preflights answered by API Gateway itself (they carry no credentials to authorize).

    Every method is allowed: the routes, not the preflight, decide what a path serves (your
    ``PATCH`` route answers; a method no route has is still the handler's 405).
    """
    if not origins:
        return None
    return apigw.CorsOptions(
        allow_origins=list(origins),
        allow_methods=apigw.Cors.ALL_METHODS,
        allow_headers=list(dict.fromkeys((*CORS_ALLOW_HEADERS, *allow_headers))),
        max_age=CORS_MAX_AGE,
    )


def execution_log_level(defaults: PatternDefaults) -> apigw.MethodLoggingLevel:
    """INFO when the handlers log at DEBUG, ERROR otherwise; bodies are never logged."""
    return apigw.MethodLoggingLevel.INFO if defaults.log_level.upper() == "DEBUG" else apigw.MethodLoggingLevel.ERROR


def add_gateway_responses(api: apigw.RestApi, origins: Sequence[str]) -> None:
    """API Gateway's own errors (auth, throttling, timeouts) in the handler's error shape."""
    headers = {"Access-Control-Allow-Origin": f"'{origins[0]}'", "Vary": "'Origin'"} if len(origins) == 1 else None
    template = {
        "application/json": '{"message":$context.error.messageString,"requestId":"$context.requestId"}',
    }
    for response_id, response_type in (
        ("Default4xx", apigw.ResponseType.DEFAULT_4_XX),
        ("Default5xx", apigw.ResponseType.DEFAULT_5_XX),
    ):
        api.add_gateway_response(response_id, type=response_type, templates=template, response_headers=headers)


def hardened_user_pool(scope: Construct, construct_id: str, *, defaults: PatternDefaults) -> cognito.UserPool:
    """A user pool for API callers: no self sign-up, MFA required, strong passwords, threat protection."""
    retained = defaults.removal_policy is RemovalPolicy.RETAIN
    return cognito.UserPool(
        scope,
        construct_id,
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
        removal_policy=defaults.removal_policy,
    )


def app_client(pool: cognito.UserPool) -> cognito.UserPoolClient:
    """The API clients' app client, every setting explicit rather than CDK's defaults.

    Clients sign in with SRP (``USER_SRP_AUTH``, the Amplify/SDK flow: the password never leaves
    the client) and renew with refresh tokens; nothing else. OAuth is off: no implicit grant, no
    authorization-code flow, no hosted-UI scopes (``aws.cognito.signin.user.admin`` would let a token
    change its own user's attributes), no callback URL. An app that needs the hosted UI brings its
    pool (``existing_user_pool``) with a client registered for its real callback URLs. No secret
    (public clients cannot keep one); revoked refresh tokens stop working at once; a wrong user name
    answers like a wrong password.
    """
    return pool.add_client(
        "AppClient",
        auth_flows=cognito.AuthFlow(user_srp=True),
        disable_o_auth=True,
        supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
        generate_secret=False,
        prevent_user_existence_errors=True,
        enable_token_revocation=True,
        auth_session_validity=AUTH_SESSION_VALIDITY,
        id_token_validity=TOKEN_VALIDITY,
        access_token_validity=TOKEN_VALIDITY,
        refresh_token_validity=REFRESH_TOKEN_VALIDITY,
    )
