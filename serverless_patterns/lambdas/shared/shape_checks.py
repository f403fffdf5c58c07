"""The checks behind ``shapes.Shape``: one checker per kind of value, and the ``field`` rules.

A checker takes the raw value, where it is (``loc``) and the problems found so far; it returns
the value (converted where the shape allows: an integral ``Decimal`` to ``int``, say), or
``INVALID`` after recording why. Messages follow pydantic's wording and never quote the value.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, NamedTuple

Loc = tuple[str | int, ...]
Problems = list[tuple[Loc, str]]
Checker = Callable[[Any, Loc, Problems], Any]

INVALID: Any = object()
_INTEGER = re.compile(r"[+-]?[0-9]+")  # ASCII digits only (as pydantic; \d is any script's)
_TRUE, _FALSE = frozenset({"true", "1", "yes", "on"}), frozenset({"false", "0", "no", "off"})
_LIMITS = (
    ("ge", operator.ge, "greater than or equal to"),
    ("gt", operator.gt, "greater than"),
    ("le", operator.le, "less than or equal to"),
)


class Rules(NamedTuple):
    """What ``shapes.field`` declares beyond the type."""

    key: str | None = None
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    strict: bool = False


def with_rules(check: Checker, rules: Rules) -> Checker:
    """``check``, then the bounds, lengths and pattern of ``rules`` (on values that passed it, not None)."""
    limits = [(getattr(rules, name), test, words) for name, test, words in _LIMITS if getattr(rules, name) is not None]
    pattern = re.compile(rules.pattern) if rules.pattern is not None else None
    if not limits and pattern is None and rules.min_length is None and rules.max_length is None:
        return check

    def checked(value: Any, loc: Loc, problems: Problems) -> Any:
        value = check(value, loc, problems)
        if value is INVALID or value is None:
            return value
        problem = next(
            (f"Input should be {words} {bound}" for bound, test, words in limits if not test(value, bound)), None
        )
        if problem is None and rules.min_length is not None and len(value) < rules.min_length:
            problem = f"{_noun(value)} should have at least {_count(rules.min_length, value)}"
        if problem is None and rules.max_length is not None and len(value) > rules.max_length:
            problem = f"{_noun(value)} should have at most {_count(rules.max_length, value)}"
        if problem is None and pattern is not None and not pattern.fullmatch(value):
            problem = f"String should match pattern '{pattern.pattern}'"
        if problem is None:
            return value
        problems.append((loc, problem))
        return INVALID

    return checked


def _noun(value: object) -> str:
    return "String" if isinstance(value, str) else "List" if isinstance(value, list | tuple) else "Object"


def _count(limit: int, value: object) -> str:
    unit = "character" if isinstance(value, str) else "item"
    return f"{limit} {unit}{'s' if limit != 1 else ''}"


def union(members: list[Checker], *, optional: bool) -> Checker:
    """``None`` if ``optional``, else the first member that accepts the value."""

    def check(value: Any, loc: Loc, problems: Problems) -> Any:
        if value is None and optional:
            return None
        attempts: Problems = []
        for member in members:
            result = member(value, loc, attempts)
            if result is not INVALID:
                return result
        problems.extend(attempts if len(members) == 1 else [(loc, "Input matches none of the allowed types")])
        return INVALID

    return check


def literal(allowed: tuple[Any, ...]) -> Checker:
    """One of ``allowed`` (of the same type: ``1`` is not ``True``)."""
    listed = " or ".join(repr(option) for option in allowed)

    def check(value: Any, loc: Loc, problems: Problems) -> Any:
        if any(value == option and type(value) is type(option) for option in allowed):
            return value
        problems.append((loc, f"Input should be {listed}"))
        return INVALID

    return check


def enum(kind: type[Enum]) -> Checker:
    """A member of ``kind``, by value."""
    listed = " or ".join(repr(member.value) for member in kind)

    def check(value: Any, loc: Loc, problems: Problems) -> Any:
        try:
            return kind(value)
        except (ValueError, TypeError):
            problems.append((loc, f"Input should be {listed}"))
            return INVALID

    return check


def sequence(kind: type, item: Checker) -> Checker:
    """A JSON array (a list or tuple; a set too for ``frozenset``) of checked items, as ``kind``."""
    accepted = (list, tuple) if kind is not frozenset else (list, tuple, set, frozenset)

    def check(value: Any, loc: Loc, problems: Problems) -> Any:
        if not isinstance(value, accepted):
            problems.append((loc, "Input should be a valid array"))
            return INVALID
        if item is _anything:
            return kind(value)
        items = [item(entry, (*loc, index), problems) for index, entry in enumerate(value)]
        return INVALID if any(entry is INVALID for entry in items) else kind(items)

    return check


def mapping(item: Checker) -> Checker:
    """A JSON object (string keys) of checked values."""

    def check(value: Any, loc: Loc, problems: Problems) -> Any:
        if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
            problems.append((loc, "Input should be an object"))
            return INVALID
        if item is _anything:  # a JSON object of anything (a chunk's items): a copy, no call per value
            return dict(value)
        items = {key: item(entry, (*loc, key), problems) for key, entry in value.items()}
        return INVALID if any(entry is INVALID for entry in items.values()) else items

    return check


def _refuse(loc: Loc, problems: Problems, message: str) -> Any:
    problems.append((loc, message))
    return INVALID


def _string(value: Any, loc: Loc, problems: Problems) -> Any:
    return value if isinstance(value, str) else _refuse(loc, problems, "Input should be a valid string")


def _finite(value: Decimal | float) -> bool:
    return value.is_finite() if isinstance(value, Decimal) else value == value and abs(value) != float("inf")


def _integer(value: Any, loc: Loc, problems: Problems) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, Decimal | float) and _finite(value) and value == int(value):
        return int(value)
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        try:
            return int(value)
        except ValueError:  # more digits than int() converts (sys.get_int_max_str_digits)
            pass
    return _refuse(loc, problems, "Input should be a valid integer")


def _number(value: Any, loc: Loc, problems: Problems) -> Any:
    number: float | None = None
    try:
        if (isinstance(value, int | float | Decimal) and not isinstance(value, bool)) or isinstance(value, str):
            number = float(value)
    except (ValueError, OverflowError):  # not a number, or an int beyond a float's range
        number = None
    if number is not None and _finite(number):
        return number
    return _refuse(loc, problems, "Input should be a finite number")


def _boolean(value: Any, loc: Loc, problems: Problems) -> Any:
    if isinstance(value, bool):
        return value
    text = value.strip().lower() if isinstance(value, str) else str(value) if value in (0, 1) else None
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    return _refuse(loc, problems, "Input should be a valid boolean")


def _timestamp(value: Any, loc: Loc, problems: Problems) -> Any:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    return _refuse(loc, problems, "Input should be a valid datetime")


def _none(value: Any, loc: Loc, problems: Problems) -> Any:
    return None if value is None else _refuse(loc, problems, "Input should be null")


def _anything(value: Any, loc: Loc, problems: Problems) -> Any:
    return value


SCALARS: dict[Any, Checker] = {
    str: _string,
    int: _integer,
    float: _number,
    bool: _boolean,
    datetime: _timestamp,
    type(None): _none,
    Any: _anything,
}


def _strict_integer(value: Any, loc: Loc, problems: Problems) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return _refuse(loc, problems, "Input should be a valid integer")


def _strict_number(value: Any, loc: Loc, problems: Problems) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _number(value, loc, problems)
    return _refuse(loc, problems, "Input should be a finite number")


def _strict_boolean(value: Any, loc: Loc, problems: Problems) -> Any:
    return value if isinstance(value, bool) else _refuse(loc, problems, "Input should be a valid boolean")


# field(strict=True): nothing converted (pydantic's StrictInt and friends).
STRICT_SCALARS: dict[Any, Checker] = {**SCALARS, int: _strict_integer, float: _strict_number, bool: _strict_boolean}
