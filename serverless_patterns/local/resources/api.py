"""API Gateway deployments, methods, stages, authorizers, validators, models, responses, usage plans."""

from __future__ import annotations

from typing import Any

from serverless_patterns.local.cloudformation import Emulated, ResourceContext, emulates, recorded
from serverless_patterns.local.resources.common import as_json, camel

# -- API Gateway -------------------------------------------------------------------------


@emulates("AWS::ApiGateway::Deployment")
def api_deployment(ctx: ResourceContext) -> Emulated:
    """Create the deployment; Ref is its id (moto's model returns itself)."""
    props = ctx.properties
    kwargs: dict[str, Any] = {"restApiId": props["RestApiId"], "description": props.get("Description", "")}
    if props.get("StageName"):
        kwargs["stageName"] = props["StageName"]
    deployment_id = ctx.client("apigateway").create_deployment(**kwargs)["id"]
    return Emulated(deployment_id, {"DeploymentId": deployment_id})


@emulates("AWS::ApiGateway::Method")
def api_method(ctx: ResourceContext) -> Emulated:
    """PutMethod and PutIntegration (moto's model rejects MOCK integrations such as CORS preflights)."""
    props = ctx.properties
    client = ctx.client("apigateway")
    target = {"restApiId": props["RestApiId"], "resourceId": props["ResourceId"], "httpMethod": props["HttpMethod"]}
    method: dict[str, Any] = {"authorizationType": props.get("AuthorizationType", "NONE")}
    for source, name in (
        ("AuthorizerId", "authorizerId"),
        ("ApiKeyRequired", "apiKeyRequired"),
        ("RequestParameters", "requestParameters"),
        ("RequestValidatorId", "requestValidatorId"),
        ("RequestModels", "requestModels"),
        ("OperationName", "operationName"),
    ):
        if source in props:
            method[name] = props[source]
    client.put_method(**target, **method)
    for response in props.get("MethodResponses", []):
        client.put_method_response(
            **target,
            statusCode=str(response["StatusCode"]),
            responseParameters=response.get("ResponseParameters", {}),
        )
    integration = props.get("Integration")
    if integration:
        spec: dict[str, Any] = {"type": integration["Type"]}
        for source, name in (
            ("IntegrationHttpMethod", "integrationHttpMethod"),
            ("Uri", "uri"),
            ("RequestTemplates", "requestTemplates"),
            ("RequestParameters", "requestParameters"),
            ("PassthroughBehavior", "passthroughBehavior"),
            ("Credentials", "credentials"),
            ("TimeoutInMillis", "timeoutInMillis"),
        ):
            if source in integration:
                spec[name] = integration[source]
        client.put_integration(**target, **spec)
        for response in integration.get("IntegrationResponses", []):
            client.put_integration_response(
                **target,
                statusCode=str(response["StatusCode"]),
                responseParameters=response.get("ResponseParameters", {}),
                responseTemplates=response.get("ResponseTemplates", {}),
            )
    return Emulated(f"{props['RestApiId']}-{props['ResourceId']}-{props['HttpMethod']}")


@emulates("AWS::ApiGateway::Stage")
def api_stage(ctx: ResourceContext) -> Emulated:
    """Create the stage of the deployment (moto's Deployment model creates none without a name)."""
    props = ctx.properties
    kwargs: dict[str, Any] = {
        "restApiId": props["RestApiId"],
        "stageName": props["StageName"],
        "deploymentId": props["DeploymentId"],
        "tracingEnabled": bool(props.get("TracingEnabled", False)),
    }
    if props.get("Variables"):
        kwargs["variables"] = props["Variables"]
    if props.get("Description"):
        kwargs["description"] = props["Description"]
    ctx.client("apigateway").create_stage(**kwargs)
    throttles = [
        f"{s.get('ThrottlingRateLimit')}/s burst {s.get('ThrottlingBurstLimit')}"
        for s in props.get("MethodSettings", [])
        if "ThrottlingRateLimit" in s
    ]
    detail = f"throttle {', '.join(throttles)} (configured, not enforced)" if throttles else ""
    return Emulated(str(props["StageName"]), detail=detail)


