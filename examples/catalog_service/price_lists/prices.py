"""Supplier price lists: one CSV per upload with a header row ``sku,price,currency``.

A list is all or nothing: one bad row (a missing SKU, a price that is not a positive amount
with at most two decimals, another currency than the catalog's, a SKU listed twice) parks the
whole upload with the row number and the reason, so the supplier can fix and re-upload it.
A good list is summarised (SKU count, lowest, highest and total list price) into the record
the pipeline writes to ``processed/{key}.json``.

This module is pure: it reads a byte stream and raises ``InvalidContentError``; batching,
retries, idempotency and the records come from ``serverless_patterns``' pipeline.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from serverless_patterns.lambdas.event_pipeline.errors import InvalidContentError
from serverless_patterns.lambdas.event_pipeline.formats import ByteStream

COLUMNS = ("sku", "price", "currency")
CHUNK_BYTES = 64 * 1024
CENT = Decimal("0.01")


@dataclass
class PriceListSummary:
    """What one valid price list contains."""

    currency: str
    skus: int = 0
    lowest: Decimal | None = None
    highest: Decimal | None = None
    total: Decimal = Decimal(0)

    def add(self, price: Decimal) -> None:
        """Count one SKU at ``price``."""
        self.skus += 1
        self.total += price
        self.lowest = price if self.lowest is None else min(self.lowest, price)
        self.highest = price if self.highest is None else max(self.highest, price)

    def as_record(self) -> dict[str, Any]:
        """JSON-ready: amounts as strings, so no cent is lost to floating point."""
        return {
            "currency": self.currency,
            "skus": self.skus,
            "lowest_price": str(self.lowest) if self.lowest is not None else None,
            "highest_price": str(self.highest) if self.highest is not None else None,
            "total_list_price": str(self.total),
        }


def summarise_price_list(stream: ByteStream, *, currency: str) -> PriceListSummary:
    """Check every row of the list in ``stream`` and summarise it; ``InvalidContentError`` on the first bad row."""
    rows = csv.DictReader(_lines(stream))
    missing = [column for column in COLUMNS if column not in (rows.fieldnames or ())]
    if missing:
        raise InvalidContentError(f"the header row lacks {', '.join(missing)} (expected {','.join(COLUMNS)})")
    summary = PriceListSummary(currency=currency)
    seen: set[str] = set()
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        empty = [column for column in COLUMNS if row[column] is None]  # the row has fewer fields than the header
        if empty:
            raise InvalidContentError(f"row {number}: no {', '.join(empty)}")
        sku = row["sku"].strip()
        if not sku:
            raise InvalidContentError(f"row {number}: no SKU")
        if sku in seen:
            raise InvalidContentError(f"row {number}: SKU {sku} is listed twice")
        seen.add(sku)
        if row["currency"].strip().upper() != currency:
            raise InvalidContentError(f"row {number}: currency {row['currency']!r}, the catalog sells in {currency}")
        summary.add(_price(row["price"], number))
    return summary


def _price(text: str, number: int) -> Decimal:
    try:
        price = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidContentError(f"row {number}: price {text!r} is not a number") from None
    if not price.is_finite() or price <= 0 or price != price.quantize(CENT):
        raise InvalidContentError(f"row {number}: price {text!r} must be positive, with at most two decimals")
    return price


def _lines(stream: ByteStream) -> Iterator[str]:
    """The stream's text line by line (UTF-8, BOM skipped), in bounded memory."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    pending = ""
    while chunk := stream.read(CHUNK_BYTES):
        try:
            pending += decoder.decode(chunk)
        except UnicodeDecodeError as error:
            raise InvalidContentError(f"not UTF-8 text: {error.reason}") from None
        *complete, pending = pending.split("\n")
        for line in complete:
            yield line + "\n"
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending
