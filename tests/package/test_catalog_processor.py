"""The example app's own EventPipeline processor (examples/catalog_service/price_lists)."""

from __future__ import annotations

import importlib
import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from serverless_patterns.lambdas.event_pipeline.errors import InvalidContentError
from serverless_patterns.lambdas.event_pipeline.formats import DataFormat
from serverless_patterns.lambdas.event_pipeline.models import PipelineMessage

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "catalog_service"


class TrickleStream:
    """Hands out at most ``step`` bytes per read, as a network stream may: lines and characters get split."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = io.BytesIO(data)
        self._step = step

    def read(self, size: int, /) -> bytes:
        return self._data.read(min(size, self._step))


@pytest.fixture
def prices(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(EXAMPLE))
    return importlib.import_module("price_lists.prices")


@pytest.fixture
def handler_module(prices: ModuleType, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.setenv("PRICE_LIST_CURRENCY", " eur ")
    module = importlib.import_module("price_lists.handler")
    module.catalog_currency.cache_clear()
    yield module
    module.catalog_currency.cache_clear()


def summarise(prices: ModuleType, text: str, *, currency: str = "EUR", step: int = 1 << 20) -> Any:
    return prices.summarise_price_list(TrickleStream(text.encode(), step), currency=currency)


def test_a_valid_list_is_summarised_to_the_cent(prices: ModuleType) -> None:
    summary = summarise(prices, "sku,price,currency\nA-1,9.99,EUR\nB-2,0.01,eur\nC-3,120,EUR\n")
    assert summary.as_record() == {
        "currency": "EUR",
        "skus": 3,
        "lowest_price": "0.01",
        "highest_price": "120",
        "total_list_price": "130.00",
    }


def test_bom_crlf_quoted_fields_and_extra_columns_are_read_across_any_chunking(prices: ModuleType) -> None:
    text = '\ufeffsku,name,price,currency\r\n"X,1","Mug, large",4.50,EUR\r\nY-2,"Two\nlines",5.50,EUR\r\n'
    for step in (1, 2, 3, 7, 1 << 16):
        summary = summarise(prices, text, step=step)
        assert summary.skus == 2
        assert summary.total == Decimal("10.00")


def test_an_empty_list_is_valid_and_says_so(prices: ModuleType) -> None:
    record = summarise(prices, "sku,price,currency\n").as_record()
    assert record == {
        "currency": "EUR",
        "skus": 0,
        "lowest_price": None,
        "highest_price": None,
        "total_list_price": "0",
    }


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("sku,amount,currency\nA,1.00,EUR\n", "the header row lacks price"),
        ("", "the header row lacks sku, price, currency"),
        ("sku,price,currency\n ,1.00,EUR\n", "row 2: no SKU"),
        ("sku,price,currency\nA,1.00,EUR\nA,2.00,EUR\n", "row 3: SKU A is listed twice"),
        ("sku,price,currency\nA,1.00,EUR\nB,2.00,USD\n", "row 3: currency 'USD', the catalog sells in EUR"),
        ("sku,price,currency\nA,free,EUR\n", "row 2: price 'free' is not a number"),
        ("sku,price,currency\nA,-1,EUR\n", "row 2: price '-1' must be positive"),
        ("sku,price,currency\nA,0,EUR\n", "row 2: price '0' must be positive"),
        ("sku,price,currency\nA,1.999,EUR\n", "at most two decimals"),
        ("sku,price,currency\nA,NaN,EUR\n", "row 2: price 'NaN' must be positive"),
        ("sku,price,currency\nA,1.00\n", "row 2: no currency"),
        ("sku,price,currency\nA\n", "row 2: no price, currency"),
    ],
)
def test_a_bad_row_parks_the_whole_list_with_the_row_and_reason(prices: ModuleType, text: str, reason: str) -> None:
    with pytest.raises(InvalidContentError, match=reason.replace("(", r"\(")):
        summarise(prices, text)


def test_text_that_is_not_utf8_is_refused(prices: ModuleType) -> None:
    with pytest.raises(InvalidContentError, match="not UTF-8"):
        prices.summarise_price_list(io.BytesIO(b"sku,price,currency\nA,1.00,\xff\n"), currency="EUR")


def test_the_processor_reads_the_catalog_currency_the_stack_sets(handler_module: ModuleType) -> None:
    message = PipelineMessage(bucket="uploads", key="price-lists/acme.csv", etag="e1", size=42, format=DataFormat.CSV)
    summary = handler_module.process_price_list(message, io.BytesIO(b"sku,price,currency\nA,2.50,EUR\n"))
    assert summary["currency"] == "EUR"
    assert summary["total_list_price"] == "2.50"
    assert callable(handler_module.handler)
