"""Every route and every error path of the items API, through the real handler under moto."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from serverless_patterns.lambdas.api_backend import data_access, resources
from serverless_patterns.lambdas.api_backend.app import THROTTLING_CODES
from serverless_patterns.lambdas.api_backend.errors import ERROR_STATUS, ApiError
from serverless_patterns.lambdas.api_backend.handler import MAX_BODY_BYTES, app, handler
from serverless_patterns.lambdas.shared.observability import logger
from serverless_patterns.lambdas.shared.warmup import WARMUP_EVENT, WARMUP_RESPONSE
from tests.handlers.api_backend.conftest import IDEMPOTENCY_TABLE, TABLE, FakeContext, call, create

pytestmark = [
    pytest.mark.usefixtures("aws"),
    # Powertools warns once per container when a request emits no business metric (GETs); expected here.
    pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning"),
]


def _stored(item_id: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = (
        boto3.client("dynamodb").get_item(TableName=TABLE, Key={"id": {"S": item_id}}).get("Item")
    )
    return item


def _table_size() -> int:
    return len(boto3.client("dynamodb").scan(TableName=TABLE)["Items"])


# --- POST /items ------------------------------------------------------------------------------


def test_create_assigns_server_fields_and_answers_201_with_location_and_etag() -> None:
    response = call("POST", "/items", body={"name": "widget", "attributes": {"colour": "red"}})
    assert response.status == 201
    item = response.body
    assert uuid.UUID(item["id"]).version == 4
    assert item["version"] == 1
    assert item["counters"] == {}
    assert item["createdAt"] == item["updatedAt"]
    assert response.headers["Location"] == f"/v1/items/{item['id']}"
    assert response.headers["ETag"] == '"1"'
    assert _stored(item["id"]) is not None


def test_create_refuses_server_owned_fields() -> None:
    response = call("POST", "/items", body={"name": "widget", "id": "mine", "version": 9})
    assert response.status == 422
    assert {tuple(problem["loc"]) for problem in response.body["detail"]} == {("body", "id"), ("body", "version")}
    assert _table_size() == 0


def test_failed_validation_is_422_with_field_details() -> None:
    response = call("POST", "/items", body={"name": "", "attributes": {"bad key": "v"}})
    assert response.status == 422
    locations = [problem["loc"] for problem in response.body["detail"]]
    assert ["body", "name"] in locations
    assert all(problem["msg"] and problem["type"] for problem in response.body["detail"])
    assert response.body["requestId"]


@pytest.mark.parametrize("raw", ["{not json", '{"name": "x"', "\u0000"])
def test_malformed_json_is_400(raw: str) -> None:
    response = call("POST", "/items", raw_body=raw)
    assert response.status == 400
    assert response.body["message"] == "request body is not valid JSON"


def test_json_that_is_not_an_object_is_422() -> None:
    assert call("POST", "/items", body=["widget"]).status == 422


def test_oversize_body_is_413_and_nothing_is_stored() -> None:
    response = call("POST", "/items", body={"name": "x", "description": "d" * MAX_BODY_BYTES})
    assert response.status == 413
    assert _table_size() == 0


def test_a_body_just_under_the_limit_reaches_validation() -> None:
    values = {f"a{index}": "v" * 4_000 for index in range(MAX_BODY_BYTES // 4_100)}
    response = call("POST", "/items", body={"name": "x", "attributes": values})
    assert response.status == 422  # attribute values too long, but not too large a request


def test_non_json_content_type_is_415() -> None:
    response = call("POST", "/items", raw_body="name=widget", headers={"Content-Type": "text/plain"})
    assert response.status == 415


def test_missing_body_is_422() -> None:
    assert call("POST", "/items").status == 422


# --- GET /items/{id} ---------------------------------------------------------------------------


def test_get_returns_the_item_and_its_etag() -> None:
    item = create(description="d")
    response = call("GET", f"/items/{item['id']}")
    assert response.status == 200
    assert response.body == item
    assert response.headers["ETag"] == '"1"'


def test_get_unknown_item_is_404() -> None:
    response = call("GET", f"/items/{uuid.uuid4()}")
    assert response.status == 404
    assert response.body["requestId"] == response.headers["X-Request-Id"]


def test_malformed_item_id_is_422() -> None:
    assert call("GET", "/items/bad$id").status == 422


# --- GET /items ---------------------------------------------------------------------------------


def test_list_pages_through_every_item_exactly_once() -> None:
    created = {create(f"item-{index}")["id"] for index in range(5)}
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        response = call("GET", "/items", query=query)
        assert response.status == 200
        assert len(response.body["items"]) <= 2
        seen += [item["id"] for item in response.body["items"]]
        pages += 1
        cursor = response.body.get("nextCursor")
        if not cursor:
            break
    assert sorted(seen) == sorted(created)
    assert pages >= 3


def test_list_of_an_empty_table() -> None:
    response = call("GET", "/items")
    assert response.status == 200
    assert response.body == {"items": [], "nextCursor": None}


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten"])
def test_list_limit_is_bounded(limit: str) -> None:
    response = call("GET", "/items", query={"limit": limit})
    assert response.status == 422
    assert response.body["detail"][0]["loc"] == ["query", "limit"]


def test_list_accepts_the_bounds() -> None:
    assert call("GET", "/items", query={"limit": "1"}).status == 200
    assert call("GET", "/items", query={"limit": "100"}).status == 200


def test_cursor_is_opaque() -> None:
    ids = {create(f"item-{index}")["id"] for index in range(2)}
    cursor = call("GET", "/items", query={"limit": "1"}).body["nextCursor"]
    assert cursor
    assert not any(item_id in cursor for item_id in ids)


@pytest.mark.parametrize("tamper", ["flip", "truncate", "garbage", "raw-key"])
def test_tampered_cursor_is_refused(tamper: str) -> None:
    """An altered cursor of the documented shape is 400; one of another shape fails validation (422)."""
    create("a")
    create("b")
    cursor: str = call("GET", "/items", query={"limit": "1"}).body["nextCursor"]
    payload, signature = cursor.split(".")
    tampered = {
        "flip": f"{payload}.{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",
        "truncate": cursor[:-4],
        "garbage": "definitely-not-a-cursor",
        "raw-key": json.dumps({"id": "x"}),
    }[tamper]
    response = call("GET", "/items", query={"limit": "1", "cursor": tampered})
    if tamper == "flip":
        assert response.status == 400
        assert "cursor" in response.body["message"]
    else:
        assert response.status == 422
        assert response.body["detail"][0]["loc"] == ["query", "cursor"]


# --- PUT /items/{id} ----------------------------------------------------------------------------


def test_put_with_if_match_updates_and_returns_the_new_version() -> None:
    item = create(description="old", attributes={"a": "1"})
    response = call("PUT", f"/items/{item['id']}", body={"name": "renamed"}, headers={"If-Match": '"1"'})
    assert response.status == 200
    assert response.headers["ETag"] == '"2"'
    updated = response.body
    assert (updated["version"], updated["name"], updated["attributes"]) == (2, "renamed", {})
    assert updated["description"] is None  # a replacement: omitted fields are removed
    assert updated["createdAt"] == item["createdAt"]
    assert updated["updatedAt"] >= item["updatedAt"]
    assert call("GET", f"/items/{item['id']}").body == updated


def test_put_with_expected_version_in_the_body() -> None:
    item = create()
    response = call("PUT", f"/items/{item['id']}", body={"name": "n", "expectedVersion": 1})
    assert response.status == 200
    assert response.body["version"] == 2


def test_put_with_a_stale_if_match_is_412_and_changes_nothing() -> None:
    item = create()
    assert call("PUT", f"/items/{item['id']}", body={"name": "first"}, headers={"If-Match": '"1"'}).status == 200
    response = call("PUT", f"/items/{item['id']}", body={"name": "second"}, headers={"If-Match": '"1"'})
    assert response.status == 412
    assert "version 2" in response.body["message"]
    assert call("GET", f"/items/{item['id']}").body["name"] == "first"


def test_put_with_a_stale_expected_version_is_409_and_changes_nothing() -> None:
    item = create()
    assert call("PUT", f"/items/{item['id']}", body={"name": "first", "expectedVersion": 1}).status == 200
    response = call("PUT", f"/items/{item['id']}", body={"name": "second", "expectedVersion": 1})
    assert response.status == 409
    assert "version 2" in response.body["message"]
    assert call("GET", f"/items/{item['id']}").body["name"] == "first"


def test_put_without_a_version_is_428() -> None:
    item = create()
    assert call("PUT", f"/items/{item['id']}", body={"name": "n"}).status == 428


@pytest.mark.parametrize("if_match", ['W/"1"', "latest", "1", '"01"', '"1", "2"', "*", ' "1"'])
def test_put_with_an_if_match_that_is_not_an_issued_etag_is_422(if_match: str) -> None:
    item = create()
    response = call("PUT", f"/items/{item['id']}", body={"name": "n"}, headers={"If-Match": if_match})
    assert response.status == 422
    assert response.body["detail"][0]["loc"] == ["header", "if-match"]


def test_put_with_a_contradictory_precondition_is_400() -> None:
    item = create()
    response = call(
        "PUT", f"/items/{item['id']}", body={"name": "n", "expectedVersion": 2}, headers={"If-Match": '"1"'}
    )
    assert response.status == 400


def test_put_on_a_missing_item_is_404() -> None:
    response = call("PUT", f"/items/{uuid.uuid4()}", body={"name": "n"}, headers={"If-Match": '"1"'})
    assert response.status == 404
    assert _table_size() == 0  # the conditional update never creates an item


def test_put_keeps_counters() -> None:
    item = create()
    call("POST", f"/items/{item['id']}/counters/views", body={"by": 3})
    response = call("PUT", f"/items/{item['id']}", body={"name": "n"}, headers={"If-Match": '"1"'})
    assert response.body["counters"] == {"views": 3}


def test_put_validation_is_422() -> None:
    item = create()
    assert call("PUT", f"/items/{item['id']}", body={"name": ""}, headers={"If-Match": '"1"'}).status == 422


# --- DELETE /items/{id} -------------------------------------------------------------------------


def test_delete_is_204_then_the_item_is_gone() -> None:
    item = create()
    response = call("DELETE", f"/items/{item['id']}")
    assert (response.status, response.raw_body) == (204, None)
    assert call("GET", f"/items/{item['id']}").status == 404


def test_delete_of_a_missing_item_is_404() -> None:
    assert call("DELETE", f"/items/{uuid.uuid4()}").status == 404


def test_delete_honours_if_match() -> None:
    item = create()
    call("PUT", f"/items/{item['id']}", body={"name": "n"}, headers={"If-Match": '"1"'})
    stale = call("DELETE", f"/items/{item['id']}", headers={"If-Match": '"1"'})
    assert stale.status == 412
    assert _stored(item["id"]) is not None
    assert call("DELETE", f"/items/{item['id']}", headers={"If-Match": '"2"'}).status == 204
    assert _stored(item["id"]) is None


def test_delete_with_if_match_on_a_missing_item_is_404() -> None:
    assert call("DELETE", f"/items/{uuid.uuid4()}", headers={"If-Match": '"1"'}).status == 404


def test_delete_with_an_invalid_if_match_is_422() -> None:
    item = create()
    assert call("DELETE", f"/items/{item['id']}", headers={"If-Match": "*"}).status == 422
    assert _stored(item["id"]) is not None


# --- POST /items/{id}/counters/{name} -----------------------------------------------------------


def test_counter_increments_atomically_and_returns_the_new_value() -> None:
    item = create()
    first = call("POST", f"/items/{item['id']}/counters/views")
    assert first.status == 200
    assert first.body == {"itemId": item["id"], "name": "views", "value": 1}
    assert call("POST", f"/items/{item['id']}/counters/views", body={"by": 5}).body["value"] == 6
    assert call("POST", f"/items/{item['id']}/counters/likes", body={}).body["value"] == 1
    stored = call("GET", f"/items/{item['id']}").body
    assert stored["counters"] == {"views": 6, "likes": 1}
    assert stored["version"] == 1  # counters do not invalidate the version clients hold


def test_counter_on_a_missing_item_is_404_and_creates_nothing() -> None:
    assert call("POST", f"/items/{uuid.uuid4()}/counters/views").status == 404
    assert _table_size() == 0


@pytest.mark.parametrize(("name", "body"), [("views", {"by": 0}), ("views", {"by": "many"}), ("bad$name", None)])
def test_counter_validation_is_422(name: str, body: Any) -> None:
    item = create()
    assert call("POST", f"/items/{item['id']}/counters/{name}", body=body).status == 422


# --- routing, CORS, failures --------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/widgets", "/items/a/b", "/items/a/counters"])
def test_unknown_route_is_404(path: str) -> None:
    response = call("GET", path)
    assert response.status == 404
    assert response.body["message"] == "no such route"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PATCH", "/items", "GET, POST"),
        ("POST", "/items/x", "GET, PUT, DELETE"),
        ("GET", "/items/x/counters/c", "POST"),
    ],
)
def test_wrong_method_is_405_with_allow(method: str, path: str, allow: str) -> None:
    response = call(method, path)
    assert response.status == 405
    assert response.headers["Allow"] == allow


def test_cors_echoes_only_configured_origins() -> None:
    allowed = call("GET", "/items", headers={"Origin": "https://admin.example.com"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://admin.example.com"
    assert "ETag" in allowed.headers["Access-Control-Expose-Headers"]
    foreign = call("GET", "/items", headers={"Origin": "https://evil.example.net"})
    assert "Access-Control-Allow-Origin" not in foreign.headers


def test_cors_headers_are_on_errors_too() -> None:
    response = call("GET", "/nowhere", headers={"Origin": "https://app.example.com"})
    assert response.status == 404
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example.com"


def test_unexpected_failure_is_500_with_request_id_and_no_internals(
    monkeypatch: pytest.MonkeyPatch, log_output: io.StringIO
) -> None:
    def broken(self: data_access.ItemRepository, item_id: str) -> Any:
        raise RuntimeError("connection string postgres://admin:hunter2@db")

    monkeypatch.setattr(data_access.ItemRepository, "get", broken)
    response = call("GET", f"/items/{uuid.uuid4()}")
    assert response.status == 500
    assert response.body["requestId"] == response.headers["X-Request-Id"] != ""
    assert "hunter2" not in (response.raw_body or "")
    assert "Traceback" not in (response.raw_body or "")
    assert "unhandled error" in log_output.getvalue()  # the trace goes to the logs, for operators


@pytest.mark.parametrize("code", sorted(THROTTLING_CODES))
def test_a_hot_item_dynamodb_throttles_is_a_429_to_back_off_from_not_a_500(
    monkeypatch: pytest.MonkeyPatch, code: str
) -> None:
    """One item takes about 1,000 write units a second; past that DynamoDB throttles (botocore retries
    first). The caller is told to back off (429, Retry-After), and the item is left as it was."""
    item = create()
    client = resources.dynamodb()
    update_item = client.update_item
    throttled: list[str] = []

    def throttle(**request: Any) -> Any:
        throttled.append(request["TableName"])
        raise ClientError({"Error": {"Code": code, "Message": "Rate exceeded"}}, "UpdateItem")

    monkeypatch.setattr(client, "update_item", throttle)
    response = call("POST", f"/items/{item['id']}/counters/views")
    monkeypatch.setattr(client, "update_item", update_item)

    assert (response.status, response.headers["Retry-After"]) == (429, "1")
    assert response.body["message"] == "too many requests for this item right now; retry after a short backoff"
    assert response.body["requestId"] == response.headers["X-Request-Id"]
    assert throttled == [TABLE]
    assert call("GET", f"/items/{item['id']}").body["counters"] == {}


def test_an_idempotent_create_whose_idempotency_table_throttles_is_a_429_not_a_500(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Powertools' idempotency wraps the SDK's throttling error in its own: still the caller's cue to back off."""
    client = resources.dynamodb()
    put_item = client.put_item

    def throttle_idempotency(**request: Any) -> Any:
        if request["TableName"] == IDEMPOTENCY_TABLE:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "PutItem")
        return put_item(**request)

    monkeypatch.setattr(client, "put_item", throttle_idempotency)
    response = call("POST", "/items", body={"name": "lamp"}, headers={"Idempotency-Key": str(uuid.uuid4())})

    assert (response.status, response.headers["Retry-After"]) == (429, "1")
    assert _table_size() == 0  # nothing was created


