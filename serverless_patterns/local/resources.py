"""Emulators for the resource types moto's CloudFormation lacks or gets wrong for this app.

Each function gets the resolved properties of one resource and creates it through the
service's API in moto, returning the physical id (what Ref gives) and the GetAtt
attributes. Types with no API in moto are *recorded*: references resolve, and the report
says they exist only on paper. Importing this module registers them.
"""

from __future__ import annotations

import json
from typing import Any

from moto.sqs.models import sqs_backends

from serverless_patterns.local.async_invoke import InvokeConfig
from serverless_patterns.local.cloudformation import RECORDED, Emulated, ResourceContext, emulates, recorded
from serverless_patterns.local.event_sources import SqsMapping
from serverless_patterns.local.lambda_runtime import split_function


def _json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _camel(value: Any) -> Any:
    """CloudFormation's PascalCase keys -> the camelCase keys of the JSON APIs (recursively)."""
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


# -- Lambda ------------------------------------------------------------------------------


@emulates("AWS::Lambda::Version")
def lambda_version(ctx: ResourceContext) -> Emulated:
    """Publish a version; Ref is the version ARN (moto's model returns itself instead)."""
    response = ctx.client("lambda").publish_version(
        FunctionName=ctx.properties["FunctionName"], Description=ctx.properties.get("Description", "")
    )
    detail = ""
    provisioned = ctx.properties.get("ProvisionedConcurrencyConfig", {}).get("ProvisionedConcurrentExecutions")
    if provisioned:
        detail = f"provisioned concurrency {provisioned} (configured, not simulated)"
    return Emulated(
        response["FunctionArn"], {"Version": response["Version"], "FunctionArn": response["FunctionArn"]}, detail=detail
    )


@emulates("AWS::Lambda::Alias")
def lambda_alias(ctx: ResourceContext) -> Emulated:
    """Create the alias; Ref is the alias ARN, and invoking it runs the aliased version."""
    props = ctx.properties
    kwargs: dict[str, Any] = {
        "FunctionName": props["FunctionName"],
        "Name": props["Name"],
        "FunctionVersion": str(props["FunctionVersion"]),
        "Description": props.get("Description", ""),
    }
    if props.get("RoutingConfig"):
        kwargs["RoutingConfig"] = props["RoutingConfig"]
    response = ctx.client("lambda").create_alias(**kwargs)
    provisioned = props.get("ProvisionedConcurrencyConfig", {}).get("ProvisionedConcurrentExecutions")
    detail = f"provisioned concurrency {provisioned} (configured, not simulated)" if provisioned else ""
    return Emulated(response["AliasArn"], {"AliasArn": response["AliasArn"]}, detail=detail)


@emulates("AWS::Lambda::EventInvokeConfig")
def event_invoke_config(ctx: ResourceContext) -> Emulated:
    """Register retries, event age and destinations for the async invoker."""
    name, _ = split_function(str(ctx.properties["FunctionName"]))
    qualifier = str(ctx.properties.get("Qualifier", "$LATEST"))
    config = InvokeConfig.from_properties(ctx.properties)
    ctx.state.invoke_configs[(name, qualifier)] = config
    return Emulated(
        f"{name}:{qualifier}",
        detail=f"{config.max_retry_attempts} retries, on failure -> {config.on_failure or 'nothing'}",
    )


@emulates("AWS::Lambda::EventSourceMapping")
def event_source_mapping(ctx: ResourceContext) -> Any:
    """SQS mappings run on the local poller (moto's synchronous delivery is detached)."""
    source = str(ctx.properties["EventSourceArn"])
    if source.split(":")[2] != "sqs":
        if ctx.moto_create is None:
            raise ValueError(f"no event source support for {source}")
        return ctx.moto_create()
    response = ctx.client("lambda").create_event_source_mapping(
        EventSourceArn=source,
        FunctionName=ctx.properties["FunctionName"],
        BatchSize=int(ctx.properties.get("BatchSize", 10)),
        Enabled=bool(ctx.properties.get("Enabled", True)),
    )
    for queue in sqs_backends[ctx.account_id][ctx.region].queues.values():
        if queue.queue_arn == source:
            queue.lambda_event_source_mappings.clear()
    mapping = SqsMapping.from_properties(response["UUID"], ctx.properties)
    ctx.state.sqs_mappings.append(mapping)
    return Emulated(
        response["UUID"],
        {"Id": response["UUID"], "EventSourceMappingArn": response.get("EventSourceMappingArn", "")},
        detail=f"batch {mapping.batch_size}, window {mapping.batching_window_seconds}s, "
        f"max concurrency {mapping.maximum_concurrency}, partial failures {mapping.report_batch_item_failures}",
    )


