"""The REST API over HTTP on 127.0.0.1, with API Gateway's behaviour in front of the local cloud's routing.

A request ``/<stage>/<path>`` (the execute-api URL's shape) is checked as API Gateway checks
it, then routed by ``apigateway.ApiGateway`` to the integration's function:

- an unknown stage answers 403 ``{"message": "Forbidden"}``; a path or method the API does not
  have answers 403 ``Missing Authentication Token``, as AWS does;
- auth as the template configures it: an ``AWS_IAM`` method needs a SigV4 ``Authorization``
  header (``AWS4-HMAC-SHA256 Credential=...``; 403 ``Missing Authentication Token`` without),
  a ``COGNITO_USER_POOLS`` method an ``Authorization`` token (401 ``Unauthorized`` without).
  Their presence is checked, not their signature: the claims of a JWT are read unverified and
  handed to the function (``requestContext.authorizer.claims``), the IAM caller is a local user;
- CORS preflights answer from the template's MOCK ``OPTIONS`` integrations; responses carry the
  function's own CORS headers;
- the template's gateway responses (``AWS::ApiGateway::GatewayResponse``: ``DEFAULT_4XX``,
  ``DEFAULT_5XX``, ``UNAUTHORIZED``...) shape the gateway's own errors: their status, headers and
  ``application/json`` template (``$context.error.messageString``, ``$context.requestId``...);
- a function that fails or returns no proxy response answers 502 ``Internal server error``.

Not enforced: signatures and token expiry, stage throttling and usage plans, request validators.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from serverless_patterns.local.apigateway import ApiGateway, RestApi
from serverless_patterns.local.cloudformation import DeploymentState
from serverless_patterns.local.serve.listening import Listening
from serverless_patterns.scenarios.target import HttpResponse

# Gateway response type -> (status, message) for the errors the gateway raises itself.
GATEWAY_ERRORS: Mapping[str, tuple[int, str]] = {
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token"),
    "UNAUTHORIZED": (401, "Unauthorized"),
    "INCOMPLETE_SIGNATURE": (403, "Authorization header requires 'Credential' parameter."),
    "INTEGRATION_FAILURE": (502, "Internal server error"),
}
_INTEGRATION_FAILURE_BODY = {"message": "Internal server error"}
SIGV4 = "AWS4-HMAC-SHA256"


@dataclass(frozen=True)
class GatewayResponse:
    """A template's gateway response: status override, headers, body template."""

    status: int | None
    headers: Mapping[str, str]
    template: str | None


def gateway_responses(state: DeploymentState, api_id: str) -> dict[str, GatewayResponse]:
    """The API's gateway responses by type (``DEFAULT_4XX``, ``UNAUTHORIZED``...)."""
    found = {}
    for record in state.records:
        props = record.properties
        if record.resource_type != "AWS::ApiGateway::GatewayResponse" or props.get("RestApiId") != api_id:
            continue
        headers = {
            str(name).removeprefix("gatewayresponse.header."): str(value).strip("'")
            for name, value in (props.get("ResponseParameters") or {}).items()
            if str(name).startswith("gatewayresponse.header.")
        }
        templates = props.get("ResponseTemplates") or {}
        status = props.get("StatusCode")
        found[str(props.get("ResponseType"))] = GatewayResponse(
            int(status) if status else None, headers, templates.get("application/json")
        )
    return found


def jwt_claims(token: str) -> dict[str, str]:
    """The claims of a JWT (``Bearer`` prefix allowed), unverified; empty when it is not one."""
    parts = token.removeprefix("Bearer ").strip().split(".")
    if len(parts) != 3:
        return {}
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        return {}
    if not isinstance(payload, dict):
        return {}
    return {str(key): value if isinstance(value, str) else json.dumps(value) for key, value in payload.items()}


