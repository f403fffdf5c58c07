"""Your own code in the patterns, on the local cloud: a payment provider, a confirmation step, validation rules.

``CustomCodeStack`` (synthesized once per session, deployed once for this module) gives OrderWorkflow the
``shop_extensions`` provider (its books in a table of the stack's own) and confirmation step,
and EventPipeline the package's validation rules. The deployed state machine drives orders
through the user's handlers; uploads go through the deployed validator's rules.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from serverless_patterns.lambdas.event_pipeline.layout import PROCESSED_PREFIX, REJECTED_PREFIX, record_key
from serverless_patterns.local import LocalCloud
from serverless_patterns.scenarios.event_pipeline import Pipeline
from serverless_patterns.scenarios.order_workflow import (
    OrderApp,
    history,
    ledger,
    order,
    run_id,
    run_order,
    seed_stock,
    stock,
    stored_order,
)
from tests.integration.fixtures.custom_code_stack import synthesized

CSV = b"id,amount\n1,10\n2,32\n"


@pytest.fixture(scope="module")
def cloud(cdk_context: dict[str, Any]) -> Iterator[LocalCloud]:
    _, assembly = synthesized(cdk_context)  # shared with tests/infrastructure/test_custom_code.py
    with LocalCloud.deploy(assembly) as running:
        yield running


@pytest.fixture(scope="module")
def app(cloud: LocalCloud) -> OrderApp:
    return OrderApp.of(cloud)


@pytest.fixture
def rid() -> str:
    return run_id()


def books(cloud: LocalCloud, pk: str) -> dict[str, str] | None:
    """An item of the provider's books (``charge#<key>``, ``refund#<key>``, ``receipt#<order id>``)."""
    item = cloud.client("dynamodb").get_item(
        TableName=cloud.outputs["ProviderBooksTableName"], Key={"pk": {"S": pk}}, ConsistentRead=True
    )
    return {name: value["S"] for name, value in item["Item"].items()} if "Item" in item else None


def test_a_confirmed_order_is_charged_by_your_provider_and_gets_your_receipt(
    cloud: LocalCloud, app: OrderApp, rid: str
) -> None:
    sku, order_id = f"SKU-{rid}", f"happy-{rid}"
    seed_stock(cloud, app, {sku: 3})

    result = run_order(cloud, app, order(order_id, {sku: 2}))

    assert (result.status, result.error) == ("SUCCEEDED", None)
    charged = books(cloud, f"charge#{order_id}")
    assert charged is not None
    assert (charged["reference"], charged["amount_cents"]) == (
        f"ch-{order_id}",
        str(result.output["payment"]["amount_cents"]),
    )
    entries = ledger(cloud, app, order_id)
    assert entries.keys() == {"CHARGE"}
    assert (entries["CHARGE"]["gateway"], entries["CHARGE"]["gateway_reference"]) == ("shop-books", f"ch-{order_id}")
    assert books(cloud, f"receipt#{order_id}") == {
        "pk": f"receipt#{order_id}",
        "customer_id": f"customer-{order_id}",
        "lines": f"2 x {sku}",
    }
    assert history(stored_order(cloud, app, order_id)) == ["VALIDATED", "CHARGED", "RESERVED", "CONFIRMED"]
    assert stock(cloud, app, sku) == 1


def test_a_decline_by_your_provider_ends_in_payment_failed(cloud: LocalCloud, app: OrderApp, rid: str) -> None:
    sku, order_id = f"SKU-{rid}", f"declined-{rid}"
    seed_stock(cloud, app, {sku: 3})

    result = run_order(cloud, app, {**order(order_id, {sku: 1}), "customer_id": f"blocked-{rid}"})

    assert (result.status, result.error) == ("FAILED", "PaymentError")
    assert json.loads(result.cause or "{}")["errorMessage"] == f"card of customer blocked-{rid} declined (do_not_honor)"
    assert (stored_order(cloud, app, order_id) or {}).get("status") == "PAYMENT_DECLINED"
    assert books(cloud, f"charge#{order_id}") is None
    assert ledger(cloud, app, order_id) == {}
    assert stock(cloud, app, sku) == 3