# -- Step Functions ----------------------------------------------------------------------


@emulates("AWS::StepFunctions::StateMachine")
def state_machine(ctx: ResourceContext) -> Emulated:
    """Create it in the executing backend, so its executions really run."""
    props = ctx.properties
    definition = props.get("DefinitionString") or json.dumps(props.get("Definition", {}))
    for key, value in (props.get("DefinitionSubstitutions") or {}).items():
        definition = definition.replace("${" + key + "}", str(value))
    name = str(props.get("StateMachineName") or ctx.physical_name)[:80]
    kwargs: dict[str, Any] = {
        "name": name,
        "definition": definition,
        "roleArn": props["RoleArn"],
        "type": props.get("StateMachineType", "STANDARD"),
    }
    if props.get("LoggingConfiguration"):
        kwargs["loggingConfiguration"] = _camel(props["LoggingConfiguration"])
    if props.get("TracingConfiguration"):
        kwargs["tracingConfiguration"] = _camel(props["TracingConfiguration"])
    arn = ctx.client("stepfunctions").create_state_machine(**kwargs)["stateMachineArn"]
    return Emulated(arn, {"Arn": arn, "Name": name})


# -- S3 ----------------------------------------------------------------------------------


@emulates("Custom::S3BucketNotifications")
def bucket_notifications(ctx: ResourceContext) -> Emulated:
    """What CDK's notifications handler does: put the bucket's notification configuration."""
    config = ctx.properties.get("NotificationConfiguration") or {}
    ctx.client("s3").put_bucket_notification_configuration(
        Bucket=ctx.properties["BucketName"], NotificationConfiguration=config, SkipDestinationValidation=True
    )
    targets = sum(len(config.get(k, [])) for k in config)
    return Emulated(ctx.physical_name, detail=f"{targets} notification target(s) applied")


@emulates("AWS::S3::BucketPolicy")
def bucket_policy(ctx: ResourceContext) -> Emulated:
    """Attach the policy to the bucket."""
    ctx.client("s3").put_bucket_policy(Bucket=ctx.properties["Bucket"], Policy=_json(ctx.properties["PolicyDocument"]))
    return Emulated(ctx.physical_name)


# -- DynamoDB ----------------------------------------------------------------------------