@emulates("AWS::ApiGateway::Authorizer")
def api_authorizer(ctx: ResourceContext) -> Emulated:
    """Create the authorizer (requests are treated as already authorized: see apigateway.py)."""
    props = ctx.properties
    kwargs: dict[str, Any] = {
        "restApiId": props["RestApiId"],
        "name": props.get("Name", ctx.logical_id),
        "type": props["Type"],
    }
    for source, target in (
        ("ProviderARNs", "providerARNs"),
        ("AuthorizerUri", "authorizerUri"),
        ("IdentitySource", "identitySource"),
        ("AuthorizerResultTtlInSeconds", "authorizerResultTtlInSeconds"),
    ):
        if source in props:
            kwargs[target] = props[source]
    response = ctx.client("apigateway").create_authorizer(**kwargs)
    return Emulated(response["id"], {"AuthorizerId": response["id"]})


@emulates("AWS::ApiGateway::RequestValidator")
def api_request_validator(ctx: ResourceContext) -> Emulated:
    """Create the validator (requests are not validated against it locally)."""
    props = ctx.properties
    response = ctx.client("apigateway").create_request_validator(
        restApiId=props["RestApiId"],
        name=props.get("Name", ctx.logical_id),
        validateRequestBody=bool(props.get("ValidateRequestBody", False)),
        validateRequestParameters=bool(props.get("ValidateRequestParameters", False)),
    )
    return Emulated(response["id"], {"RequestValidatorId": response["id"]}, detail="not enforced locally")


@emulates("AWS::ApiGateway::Model")
def api_model(ctx: ResourceContext) -> Emulated:
    """Create the model."""
    props = ctx.properties
    name = str(props.get("Name") or ctx.logical_id)
    ctx.client("apigateway").create_model(
        restApiId=props["RestApiId"],
        name=name,
        schema=as_json(props.get("Schema", {})),
        contentType=props.get("ContentType", "application/json"),
    )
    return Emulated(name)


@emulates("AWS::ApiGateway::GatewayResponse")
def api_gateway_response(ctx: ResourceContext) -> Emulated:
    """Put the gateway response."""
    props = ctx.properties
    kwargs: dict[str, Any] = {"restApiId": props["RestApiId"], "responseType": props["ResponseType"]}
    for source, target in (
        ("StatusCode", "statusCode"),
        ("ResponseParameters", "responseParameters"),
        ("ResponseTemplates", "responseTemplates"),
    ):
        if source in props:
            kwargs[target] = props[source]
    ctx.client("apigateway").put_gateway_response(**kwargs)
    return Emulated(ctx.physical_name)


@emulates("AWS::ApiGateway::UsagePlan")
def api_usage_plan(ctx: ResourceContext) -> Emulated:
    """Create the usage plan (quotas and throttles are not enforced locally)."""
    props = ctx.properties
    kwargs: dict[str, Any] = {"name": props.get("UsagePlanName", ctx.physical_name)}
    if props.get("ApiStages"):
        kwargs["apiStages"] = [{"apiId": s["ApiId"], "stage": s["Stage"]} for s in props["ApiStages"]]
    if props.get("Throttle"):
        kwargs["throttle"] = camel(props["Throttle"])
    if props.get("Quota"):
        kwargs["quota"] = camel(props["Quota"])
    response = ctx.client("apigateway").create_usage_plan(**kwargs)
    return Emulated(response["id"], detail="not enforced locally")


@emulates("AWS::ApiGateway::Account")
def api_account(ctx: ResourceContext) -> Emulated:
    """Account-wide CloudWatch role of API Gateway: nothing to create locally."""
    return recorded(ctx, "account setting")
