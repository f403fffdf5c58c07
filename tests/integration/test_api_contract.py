"""The items API against its own document: requests generated from ``docs/openapi.json`` (schemathesis).

Dev (no auth) and Prod (Cognito; the local cloud takes the token as granted and passes the
user's claims) are deployed once each. For every operation, a bounded, seeded set of requests,
valid ones and ones the document forbids, goes client -> API Gateway -> the handler's alias ->
DynamoDB; every answer must be documented: no 5xx, a documented status, a body matching its
schema, the documented headers, and a 4xx for whatever the document forbids. Hostile cases
found by outside testing are in ``test_api_backend.py`` and ``tests/handlers/api_backend``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode, checks

from serverless_patterns.local import LocalCloud
from serverless_patterns.local.cloudformation import RECORDED
from serverless_patterns.local.report import render
from serverless_patterns.stacks.stage import ServiceStage

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
EXAMPLES_PER_OPERATION = 20
# What each stage's client sends: Prod's user pool authorizer expects an ID token (not verified locally).
STAGE_HEADERS = {"dev": {}, "prod": {"Authorization": "Bearer local-cloud-id-token"}}
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
    checks.negative_data_rejection,
]

schema = schemathesis.openapi.from_dict(json.loads(DOCUMENT.read_text()))
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])


@pytest.fixture(scope="module", params=["dev", "prod"])
def stage(request: pytest.FixtureRequest, stages: dict[str, ServiceStage]) -> Iterator[tuple[str, LocalCloud]]:
    """Each stage deployed once, with an item the generated requests can find by id now and then."""
    with LocalCloud.deploy(stages[request.param]) as cloud:
        yield request.param, cloud


def _send(cloud: LocalCloud, case: schemathesis.Case[Any], headers: dict[str, str]) -> schemathesis.Response:
    """The generated request, serialized as a client would, through the local cloud's API Gateway."""
    kwargs = case.as_transport_kwargs(base_url="https://api.local", headers=headers)
    prepared = requests.Request(**kwargs).prepare()
    url = urlsplit(prepared.url or "")
    body = prepared.body.decode("utf-8", errors="replace") if isinstance(prepared.body, bytes) else prepared.body
    answer = cloud.api_request(
        str(prepared.method),
        url.path,
        headers={name: str(value) for name, value in prepared.headers.items()},
        query=dict(parse_qsl(url.query, keep_blank_values=True)),
        body=body,
    )
    return schemathesis.Response(
        status_code=answer.status_code,
        headers={name: [value] for name, value in answer.headers.items()},
        content=answer.body.encode(),
        request=prepared,
        elapsed=0.0,
        verify=False,
    )


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_is_in_the_document(case: schemathesis.Case[Any], stage: tuple[str, LocalCloud]) -> None:
    name, cloud = stage
    response = _send(cloud, case, STAGE_HEADERS[name])
    case.validate_response(response, checks=CHECKS)


def test_the_web_acl_is_recorded_and_said_to_be_unevaluated(stage: tuple[str, LocalCloud]) -> None:
    """Prod's web ACL deploys on the local cloud as a record; the report says its rules do not run there."""
    env, cloud = stage
    waf = {r.resource_type: r for r in cloud.resources if r.resource_type.startswith("AWS::WAFv2::")}
    if env == "dev":
        assert waf == {}
        return
    assert set(waf) == {"AWS::WAFv2::WebACL", "AWS::WAFv2::WebACLAssociation"}
    assert all(r.outcome == RECORDED and "not evaluated locally" in r.detail for r in waf.values())
    assert "WAF rules are not evaluated locally" in render(cloud, [], title=env)
