"""The catalog service on the local cloud, through the serverless-patterns pytest plugin.

``pytest`` in this folder synthesizes the app once (cdk.json; context in pytest.ini), deploys
it into the embedded emulated cloud once for this module, and hands each test the running
``LocalCloud`` as the ``local_cloud`` fixture. No AWS account, no Docker.
"""

from __future__ import annotations

import json

import pytest

from serverless_patterns.local import LocalCloud
from serverless_patterns.local.helpers import messages, objects

VALID = "sku,price,currency\nA-1,1.00,USD\nB-2,2.50,usd\n"
DUPLICATED = "sku,price,currency\nA-1,1.00,USD\nA-1,1.10,USD\n"


def upload(cloud: LocalCloud, name: str, body: str) -> None:
    cloud.put_object(cloud.outputs["PriceListBucketName"], f"price-lists/{name}", body)


def results(cloud: LocalCloud) -> dict[str, bytes]:
    return objects(cloud, cloud.outputs["PriceListResultsBucketName"])


def test_a_valid_price_list_is_summarised(local_cloud: LocalCloud) -> None:
    upload(local_cloud, "acme.csv", VALID)
    local_cloud.drain()  # the S3 notification, the validator, the queue, the processor
    summary = json.loads(results(local_cloud)["processed/price-lists/acme.csv.json"])["summary"]
    assert (summary["skus"], summary["total_list_price"]) == (2, "3.50")


def test_tests_of_a_module_share_one_deployment(local_cloud: LocalCloud) -> None:
    assert "processed/price-lists/acme.csv.json" in results(local_cloud)


@pytest.mark.local_cloud(fresh=True)
def test_a_fresh_cloud_starts_empty_and_parks_a_bad_list_with_its_reason(local_cloud: LocalCloud) -> None:
    assert results(local_cloud) == {}
    upload(local_cloud, "globex.csv", DUPLICATED)
    local_cloud.drain()
    rejected = json.loads(results(local_cloud)["rejected/price-lists/globex.csv.json"])
    assert rejected["reason"] == {"code": "malformed", "detail": "row 3: SKU A-1 is listed twice"}
    assert messages(local_cloud, local_cloud.outputs["PriceListDlqArn"]) == []
