"""Your own routes on the pattern's runtime: the guide's example API (``custom.py``), run as Lambda would run it.

The example's package is written out from the docstring, imported as the top-level package
Lambda imports, and driven through its handler with proxy events under moto: its own routes,
the versioned repository, idempotent create and signed cursors on the emulated table, the
request guard's limits, the error mapping, and its OpenAPI document.
"""

from __future__ import annotations

import gc
import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.event_handler.api_gateway import Router
from hypothesis import HealthCheck, given, settings, strategies as st

from serverless_patterns.lambdas.api_backend import openapi
from serverless_patterns.lambdas.api_backend.app import ApiApp
from serverless_patterns.lambdas.api_backend.errors import ERROR_STATUS, ApiError
from serverless_patterns.lambdas.api_backend.wire import InputModel
from serverless_patterns.lambdas.shared.warmup import WARMUP_EVENT, WARMUP_RESPONSE
from tests.custom_api import PACKAGE, write_example_package
from tests.handlers.api_backend.conftest import IDEMPOTENCY_TABLE, TABLE, ApiResponse, FakeContext, call

pytestmark = [
    pytest.mark.usefixtures("aws"),
    pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning"),
]


@pytest.fixture(scope="module")
def notes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """``notes_api.handler``, imported from the written-out package as Lambda would import it."""
    root = tmp_path_factory.mktemp("notes-package")
    write_example_package(root)
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(f"{PACKAGE}.handler")
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def _call(notes: ModuleType, method: str, path: str, **kwargs: Any) -> ApiResponse:
    return call(method, path, entry=notes.handler, **kwargs)


def _created(notes: ModuleType, text: str = "hello", **fields: Any) -> dict[str, Any]:
    response = _call(notes, "POST", "/notes", body={"text": text, **fields})
    assert response.status == 201, response.raw_body
    body: dict[str, Any] = response.body
    return body


def _error(response: ApiResponse, status: int) -> str:
    assert response.status == status, response.raw_body
    assert response.body["requestId"] == response.headers["X-Request-Id"] != ""
    message: str = response.body["message"]
    return message


def _count(table: str) -> int:
    return len(boto3.client("dynamodb").scan(TableName=table)["Items"])


def test_create_is_idempotent_per_caller_and_key(notes: ModuleType) -> None:
    key = {"Idempotency-Key": "note-1"}
    first = _call(notes, "POST", "/notes", body={"text": "once"}, headers=key)
    retry = _call(notes, "POST", "/notes", body={"text": "once"}, headers=key)

    assert (first.status, retry.status) == (201, 201)
    assert retry.body == first.body == {"id": first.body["id"], "text": "once", "pinned": False, "version": 1}
    assert (first.headers["ETag"], first.headers["Location"]) == ('"1"', f"/v1/notes/{first.body['id']}")
    assert (retry.headers["Idempotent-Replayed"], "Idempotent-Replayed" in first.headers) == ("true", False)
    assert "Idempotency-Key" in _error(_call(notes, "POST", "/notes", body={"text": "other"}, headers=key), 422)
    other_caller = _call(
        notes, "POST", "/notes", body={"text": "once"}, headers=key, caller_arn="arn:aws:iam::1:user/b"
    )
    assert other_caller.body["id"] != first.body["id"]
    assert (_count(TABLE), _count(IDEMPOTENCY_TABLE)) == (2, 2)


def test_pages_follow_signed_cursors_and_refuse_altered_ones(notes: ModuleType) -> None:
    created = {_created(notes, f"note {index}")["id"] for index in range(5)}
    seen: list[str] = []
    query: dict[str, str] = {"limit": "2"}
    while True:
        page = _call(notes, "GET", "/notes", query=query)
        assert page.status == 200, page.raw_body
        seen += [note["id"] for note in page.body["notes"]]
        if not page.body.get("nextCursor"):
            break
        query = {"limit": "2", "cursor": page.body["nextCursor"]}
    assert sorted(seen) == sorted(created)

    cursor = _call(notes, "GET", "/notes", query={"limit": "2"}).body["nextCursor"]
    payload, signature = cursor.split(".")
    altered = f"{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    assert "cursor" in _error(_call(notes, "GET", "/notes", query={"cursor": altered}), 400)
    assert _call(notes, "GET", "/notes", query={"cursor": "not-a-cursor"}).status == 422
    assert _call(notes, "GET", "/notes", query={"limit": "101"}).status == 422


