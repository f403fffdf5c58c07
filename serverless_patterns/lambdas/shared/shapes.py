"""Validated records without pydantic: frozen dataclasses whose fields declare their checks.

pydantic costs a handler about 55 ms to import and 20-35 ms to build its schemas, on every cold
start. Handlers whose inputs are a few flat shapes (queue messages, table items, environment
variables, direct invocations) validate them with ``Shape`` instead, which keeps the checks they
had and pydantic's method names (``model_validate``, ``model_validate_json``, ``model_dump``,
``model_dump_json``, ``model_copy``), so code reads the same either way::

    class ChunkMessage(Shape, extra="forbid"):
        job_id: str = field(pattern=r"[A-Za-z0-9_-]{1,64}")
        chunk_index: int = field(ge=0)
        items: list[dict[str, Any]] = field(min_length=1)

What it checks, and how that compares with pydantic's default (lax) mode:

* types: ``str``, ``int``, ``float``, ``bool``, ``Any``, ``datetime``, ``StrEnum`` members,
  ``Literal``, nested shapes, ``list``/``tuple``/``frozenset``/``dict`` of those, and ``X | None``.
  ``int`` takes an int, an integral float or ``Decimal`` (DynamoDB's numbers) or a string of
  digits (environment variables), never a bool; ``str`` takes only a string; ``bool`` takes a
  bool or ``true``/``false``/``1``/``0``/``yes``/``no`` (any case); ``field(strict=True)``
  converts nothing, as pydantic's ``StrictInt``: ``int`` then takes only an int, ``float`` only
  an int or a float, ``bool`` only a bool (for amounts, where ``"2"`` or ``2.0`` is a caller's bug);
* ``field`` rules: ``ge``, ``gt``, ``le``, ``min_length``, ``max_length`` (strings, lists,
  dicts) and ``pattern``, which must match the *whole* string;
* unknown keys are ignored, or refused with ``extra="forbid"``; ``key=`` reads a field from
  another key (an environment variable's name, a camelCase JSON name), and ``camel=True``
  reads and writes every field in camelCase; both also accept the Python name;
* ``_prepare`` (a classmethod) may reshape the raw input first, and ``_check`` (a method)
  may refuse the whole record with ``ValueError`` once its fields are valid, or name the
  fields at fault by raising a ``ShapeError`` whose locations are relative to the record.

Every problem is collected, not only the first: ``ShapeError.errors()`` lists them as pydantic
does (``loc`` and ``msg``), and neither the error nor its message ever echoes an input value.
Construction in code (``ChunkMessage(job_id=...)``) does not validate, as with a dataclass:
validate what comes from outside, build what you trust.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import operator
import re
import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, ClassVar, Literal, Self, dataclass_transform

Loc = tuple[str | int, ...]
Problems = list[tuple[Loc, str]]
Checker = Callable[[Any, Loc, Problems], Any]

_RULES = "serverless_patterns.shapes"
_INVALID: Any = object()  # a checker's result when it recorded a problem
_INTEGER = re.compile(r"[+-]?\d+")
_TRUE, _FALSE = frozenset({"true", "1", "yes", "on"}), frozenset({"false", "0", "no", "off"})


@dataclasses.dataclass(frozen=True)
class _Rules:
    key: str | None
    ge: float | None
    gt: float | None
    le: float | None
    min_length: int | None
    max_length: int | None
    pattern: str | None
    strict: bool = False


def field(
    *,
    default: Any = dataclasses.MISSING,
    default_factory: Callable[[], Any] | Any = dataclasses.MISSING,
    key: str | None = None,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    pattern: str | None = None,
    strict: bool = False,
    description: str | None = None,
) -> Any:
    """A field of a ``Shape`` with its checks.

    :param default: the value when the input has no such key (no default: the key is required).
    :param default_factory: makes the default (for mutable ones).
    :param key: the input key it is read from, if not its name (``"TABLE_NAME"``).
    :param ge: at least this (numbers).
    :param gt: more than this (numbers).
    :param le: at most this (numbers).
    :param min_length: at least this many characters or entries.
    :param max_length: at most this many characters or entries.
    :param pattern: a regular expression the whole string must match.
    :param strict: convert nothing: an ``int`` takes only an int (no bool, float, ``Decimal`` or
        string), a ``float`` only an int or a float, a ``bool`` only a bool.
    :param description: what the field means, for readers of the code.
    """
    rules = _Rules(key, ge, gt, le, min_length, max_length, pattern, strict)
    metadata = {_RULES: rules, "description": description}
    return dataclasses.field(default=default, default_factory=default_factory, metadata=metadata)


class ShapeError(ValueError):
    """Input that does not fit a shape; ``errors()`` lists every problem by location."""

    def __init__(self, title: str, problems: Problems) -> None:
        self.title = title
        self.problems = list(problems)
        lines = "\n".join(f"  {'.'.join(map(str, loc)) or '(record)'}: {msg}" for loc, msg in self.problems)
        count = len(self.problems)
        super().__init__(f"{count} validation error{'s' if count != 1 else ''} for {title}\n{lines}")

    def errors(self) -> list[dict[str, Any]]:
        """The problems as pydantic reports them: ``loc`` (a tuple of keys and indexes) and ``msg``."""
        return [{"loc": loc, "msg": msg} for loc, msg in self.problems]


@dataclasses.dataclass(frozen=True)
class _Field:
    name: str
    keys: tuple[str, ...]  # the input keys it is read from, in order
    output_key: str
    required: bool
    check: Checker


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(field,))
class Shape:
    """Base of a validated record; subclasses are frozen, keyword-only dataclasses."""

    __shape_extra__: ClassVar[Literal["ignore", "forbid"]] = "ignore"
    __shape_camel__: ClassVar[bool] = False

    def __init_subclass__(cls, *, extra: Literal["ignore", "forbid"] | None = None, camel: bool | None = None) -> None:
        super().__init_subclass__()
        if extra is not None:
            cls.__shape_extra__ = extra
        if camel is not None:
            cls.__shape_camel__ = camel
        dataclasses.dataclass(frozen=True, kw_only=True)(cls)

    @classmethod
    def _prepare(cls, data: Any) -> Any:
        """Reshape the raw input before its fields are checked (default: as it is)."""
        return data

    def _check(self) -> None:
        """Refuse the record as a whole (``ValueError``) once its fields are valid (default: accept)."""

    @classmethod
    def model_validate(cls, data: object) -> Self:
        """``data`` checked against the shape; ``ShapeError`` lists every problem."""
        problems: Problems = []
        record = _check_shape(cls, data, (), problems)
        if problems:
            raise ShapeError(cls.__name__, problems)
        return typing.cast("Self", record)

    @classmethod
    def model_validate_json(cls, text: str | bytes) -> Self:
        """A JSON document checked against the shape; invalid JSON is a ``ShapeError`` too."""
        try:
            data = json.loads(text)
        except ValueError as invalid:
            reason = invalid.msg if isinstance(invalid, json.JSONDecodeError) else "not UTF-8"
            raise ShapeError(cls.__name__, [((), f"Invalid JSON: {reason}")]) from None
        return cls.model_validate(data)

    def model_dump(self, *, mode: Literal["python", "json"] = "python", by_alias: bool | None = None) -> dict[str, Any]:
        """The record as a dict; ``mode="json"`` gives JSON types (enums as values, datetimes as ISO 8601).

        :param by_alias: write fields under their ``key`` (default: only for ``camel`` shapes).
        """
        aliased = type(self).__shape_camel__ if by_alias is None else by_alias
        return {
            (entry.output_key if aliased else entry.name): _dump(getattr(self, entry.name), mode, by_alias)
            for entry in _plan(type(self))
        }

    def model_dump_json(self) -> str:
        """The record as compact JSON."""
        return json.dumps(self.model_dump(mode="json"), separators=(",", ":"))

    def model_copy(self, *, update: Mapping[str, Any] | None = None) -> Self:
        """A copy with some fields replaced (not validated, as pydantic's)."""
        return typing.cast("Self", dataclasses.replace(typing.cast("Any", self), **dict(update or {})))


def _dump(value: Any, mode: str, by_alias: bool | None) -> Any:
    if isinstance(value, Shape):
        return value.model_dump(mode=mode, by_alias=by_alias)  # type: ignore[arg-type]
    if isinstance(value, Mapping):
        return {key: _dump(item, mode, by_alias) for key, item in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        items = [_dump(item, mode, by_alias) for item in value]
        return sorted(items) if mode == "json" and isinstance(value, frozenset | set) else items
    if mode == "json":
        if isinstance(value, Enum):
            return value.value
        if isinstance(value, datetime):
            return value.isoformat().replace("+00:00", "Z")
    return value


def _check_shape(shape: type[Shape], data: Any, loc: Loc, problems: Problems) -> Any:
    if isinstance(data, shape):
        return data
    data = shape._prepare(data)
    if not isinstance(data, Mapping):
        problems.append((loc, "Input should be an object"))
        return _INVALID
    before = len(problems)
    values: dict[str, Any] = {}
    known: set[str] = set()
    for entry in _plan(shape):
        known.update(entry.keys)
        present = next((key for key in entry.keys if key in data), None)
        if present is None:
            if entry.required:
                problems.append(((*loc, entry.keys[0]), "Field required"))
            continue
        value = entry.check(data[present], (*loc, present), problems)
        if value is not _INVALID:
            values[entry.name] = value
    if shape.__shape_extra__ == "forbid":
        problems.extend(((*loc, key), "Extra inputs are not permitted") for key in data if key not in known)
    if len(problems) > before:
        return _INVALID
    record = shape(**values)
    try:
        record._check()
    except ShapeError as refused:
        problems.extend(((*loc, *where), message) for where, message in refused.problems)
        return _INVALID
    except ValueError as refused:
        problems.append((loc, f"Value error, {refused}"))
        return _INVALID
    return record


def _plan(shape: type[Shape]) -> tuple[_Field, ...]:
    """How to read each field of a shape (built on first use, once per class)."""
    plan: tuple[_Field, ...] | None = shape.__dict__.get("__shape_plan__")
    if plan is None:
        plan = _build_plan(shape)
        setattr(shape, "__shape_plan__", plan)  # noqa: B010  (not a declared attribute)
    return plan


def _build_plan(shape: type[Shape]) -> tuple[_Field, ...]:
    hints = typing.get_type_hints(shape)
    entries = []
    for spec in dataclasses.fields(typing.cast("Any", shape)):
        rules: _Rules = spec.metadata.get(_RULES) or _Rules(None, None, None, None, None, None, None)
        key = rules.key or (_camel(spec.name) if shape.__shape_camel__ else spec.name)
        keys = (key,) if key == spec.name else (key, spec.name)
        required = spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING
        entries.append(
            _Field(spec.name, keys, key, required, _with_rules(_checker(hints[spec.name], rules.strict), rules))
        )
    return tuple(entries)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _with_rules(check: Checker, rules: _Rules) -> Checker:
    limits = [
        (bound, test, message)
        for bound, test, message in (
            (rules.ge, operator.ge, "greater than or equal to"),
            (rules.gt, operator.gt, "greater than"),
            (rules.le, operator.le, "less than or equal to"),
        )
        if bound is not None
    ]
    pattern = re.compile(rules.pattern) if rules.pattern is not None else None
    if not limits and pattern is None and rules.min_length is None and rules.max_length is None:
        return check

    def checked(value: Any, loc: Loc, problems: Problems) -> Any:
        value = check(value, loc, problems)
        if value is _INVALID or value is None:
            return value
        for bound, test, message in limits:
            if not test(value, bound):
                problems.append((loc, f"Input should be {message} {bound}"))
                return _INVALID
        if rules.min_length is not None and len(value) < rules.min_length:
            problems.append((loc, f"{_noun(value)} should have at least {_count(rules.min_length, value)}"))
            return _INVALID
        if rules.max_length is not None and len(value) > rules.max_length:
            problems.append((loc, f"{_noun(value)} should have at most {_count(rules.max_length, value)}"))
            return _INVALID
        if pattern is not None and not pattern.fullmatch(value):
            problems.append((loc, f"String should match pattern '{pattern.pattern}'"))
            return _INVALID
        return value

    return checked


def _noun(value: object) -> str:
    return "String" if isinstance(value, str) else "List" if isinstance(value, list | tuple) else "Object"


def _count(limit: int, value: object) -> str:
    unit = "character" if isinstance(value, str) else "item"
    return f"{limit} {unit}{'s' if limit != 1 else ''}"


def _checker(hint: Any, strict: bool = False) -> Checker:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return lambda value, loc, problems: value
    if origin in (types.UnionType, typing.Union):
        return _union([_checker(arg, strict) for arg in args if arg is not type(None)], type(None) in args)
    if origin is Literal:
        return _literal(args)
    if origin in (list, tuple, frozenset):
        return _sequence(origin, _checker(args[0], strict) if args else _checker(Any))
    if origin is dict or hint is dict:
        return _mapping(_checker(args[1], strict) if args else _checker(Any))
    if isinstance(hint, type) and issubclass(hint, Shape):
        return functools.partial(_nested, hint)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return _enum(hint)
    simple = (_STRICT if strict else _SIMPLE).get(hint)
    if simple is None:
        raise TypeError(f"Shape fields of type {hint!r} are not supported")
    return simple


def _nested(shape: type[Shape], value: Any, loc: Loc, problems: Problems) -> Any:
    return _check_shape(shape, value, loc, problems)


def _union(members: list[Checker], optional: bool) -> Checker:
    def check(value: Any, loc: Loc, problems: Problems) -> Any:
        if value is None and optional:
            return None
        attempts: Problems = []
        for member in members:
            result = member(value, loc, attempts)
            if result is not _INVALID:
                return result
        problems.extend(attempts if len(members) == 1 else [(loc, "Input matches none of the allowed types")])
        return _INVALID

    return check


def _literal(allowed: tuple[Any, ...]) -> Checker:
    listed = " or ".join(repr(option) for option in allowed)

    def check(value: Any, loc: Loc, problems: Problems) -> Any:
        if any(value == option and type(value) is type(option) for option in allowed):
            return value
        problems.append((loc, f"Input should be {listed}"))
        return _INVALID

    return check


def _enum(kind: type[Enum]) -> Checker:
    listed = " or ".join(repr(member.value) for member in kind)

    def check(value: Any, loc: Loc, problems: Problems) -> Any:
        try:
            return kind(value)
        except (ValueError, TypeError):
            problems.append((loc, f"Input should be {listed}"))
            return _INVALID

    return check


def _sequence(kind: type, item: Checker) -> Checker:
    accepted = (list, tuple) if kind is not frozenset else (list, tuple, set, frozenset)

    def check(value: Any, loc: Loc, problems: Problems) -> Any:
        if not isinstance(value, accepted):
            problems.append((loc, "Input should be a valid array"))
            return _INVALID
        items = [item(entry, (*loc, index), problems) for index, entry in enumerate(value)]
        return _INVALID if any(entry is _INVALID for entry in items) else kind(items)

    return check


def _mapping(item: Checker) -> Checker:
    def check(value: Any, loc: Loc, problems: Problems) -> Any:
        if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
            problems.append((loc, "Input should be an object"))
            return _INVALID
        items = {key: item(entry, (*loc, key), problems) for key, entry in value.items()}
        return _INVALID if any(entry is _INVALID for entry in items.values()) else items

    return check


def _string(value: Any, loc: Loc, problems: Problems) -> Any:
    if isinstance(value, str):
        return value
    problems.append((loc, "Input should be a valid string"))
    return _INVALID


def _integer(value: Any, loc: Loc, problems: Problems) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, Decimal | float) and _finite(value) and value == int(value):
        return int(value)
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value)
    problems.append((loc, "Input should be a valid integer"))
    return _INVALID


