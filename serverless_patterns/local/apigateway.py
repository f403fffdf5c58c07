"""REST API (v1) requests routed from the deployed template to the integration's Lambda.

The routes are the template's ``AWS::ApiGateway::Resource``/``Method`` resources as
deployed (paths from GetResources). A request picks the most specific resource (literal
segments before ``{param}`` before ``{proxy+}``), then the method (or ``ANY``), and calls an
``AWS_PROXY`` integration's function with a proxy event like API Gateway's
(``resource``, ``path``, ``pathParameters``, ``queryStringParameters``, ``requestContext``...).
``OPTIONS`` methods with a MOCK integration (CDK's CORS preflight) answer from their
integration response.

Differences from AWS, on purpose: an unknown path answers 404 and a known path with a
missing method 405 (AWS answers 403 "Missing Authentication Token" for both). Authorization
is treated as already granted: for ``AWS_IAM`` methods ``requestContext.identity`` holds a
plausible IAM user, for ``COGNITO_USER_POOLS`` ``requestContext.authorizer.claims`` holds a
plausible user's claims (override them with ``claims=``); signatures and tokens are not
checked. Stage throttling, request validation and usage plans are not enforced.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from serverless_patterns.local.cloudformation import DeploymentState
from serverless_patterns.local.lambda_runtime import LambdaRuntime
from serverless_patterns.local.permissions.services import may_invoke
from serverless_patterns.scenarios.target import HttpResponse

LOCAL_USER = "local-cloud-user"


@dataclass(frozen=True)
class ApiMethod:
    """One method of a resource, from the template."""

    http_method: str
    authorization_type: str
    integration: dict[str, Any]


@dataclass
class ApiRoute:
    """One resource: its path template and methods."""

    resource_id: str
    path: str
    methods: dict[str, ApiMethod] = field(default_factory=dict)

    def match(self, path: str) -> dict[str, str] | None:
        """Path parameters if ``path`` matches this resource's template."""
        template = [s for s in self.path.split("/") if s]
        parts = [s for s in path.split("/") if s]
        params: dict[str, str] = {}
        for index, segment in enumerate(template):
            if segment.startswith("{") and segment.endswith("+}"):
                if index >= len(parts):
                    return None
                params[segment[1:-2]] = "/".join(parts[index:])
                return params
            if index >= len(parts):
                return None
            if segment.startswith("{") and segment.endswith("}"):
                params[segment[1:-1]] = unquote(parts[index])
            elif segment != parts[index]:
                return None
        return params if len(template) == len(parts) else None

    def specificity(self) -> tuple[int, ...]:
        """Smaller is more specific: literal (0) < parameter (1) < greedy (2), segment by segment."""
        return tuple(2 if s.endswith("+}") else 1 if s.startswith("{") else 0 for s in self.path.split("/") if s)


@dataclass
class RestApi:
    """A deployed REST API: id, name, stages and routes."""

    api_id: str
    name: str
    stages: list[str]
    routes: list[ApiRoute]


def load_apis(state: DeploymentState, client: Callable[[str], Any]) -> list[RestApi]:
    """The REST APIs of the deployment with their routes."""
    apis = []
    for record in state.records:
        if record.resource_type != "AWS::ApiGateway::RestApi" or record.outcome == "failed":
            continue
        api_id = record.physical_id
        routes = {
            item["id"]: ApiRoute(item["id"], item["path"])
            for item in client("apigateway").get_resources(restApiId=api_id, limit=500)["items"]
        }
        for method in state.records:
            props = method.properties
            if method.resource_type == "AWS::ApiGateway::Method" and props.get("RestApiId") == api_id:
                route = routes.get(str(props.get("ResourceId")))
                if route is not None:
                    route.methods[str(props["HttpMethod"]).upper()] = ApiMethod(
                        http_method=str(props["HttpMethod"]).upper(),
                        authorization_type=str(props.get("AuthorizationType", "NONE")),
                        integration=dict(props.get("Integration") or {}),
                    )
        stages = [
            str(r.properties["StageName"])
            for r in state.records
            if r.resource_type == "AWS::ApiGateway::Stage" and r.properties.get("RestApiId") == api_id
        ]
        apis.append(
            RestApi(api_id, str(record.properties.get("Name", record.logical_id)), stages, list(routes.values()))
        )
    return apis


def _integration_function(integration: Mapping[str, Any]) -> str | None:
    uri = str(integration.get("Uri", ""))
    if integration.get("Type") != "AWS_PROXY" or "/functions/" not in uri:
        return None
    return uri.split("/functions/", 1)[1].removesuffix("/invocations")


def _response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> HttpResponse:
    return HttpResponse(status, {"content-type": "application/json", **(headers or {})}, json.dumps(body))