def test_optimistic_locking_412_409_428(notes: ModuleType) -> None:
    note = _created(notes, "draft")
    path = f"/notes/{note['id']}"

    updated = _call(notes, "PUT", path, body={"text": "final"}, headers={"If-Match": '"1"'})
    assert (updated.status, updated.headers["ETag"], updated.body["version"]) == (200, '"2"', 2)
    assert "version 2, not 1" in _error(_call(notes, "PUT", path, body={"text": "x"}, headers={"If-Match": '"1"'}), 412)
    assert "version 2, not 1" in _error(_call(notes, "PUT", path, body={"text": "x", "expectedVersion": 1}), 409)
    _error(_call(notes, "PUT", path, body={"text": "blind"}), 428)
    _error(_call(notes, "PUT", path, body={"text": "x", "expectedVersion": 2}, headers={"If-Match": '"3"'}), 400)
    assert _call(notes, "GET", path).body["text"] == "final"
    assert "note 'nope' not found" in _error(
        _call(notes, "PUT", "/notes/nope", body={"text": "x", "expectedVersion": 1}), 404
    )


def test_the_users_own_domain_error_gets_its_status(notes: ModuleType) -> None:
    pinned = _created(notes, "keep", pinned=True)
    loose = _created(notes, "drop")

    assert "is pinned" in _error(_call(notes, "DELETE", f"/notes/{pinned['id']}"), 409)
    _error(_call(notes, "DELETE", f"/notes/{loose['id']}", headers={"If-Match": '"7"'}), 412)
    assert _call(notes, "DELETE", f"/notes/{loose['id']}", headers={"If-Match": '"1"'}).status == 204
    assert "note" in _error(_call(notes, "GET", f"/notes/{loose['id']}"), 404)
    assert notes.NotePinnedError in ERROR_STATUS


@pytest.mark.parametrize(
    ("kwargs", "status", "words"),
    [
        pytest.param(
            {"raw_body": "text=x", "headers": {"Content-Type": "text/plain"}}, 415, "application/json", id="not-json"
        ),
        pytest.param({"body": {"text": "x" * 40_000}}, 413, "larger than", id="oversize"),
        pytest.param({"raw_body": "[" * 100 + "]" * 100}, 400, "nested deeper", id="deep"),
        pytest.param({"raw_body": '{"text": ' + "1" * 500 + "}"}, 400, "number longer", id="long-number"),
        pytest.param({"raw_body": '{"text": "x"'}, 400, "not valid JSON", id="malformed"),
        pytest.param({"raw_body": '{"text": NaN}'}, 400, "not valid JSON", id="nan"),
        pytest.param({"body": {"text": "x", "colour": "red"}}, 422, "validation", id="unknown-field"),
        pytest.param({"body": {"text": 3}}, 422, "validation", id="strict-types"),
    ],
)
def test_the_guard_and_validation_refuse_bad_bodies(
    notes: ModuleType, kwargs: dict[str, Any], status: int, words: str
) -> None:
    assert words in _error(_call(notes, "POST", "/notes", **kwargs), status)
    assert _count(TABLE) == 0


def test_routing_errors_404_and_405_with_allow(notes: ModuleType) -> None:
    assert _error(_call(notes, "GET", "/items"), 404) == "no such route"
    wrong = _call(notes, "PATCH", "/notes/abc")
    _error(wrong, 405)
    assert wrong.headers["Allow"] == "GET, PUT, DELETE"
    assert "note" in _error(_call(notes, "GET", "/notes/" + "n" * 3_000), 404)  # longer than DynamoDB keys


