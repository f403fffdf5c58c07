"""The box office on the local cloud, through the serverless-patterns pytest plugin.

``pytest`` in this folder synthesizes the app (cdk.json), deploys it into the embedded emulated
cloud once, and hands each test the running ``LocalCloud`` as ``local_cloud``. Every pattern
runs the box office's own code: the shows API, the wallet and the tickets in the order saga,
the seat-map rules and counter, the sales report's worker and combiner.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from serverless_patterns.local import LocalCloud
from serverless_patterns.local.helpers import messages, objects

SEAT_MAP = "section,row,seat\nStalls,A,1\nStalls,A,2\nCircle,B,1\n"


@pytest.fixture
def rid() -> str:
    """A fresh id, so that tests sharing the cloud never meet."""
    return uuid.uuid4().hex[:10]


# --- the shows API ---------------------------------------------------------------------------------


def new_show(cloud: LocalCloud, rid: str, **fields: Any) -> dict[str, Any]:
    body = {"title": f"Show {rid}", "venue": "Apollo", "date": "2027-03-01", "priceCents": 4500, "capacity": 2}
    response = cloud.api_request("POST", "/shows", body={**body, **fields}, headers={"Idempotency-Key": rid})
    assert response.status_code == 201, response.body
    created: dict[str, Any] = response.json()
    return created


def test_a_show_is_created_once_per_idempotency_key_and_read_back(local_cloud: LocalCloud, rid: str) -> None:
    show = new_show(local_cloud, rid)
    again = new_show(local_cloud, rid)
    assert again == show
    read = local_cloud.api_request("GET", f"/shows/{show['id']}")
    assert (read.status_code, read.json(), read.headers["etag"]) == (200, show, '"1"')
    assert show["onSale"] is True


def test_closing_sales_needs_the_current_version(local_cloud: LocalCloud, rid: str) -> None:
    show = new_show(local_cloud, rid)
    path = f"/shows/{show['id']}/close"
    assert local_cloud.api_request("POST", path).status_code == 428
    assert local_cloud.api_request("POST", path, headers={"If-Match": '"7"'}).status_code == 412
    closed = local_cloud.api_request("POST", path, headers={"If-Match": '"1"'})
    assert (closed.status_code, closed.json()["onSale"], closed.json()["version"]) == (200, False, 2)
    again = local_cloud.api_request("POST", path, headers={"If-Match": '"2"'})
    assert again.status_code == 409
    assert again.json()["message"] == f"sales of show {show['id']!r} are already closed"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "", "venue": "Apollo", "date": "2027-03-01", "priceCents": 1, "capacity": 1}, "title"),
        ({"title": "T", "venue": "Apollo", "date": "1 March", "priceCents": 1, "capacity": 1}, "date"),
        ({"title": "T", "venue": "Apollo", "date": "2027-03-01", "priceCents": -1, "capacity": 1}, "priceCents"),
        ({"title": "T", "venue": "Apollo", "date": "2027-03-01", "priceCents": 1, "capacity": 1, "x": 1}, "x"),
    ],
)
def test_a_bad_show_is_a_422_naming_the_field(local_cloud: LocalCloud, body: dict[str, Any], field: str) -> None:
    response = local_cloud.api_request("POST", "/shows", body=body)
    assert response.status_code == 422, response.body
    assert field in response.body


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "a show",
        12,
        {},
        {"title": {"nested": True}, "venue": "Apollo", "date": "2027-03-01", "priceCents": 1, "capacity": 1},
        {"title": "T", "venue": "Apollo", "date": "2027-02-30x", "priceCents": "1", "capacity": 1},
        {"title": "T" * 10_000, "venue": "Apollo", "date": "2027-03-01", "priceCents": 1, "capacity": 1},
        {"title": "T", "venue": "Apollo", "date": "2027-03-01", "priceCents": 10**30, "capacity": True},
    ],
)
def test_no_shape_of_body_is_a_server_error(local_cloud: LocalCloud, body: Any) -> None:
    """Whatever the body's type, size or shape: a 4xx with a message, never a 5xx."""
    response = local_cloud.api_request("POST", "/shows", body=body)
    assert 400 <= response.status_code < 500, response.body
    assert response.json()["message"]