def test_missing_table_is_a_500_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "no-such-table")
    from tests.handlers.api_backend.conftest import clear_caches

    clear_caches()
    assert call("GET", "/items").status == 500


def test_request_bodies_are_not_logged(log_output: io.StringIO, capsys: pytest.CaptureFixture[str]) -> None:
    marker = "sensitive-" + uuid.uuid4().hex
    item = create(description=marker)
    call("PUT", f"/items/{item['id']}", body={"name": marker, "expectedVersion": 7})
    call("POST", "/items", raw_body='{"name": "' + marker)
    logger.info("probe")  # proves the capture sees the handler's logger
    logs = log_output.getvalue() + capsys.readouterr().out
    assert '"probe"' in logs
    assert marker not in logs


def test_business_metrics_are_emitted_as_emf(capsys: pytest.CaptureFixture[str]) -> None:
    item = create()
    call("POST", f"/items/{item['id']}/counters/views")
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    names = {
        metric["Name"] for blob in emitted for spec in blob["_aws"]["CloudWatchMetrics"] for metric in spec["Metrics"]
    }
    assert {"ItemsCreated", "CounterIncrements"} <= names


def test_warmup_event_returns_without_touching_the_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app, "resolve", lambda *_: pytest.fail("warm-up reached the resolver"))
    assert handler(dict(WARMUP_EVENT), FakeContext()) == WARMUP_RESPONSE


def test_every_domain_error_has_an_http_status() -> None:
    def subclasses(cls: type[ApiError]) -> set[type[ApiError]]:
        return {sub for direct in cls.__subclasses__() for sub in {direct, *subclasses(direct)}}

    assert set(ERROR_STATUS) == subclasses(ApiError)