def test_an_unexpected_failure_is_a_500_with_only_the_request_id(
    notes: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(limit: int, cursor: str | None) -> Any:
        raise RuntimeError("db password=hunter2")

    monkeypatch.setattr(notes.NOTES, "scan_page", broken)
    response = _call(notes, "GET", "/notes")
    assert "hunter2" not in _error(response, 500)


def test_business_metrics_and_warm_up(notes: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    _created(notes)
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert {"NotesCreated"} <= {
        m["Name"] for blob in emitted for s in blob["_aws"]["CloudWatchMetrics"] for m in s["Metrics"]
    }
    assert notes.handler(dict(WARMUP_EVENT), FakeContext()) == WARMUP_RESPONSE


@settings(max_examples=60, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
    path=st.sampled_from(["/notes", "/notes/x", "/notes/x/y", "/", "/notes/%00"])
    | st.text(max_size=40).map("/notes/{}".format),
    body=st.none()
    | st.text(max_size=200)
    | st.fixed_dictionaries(
        {"text": st.text(max_size=30)}, optional={"pinned": st.booleans(), "expectedVersion": st.integers()}
    ).map(json.dumps)
    | st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
        max_leaves=20,
    ).map(json.dumps),
    if_match=st.none() | st.sampled_from(['"1"', "*", 'W/"1"', '"0"']) | st.text(max_size=10),
)
def test_no_request_is_a_5xx(notes: ModuleType, method: str, path: str, body: str | None, if_match: str | None) -> None:
    headers = {"If-Match": if_match} if if_match is not None else {}
    response = _call(notes, method, path, raw_body=body, headers=headers)
    assert response.status < 500, (method, path, body, response.raw_body)
    if response.status >= 400:
        _error(response, response.status)


def test_openapi_is_generated_from_the_users_routes(notes: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    assert openapi.main([f"{PACKAGE}.handler:api"]) == 0
    document = json.loads(capsys.readouterr().out)
    operations = {(path, method) for path, item in document["paths"].items() for method in item}
    assert operations == {
        ("/notes", "get"),
        ("/notes", "post"),
        ("/notes/{note_id}", "get"),
        ("/notes/{note_id}", "put"),
        ("/notes/{note_id}", "delete"),
    }
    assert document["info"]["title"] == "Notes API"
    assert "at most 32768 bytes" in document["info"]["description"]
    delete = document["paths"]["/notes/{note_id}"]["delete"]["responses"]
    assert delete["409"]["description"] == "Conflict: the note is pinned."
    assert {"400", "413", "415", "422", "500", "401", "403", "429"} <= delete.keys()
    assert {"Note", "NoteInput", "NoteReplacement", "NotePage", "ErrorBody"} <= document["components"]["schemas"].keys()
    assert openapi.main(["notes_api.handler:router"]) == 2
    assert "not an ApiApp" in capsys.readouterr().err


class Unknown:  # nothing pydantic can validate
    pass


class Broken(InputModel):  # defining it is fine: its validator is built on first use
    thing: Unknown


def test_a_model_pydantic_cannot_build_fails_the_openapi_document_not_the_import(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    router = Router()  # type: ignore[no-untyped-call]

    @router.post("/broken")
    def broken(body: Broken) -> dict[str, str]:
        return {}

    module = ModuleType("broken_api")
    module.api = ApiApp(router, title="Broken")  # type: ignore[attr-defined]  # importing it is fine
    monkeypatch.setitem(sys.modules, "broken_api", module)
    assert openapi.main(["broken_api:api"]) == 2
    assert "Unable to generate pydantic-core schema" in capsys.readouterr().err


def test_a_domain_error_must_declare_a_4xx_status() -> None:
    with pytest.raises(
        TypeError, match=r"ServiceDownError.status must be a 4xx HTTPStatus, got <HTTPStatus.BAD_GATEWAY"
    ):

        class ServiceDownError(ApiError):
            status = HTTPStatus.BAD_GATEWAY

    gc.collect()  # the refused class, half-built, leaves ApiError.__subclasses__()
    assert all(400 <= status < 500 for status in ERROR_STATUS.values())


def test_a_minimal_api_imports_only_what_it_uses(tmp_path: Path) -> None:
    """One route, no AWS: its cold start pays for no AWS SDK, no idempotency and no repository."""
    (tmp_path / "hello_api").mkdir()
    (tmp_path / "hello_api" / "__init__.py").write_text("")
    (tmp_path / "hello_api" / "handler.py").write_text(
        "from aws_lambda_powertools.event_handler.api_gateway import Router\n"
        "from serverless_patterns.lambdas.api_backend.custom import ApiApp\n"
        "router = Router()\n"
        "@router.get('/hello')\n"
        "def hello() -> dict[str, str]:\n"
        "    return {'hello': 'world'}\n"
        "handler = ApiApp(router, title='Hello').handler\n"
    )
    probe = "import json, sys, hello_api.handler\nprint(json.dumps(sorted(sys.modules)))\n"
    environment = {"POWERTOOLS_SERVICE_NAME": "hello", "PYTHONPATH": f"{tmp_path}:{Path.cwd()}"}
    command = [sys.executable, "-c", probe]
    result = subprocess.run(command, env=environment, capture_output=True, text=True, check=True)  # noqa: S603
    loaded = json.loads(result.stdout)
    # Powertools itself imports the botocore package (for its user agent), but no client machinery.
    assert [name for name in loaded if name.startswith(("boto3", "botocore.")) or "idempotency" in name] == []
    assert {name for name in loaded if name.startswith("serverless_patterns.lambdas.api_backend.")} == {
        f"serverless_patterns.lambdas.api_backend.{module}"
        for module in ("app", "custom", "errors", "preconditions", "request_guard", "responses", "wire")
    }