def test_shows_are_listed_in_signed_pages(local_cloud: LocalCloud, rid: str) -> None:
    for index in range(3):
        new_show(local_cloud, f"{rid}-{index}")
    first = local_cloud.api_request("GET", "/shows", query={"limit": "2"}).json()
    assert len(first["shows"]) == 2
    assert first["nextCursor"]
    tampered = local_cloud.api_request("GET", "/shows", query={"cursor": first["nextCursor"][:-2] + "xx"})
    assert tampered.status_code == 400


# --- ticket orders: the wallet and the tickets ----------------------------------------------------


def put_item(cloud: LocalCloud, output: str, item: dict[str, Any]) -> None:
    cloud.client("dynamodb").put_item(TableName=cloud.outputs[output], Item=item)


def get_item(cloud: LocalCloud, output: str, key: dict[str, str]) -> dict[str, Any] | None:
    found = cloud.client("dynamodb").get_item(
        TableName=cloud.outputs[output], Key={name: {"S": value} for name, value in key.items()}, ConsistentRead=True
    )
    item: dict[str, Any] | None = found.get("Item")
    return item


def balance(cloud: LocalCloud, customer: str) -> int:
    item = get_item(cloud, "WalletsTableName", {"pk": f"wallet#{customer}"})
    assert item is not None
    return int(item["balance_cents"]["N"])


def seats_left(cloud: LocalCloud, show: str) -> int:
    item = get_item(cloud, "SeatsTableName", {"sku": show})
    assert item is not None
    return int(item["stock"]["N"])


def book(cloud: LocalCloud, rid: str, *, seats: int, wallet: int | None, seats_on_sale: int = 10) -> tuple[Any, str]:
    """An order of ``seats`` at 30.00 each for a show with ``seats_on_sale``, paid from a wallet of ``wallet`` cents."""
    show, customer = f"show-{rid}", f"fan-{rid}"
    put_item(cloud, "SeatsTableName", {"sku": {"S": show}, "stock": {"N": str(seats_on_sale)}})
    if wallet is not None:
        put_item(cloud, "WalletsTableName", {"pk": {"S": f"wallet#{customer}"}, "balance_cents": {"N": str(wallet)}})
    order_id = f"order-{rid}"
    order = {
        "order_id": order_id,
        "customer_id": customer,
        "currency": "EUR",
        "lines": [{"sku": show, "quantity": seats, "unit_price_cents": 3000}],
    }
    result = cloud.run_execution(cloud.outputs["OrderStateMachineArn"], order, name=order_id)
    return result, customer


def test_an_order_is_paid_from_the_wallet_once_and_its_tickets_issued(local_cloud: LocalCloud, rid: str) -> None:
    result, customer = book(local_cloud, rid, seats=2, wallet=10_000)
    assert (result.status, result.error) == ("SUCCEEDED", None)
    assert balance(local_cloud, customer) == 4_000
    assert seats_left(local_cloud, f"show-{rid}") == 8
    tickets = get_item(local_cloud, "TicketsTableName", {"order_id": f"order-{rid}"})
    assert tickets is not None
    assert (tickets["seats"]["N"], tickets["shows"]["SS"]) == ("2", [f"show-{rid}"])


def test_a_wallet_that_cannot_pay_declines_the_order_and_keeps_its_money(local_cloud: LocalCloud, rid: str) -> None:
    result, customer = book(local_cloud, rid, seats=2, wallet=5_000)
    assert (result.status, result.error) == ("FAILED", "PaymentError")
    assert "holds 5000 cents, the order costs 6000" in json.loads(result.cause or "{}")["errorMessage"]
    assert balance(local_cloud, customer) == 5_000
    assert seats_left(local_cloud, f"show-{rid}") == 10
    assert get_item(local_cloud, "TicketsTableName", {"order_id": f"order-{rid}"}) is None


def test_a_customer_without_a_wallet_is_declined(local_cloud: LocalCloud, rid: str) -> None:
    result, customer = book(local_cloud, rid, seats=1, wallet=None)
    assert (result.status, result.error) == ("FAILED", "PaymentError")
    assert f"customer {customer} has no wallet" in (result.cause or "")


def test_a_sold_out_show_refunds_the_wallet(local_cloud: LocalCloud, rid: str) -> None:
    result, customer = book(local_cloud, rid, seats=3, wallet=10_000, seats_on_sale=2)
    assert (result.status, result.error) == ("FAILED", "OutOfStock")
    assert balance(local_cloud, customer) == 10_000  # charged 9000, refunded 9000
    assert seats_left(local_cloud, f"show-{rid}") == 2
    assert get_item(local_cloud, "TicketsTableName", {"order_id": f"order-{rid}"}) is None


