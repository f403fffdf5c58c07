"""How AwsTarget calls a deployed API: authorized as its methods require, sent over HTTPS."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any, Protocol

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from serverless_patterns.scenarios.aws_session import session_region
from serverless_patterns.scenarios.target import HttpResponse

Transport = Callable[[AWSRequest, bytes | None, float], HttpResponse]
"""Sends an authorized request (its body as bytes, a timeout in seconds) and returns the response."""


def api_authorization_types(template: Mapping[str, Any]) -> set[str]:
    """The ``AuthorizationType`` of the REST API methods that carry traffic (CORS preflights excluded)."""
    return {
        str(resource.get("Properties", {}).get("AuthorizationType", "NONE"))
        for resource in template.get("Resources", {}).values()
        if resource.get("Type") == "AWS::ApiGateway::Method"
        and str(resource.get("Properties", {}).get("HttpMethod", "")).upper() != "OPTIONS"
    }


class ApiAuthorization(Protocol):
    """Adds what the API's authorizer expects to a request (called last, just before sending)."""

    def apply(self, request: AWSRequest) -> None:
        """Authorize ``request`` in place."""
        ...


@dataclass(frozen=True)
class Unauthenticated:
    """An open API (Dev's ``ApiAuth.NONE``): nothing to add."""

    def apply(self, request: AWSRequest) -> None:
        """Leave the request as it is."""


@dataclass(frozen=True)
class SigV4:
    """IAM auth: Signature Version 4 over method, URL, signed headers and body, for ``execute-api``.

    Credentials are read at every request, so refreshed (assumed-role, SSO) credentials are used.
    """

    session: boto3.Session
    region: str
    service: str = "execute-api"

    def apply(self, request: AWSRequest) -> None:
        """Add ``Authorization``, ``X-Amz-Date`` and, for temporary credentials, ``X-Amz-Security-Token``."""
        credentials = self.session.get_credentials()
        if credentials is None:
            raise RuntimeError("no AWS credentials to sign the API request with")
        SigV4Auth(credentials.get_frozen_credentials(), self.service, self.region).add_auth(request)


@dataclass(frozen=True)
class IdToken:
    """Cognito user pool auth: the user's ID token in ``Authorization`` (no ``Bearer`` prefix for REST APIs)."""

    token: str

    def apply(self, request: AWSRequest) -> None:
        """Set the ``Authorization`` header to the token."""
        del request.headers["Authorization"]
        request.headers["Authorization"] = self.token


@dataclass(frozen=True)
class TokenRequired:
    """A Cognito-protected API for which no token was given: say how to get one instead of sending a 401."""

    def apply(self, request: AWSRequest) -> None:
        """Refuse to send the request."""
        raise RuntimeError(
            "the API authorizes with a Cognito user pool: give AwsTarget authorization=IdToken(token) "
            "(the aws suite takes SP_E2E_ID_TOKEN, or signs in a temporary CognitoTestUser)"
        )


def default_authorization(template: Mapping[str, Any], session: boto3.Session) -> ApiAuthorization:
    """What the synthesized API's methods require: SigV4 for IAM, a token for Cognito, nothing for an open API."""
    types = api_authorization_types(template)
    if "AWS_IAM" in types:
        return SigV4(session, session_region(session))
    if "COGNITO_USER_POOLS" in types:
        return TokenRequired()
    return Unauthenticated()


def send(request: AWSRequest, data: bytes | None, timeout_seconds: float) -> HttpResponse:
    """Send a (signed) request exactly as prepared; an HTTP error status is a response, not an exception."""
    url = str(request.url)
    if urllib.parse.urlsplit(url).scheme not in ("https", "http"):
        raise ValueError(f"not an HTTP(S) URL: {url}")
    outgoing = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url, data=data, headers=dict(request.headers.items()), method=request.method
    )
    try:
        with urllib.request.urlopen(outgoing, timeout=timeout_seconds) as response:  # noqa: S310
            return _http_response(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        with error:
            return _http_response(error.code, error.headers, error.read())


def _http_response(status: int, headers: Message, body: bytes) -> HttpResponse:
    merged: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        merged[key] = f"{merged[key]},{value}" if key in merged else value
    return HttpResponse(status, merged, body.decode(errors="replace"))
