"""api_request: URL building, bodies, and each authorization, checked on the wire by a local HTTP server.

The SigV4 check recomputes the signature independently (the AWS Signature Version 4 steps with
hashlib and hmac, not botocore) from what the server received, so any change made to the request
after signing, or a URL built differently from the one signed, fails it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.parse

import boto3
import pytest

from serverless_patterns.scenarios.aws_target import (
    IdToken,
    SigV4,
    TokenRequired,
    Unauthenticated,
    default_authorization,
)
from tests.unit.aws_target.conftest import ApiServer, Deployed, Received, Reply, template

ACCESS_KEY, SECRET_KEY, SESSION_TOKEN = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "token-1"


def signing_session() -> boto3.Session:
    return boto3.Session(
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        aws_session_token=SESSION_TOKEN,
        region_name="eu-west-1",
    )


def expected_signature(received: Received, *, secret_key: str, region: str, service: str) -> str:
    """Signature Version 4, computed from the request as received (double-encoded path: not S3)."""
    authorization = received.headers["authorization"]
    algorithm, _, fields = authorization.partition(" ")
    assert algorithm == "AWS4-HMAC-SHA256"
    parts = dict(item.strip().split("=", 1) for item in fields.split(","))
    signed_headers = parts["SignedHeaders"].split(";")
    amz_date = received.headers["x-amz-date"]
    date = amz_date[:8]
    path, _, raw_query = received.raw_path.partition("?")
    pairs = sorted(
        (urllib.parse.quote(k, safe="-_.~"), urllib.parse.quote(v, safe="-_.~"))
        for k, v in urllib.parse.parse_qsl(raw_query, keep_blank_values=True)
    )
    canonical_request = "\n".join(
        [
            received.method,
            urllib.parse.quote(path, safe="/~"),
            "&".join(f"{k}={v}" for k, v in pairs),
            "".join(f"{name}:{' '.join(received.headers[name].split())}\n" for name in signed_headers),
            ";".join(signed_headers),
            hashlib.sha256(received.body).hexdigest(),
        ]
    )
    scope = f"{date}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = f"AWS4{secret_key}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def test_a_request_goes_to_the_api_url_with_its_path_and_query(deployed: Deployed, api_server: ApiServer) -> None:
    target = deployed.target(authorization=Unauthenticated())
    response = target.api_request("GET", "/items/a b", query={"limit": "2", "cursor": "x/y+z="})
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    received = api_server.last()
    assert received.method == "GET"
    path, _, query = received.raw_path.partition("?")
    assert path == "/dev/items/a%20b"  # under the stage's base path, percent-encoded
    assert urllib.parse.parse_qs(query) == {"limit": ["2"], "cursor": ["x/y+z="]}
    assert "authorization" not in received.headers
    assert received.headers["user-agent"].startswith("serverless-patterns-e2e/")


def test_a_structured_body_is_sent_as_json(deployed: Deployed, api_server: ApiServer) -> None:
    target = deployed.target(authorization=Unauthenticated())
    target.api_request("POST", "items", body={"name": "widget", "price": 3}, headers={"Idempotency-Key": "k-1"})
    received = api_server.last()
    assert received.raw_path == "/dev/items"
    assert json.loads(received.body) == {"name": "widget", "price": 3}
    assert received.headers["content-type"] == "application/json"
    assert received.headers["idempotency-key"] == "k-1"

    target.api_request("PUT", "/items/1", body="raw text", headers={"content-type": "text/plain"})
    assert api_server.last().body == b"raw text"
    assert api_server.last().headers["content-type"] == "text/plain"


def test_error_statuses_are_returned_with_lower_case_headers(deployed: Deployed, api_server: ApiServer) -> None:
    api_server.reply = Reply(
        status=409,
        headers=[("Content-Type", "application/json"), ("ETag", '"v2"'), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")],
        body=b'{"message": "version conflict"}',
    )
    response = deployed.target(authorization=Unauthenticated()).api_request("DELETE", "/items/1")
    assert response.status_code == 409
    assert response.json() == {"message": "version conflict"}
    assert response.headers["etag"] == '"v2"'
    assert response.headers["set-cookie"] == "a=1,b=2"


def test_iam_auth_signs_method_url_headers_and_body_with_sigv4(deployed: Deployed, api_server: ApiServer) -> None:
    session = signing_session()
    target = deployed.target(authorization=SigV4(session, "eu-west-1"))
    target.api_request("POST", "/items/o'brien x!@", query={"b": "2", "a": "1 1"}, body={"name": "signed"})
    received = api_server.last()
    assert received.raw_path.startswith("/dev/items/o%27brien%20x%21%40?")
    authorization = received.headers["authorization"]
    assert authorization.startswith(f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/")
    assert "/eu-west-1/execute-api/aws4_request" in authorization
    assert received.headers["x-amz-security-token"] == SESSION_TOKEN
    signed = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
    assert {"host", "x-amz-date", "content-type", "x-amz-security-token"} <= set(signed)
    signature = authorization.split("Signature=")[1]
    assert signature == expected_signature(received, secret_key=SECRET_KEY, region="eu-west-1", service="execute-api")


def test_a_tampered_request_would_not_verify(deployed: Deployed, api_server: ApiServer) -> None:
    """The independent verifier is not a rubber stamp: a changed body or key gives another signature."""
    target = deployed.target(authorization=SigV4(signing_session(), "eu-west-1"))
    target.api_request("POST", "/items", body={"name": "signed"})
    received = api_server.last()
    signature = received.headers["authorization"].split("Signature=")[1]
    tampered = Received(received.method, received.raw_path, received.headers, b'{"name": "changed"}')
    assert signature != expected_signature(tampered, secret_key=SECRET_KEY, region="eu-west-1", service="execute-api")
    assert signature != expected_signature(received, secret_key="other", region="eu-west-1", service="execute-api")


def test_cognito_auth_sends_the_id_token(deployed: Deployed, api_server: ApiServer) -> None:
    deployed.target(authorization=IdToken("eyJ.id.token")).api_request("GET", "/items")
    assert api_server.last().headers["authorization"] == "eyJ.id.token"


def test_a_request_with_its_own_authorization_is_sent_as_it_is(deployed: Deployed, api_server: ApiServer) -> None:
    target = deployed.target(authorization=SigV4(signing_session(), "eu-west-1"))
    target.api_request("GET", "/items", headers={"Authorization": "not-a-valid-token"})
    assert api_server.last().headers["authorization"] == "not-a-valid-token"
    assert "x-amz-date" not in api_server.last().headers


def test_a_cognito_api_without_a_token_is_not_called(deployed: Deployed, api_server: ApiServer) -> None:
    target = deployed.target(authorization=TokenRequired())
    with pytest.raises(RuntimeError, match="SP_E2E_ID_TOKEN"):
        target.api_request("GET", "/items")
    assert api_server.requests == []


def test_the_default_authorization_follows_the_synthesized_methods() -> None:
    session = signing_session()
    iam = default_authorization(template("https://x/dev/", auth="AWS_IAM"), session)
    assert isinstance(iam, SigV4)
    assert (iam.region, iam.service) == ("eu-west-1", "execute-api")
    assert isinstance(
        default_authorization(template("https://x/dev/", auth="COGNITO_USER_POOLS"), session), TokenRequired
    )
    # CORS preflights are open on every API; only the methods that carry traffic count
    assert isinstance(default_authorization(template("https://x/dev/", auth="NONE"), session), Unauthenticated)


def test_only_http_urls_are_sent(deployed: Deployed) -> None:
    target = deployed.target(authorization=Unauthenticated())
    target._description = {
        "StackStatus": "CREATE_COMPLETE",
        "Outputs": [{"OutputKey": "ApiUrl", "OutputValue": "file:///etc"}],
    }
    with pytest.raises(ValueError, match="not an HTTP"):
        target.api_request("GET", "/passwd")