def test_failing_inventory_is_refunded_through_your_provider(cloud: LocalCloud, app: OrderApp, rid: str) -> None:
    sku, order_id = f"SKU-{rid}", f"short-{rid}"
    seed_stock(cloud, app, {sku: 1})

    result = run_order(cloud, app, order(order_id, {sku: 2}))

    assert (result.status, result.error) == ("FAILED", "OutOfStock")
    refunded = books(cloud, f"refund#refund-{order_id}")
    assert refunded is not None
    assert refunded["charge_reference"] == f"ch-{order_id}"
    entries = ledger(cloud, app, order_id)
    assert entries.keys() == {"CHARGE", "REFUND"}
    assert entries["REFUND"]["gateway_reference"] == f"re-refund-{order_id}"
    assert f"payment {entries['CHARGE']['reference_id']} refunded" in (result.cause or "")
    assert books(cloud, f"receipt#{order_id}") is None
    assert stock(cloud, app, sku) == 1


def test_uploads_pass_your_rules_are_parked_by_them_or_kept_when_a_rule_crashes(cloud: LocalCloud, rid: str) -> None:
    pipeline = Pipeline.of(cloud)
    prefix = f"{pipeline.upload_prefix}custom-{rid}/"
    s3 = cloud.client("s3")
    uploads = {
        "good.csv": {"batch": "2025-01-31/7"},
        "unbatched.csv": {},
        "undated.csv": {"batch": "2025-01-31"},  # batch_is_dated's bug: IndexError
    }
    for name, metadata in uploads.items():
        s3.put_object(Bucket=pipeline.upload_bucket, Key=prefix + name, Body=CSV, Metadata=metadata)
    cloud.drain()

    processed = pipeline.records(PROCESSED_PREFIX + prefix)
    assert list(processed) == [record_key(PROCESSED_PREFIX, f"{prefix}good.csv")]
    parked = pipeline.records(REJECTED_PREFIX + prefix)
    assert {key: record["reason"] for key, record in parked.items()} == {
        record_key(REJECTED_PREFIX, f"{prefix}unbatched.csv"): {
            "code": "rule",
            "detail": "has_batch: no batch metadata: upload with x-amz-meta-batch set",
        }
    }
    # The crashed rule's upload: retried, then kept with its event in the validator's on-failure queue.
    (kept,) = cloud.read_queue(cloud.outputs["ValidateFailureQueueUrl"], delete=True)
    failed = json.loads(kept["Body"])
    assert failed["requestContext"]["condition"] == "RetriesExhausted"
    assert [record["s3"]["object"]["key"] for record in failed["requestPayload"]["Records"]] == [f"{prefix}undated.csv"]
    assert failed["responsePayload"]["errorType"] == "ValidationIncompleteError"


def test_a_word_count_job_runs_your_worker_and_aggregator_once(cloud: LocalCloud, rid: str) -> None:
    """FanOut with the guide's word counter (``shop_extensions.words``): every chunk counted once, one result."""
    texts = [{"text": " ".join(["word"] * (index % 4 + 1))} for index in range(250)]
    job_id = f"words-{rid}"
    submitted = cloud.invoke(cloud.outputs["WordsMasterFunction"], {"job_id": job_id, "items": texts})
    assert submitted.function_error is None, submitted.payload
    assert not cloud.drain().exhausted
    status = cloud.invoke(cloud.outputs["WordsStatusFunction"], {"job_id": job_id}).payload
    assert isinstance(status, dict)
    assert (status["status"], status["result"]) == ("SUCCEEDED", {"words": sum(i % 4 + 1 for i in range(250))})
    aggregator = cloud.client("lambda").get_function(FunctionName=cloud.outputs["WordsAggregatorFunction"])
    name = aggregator["Configuration"]["FunctionName"]
    assert len([run for run in cloud.invocations if run.function_name == name]) == 1


def test_an_item_your_worker_rejects_fails_the_job_with_your_reason(cloud: LocalCloud, rid: str) -> None:
    texts: list[dict[str, Any]] = [{"text": "a b"} for _ in range(150)]
    texts[120] = {"text": None}
    job_id = f"words-bad-{rid}"
    cloud.invoke(cloud.outputs["WordsMasterFunction"], {"job_id": job_id, "items": texts})
    assert not cloud.drain().exhausted
    status = cloud.invoke(cloud.outputs["WordsStatusFunction"], {"job_id": job_id}).payload
    assert isinstance(status, dict)
    assert status["status"] == "FAILED"
    assert "item 120: 'text' must be a string" in status["failure_reason"]