class HttpApi:
    """One REST API of the cloud, answered as API Gateway would (see the module docstring)."""

    def __init__(self, gateway: ApiGateway, api: RestApi, responses: Mapping[str, GatewayResponse]) -> None:
        self.gateway = gateway
        self.api = api
        self.responses = responses

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: str | None) -> HttpResponse:
        """Answer one HTTP request (``target`` is the request line's path and query)."""
        request_id = str(uuid.uuid4())
        url = urlsplit(target)
        segments = [part for part in url.path.split("/") if part]
        if not segments or segments[0] not in self.api.stages:
            return _json(403, {"message": "Forbidden"}, request_id)
        stage, path = segments[0], "/" + "/".join(segments[1:])
        matches = [(route, params) for route in self.api.routes if (params := route.match(path)) is not None]
        route = min(matches, key=lambda match: match[0].specificity())[0] if matches else None
        api_method = (route.methods.get(method) or route.methods.get("ANY")) if route else None
        if api_method is None:
            return self._error("MISSING_AUTHENTICATION_TOKEN", request_id)
        lowered = {name.lower(): value for name, value in headers.items()}
        authorization = lowered.get("authorization", "")
        claims: dict[str, str] | None = None
        if api_method.authorization_type == "AWS_IAM":
            if not authorization.startswith(SIGV4):
                return self._error("MISSING_AUTHENTICATION_TOKEN", request_id)
            if "Credential=" not in authorization:
                return self._error("INCOMPLETE_SIGNATURE", request_id)
        elif api_method.authorization_type == "COGNITO_USER_POOLS":
            if not authorization.strip():
                return self._error("UNAUTHORIZED", request_id)
            claims = jwt_claims(authorization)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        response = self.gateway.request(
            method, path, headers=dict(headers), query=query, body=body, api=self.api.api_id, stage=stage, claims=claims
        )
        if response.status_code == 502 and _is_integration_failure(response.body):
            return self._error("INTEGRATION_FAILURE", request_id)
        return HttpResponse(response.status_code, {**response.headers, "x-amzn-requestid": request_id}, response.body)

    def _error(self, response_type: str, request_id: str) -> HttpResponse:
        status, message = GATEWAY_ERRORS[response_type]
        family = "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"
        shape = self.responses.get(response_type) or self.responses.get(family)
        if shape is None:
            return _json(status, {"message": message}, request_id)
        body = json.dumps({"message": message})
        if shape.template:
            body = (
                shape.template.replace("$context.error.messageString", json.dumps(message))
                .replace("$context.error.message", message)
                .replace("$context.error.responseType", response_type)
                .replace("$context.requestId", request_id)
            )
        headers = {"content-type": "application/json", **shape.headers, "x-amzn-requestid": request_id}
        headers["x-amzn-errortype"] = "MissingAuthenticationTokenException" if status == 403 else response_type
        return HttpResponse(shape.status or status, headers, body)


def _is_integration_failure(body: str) -> bool:
    try:
        return bool(json.loads(body) == _INTEGRATION_FAILURE_BODY)
    except ValueError:
        return False


def _json(status: int, document: Any, request_id: str) -> HttpResponse:
    return HttpResponse(
        status, {"content-type": "application/json", "x-amzn-requestid": request_id}, json.dumps(document)
    )


class ApiServer(Listening):
    """An HTTP server on ``host:port`` answering one API; ``before`` runs before every request."""

    def __init__(self, api: HttpApi, host: str, port: int, before: Callable[[], None]) -> None:
        self.api = api
        server = ThreadingHTTPServer((host, port), _handler(api, before))
        server.daemon_threads = True
        super().__init__(server, f"api-{api.api.name}")


def _handler(api: HttpApi, before: Callable[[], None]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "serverless-patterns-serve"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            before()
            body = raw.decode("utf-8", errors="replace") if raw else None
            headers = dict(self.headers.items())
            response = api.handle(self.command, self.path, headers, body)
            payload = response.body.encode()
            self.send_response(response.status_code)
            for name, value in response.headers.items():
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _answer  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: every invocation has its own line already."""

    return Handler
