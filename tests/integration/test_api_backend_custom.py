"""Your own routes on the local cloud: the guide's notes API (``custom.py``) deployed as a user would deploy it.

``ApiBackend(handlers={"api": HandlerCode.from_package(...)})`` in a bare app, deployed once;
each request goes client -> REST API -> the handler's ``live`` alias -> DynamoDB, and the tests
look at what the table holds, not only at the answers.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from serverless_patterns.local import LocalCloud
from serverless_patterns.scenarios.api_backend import header, tampered
from serverless_patterns.scenarios.target import HttpResponse
from tests.integration.fixtures.notes_stack import ORIGIN, notes_app

# The handler runs in-process: Powertools warns when a request emits no business metric (GETs).
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud.deploy(notes_app().assembly) as running:
        yield running


def _stored(cloud: LocalCloud) -> dict[str, dict[str, Any]]:
    table = cloud.outputs["NotesTableName"]
    items = cloud.client("dynamodb").scan(TableName=table, ConsistentRead=True)["Items"]
    return {item["id"]["S"]: item for item in items}


def _error(response: HttpResponse, status: int) -> str:
    assert response.status_code == status, response.body
    body: dict[str, Any] = response.json()
    assert body["requestId"] == header(response, "X-Request-Id") != ""
    assert "Traceback" not in response.body
    message: str = body["message"]
    return message


def test_the_users_routes_run_behind_the_live_alias_with_the_patterns_guarantees(cloud: LocalCloud) -> None:
    key = {"Idempotency-Key": f"note-{uuid.uuid4()}"}
    created = cloud.api_request("POST", "/notes", body={"text": "first"}, headers=key)
    replayed = cloud.api_request("POST", "/notes", body={"text": "first"}, headers=key)
    note = created.json()

    assert (created.status_code, replayed.status_code, replayed.json()) == (201, 201, note)
    assert (header(created, "Location"), header(replayed, "Idempotent-Replayed")) == (f"/v1/notes/{note['id']}", "true")
    assert cloud.invocations[-1].qualifier == "live"
    assert _stored(cloud)[note["id"]]["version"] == {"N": "1"}

    path = f"/notes/{note['id']}"
    updated = cloud.api_request("PUT", path, body={"text": "second"}, headers={"If-Match": '"1"'})
    assert (updated.status_code, header(updated, "ETag")) == (200, '"2"')
    assert "version 2" in _error(cloud.api_request("PUT", path, body={"text": "x"}, headers={"If-Match": '"1"'}), 412)
    _error(cloud.api_request("PUT", path, body={"text": "x"}), 428)
    assert _stored(cloud)[note["id"]]["text"] == {"S": "second"}

    pinned = cloud.api_request("POST", "/notes", body={"text": "keep", "pinned": True}).json()
    assert "pinned" in _error(cloud.api_request("DELETE", f"/notes/{pinned['id']}"), 409)
    assert cloud.api_request("DELETE", path, headers={"If-Match": '"2"'}).status_code == 204
    assert set(_stored(cloud)) == {pinned["id"]}


def test_pages_follow_signed_cursors(cloud: LocalCloud) -> None:
    for index in range(4):
        cloud.api_request("POST", "/notes", body={"text": f"paged {index}"})
    seen: list[str] = []
    query = {"limit": "3"}
    while True:
        page = cloud.api_request("GET", "/notes", query=query).json()
        seen += [note["id"] for note in page["notes"]]
        if "nextCursor" not in page or not page["nextCursor"]:
            break
        cursor = page["nextCursor"]
        query = {"limit": "3", "cursor": cursor}
    assert sorted(seen) == sorted(_stored(cloud))
    assert "cursor" in _error(cloud.api_request("GET", "/notes", query={"cursor": tampered(cursor)}), 400)


def test_browsers_of_the_configured_origin_get_cors_headers(cloud: LocalCloud) -> None:
    answer = cloud.api_request("GET", "/notes", headers={"Origin": ORIGIN})
    assert header(answer, "Access-Control-Allow-Origin") == ORIGIN
    assert "ETag" in (header(answer, "Access-Control-Expose-Headers") or "")
    preflight = cloud.api_request("OPTIONS", "/notes", headers={"Origin": ORIGIN})
    assert preflight.status_code == 204


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        pytest.param("POST", "/notes", {"body": "text=x", "headers": {"Content-Type": "text/plain"}}, 415, id="form"),
        pytest.param("POST", "/notes", {"body": {"text": "x" * 40_000}}, 413, id="oversize"),
        pytest.param(
            "POST",
            "/notes",
            {"body": "[" * 2_000 + "]" * 2_000, "headers": {"Content-Type": "application/json"}},
            400,
            id="nested",
        ),
        pytest.param("POST", "/notes", {"body": {"text": "x", "owner": "me"}}, 422, id="unknown-field"),
        pytest.param("GET", "/notes", {"query": {"cursor": "forged.cursor"}}, 422, id="cursor-shape"),
        pytest.param("GET", "/notes/" + "n" * 3_000, {}, 404, id="key-longer-than-dynamodb-allows"),
        pytest.param("PUT", "/notes/x", {"body": {"text": "x"}, "headers": {"If-Match": "*"}}, 422, id="if-match"),
        pytest.param("PATCH", "/notes/x", {}, 405, id="method"),
        pytest.param("GET", "/elsewhere", {}, 404, id="route"),
    ],
)
def test_hostile_requests_are_refused_with_their_status_and_store_nothing(
    cloud: LocalCloud, method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    before = _stored(cloud)
    _error(cloud.api_request(method, path, **kwargs), status)
    assert _stored(cloud) == before
