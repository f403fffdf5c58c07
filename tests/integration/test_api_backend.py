"""The items API of the real Dev stage on the local cloud, driven through API Gateway's routes.

Each request goes client -> REST API (``ANY /{proxy+}``) -> the handler's ``live`` alias ->
DynamoDB, as deployed. Beyond the status codes the tests look at what was stored (items,
idempotency records) and which function version answered.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from serverless_patterns.lambdas.api_backend.handler import MAX_BODY_BYTES
from serverless_patterns.local import LocalCloud
from serverless_patterns.scenarios import discover, run_scenario
from serverless_patterns.scenarios.api_backend import header, page_through, tampered
from serverless_patterns.scenarios.target import HttpResponse
from serverless_patterns.stacks.stage import ServiceStage

# The handler runs in-process: Powertools warns when a request emits no business metric (GETs).
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")


@pytest.fixture(scope="module")
def dev(stages: dict[str, ServiceStage]) -> Iterator[LocalCloud]:
    """The real Dev stage, deployed once for this module."""
    with LocalCloud.deploy(stages["dev"]) as cloud:
        yield cloud


def _create(dev: LocalCloud, name: str = "widget", **fields: Any) -> dict[str, Any]:
    response = dev.api_request("POST", "/items", body={"name": name, **fields})
    assert response.status_code == 201, response.body
    item: dict[str, Any] = response.json()
    return item


def _stored(dev: LocalCloud, item_id: str) -> dict[str, Any] | None:
    table = dev.outputs["ItemsTableName"]
    item: dict[str, Any] | None = (
        dev.client("dynamodb").get_item(TableName=table, Key={"id": {"S": item_id}}, ConsistentRead=True).get("Item")
    )
    return item


def _table_size(dev: LocalCloud, path: str = "Api/Table") -> int:
    table = dev.resource(path).physical_id
    return len(dev.client("dynamodb").scan(TableName=table)["Items"])


def _error(response: HttpResponse, status: int) -> dict[str, Any]:
    """The error body, after checking the status and that it names the request like its header."""
    assert response.status_code == status, response.body
    body: dict[str, Any] = response.json()
    assert body["requestId"] == header(response, "X-Request-Id") != ""
    assert "Traceback" not in response.body
    return body


def test_the_scenario_passes_and_cleans_up_after_itself(dev: LocalCloud) -> None:
    (item,) = [s for s in discover() if s.pattern == "Api"]
    before = _table_size(dev)

    result = run_scenario(dev, item)

    assert result.passed, [(c.name, c.detail) for c in result.checks if not c.passed]
    assert len(result.checks) >= 15
    assert _table_size(dev) == before


def test_api_gateway_invokes_the_live_alias_of_the_handler(dev: LocalCloud) -> None:
    dev.api_request("GET", "/items")
    invocation = dev.invocations[-1]
    alias = dev.resource("Api/Handler/LiveAlias", "AWS::Lambda::Alias").physical_id
    assert invocation.source == "apigateway"
    assert (invocation.function_name, invocation.qualifier) == (alias.split(":")[6], "live")
    assert invocation.event["requestContext"]["stage"] == "v1"


def test_crud_with_versions_is_what_the_table_holds(dev: LocalCloud) -> None:
    created = dev.api_request("POST", "/items", body={"name": "lamp", "attributes": {"colour": "red"}})
    assert created.status_code == 201
    item = created.json()
    assert header(created, "Location") == f"/v1/items/{item['id']}"
    stored = _stored(dev, item["id"])
    assert stored is not None
    assert (stored["version"], stored["name"], stored["attributes"]) == (
        {"N": "1"},
        {"S": "lamp"},
        {"M": {"colour": {"S": "red"}}},
    )

    updated = dev.api_request(
        "PUT", f"/items/{item['id']}", body={"name": "desk lamp", "expectedVersion": 1}, headers={"If-Match": '"1"'}
    )
    assert (updated.status_code, header(updated, "ETag")) == (200, '"2"')
    assert updated.json()["attributes"] == {}  # a replacement: what is not sent is removed
    stored = _stored(dev, item["id"])
    assert stored is not None
    assert (stored["version"], stored["name"], stored["attributes"]) == ({"N": "2"}, {"S": "desk lamp"}, {"M": {}})
    assert stored["createdAt"] == {"S": item["createdAt"]}

    assert dev.api_request("DELETE", f"/items/{item['id']}", headers={"If-Match": '"2"'}).status_code == 204
    assert _stored(dev, item["id"]) is None
    _error(dev.api_request("GET", f"/items/{item['id']}"), 404)
    _error(dev.api_request("DELETE", f"/items/{item['id']}"), 404)
    _error(dev.api_request("PUT", f"/items/{item['id']}", body={"name": "x"}, headers={"If-Match": '"2"'}), 404)


def test_two_writers_of_the_same_version_one_wins_the_other_gets_412(dev: LocalCloud) -> None:
    item = _create(dev, "shared")
    alice = dev.api_request("PUT", f"/items/{item['id']}", body={"name": "alice's"}, headers={"If-Match": '"1"'})
    bob = dev.api_request("PUT", f"/items/{item['id']}", body={"name": "bob's"}, headers={"If-Match": '"1"'})
    carol = dev.api_request("PUT", f"/items/{item['id']}", body={"name": "carol's", "expectedVersion": 1})

    assert (alice.status_code, bob.status_code, carol.status_code) == (200, 412, 409)
    assert "version 2" in _error(bob, 412)["message"]
    assert "version 2" in _error(carol, 409)["message"]
    current = dev.api_request("GET", f"/items/{item['id']}").json()
    assert (current["version"], current["name"]) == (2, "alice's")
    _error(dev.api_request("DELETE", f"/items/{item['id']}", headers={"If-Match": '"1"'}), 412)
    _error(dev.api_request("PUT", f"/items/{item['id']}", body={"name": "blind"}), 428)  # no version: refused


def test_counters_are_atomic_adds_that_leave_the_version(dev: LocalCloud) -> None:
    item = _create(dev, "counted")
    values = [
        dev.api_request("POST", f"/items/{item['id']}/counters/likes", body=body).json()["value"]
        for body in (None, {"by": 10}, None)
    ]
    other = dev.api_request("POST", f"/items/{item['id']}/counters/shares").json()

    assert values == [1, 11, 12]
    assert other == {"itemId": item["id"], "name": "shares", "value": 1}
    current = dev.api_request("GET", f"/items/{item['id']}").json()
    assert (current["counters"], current["version"]) == ({"likes": 12, "shares": 1}, 1)
    _error(dev.api_request("POST", f"/items/{uuid.uuid4()}/counters/likes"), 404)
    _error(dev.api_request("POST", f"/items/{item['id']}/counters/likes", body={"by": 0}), 422)


def test_pages_follow_an_opaque_signed_cursor(dev: LocalCloud) -> None:
    mine = {_create(dev, f"paged-{index}")["id"] for index in range(7)}

    ids, pages, complete = page_through(dev, limit=3)

    assert complete
    assert mine <= set(ids)
    assert len(ids) == len(set(ids)) == _table_size(dev)  # every item once, none skipped
    assert pages >= 3
    cursor = dev.api_request("GET", "/items", query={"limit": "3"}).json()["nextCursor"]
    assert not any(item_id in cursor for item_id in ids)  # opaque: not a raw key
    body = _error(dev.api_request("GET", "/items", query={"limit": "3", "cursor": tampered(cursor)}), 400)
    assert "cursor" in body["message"]
    for malformed in (cursor[:-4], "not-a-cursor", json.dumps({"id": next(iter(mine))})):
        body = _error(dev.api_request("GET", "/items", query={"limit": "3", "cursor": malformed}), 422)
        assert body["detail"][0]["loc"] == ["query", "cursor"]
    for limit in ("0", "101", "ten"):
        assert _error(dev.api_request("GET", "/items", query={"limit": limit}), 422)["detail"][0]["loc"] == [
            "query",
            "limit",
        ]


def test_idempotent_create_replays_the_first_result_and_stores_one_item(dev: LocalCloud) -> None:
    before = _table_size(dev)
    idempotency_before = _table_size(dev, "Api/IdempotencyTable")
    body = {"name": "once", "attributes": {"order": "42"}}
    key = {"Idempotency-Key": f"order-{uuid.uuid4()}"}

    first = dev.api_request("POST", "/items", body=body, headers=key)
    retries = [dev.api_request("POST", "/items", body=body, headers=key) for _ in range(3)]

    assert first.status_code == 201
    assert header(first, "Idempotent-Replayed") is None
    assert all(r.status_code == 201 and r.json() == first.json() for r in retries)
    assert all(header(r, "Idempotent-Replayed") == "true" for r in retries)
    assert all(header(r, "Location") == header(first, "Location") for r in retries)
    assert _table_size(dev) == before + 1
    assert _table_size(dev, "Api/IdempotencyTable") == idempotency_before + 1

    reused = dev.api_request("POST", "/items", body={"name": "another"}, headers=key)
    assert "Idempotency-Key" in _error(reused, 422)["message"]
    fresh = dev.api_request("POST", "/items", body=body, headers={"Idempotency-Key": f"order-{uuid.uuid4()}"})
    assert fresh.status_code == 201
    assert fresh.json()["id"] != first.json()["id"]
    assert _table_size(dev) == before + 2


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        pytest.param(
            "POST",
            "/items",
            {"body": '{"name": "x"', "headers": {"Content-Type": "application/json"}},
            400,
            id="malformed-json",
        ),
        pytest.param("POST", "/items", {"body": {"name": "", "id": "mine"}}, 422, id="validation"),
        pytest.param(
            "POST", "/items", {"body": {"name": "x", "description": "d" * MAX_BODY_BYTES}}, 413, id="oversize"
        ),
        pytest.param(
            "POST", "/items", {"body": "name=x", "headers": {"Content-Type": "text/plain"}}, 415, id="not-json"
        ),
        pytest.param(
            "POST",
            "/items",
            {"body": "--b\r\n\r\n--b--", "headers": {"Content-Type": "multipart/form-data"}},
            415,
            id="multipart-without-boundary",
        ),
        pytest.param(
            "PUT",
            "/items/x",
            {"body": "[" * 1000 + "]" * 1000, "headers": {"Content-Type": "application/json", "If-Match": '"1"'}},
            400,
            id="nested-1000-levels",
        ),
        pytest.param(
            "POST",
            "/items",
            {"body": '{"name": ' + "1" * 5000 + "}", "headers": {"Content-Type": "application/json"}},
            400,
            id="integer-of-5000-digits",
        ),
        pytest.param("GET", "/widgets", {}, 404, id="unknown-route"),
        pytest.param("GET", "/items/a/b", {}, 404, id="unknown-nested-route"),
        pytest.param("PATCH", "/items", {}, 405, id="wrong-method"),
        pytest.param("POST", "/items/some-id", {}, 405, id="wrong-method-on-item"),
        pytest.param("GET", "/items/bad$id", {}, 422, id="malformed-id"),
    ],
)
def test_bad_input_is_refused_with_its_status_and_stores_nothing(
    dev: LocalCloud, method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    before = _table_size(dev)
    response = dev.api_request(method, path, **kwargs)
    body = _error(response, status)
    assert _table_size(dev) == before
    assert "d" * 100 not in response.body  # the input is never echoed back
    if status == 422:
        assert all({"loc", "msg", "type"} <= set(problem) for problem in body["detail"])
    if status == 405:
        assert header(response, "Allow") in ("GET, POST", "GET, PUT, DELETE")


def test_validation_errors_name_every_field(dev: LocalCloud) -> None:
    response = dev.api_request("POST", "/items", body={"name": "", "id": "mine", "attributes": {"bad key": "v"}})
    locations = {tuple(problem["loc"]) for problem in _error(response, 422)["detail"]}
    assert {("body", "name"), ("body", "id")} <= locations
    assert any(loc[:2] == ("body", "attributes") for loc in locations)


def test_dev_answers_cors_preflights_at_the_gateway(dev: LocalCloud) -> None:
    before = len(dev.invocations)
    preflight = dev.api_request("OPTIONS", "/items/any-id", headers={"Origin": "https://app.example.com"})
    assert preflight.status_code == 204
    assert header(preflight, "Access-Control-Allow-Origin") == "*"  # Dev only: config refuses '*' elsewhere
    assert "If-Match" in (header(preflight, "Access-Control-Allow-Headers") or "")
    assert len(dev.invocations) == before  # answered by API Gateway, not the function
