"""The AWS quotas the capacity model uses: ``quotas.json`` (dated, each with its source), and yours over it.

Your account may have raised some (a Lambda concurrency of 3,000, a higher StartExecution
rate): put those in a file of your own, ``{"lambda": {"account_concurrency": 3000}}`` or
``{"lambda": {"account_concurrency": {"value": 3000, "source": "case 1234, 2026-11"}}}``, and
pass it with ``--quotas``. It is merged over the defaults; a quota the model does not know, or
a value that is not a positive number, is an error naming it, so a typo never silently keeps
the default.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

QUOTAS_FILE = Path(__file__).with_name("quotas.json")
_HEADER_KEYS = frozenset({"as_of", "region", "description"})
_QUOTA_FIELDS = frozenset({"value", "unit", "name", "adjustable", "source"})


@dataclass(frozen=True)
class Quota:
    """One quota: its value, what it counts, its name in Service Quotas, and where it is documented."""

    key: str
    value: float
    unit: str
    name: str
    adjustable: bool
    source: str
    overridden: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "key": self.key,
            "value": self.value,
            "unit": self.unit,
            "name": self.name,
            "adjustable": self.adjustable,
            "source": self.source,
            "overridden": self.overridden,
        }


@dataclass(frozen=True)
class Quotas:
    """Every quota by ``service.quota`` key, e.g. ``quotas("lambda.account_concurrency")``."""

    as_of: str
    region: str
    table: Mapping[str, Quota]

    def __call__(self, key: str) -> float:
        """The value of quota ``key``; a quota the file does not have is an error, never zero."""
        return self.quota(key).value

    def quota(self, key: str) -> Quota:
        """Quota ``key`` with its name and source."""
        try:
            return self.table[key]
        except KeyError:
            raise KeyError(f"no quota {key!r} in {QUOTAS_FILE.name}") from None

    @property
    def overridden(self) -> list[Quota]:
        """The quotas an override file set."""
        return [quota for quota in self.table.values() if quota.overridden]

    @classmethod
    def load(cls, override: Path | None = None, *, base: Path = QUOTAS_FILE) -> Quotas:
        """The defaults of ``base``, with the values of ``override`` (a JSON file) over them."""
        quotas = cls.parse(_read(base))
        if override is not None:
            quotas = quotas.overlaid(_read(override), origin=override.name)
        return quotas

    @classmethod
    def parse(cls, document: Mapping[str, Any]) -> Quotas:
        """Quotas from a document shaped like ``quotas.json``."""
        table: dict[str, Quota] = {}
        for key, entry in _entries(document, "quotas"):
            if not isinstance(entry, Mapping) or set(entry) != _QUOTA_FIELDS:
                raise ValueError(f"quotas: {key} must have exactly {sorted(_QUOTA_FIELDS)}")
            table[key] = Quota(
                key=key,
                value=_positive(entry["value"], key),
                unit=str(entry["unit"]),
                name=str(entry["name"]),
                adjustable=bool(entry["adjustable"]),
                source=str(entry["source"]),
            )
        return cls(as_of=str(document.get("as_of", "")), region=str(document.get("region", "")), table=table)

    def overlaid(self, document: Mapping[str, Any], *, origin: str) -> Quotas:
        """These quotas with the values ``document`` sets (a number, or ``{"value": ..., "source": ...}``)."""
        if not isinstance(document, Mapping):
            raise ValueError(f'{origin}: expected an object such as {{"lambda": {{"account_concurrency": 3000}}}}')
        table = dict(self.table)
        for key, entry in _entries(document, origin):
            if key not in table:
                service = key.split(".", 1)[0]
                known = sorted(k for k in table if k.startswith(f"{service}.")) or sorted(table)
                raise ValueError(f"{origin}: unknown quota {key!r}; known: {known}")
            value = entry.get("value") if isinstance(entry, Mapping) else entry
            source = entry.get("source", origin) if isinstance(entry, Mapping) else origin
            table[key] = replace(table[key], value=_positive(value, key), source=str(source), overridden=True)
        return replace(self, table=table)


def _entries(document: Mapping[str, Any], origin: str) -> Iterator[tuple[str, Any]]:
    """``("service.quota", entry)`` for every quota of a quotas document (its header keys skipped)."""
    for service, quotas in document.items():
        if service in _HEADER_KEYS:
            continue
        if not isinstance(quotas, Mapping):
            raise ValueError(f"{origin}: {service!r} must be an object of quotas")
        for name, entry in quotas.items():
            yield f"{service}.{name}", entry


def _read(path: Path) -> Mapping[str, Any]:
    try:
        document: Any = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON (line {error.lineno}: {error.msg})") from None
    if not isinstance(document, Mapping):
        raise ValueError(f"{path}: expected a JSON object of quotas")
    return document


def _positive(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"quota {key} must be a positive number, got {value!r}")
    return float(value)
