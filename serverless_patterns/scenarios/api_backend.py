"""The items API driven through its routes: CRUD with versions, conflicts, counters, pages, idempotent creation.

Everything goes through ``Target.api_request`` (the deployed REST API, authenticated as the
target allows), so the same checks hold on the local cloud and on a deployed stage. The
items it creates carry a per-run marker and are deleted at the end, so a real table does
not grow and a page-through stays short. Two bad requests show the error mapping; the
integration tests (``tests/integration/test_api_backend.py``) cover every error path.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from serverless_patterns.scenarios import ScenarioRun, scenario

if TYPE_CHECKING:
    from serverless_patterns.scenarios.target import HttpResponse, Target

PAGE_SIZE = 2
PAGED_ITEMS = 5
# A page-through of a shared table stops here rather than run for minutes (the check then fails).
MAX_PAGES = 250


def header(response: HttpResponse, name: str) -> str | None:
    """A response header, whatever case the target reports names in."""
    wanted = name.lower()
    return next((value for key, value in response.headers.items() if key.lower() == wanted), None)


def page_through(cloud: Target, *, limit: int, max_pages: int = MAX_PAGES) -> tuple[list[str], int, bool]:
    """Every item id of ``GET /items`` following ``nextCursor``; the page count; whether the end was reached."""
    ids: list[str] = []
    cursor: str | None = None
    for pages in range(1, max_pages + 1):
        query = {"limit": str(limit)} | ({"cursor": cursor} if cursor else {})
        response = cloud.api_request("GET", "/items", query=query)
        if response.status_code != 200:
            raise AssertionError(f"GET /items answered {response.status_code}: {response.body[:200]}")
        page: dict[str, Any] = response.json()
        ids += [item["id"] for item in page["items"]]
        cursor = page.get("nextCursor")
        if not cursor:
            return ids, pages, True
    return ids, max_pages, False


def tampered(cursor: str) -> str:
    """The cursor with the last character of its signature changed."""
    return cursor[:-1] + ("A" if cursor[-1] != "A" else "B")


@scenario("API backend: CRUD with versions, 412 on a stale If-Match, counters, pages, idempotent create", pattern="Api")
def api_backend(cloud: Target, run: ScenarioRun) -> None:
    """Create, read, update (If-Match), conflict, count, page, replay a create, delete; two bad requests."""
    marker = uuid.uuid4().hex[:12]
    created: list[str] = []
    try:
        _crud(cloud, run, marker, created)
        _idempotent_create(cloud, run, marker, created)
        _pages(cloud, run, marker, created)
        _bad_input(cloud, run)
    finally:
        for item_id in created:
            cloud.api_request("DELETE", f"/items/{item_id}")


def _crud(cloud: Target, run: ScenarioRun, marker: str, created: list[str]) -> None:
    response = cloud.api_request("POST", "/items", body={"name": f"scenario-{marker}", "attributes": {"run": marker}})
    if not run.equal("POST /items creates an item (201)", response.status_code, 201):
        return
    item = response.json()
    item_id = item["id"]
    created.append(item_id)
    shown = (item["version"], header(response, "ETag"), (header(response, "Location") or "").rsplit("/", 2)[-2:])
    run.equal("the new item is version 1, with its ETag and Location", shown, (1, '"1"', ["items", item_id]))
    read = cloud.api_request("GET", f"/items/{item_id}")
    run.check("GET /items/{id} returns it", read.status_code == 200 and read.json() == item)

    renamed = {"name": f"renamed-{marker}", "attributes": {"run": marker}}
    updated = cloud.api_request("PUT", f"/items/{item_id}", body=renamed, headers={"If-Match": '"1"'})
    passed = updated.status_code == 200 and updated.json()["version"] == 2 and header(updated, "ETag") == '"2"'
    run.check(
        "PUT with If-Match of the current version answers the new version 2",
        passed,
        detail="" if passed else f"{updated.status_code} {updated.body[:200]}",
    )
    stale = cloud.api_request("PUT", f"/items/{item_id}", body={"name": "lost update"}, headers={"If-Match": '"1"'})
    run.equal("PUT with a stale If-Match is a 412 failed precondition", stale.status_code, 412)
    after = cloud.api_request("GET", f"/items/{item_id}").json()
    run.equal("the conflicting write changed nothing", (after["version"], after["name"]), (2, renamed["name"]))

    values = [
        cloud.api_request("POST", f"/items/{item_id}/counters/views", body=body).json().get("value")
        for body in (None, {"by": 2}, {"by": 4})
    ]
    run.equal("counter increments are atomic adds (1, 3, 7)", values, [1, 3, 7], count=len(values))
    run.equal(
        "counters leave the item's version alone",
        cloud.api_request("GET", f"/items/{item_id}").json()["version"],
        2,
    )

    stale_delete = cloud.api_request("DELETE", f"/items/{item_id}", headers={"If-Match": '"1"'})
    run.equal("DELETE with a stale If-Match is a 412 failed precondition", stale_delete.status_code, 412)
    deleted = cloud.api_request("DELETE", f"/items/{item_id}", headers={"If-Match": '"2"'})
    run.equal("DELETE with the current If-Match answers 204", deleted.status_code, 204)
    run.equal("the deleted item is gone (404)", cloud.api_request("GET", f"/items/{item_id}").status_code, 404)
    created.remove(item_id)


def _idempotent_create(cloud: Target, run: ScenarioRun, marker: str, created: list[str]) -> None:
    body = {"name": f"idempotent-{marker}", "attributes": {"run": marker}}
    key = {"Idempotency-Key": f"scenario-{marker}"}
    first = cloud.api_request("POST", "/items", body=body, headers=key)
    retry = cloud.api_request("POST", "/items", body=body, headers=key)
    if first.status_code == 201:
        created.append(first.json()["id"])
    passed = (first.status_code, retry.status_code) == (201, 201) and retry.json() == first.json()
    run.check(
        "a retried POST with the same Idempotency-Key returns the first item",
        passed,
        detail="" if passed else f"{first.status_code} then {retry.status_code}",
    )
    run.equal("the retry is marked Idempotent-Replayed", header(retry, "Idempotent-Replayed"), "true")


def _pages(cloud: Target, run: ScenarioRun, marker: str, created: list[str]) -> None:
    mine = []
    for index in range(PAGED_ITEMS):
        response = cloud.api_request("POST", "/items", body={"name": f"page-{index}", "attributes": {"run": marker}})
        if response.status_code == 201:
            mine.append(response.json()["id"])
    created += mine
    ids, pages, complete = page_through(cloud, limit=PAGE_SIZE)
    seen = [item_id for item_id in ids if item_id in mine]
    run.check(
        f"paging {PAGE_SIZE} at a time with the cursor lists every item exactly once",
        complete and len(mine) == PAGED_ITEMS and sorted(seen) == sorted(mine) and len(ids) == len(set(ids)),
        detail=f"{len(seen)}/{len(mine)} found in {pages} pages, {len(ids) - len(set(ids))} repeated, end={complete}",
        count=len(seen),
    )
    first_page = cloud.api_request("GET", "/items", query={"limit": "1"}).json()
    cursor = first_page.get("nextCursor")
    if run.check("a page followed by more items carries a cursor", bool(cursor)):
        forged = cloud.api_request("GET", "/items", query={"limit": "1", "cursor": tampered(cursor)})
        run.equal("a tampered cursor is refused (400)", forged.status_code, 400)


def _bad_input(cloud: Target, run: ScenarioRun) -> None:
    malformed = cloud.api_request(
        "POST", "/items", body='{"name": "unterminated', headers={"Content-Type": "application/json"}
    )
    run.equal("malformed JSON is a 400", malformed.status_code, 400)
    invalid = cloud.api_request("POST", "/items", body={"name": "", "colour": "red"})
    detail = invalid.json().get("detail") if invalid.status_code == 422 else None
    passed = {("body", "name"), ("body", "colour")} <= {tuple(problem["loc"]) for problem in detail or []}
    run.check(
        "a body failing validation is a 422 naming the fields",
        passed,
        detail="" if passed else f"{invalid.status_code} {invalid.body[:200]}",
    )
