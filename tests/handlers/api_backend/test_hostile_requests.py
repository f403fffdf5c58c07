"""Hostile requests found by outside testing: each was a 500 or an echo of the input; now a bounded 4xx."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest

from serverless_patterns.lambdas.api_backend.handler import GUARD, MAX_BODY_BYTES
from serverless_patterns.lambdas.api_backend.responses import MAX_DETAIL_ENTRIES
from tests.handlers.api_backend.conftest import TABLE, ApiResponse, call, create

pytestmark = [
    pytest.mark.usefixtures("aws"),
    pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning"),
]

# No error response may be larger than this, whatever the request.
MAX_ERROR_RESPONSE_BYTES = 4_096
MULTIPART_BODY = '--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nwidget\r\n--b--\r\n'


def _table_size() -> int:
    return len(boto3.client("dynamodb").scan(TableName=TABLE)["Items"])


def _refused(response: ApiResponse, status: int, *words: str) -> dict[str, Any]:
    assert response.status == status, response.raw_body
    assert len((response.raw_body or "").encode()) <= MAX_ERROR_RESPONSE_BYTES
    body: dict[str, Any] = response.body
    assert body["requestId"] == response.headers["X-Request-Id"]
    for word in words:
        assert word in body["message"]
    return body


@pytest.mark.parametrize(
    ("content_type", "raw"),
    [
        pytest.param("multipart/form-data", MULTIPART_BODY, id="multipart-without-boundary"),  # was a 500
        pytest.param("multipart/form-data; boundary=b", MULTIPART_BODY, id="multipart-with-boundary"),  # created
        pytest.param("application/x-www-form-urlencoded", "name=widget", id="form"),
        pytest.param("text/plain", '{"name": "widget"}', id="text"),
        pytest.param("application/json; charset=latin-1", '{"name": "widget"}', id="other-charset"),
        pytest.param("application/jsonp", '{"name": "widget"}', id="lookalike"),
        pytest.param("Application/JSON", '{"name": "widget"}', id="not-the-documented-spelling"),
    ],
)
@pytest.mark.parametrize(("method", "path"), [("POST", "/items"), ("PUT", "/items/some-id")])
def test_a_body_that_is_not_json_is_415_before_parsing(method: str, path: str, content_type: str, raw: str) -> None:
    response = call(method, path, raw_body=raw, headers={"Content-Type": content_type, "If-Match": '"1"'})
    _refused(response, 415, "application/json")
    assert _table_size() == 0


def test_a_body_without_a_content_type_is_415() -> None:
    response = call("POST", "/items", raw_body='{"name": "widget"}', headers={"Content-Type": ""})
    _refused(response, 415)


def test_json_with_a_charset_is_accepted() -> None:
    response = call(
        "POST", "/items", raw_body='{"name": "w"}', headers={"Content-Type": "application/json; charset=UTF-8"}
    )
    assert response.status == 201


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "application/json"])
def test_the_size_limit_applies_to_every_body_and_every_method(content_type: str) -> None:
    huge = "a=" + "x" * (1024 * 1024) if content_type != "application/json" else json.dumps({"name": "x" * 40_000})
    for method, path in (("POST", "/items"), ("GET", "/items"), ("DELETE", "/items/x")):
        response = call(method, path, raw_body=huge, headers={"Content-Type": content_type})
        assert response.status in (413, 415), (method, response.status)
        _refused(response, response.status)
    assert _table_size() == 0


def test_a_base64_encoded_body_is_measured_decoded_and_parsed() -> None:
    from serverless_patterns.lambdas.api_backend.handler import handler
    from tests.handlers.api_backend.conftest import FakeContext, api_event

    event = api_event("POST", "/items", raw_body=base64.b64encode(b'{"name": "encoded"}').decode())
    event["isBase64Encoded"] = True
    assert handler(event, FakeContext())["statusCode"] == 201
    event["body"] = "not base64!"
    assert handler(event, FakeContext())["statusCode"] == 400
    event["body"] = base64.b64encode(b'{"name": "\xff"}').decode()
    assert handler(event, FakeContext())["statusCode"] == 400


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        pytest.param("[" * 1_000 + "]" * 1_000, ("nested", "16"), id="nested-1000"),  # was RecursionError
        pytest.param('{"name": "x", "by": ' + "9" * 5_000 + "}", ("number", "32"), id="int-5000-digits"),  # ValueError
        pytest.param('{"name": "x", "by": 1.' + "5" * 40 + "}", ("number",), id="long-float"),
        pytest.param(json.dumps({"name": "x" * 5_000}), ("string", "4096"), id="long-string"),
        pytest.param(json.dumps({"k" * 5_000: 1}), ("string",), id="long-member-name"),
        pytest.param(json.dumps({"name": "x", "list": [0] * 300}), ("array", "256"), id="long-array"),
        pytest.param(json.dumps({f"k{i}": 0 for i in range(300)}), ("object", "256"), id="wide-object"),
        pytest.param('{"name": "\\ud800"}', ("surrogate",), id="unpaired-surrogate"),
    ],
)
def test_json_beyond_a_limit_is_400_naming_it(raw: str, words: tuple[str, ...]) -> None:
    _refused(call("POST", "/items", raw_body=raw), 400, *words)
    assert _table_size() == 0


@pytest.mark.parametrize("raw", ['{"name": NaN}', '{"name": Infinity}', '{"name": -Infinity}'])
def test_json_constants_outside_the_standard_are_invalid_json(raw: str) -> None:
    _refused(call("POST", "/items", raw_body=raw), 400, "not valid JSON")


def test_depth_within_the_limit_and_brackets_inside_strings_are_fine() -> None:
    nested: Any = "x"
    for _ in range(GUARD.limits.max_depth - 1):
        nested = {"n": nested}
    assert GUARD.parse_json(json.dumps(nested)) == nested
    brackets = {"name": "[[[[{{{{" * 100}
    assert GUARD.parse_json(json.dumps(brackets)) == brackets


def test_validation_errors_never_echo_large_input() -> None:
    """The 422 once repeated every offending key: a 1 MB response to a 1 MB body."""
    fields = {"k" * 4_000 + str(index): index for index in range(7)}
    response = call("POST", "/items", raw_body=json.dumps({"name": "x", **fields}))
    body = _refused(response, 422)
    assert len(body["detail"]) <= MAX_DETAIL_ENTRIES
    assert "k" * 100 not in (response.raw_body or "")


def test_many_problems_are_capped() -> None:
    fields = {f"extra{index}": index for index in range(200)}
    body = _refused(call("POST", "/items", raw_body=json.dumps({"name": "", **fields})), 422)
    assert len(body["detail"]) == MAX_DETAIL_ENTRIES


@pytest.mark.parametrize(
    "body",
    [
        {"name": "n", "expectedVersion": "1"},
        {"name": "n", "expectedVersion": True},
        {"name": "n", "expectedVersion": 1.0},
        {"name": 7, "expectedVersion": 1},
        {"name": "n", "expectedVersion": 10**15},
    ],
)
def test_input_fields_are_strict(body: dict[str, Any]) -> None:
    item = create()
    assert call("PUT", f"/items/{item['id']}", body=body).status == 422


@pytest.mark.parametrize("by", ["2", True, 2.0])
def test_counter_increments_are_strict(by: Any) -> None:
    item = create()
    assert call("POST", f"/items/{item['id']}/counters/views", body={"by": by}).status == 422


def test_oversize_body_constant_is_the_guards() -> None:
    assert MAX_BODY_BYTES == GUARD.limits.max_body_bytes == 32 * 1024


def test_an_item_holds_a_bounded_number_of_counters(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unbounded counter names would grow an item past DynamoDB's 400 KB: a 500 on every later write."""
    from serverless_patterns.lambdas.api_backend import logic

    monkeypatch.setattr(logic, "MAX_COUNTERS", 3)
    item = create()
    for name in ("a", "b", "c"):
        assert call("POST", f"/items/{item['id']}/counters/{name}").status == 200
    _refused(call("POST", f"/items/{item['id']}/counters/d"), 409, "3 counters")
    assert call("POST", f"/items/{item['id']}/counters/a").body["value"] == 2  # existing ones still count
