"""How ApiBackend's parts are wired: the cursor-signing secret, the handler's access, the proxy
methods and their authorization, and the stage findings acknowledged (``ApiBackend`` calls these on itself)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import (
    Duration,
    aws_apigateway as apigw,
    aws_cognito as cognito,
    aws_iam as iam,
    aws_secretsmanager as secretsmanager,
)
from constructs import Construct

from serverless_patterns.config import ApiAuth, PatternDefaults
from serverless_patterns.constructs.api_gateway_parts import app_client, hardened_user_pool
from serverless_patterns.constructs.compliance import acknowledge

if TYPE_CHECKING:
    from serverless_patterns.constructs.api_backend import ApiBackend


def create_cursor_secret(scope: Construct, defaults: PatternDefaults) -> secretsmanager.Secret:
    """The generated key (``CursorSigningKey`` in ``scope``) that signs page cursors."""
    secret = secretsmanager.Secret(
        scope,
        "CursorSigningKey",
        description=f"HMAC key that signs the page cursors of {scope.node.path}",
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


def grant_handler_access(backend: ApiBackend) -> None:
    """Exactly the calls the handler makes: no BatchWrite, Query, or table-level admin."""
    role = backend.handler.role
    backend.table.grant(
        role,
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:Scan",
    )
    backend.idempotency_table.grant(
        role, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"
    )
    # GetSecretValue only: Secret.grant_read adds DescribeSecret, which Powertools' get_secret never calls.
    secret = backend.cursor_secret
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["secretsmanager:GetSecretValue"],
            resources=[secret.secret_full_arn or f"{secret.secret_arn}-??????"],
        )
    )
    if secret.encryption_key is not None:
        secret.encryption_key.grant_decrypt(role)


def add_proxy_methods(
    backend: ApiBackend,
    auth: ApiAuth,
    existing_user_pool: cognito.IUserPool | None,
    defaults: PatternDefaults,
) -> tuple[cognito.IUserPool | None, cognito.UserPoolClient | None]:
    """``ANY /`` and ``ANY /{proxy+}`` to the alias, authenticated and validated.

    :returns: the user pool the methods accept tokens of and the app client created with it
        (``None`` each when they do not apply).
    """
    integration = apigw.LambdaIntegration(backend.alias, proxy=True, allow_test_invoke=False)
    validator = backend.api.add_request_validator(
        "RequestValidator", validate_request_body=True, validate_request_parameters=True
    )
    user_pool: cognito.IUserPool | None = None
    user_pool_client: cognito.UserPoolClient | None = None
    authorizer: apigw.IAuthorizer | None = None
    authorization_type = apigw.AuthorizationType.IAM
    if auth is ApiAuth.COGNITO:
        if existing_user_pool is None:
            pool = hardened_user_pool(backend, "UserPool", defaults=defaults)
            user_pool_client = app_client(pool)
        user_pool = existing_user_pool or pool
        authorizer = apigw.CognitoUserPoolsAuthorizer(
            backend, "Authorizer", cognito_user_pools=[user_pool], results_cache_ttl=Duration.minutes(5)
        )
        authorization_type = apigw.AuthorizationType.COGNITO
    elif auth is ApiAuth.NONE:
        authorization_type = apigw.AuthorizationType.NONE

    methods = [
        backend.api.root.add_method(
            "ANY",
            integration,
            authorization_type=authorization_type,
            authorizer=authorizer,
            request_validator=validator,
        ),
        backend.api.root.add_resource("{proxy+}").add_method(
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
        elif auth is ApiAuth.NONE:
            reason = "An open API in a development environment (PatternDefaults.development); refused elsewhere."
            acknowledge(
                method,
                ("AwsSolutions::AwsSolutions-APIG4", reason),
                ("AwsSolutions::AwsSolutions-COG4", reason),
            )
    return user_pool, user_pool_client


def acknowledge_stage_findings(backend: ApiBackend, tracing: bool) -> None:
    """Why the stage may have no web ACL, or no tracing, recorded on it for the compliance checks."""
    if not backend.web_acl_arn:
        settings = backend.settings
        why = (
            "turned off (ApiSettings.web_acl=False)"
            if settings.web_acl is False
            else "a development environment (PatternDefaults.development), where none is created by default"
        )
        callers = {
            ApiAuth.IAM: "every method needs SigV4 (IAM) credentials",
            ApiAuth.COGNITO: "every method needs a Cognito user pool token",
            ApiAuth.NONE: "the API is open (ApiAuth.NONE, development environments only)",
        }[settings.auth]
        acknowledge(
            backend.stage,
            (
                "AwsSolutions::AwsSolutions-APIG3",
                f"No web ACL: {why}. The stage is throttled ({settings.throttle_rate} requests/s) and {callers}.",
            ),
        )
    if not tracing:
        acknowledge(
            backend.stage,
            ("Serverless::Serverless-APIGWXrayEnabled", "Tracing is disabled by this environment's config."),
        )
