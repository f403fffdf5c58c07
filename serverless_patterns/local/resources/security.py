"""KMS keys, Secrets Manager secrets, Cognito user pools, WAF web ACLs (recorded), CDK metadata."""

from __future__ import annotations

import json
from typing import Any

from serverless_patterns.local.cloudformation import RECORDED, Emulated, ResourceContext, emulates, recorded
from serverless_patterns.local.resources.common import as_json

# -- KMS ---------------------------------------------------------------------------------


@emulates("AWS::KMS::Key")
def kms_key(ctx: ResourceContext) -> Emulated:
    """CreateKey with the template's key policy as a JSON document (moto's model stores the raw object)."""
    props = ctx.properties
    client = ctx.client("kms")
    kwargs: dict[str, Any] = {
        "KeyUsage": props.get("KeyUsage", "ENCRYPT_DECRYPT"),
        "KeySpec": props.get("KeySpec", "SYMMETRIC_DEFAULT"),
        "MultiRegion": bool(props.get("MultiRegion", False)),
    }
    if props.get("KeyPolicy"):
        kwargs["Policy"] = as_json(props["KeyPolicy"])
    if props.get("Description"):
        kwargs["Description"] = props["Description"]
    if props.get("Tags"):
        kwargs["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in props["Tags"]]
    metadata = client.create_key(**kwargs)["KeyMetadata"]
    key_id = metadata["KeyId"]
    if props.get("EnableKeyRotation"):
        client.enable_key_rotation(KeyId=key_id)
    if props.get("Enabled") is False:
        client.disable_key(KeyId=key_id)
    return Emulated(key_id, {"Arn": metadata["Arn"], "KeyId": key_id})


# -- Secrets, Cognito, auto scaling ------------------------------------------------------


@emulates("AWS::SecretsManager::Secret")
def secret(ctx: ResourceContext) -> Emulated:
    """Create the secret, generating its value like GenerateSecretString does."""
    props = ctx.properties
    client = ctx.client("secretsmanager")
    value = props.get("SecretString")
    generate = props.get("GenerateSecretString")
    if value is None and generate is not None:
        options = {
            k: generate[k]
            for k in (
                "PasswordLength",
                "ExcludeCharacters",
                "ExcludeNumbers",
                "ExcludePunctuation",
                "ExcludeUppercase",
                "ExcludeLowercase",
                "IncludeSpace",
                "RequireEachIncludedType",
            )
            if k in generate
        }
        password = client.get_random_password(**options)["RandomPassword"]
        if generate.get("SecretStringTemplate") and generate.get("GenerateStringKey"):
            document = json.loads(generate["SecretStringTemplate"])
            document[generate["GenerateStringKey"]] = password
            value = json.dumps(document)
        else:
            value = password
    kwargs: dict[str, Any] = {"Name": str(props.get("Name") or ctx.physical_name)}
    if value is not None:
        kwargs["SecretString"] = value
    for key in ("Description", "KmsKeyId"):
        if key in props:
            kwargs[key] = props[key]
    arn = client.create_secret(**kwargs)["ARN"]
    return Emulated(arn, {"Id": arn})


@emulates(
    "AWS::SecretsManager::RotationSchedule",
    "AWS::SecretsManager::ResourcePolicy",
    "AWS::SecretsManager::SecretTargetAttachment",
)
def secret_setting(ctx: ResourceContext) -> Emulated:
    """Secret settings with no local effect."""
    return recorded(ctx, "secret setting, no local effect")


@emulates("AWS::Cognito::UserPool")
def user_pool(ctx: ResourceContext) -> Emulated:
    """Create the user pool (API requests are treated as already authenticated)."""
    name = str(ctx.properties.get("UserPoolName") or ctx.physical_name)
    pool = ctx.client("cognito-idp").create_user_pool(PoolName=name)["UserPool"]
    provider = f"cognito-idp.{ctx.region}.amazonaws.com/{pool['Id']}"
    return Emulated(
        pool["Id"],
        {"Arn": pool["Arn"], "UserPoolId": pool["Id"], "ProviderName": provider, "ProviderURL": f"https://{provider}"},
    )


@emulates("AWS::Cognito::UserPoolClient")
def user_pool_client(ctx: ResourceContext) -> Emulated:
    """Create the app client."""
    props = ctx.properties
    kwargs: dict[str, Any] = {
        "UserPoolId": props["UserPoolId"],
        "ClientName": props.get("ClientName", ctx.logical_id),
        "GenerateSecret": bool(props.get("GenerateSecret", False)),
    }
    for key in (
        "ExplicitAuthFlows",
        "AllowedOAuthFlows",
        "AllowedOAuthScopes",
        "CallbackURLs",
        "SupportedIdentityProviders",
    ):
        if key in props:
            kwargs[key] = props[key]
    client = ctx.client("cognito-idp").create_user_pool_client(**kwargs)["UserPoolClient"]
    return Emulated(
        client["ClientId"], {"ClientId": client["ClientId"], "ClientSecret": client.get("ClientSecret", "")}
    )


@emulates("AWS::Cognito::UserPoolDomain", "AWS::Cognito::UserPoolGroup", "AWS::Cognito::UserPoolResourceServer")
def user_pool_setting(ctx: ResourceContext) -> Emulated:
    """User pool settings with no local effect."""
    return recorded(ctx, "user pool setting, no local effect")


@emulates("AWS::WAFv2::WebACL")
def web_acl(ctx: ResourceContext) -> Emulated:
    """Recorded: requests are not filtered by WAF locally."""
    name = str(ctx.properties.get("Name") or ctx.physical_name)
    scope = "global" if ctx.properties.get("Scope") == "CLOUDFRONT" else "regional"
    arn = ctx.arn("wafv2", f"{scope}/webacl/{name}/{ctx.logical_id}")
    detail = "WAF rules are not evaluated locally: requests reach the API unfiltered"
    return Emulated(arn, {"Arn": arn, "Id": ctx.logical_id}, outcome=RECORDED, detail=detail)


@emulates("AWS::WAFv2::WebACLAssociation")
def web_acl_association(ctx: ResourceContext) -> Emulated:
    """Recorded: see AWS::WAFv2::WebACL."""
    return recorded(ctx, "WAF rules are not evaluated locally")


@emulates("AWS::CDK::Metadata")
def cdk_metadata(ctx: ResourceContext) -> Emulated:
    """CDK's version-reporting resource: no AWS resource behind it."""
    return recorded(ctx, "CDK metadata")
