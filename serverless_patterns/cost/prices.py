"""The dated list prices the estimate uses (one JSON file, us-east-1)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PRICES_FILE = Path(__file__).with_name("prices.json")


@dataclass(frozen=True)
class Prices:
    """Prices by service and item, as in ``prices.json``."""

    region: str
    as_of: str
    table: dict[str, dict[str, float]]

    def __call__(self, service: str, item: str) -> float:
        """The price of ``item`` of ``service``; a missing price is an error, never zero."""
        try:
            return self.table[service][item]
        except KeyError:
            raise KeyError(f"no price for {service}.{item} in {PRICES_FILE.name}") from None

    @classmethod
    def load(cls, path: Path = PRICES_FILE) -> Prices:
        """The prices in ``path`` (the dated us-east-1 file by default)."""
        raw: dict[str, Any] = json.loads(path.read_text())
        services = {k: v for k, v in raw.items() if isinstance(v, dict)}
        return cls(region=raw["region"], as_of=raw["as_of"], table=services)
