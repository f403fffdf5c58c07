"""What makes a pattern behave the same in anyone's app: feature flags, unique services, account singletons.

- **Feature flags.** A CDK app's ``cdk.json`` decides many defaults through feature flags; an app
  created long ago, or without ``cdk init``, lacks the recent ones. The patterns set the flags
  their resources depend on for their own subtree (:func:`pin_feature_flags`), so they synthesize
  the same way in every app.
- **Services.** A pattern's handlers write their business metrics under the ``service``
  dimension, and its alarms watch those metrics: two instances sharing a service in one
  namespace would page for each other. :func:`claim_service` gives each instance its own
  (the construct id in kebab case by default) and refuses a repeat within one Stage.
- **Account singletons.** API Gateway's CloudWatch role is one setting per account and region
  (``AWS::ApiGateway::Account``): :func:`api_gateway_account` creates it once per stack, however
  many APIs the stack holds.
"""

from __future__ import annotations

import re

from aws_cdk import RemovalPolicy, Stack, Stage, aws_apigateway as apigw, aws_iam as iam
from constructs import Construct

from serverless_patterns.constructs.compliance import acknowledge

# Flags whose pre-flag behaviour breaks or weakens a pattern's resources.
PINNED_FEATURE_FLAGS = {
    # Without it, a bucket logging to an access-logs bucket gives that bucket the LogDeliveryWrite
    # ACL, which bucket-owner-enforced ownership (our secure default) forbids; with it, the S3
    # logging service is allowed by bucket policy instead.
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
}
_SERVICE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_REGISTRY_ATTRIBUTE = "_serverless_patterns_services"
ACCOUNT_SINGLETON_ID = "ServerlessPatternsApiGatewayAccount"


def pin_feature_flags(construct: Construct) -> None:
    """Set the feature flags the patterns depend on for ``construct``'s subtree (call it first)."""
    for flag, value in PINNED_FEATURE_FLAGS.items():
        construct.node.set_context(flag, value)


def kebab(construct_id: str) -> str:
    """``OrderWorkflow`` -> ``order-workflow``, ``API2`` -> ``api2``."""
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1-\2", construct_id))
    return re.sub(r"[^a-z0-9]+", "-", words.lower()).strip("-")[:63] or "service"


def claim_service(construct: Construct, service: str | None, *, namespace: str) -> str:
    """The construct's Powertools service name: ``service``, or its id in kebab case; unique per namespace in its Stage.

    :param construct: the pattern claiming the name.
    :param service: the name asked for, or None for the default.
    :param namespace: the metrics namespace the name is unique in.
    """
    name = kebab(construct.node.id) if service is None else service
    if not isinstance(name, str) or not _SERVICE.fullmatch(name):
        raise ValueError(
            f"{type(construct).__name__} {construct.node.path}: service {name!r} must be lowercase letters, digits "
            "and hyphens (at most 63), e.g. 'orders-api'"
        )
    scope = Stage.of(construct) or construct.node.root
    registry: dict[tuple[str, str], str] = getattr(scope, _REGISTRY_ATTRIBUTE, None) or {}
    setattr(scope, _REGISTRY_ATTRIBUTE, registry)
    holder = registry.get((namespace, name))
    if holder is not None and holder != construct.node.path:
        raise ValueError(
            f"{type(construct).__name__} {construct.node.path}: service {name!r} is already used by {holder} in "
            f"namespace {namespace!r}; their metrics and alarms would mix. Give each a service of its own (service=...)"
        )
    registry[(namespace, name)] = construct.node.path
    return name


def api_gateway_account(scope: Construct) -> apigw.CfnAccount:
    """The stack's one ``AWS::ApiGateway::Account`` with the role API Gateway writes execution logs with.

    Both are retained on deletion: the setting belongs to the account and region, and other APIs
    may rely on it after this stack is gone.
    """
    stack = Stack.of(scope)
    existing = stack.node.try_find_child(ACCOUNT_SINGLETON_ID)
    if existing is not None:
        return existing.node.find_child("Resource")  # type: ignore[return-value]
    holder = Construct(stack, ACCOUNT_SINGLETON_ID)
    role = iam.Role(
        holder,
        "CloudWatchRole",
        assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
        managed_policies=[
            iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AmazonAPIGatewayPushToCloudWatchLogs")
        ],
        description="API Gateway writes REST APIs' execution logs with this role (account-level setting)",
    )
    role.apply_removal_policy(RemovalPolicy.RETAIN)
    acknowledge(
        role,
        (
            "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs]",
            "The account-level role API Gateway assumes to write execution logs; AWS's managed policy is the "
            "documented one and grants only log writes.",
        ),
    )
    account = apigw.CfnAccount(holder, "Resource", cloud_watch_role_arn=role.role_arn)
    account.apply_removal_policy(RemovalPolicy.RETAIN)
    return account