@dataclass
class ApiGateway:
    """Calls routes of the deployed REST APIs."""

    apis: list[RestApi]
    runtime: LambdaRuntime
    account_id: str
    region: str

    def api(self, name_or_id: str | None = None) -> RestApi:
        """The API with this name or id (the only one when not given)."""
        if name_or_id is None:
            if len(self.apis) != 1:
                raise LookupError(f"{len(self.apis)} REST APIs deployed: name one of {[a.name for a in self.apis]}")
            return self.apis[0]
        for api in self.apis:
            if name_or_id in (api.api_id, api.name):
                return api
        raise LookupError(f"no REST API named {name_or_id!r}")

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        api: str | None = None,
        stage: str | None = None,
        claims: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        """Send one request; return the client's view of the response."""
        rest_api = self.api(api)
        method = method.upper()
        path = "/" + path.lstrip("/")
        matches = [(route, params) for route in rest_api.routes if (params := route.match(path)) is not None]
        if not matches:
            return _response(404, {"message": f"no resource matches {path}"})
        route, params = min(matches, key=lambda m: m[0].specificity())
        api_method = route.methods.get(method) or route.methods.get("ANY")
        if api_method is None:
            allowed = ", ".join(sorted(route.methods))
            return _response(405, {"message": f"{method} not allowed on {route.path}"}, {"allow": allowed})
        integration = api_method.integration
        if integration.get("Type") == "MOCK":
            return self._mock(integration)
        function = _integration_function(integration)
        if function is None:
            return _response(501, {"message": f"integration type {integration.get('Type')} is not run locally"})
        event = self._event(
            rest_api,
            stage or (rest_api.stages[0] if rest_api.stages else "local"),
            route,
            api_method,
            method,
            path,
            params,
            dict(headers or {}),
            dict(query or {}),
            body,
            claims,
        )
        stage_name = event["requestContext"]["stage"]
        source_arn = (
            f"arn:aws:execute-api:{self.region}:{self.account_id}:{rest_api.api_id}/{stage_name}/{method}{path}"
        )
        credentials = integration.get("Credentials")
        if may_invoke(
            self.runtime.permissions,
            "apigateway.amazonaws.com",
            function,
            source_arn=source_arn,
            role_arn=str(credentials) if credentials else None,
        ):
            # AWS: "Execution failed due to configuration error: Invalid permissions on Lambda function"
            return _response(500, {"message": "Internal server error"})
        with self.runtime.source("apigateway"):
            invocation = self.runtime.invoke(function, event, source="apigateway")
        result = invocation.result
        if invocation.failed or not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
            return _response(502, {"message": "Internal server error"})
        response_headers = {str(k).lower(): str(v) for k, v in (result.get("headers") or {}).items()}
        for name, values in (result.get("multiValueHeaders") or {}).items():
            response_headers[str(name).lower()] = ",".join(str(v) for v in values)
        return HttpResponse(int(result["statusCode"]), response_headers, str(result.get("body") or ""))

    @staticmethod
    def _mock(integration: Mapping[str, Any]) -> HttpResponse:
        responses = integration.get("IntegrationResponses") or [{"StatusCode": "200"}]
        first = responses[0]
        headers = {
            key.removeprefix("method.response.header.").lower(): str(value).strip("'")
            for key, value in (first.get("ResponseParameters") or {}).items()
        }
        return HttpResponse(int(first.get("StatusCode", 200)), headers, "")

    def _event(
        self,
        rest_api: RestApi,
        stage: str,
        route: ApiRoute,
        api_method: ApiMethod,
        method: str,
        path: str,
        params: dict[str, str],
        headers: dict[str, str],
        query: dict[str, str],
        body: Any,
        claims: Mapping[str, str] | None,
    ) -> dict[str, Any]:
        domain = f"{rest_api.api_id}.execute-api.{self.region}.amazonaws.com"
        if body is not None and not isinstance(body, str):
            body = json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        headers.setdefault("Host", domain)
        headers.setdefault("User-Agent", "serverless-patterns-local")
        headers.setdefault("X-Forwarded-For", "127.0.0.1")
        headers.setdefault("X-Forwarded-Proto", "https")
        now = time.time()
        identity: dict[str, Any] = {
            "sourceIp": "127.0.0.1",
            "userAgent": headers["User-Agent"],
            "accessKey": None,
            "accountId": None,
            "caller": None,
            "user": None,
            "userArn": None,
            "cognitoIdentityId": None,
            "cognitoIdentityPoolId": None,
            "cognitoAuthenticationType": None,
            "cognitoAuthenticationProvider": None,
        }
        request_context: dict[str, Any] = {
            "accountId": self.account_id,
            "apiId": rest_api.api_id,
            "domainName": domain,
            "domainPrefix": rest_api.api_id,
            "extendedRequestId": uuid.uuid4().hex[:16],
            "httpMethod": method,
            "identity": identity,
            "path": f"/{stage}{path}",
            "protocol": "HTTP/1.1",
            "requestId": str(uuid.uuid4()),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "resourceId": route.resource_id,
            "resourcePath": route.path,
            "stage": stage,
        }
        if api_method.authorization_type == "AWS_IAM":
            identity.update(
                accessKey="AKIALOCALCLOUD000000",
                accountId=self.account_id,
                caller="AIDALOCALCLOUD000000",
                user="AIDALOCALCLOUD000000",
                userArn=f"arn:aws:iam::{self.account_id}:user/{LOCAL_USER}",
            )
        elif api_method.authorization_type == "COGNITO_USER_POOLS":
            request_context["authorizer"] = {
                "claims": {
                    "sub": "00000000-0000-4000-8000-000000000000",
                    "cognito:username": LOCAL_USER,
                    "email": f"{LOCAL_USER}@example.com",
                    "token_use": "id",
                    **(claims or {}),
                }
            }
        return {
            "resource": route.path,
            "path": path,
            "httpMethod": method,
            "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} or None,
            "pathParameters": params or None,
            "stageVariables": None,
            "requestContext": request_context,
            "body": body,
            "isBase64Encoded": False,
        }