def _finite(value: Decimal | float) -> bool:
    return value.is_finite() if isinstance(value, Decimal) else value == value and abs(value) != float("inf")


def _number(value: Any, loc: Loc, problems: Problems) -> Any:
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool) and _finite(value):
        return float(value)
    try:
        number = float(value) if isinstance(value, str) else None
    except ValueError:
        number = None
    if number is not None and _finite(number):
        return number
    problems.append((loc, "Input should be a finite number"))
    return _INVALID


def _boolean(value: Any, loc: Loc, problems: Problems) -> Any:
    if isinstance(value, bool):
        return value
    text = value.strip().lower() if isinstance(value, str) else str(value) if value in (0, 1) else None
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    problems.append((loc, "Input should be a valid boolean"))
    return _INVALID


def _timestamp(value: Any, loc: Loc, problems: Problems) -> Any:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    problems.append((loc, "Input should be a valid datetime"))
    return _INVALID


def _none(value: Any, loc: Loc, problems: Problems) -> Any:
    if value is None:
        return None
    problems.append((loc, "Input should be null"))
    return _INVALID


_SIMPLE: dict[Any, Checker] = {
    str: _string,
    int: _integer,
    float: _number,
    bool: _boolean,
    datetime: _timestamp,
    type(None): _none,
    None: _none,
}


def _strict_integer(value: Any, loc: Loc, problems: Problems) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    problems.append((loc, "Input should be a valid integer"))
    return _INVALID


def _strict_number(value: Any, loc: Loc, problems: Problems) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _number(value, loc, problems)
    problems.append((loc, "Input should be a finite number"))
    return _INVALID


def _strict_boolean(value: Any, loc: Loc, problems: Problems) -> Any:
    if isinstance(value, bool):
        return value
    problems.append((loc, "Input should be a valid boolean"))
    return _INVALID


_STRICT: dict[Any, Checker] = {**_SIMPLE, int: _strict_integer, float: _strict_number, bool: _strict_boolean}