# --- seat maps -------------------------------------------------------------------------------------


def upload_map(cloud: LocalCloud, name: str, body: str, venue: str | None = "Apollo") -> str:
    key = f"seat-maps/{name}"
    metadata = {"venue": venue} if venue else {}
    cloud.client("s3").put_object(Bucket=cloud.outputs["SeatMapBucketName"], Key=key, Body=body, Metadata=metadata)
    return key


def test_seat_maps_are_counted_or_parked_with_the_rule_or_row_that_failed(local_cloud: LocalCloud, rid: str) -> None:
    good = upload_map(local_cloud, f"{rid}/apollo.csv", SEAT_MAP)
    nameless = upload_map(local_cloud, f"{rid}/nameless.csv", SEAT_MAP, venue=None)
    headless = upload_map(local_cloud, f"{rid}/headless.csv", "zone,line,number\nA,1,1\n")
    doubled = upload_map(local_cloud, f"{rid}/doubled.csv", SEAT_MAP + "Stalls,A,2\n")
    local_cloud.drain()

    results = objects(local_cloud, local_cloud.outputs["SeatMapResultsBucketName"])
    summary = json.loads(results[f"processed/{good}.json"])["summary"]
    assert summary == {"venue": "Apollo", "seats": 3, "sections": {"Circle": 1, "Stalls": 2}}
    reasons = {key: json.loads(results[f"rejected/{key}.json"])["reason"] for key in (nameless, headless, doubled)}
    assert reasons[nameless]["code"] == "rule"
    assert reasons[nameless]["detail"].startswith("names_its_venue: no venue")
    assert reasons[headless]["detail"] == "has_seat_columns: the header is 'zone,line,number', not 'section,row,seat'"
    assert reasons[doubled] == {"code": "malformed", "detail": "row 5: seat Stalls/A/2 is listed twice"}
    assert messages(local_cloud, local_cloud.outputs["SeatMapDlqArn"]) == []


# --- the sales report ------------------------------------------------------------------------------


def report(cloud: LocalCloud, job_id: str, sales: list[dict[str, Any]]) -> dict[str, Any]:
    submitted = cloud.invoke(cloud.outputs["SalesReportFunction"], {"job_id": job_id, "items": sales})
    assert submitted.function_error is None, submitted.payload
    assert not cloud.drain().exhausted
    status: dict[str, Any] = cloud.invoke(cloud.outputs["SalesReportStatusFunction"], {"job_id": job_id}).payload
    return status


def test_the_sales_report_adds_every_sale_once(local_cloud: LocalCloud, rid: str) -> None:
    sales: list[dict[str, Any]] = [
        {"show_id": f"show-{index % 3}", "seats": index % 4 + 1, "cents": 1_000 * (index % 4 + 1)}
        for index in range(420)
    ]
    status = report(local_cloud, f"sales-{rid}", sales)
    assert status["status"] == "SUCCEEDED", status
    expected: dict[str, dict[str, int]] = {}
    for sale in sales:
        entry = expected.setdefault(sale["show_id"], {"seats": 0, "cents": 0})
        entry["seats"] += sale["seats"]
        entry["cents"] += sale["cents"]
    assert status["result"] == {
        "shows": expected,
        "seats": sum(sale["seats"] for sale in sales),
        "cents": sum(sale["cents"] for sale in sales),
    }


def test_a_malformed_sale_fails_the_report_with_its_position_and_reason(local_cloud: LocalCloud, rid: str) -> None:
    sales: list[dict[str, Any]] = [{"show_id": "show-1", "seats": 1, "cents": 500} for _ in range(120)]
    sales[77] = {"show_id": "show-1", "seats": 0, "cents": 500}
    status = report(local_cloud, f"sales-bad-{rid}", sales)
    assert status["status"] == "FAILED"
    assert "item 77: 'seats' must be a whole number from 1 to 20" in status["failure_reason"]


# --- least privilege ------------------------------------------------------------------------------


def test_every_call_the_app_made_was_allowed_by_its_deployed_policies(local_cloud: LocalCloud) -> None:
    """The local cloud checks each call against the policies the app deployed (run last: it sees every test's calls)."""
    assert local_cloud.invocations, "the tests above ran in this cloud"
    assert [str(denial) for denial in local_cloud.denials] == []