@emulates("AWS::DynamoDB::GlobalTable")
def global_table(ctx: ResourceContext) -> Emulated:
    """TableV2 synthesizes a GlobalTable: create the table of this region's replica."""
    props = ctx.properties
    replicas = props.get("Replicas") or [{}]
    replica = next((r for r in replicas if r.get("Region") in (None, ctx.region)), replicas[0])
    name = str(props.get("TableName") or ctx.physical_name)[:255]
    billing = props.get("BillingMode", "PAY_PER_REQUEST")
    kwargs: dict[str, Any] = {
        "TableName": name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": billing,
    }
    throughput = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    if billing == "PROVISIONED":
        kwargs["ProvisionedThroughput"] = throughput
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        indexes = [
            {k: v for k, v in index.items() if k in ("IndexName", "KeySchema", "Projection")}
            | ({"ProvisionedThroughput": throughput} if billing == "PROVISIONED" and key.startswith("Global") else {})
            for index in props.get(key, [])
        ]
        if indexes:
            kwargs[key] = indexes
    if props.get("StreamSpecification"):
        kwargs["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    if replica.get("DeletionProtectionEnabled") is not None:
        kwargs["DeletionProtectionEnabled"] = bool(replica["DeletionProtectionEnabled"])
    if replica.get("Tags"):
        kwargs["Tags"] = replica["Tags"]
    client = ctx.client("dynamodb")
    table = client.create_table(**kwargs)["TableDescription"]
    ttl = props.get("TimeToLiveSpecification") or {}
    if ttl.get("Enabled"):
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]}
        )
    pitr = (replica.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled")
    if pitr:
        client.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    attributes = {"Arn": table["TableArn"], "TableId": table.get("TableId", name)}
    if table.get("LatestStreamArn"):
        attributes["StreamArn"] = table["LatestStreamArn"]
    return Emulated(name, attributes)


# -- SNS / SQS ---------------------------------------------------------------------------


@emulates("AWS::SNS::Subscription")
def sns_subscription(ctx: ResourceContext) -> Emulated:
    """Subscribe (e-mail subscriptions stay pending, as on AWS)."""
    props = ctx.properties
    attributes = {
        key: _json(props[key])
        if key in ("RedrivePolicy", "FilterPolicy", "DeliveryPolicy")
        else str(props[key]).lower()
        for key in ("RedrivePolicy", "FilterPolicy", "FilterPolicyScope", "DeliveryPolicy", "RawMessageDelivery")
        if key in props
    }
    if "FilterPolicyScope" in attributes:
        attributes["FilterPolicyScope"] = str(props["FilterPolicyScope"])
    response = ctx.client("sns").subscribe(
        TopicArn=props["TopicArn"],
        Protocol=props["Protocol"],
        Endpoint=props.get("Endpoint", ""),
        Attributes=attributes,
        ReturnSubscriptionArn=True,
    )
    return Emulated(response["SubscriptionArn"], {"Arn": response["SubscriptionArn"]})


@emulates("AWS::SNS::TopicPolicy")
def topic_policy(ctx: ResourceContext) -> Emulated:
    """Set the policy on every listed topic."""
    for topic in ctx.properties.get("Topics", []):
        ctx.client("sns").set_topic_attributes(
            TopicArn=topic, AttributeName="Policy", AttributeValue=_json(ctx.properties["PolicyDocument"])
        )
    return Emulated(ctx.physical_name)


@emulates("AWS::SQS::QueuePolicy")
def queue_policy(ctx: ResourceContext) -> Emulated:
    """Set the policy on every listed queue (moto's CloudFormation skips this type)."""
    for url in ctx.properties.get("Queues", []):
        ctx.client("sqs").set_queue_attributes(
            QueueUrl=url, Attributes={"Policy": _json(ctx.properties["PolicyDocument"])}
        )
    return Emulated(ctx.physical_name)


# -- CloudWatch and Logs -----------------------------------------------------------------

_ALARM_KEYS = (
    "AlarmDescription",
    "ActionsEnabled",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Dimensions",
    "Period",
    "Unit",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
    "Metrics",
    "ThresholdMetricId",
)


@emulates("AWS::CloudWatch::Alarm")
def metric_alarm(ctx: ResourceContext) -> Emulated:
    """PutMetricAlarm with the template's settings."""
    name = str(ctx.properties.get("AlarmName") or ctx.physical_name)
    kwargs = {key: ctx.properties[key] for key in _ALARM_KEYS if key in ctx.properties}
    for key in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
        if key in kwargs:
            kwargs[key] = int(kwargs[key])
    if "Threshold" in kwargs:
        kwargs["Threshold"] = float(kwargs["Threshold"])
    ctx.client("cloudwatch").put_metric_alarm(AlarmName=name, **kwargs)
    return Emulated(name, {"Arn": ctx.arn("cloudwatch", f"alarm:{name}")})


@emulates("AWS::CloudWatch::CompositeAlarm")
def composite_alarm(ctx: ResourceContext) -> Emulated:
    """moto has no PutCompositeAlarm: recorded, with its rule."""
    name = str(ctx.properties.get("AlarmName") or ctx.physical_name)
    return Emulated(
        name,
        {"Arn": ctx.arn("cloudwatch", f"alarm:{name}")},
        outcome=RECORDED,
        detail=f"rule: {str(ctx.properties.get('AlarmRule', ''))[:80]}",
    )


@emulates("AWS::Logs::QueryDefinition")
def query_definition(ctx: ResourceContext) -> Emulated:
    """moto has no PutQueryDefinition: recorded, with its name."""
    return recorded(ctx, f"query {ctx.properties.get('Name', '')}", {"QueryDefinitionId": ctx.physical_name})


@emulates("AWS::Logs::MetricFilter")
def metric_filter(ctx: ResourceContext) -> Emulated:
    """PutMetricFilter (the emulator does not turn log lines into metrics)."""
    props = ctx.properties
    name = str(props.get("FilterName") or ctx.physical_name)
    ctx.client("logs").put_metric_filter(
        logGroupName=props["LogGroupName"],
        filterName=name,
        filterPattern=props.get("FilterPattern", ""),
        metricTransformations=_camel(props["MetricTransformations"]),
    )
    return Emulated(name, detail="metrics are not extracted locally")


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
        schema=_json(props.get("Schema", {})),
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
        kwargs["throttle"] = _camel(props["Throttle"])
    if props.get("Quota"):
        kwargs["quota"] = _camel(props["Quota"])
    response = ctx.client("apigateway").create_usage_plan(**kwargs)
    return Emulated(response["id"], detail="not enforced locally")


@emulates("AWS::ApiGateway::Account")
def api_account(ctx: ResourceContext) -> Emulated:
    """Account-wide CloudWatch role of API Gateway: nothing to create locally."""
    return recorded(ctx, "account setting")


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
        kwargs["Policy"] = _json(props["KeyPolicy"])
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


@emulates("AWS::ApplicationAutoScaling::ScalableTarget")
def scalable_target(ctx: ResourceContext) -> Emulated:
    """Register the target (scaling itself is not simulated)."""
    props = ctx.properties
    ctx.client("application-autoscaling").register_scalable_target(
        ServiceNamespace=props["ServiceNamespace"],
        ResourceId=props["ResourceId"],
        ScalableDimension=props["ScalableDimension"],
        MinCapacity=int(props["MinCapacity"]),
        MaxCapacity=int(props["MaxCapacity"]),
    )
    physical = f"{props['ResourceId']}|{props['ScalableDimension']}|{props['ServiceNamespace']}"
    return Emulated(physical, detail=f"{props['MinCapacity']}..{props['MaxCapacity']} (not simulated)")


@emulates("AWS::ApplicationAutoScaling::ScalingPolicy")
def scaling_policy(ctx: ResourceContext) -> Emulated:
    """Put the policy on its target (not simulated)."""
    props = ctx.properties
    target = dict(
        zip(
            ("ResourceId", "ScalableDimension", "ServiceNamespace"),
            str(props.get("ScalingTargetId", "||")).split("|"),
            strict=False,
        )
    )
    target.update({k: props[k] for k in ("ResourceId", "ScalableDimension", "ServiceNamespace") if k in props})
    kwargs: dict[str, Any] = {
        "PolicyName": props.get("PolicyName", ctx.logical_id),
        "PolicyType": props["PolicyType"],
        **target,
    }
    if props.get("TargetTrackingScalingPolicyConfiguration"):
        kwargs["TargetTrackingScalingPolicyConfiguration"] = props["TargetTrackingScalingPolicyConfiguration"]
    if props.get("StepScalingPolicyConfiguration"):
        kwargs["StepScalingPolicyConfiguration"] = props["StepScalingPolicyConfiguration"]
    arn = ctx.client("application-autoscaling").put_scaling_policy(**kwargs)["PolicyARN"]
    return Emulated(arn, {"Arn": arn}, detail="not simulated")


@emulates("AWS::WAFv2::WebACL")
def web_acl(ctx: ResourceContext) -> Emulated:
    """Recorded: requests are not filtered by WAF locally."""
    name = str(ctx.properties.get("Name") or ctx.physical_name)
    scope = "global" if ctx.properties.get("Scope") == "CLOUDFRONT" else "regional"
    arn = ctx.arn("wafv2", f"{scope}/webacl/{name}/{ctx.logical_id}")
    return Emulated(arn, {"Arn": arn, "Id": ctx.logical_id}, outcome=RECORDED, detail="rules not evaluated locally")


@emulates("AWS::WAFv2::WebACLAssociation")
def web_acl_association(ctx: ResourceContext) -> Emulated:
    """Recorded: see AWS::WAFv2::WebACL."""
    return recorded(ctx, "WAF not evaluated locally")


@emulates("AWS::CDK::Metadata")
def cdk_metadata(ctx: ResourceContext) -> Emulated:
    """CDK's version-reporting resource: no AWS resource behind it."""
    return recorded(ctx, "CDK metadata")
