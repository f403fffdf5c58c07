"""Validated records without pydantic: frozen, keyword-only classes whose fields declare their checks.

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
does (``loc`` and ``msg``), and no message of the checks, nor of a failing ``_prepare``, echoes
an input value (the messages a ``_check`` raises are its author's).
Construction in code (``ChunkMessage(job_id=...)``) does not validate, as with a dataclass:
validate what comes from outside, build what you trust. Records compare, hash and print as
frozen dataclasses do, but a class costs no code generation when it is defined (about 0.6 ms
per class with ``dataclasses``, paid on every cold start); the checks live in ``shape_checks``.
"""

from __future__ import annotations

import inspect
import json
import math
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any, ClassVar, Literal, Self, dataclass_transform

from serverless_patterns.lambdas.shared import shape_checks as checks
from serverless_patterns.lambdas.shared.shape_checks import INVALID, Checker, Loc, Problems, Rules

_MISSING: Any = object()


class _Spec:
    """One field: its name, default and rules (what ``field`` returns, completed by the class)."""

    __slots__ = ("default", "default_factory", "description", "name", "rules")

    def __init__(self, default: Any, default_factory: Any, rules: Rules, description: str | None) -> None:
        self.name = ""
        self.default, self.default_factory, self.rules, self.description = default, default_factory, rules, description

    def named(self, name: str) -> _Spec:
        spec = _Spec(self.default, self.default_factory, self.rules, self.description)
        spec.name = name
        return spec


def field(
    *,
    default: Any = _MISSING,
    default_factory: Callable[[], Any] | Any = _MISSING,
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
    return _Spec(default, default_factory, Rules(key, ge, gt, le, min_length, max_length, pattern, strict), description)


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


class _Field(typing.NamedTuple):
    name: str
    keys: tuple[str, ...]  # the input keys it is read from, in order: its key (what it is written as) first
    required: bool
    check: Checker


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(field,))
class Shape:
    """Base of a validated record: subclasses are frozen, keyword-only records of their annotated fields."""

    __shape_fields__: ClassVar[tuple[_Spec, ...]] = ()
    __shape_extra__: ClassVar[Literal["ignore", "forbid"]] = "ignore"
    __shape_camel__: ClassVar[bool] = False

    def __init_subclass__(cls, *, extra: Literal["ignore", "forbid"] | None = None, camel: bool | None = None) -> None:
        super().__init_subclass__()
        if extra is not None:
            cls.__shape_extra__ = extra
        if camel is not None:
            cls.__shape_camel__ = camel
        specs = {spec.name: spec for spec in cls.__shape_fields__}
        for name, annotation in inspect.get_annotations(cls).items():
            if "ClassVar" in str(annotation):
                continue
            declared = cls.__dict__.get(name, _MISSING)
            spec = declared if isinstance(declared, _Spec) else _Spec(declared, _MISSING, Rules(), None)
            specs[name] = spec.named(name)
            if declared is not _MISSING:
                delattr(cls, name)
        cls.__shape_fields__ = tuple(specs.values())

    def __init__(self, **values: Any) -> None:
        for spec in self.__shape_fields__:
            if spec.name in values:
                value = values.pop(spec.name)
            elif spec.default is not _MISSING:
                value = spec.default
            elif spec.default_factory is not _MISSING:
                value = spec.default_factory()
            else:
                raise TypeError(f"{type(self).__name__}() missing keyword argument {spec.name!r}")
            object.__setattr__(self, spec.name, value)
        if values:
            raise TypeError(f"{type(self).__name__}() got unexpected keyword arguments: {', '.join(sorted(values))}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: cannot assign to {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: cannot delete {name!r}")

    def _items(self) -> Iterator[tuple[str, Any]]:
        return ((spec.name, getattr(self, spec.name)) for spec in self.__shape_fields__)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return tuple(self._items()) == tuple(other._items())

    def __hash__(self) -> int:
        return hash(tuple(self._items()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{name}={value!r}' for name, value in self._items())})"

    @classmethod
    def _prepare(cls, data: Any) -> Any:
        """Reshape the raw input before its fields are checked (default: as it is)."""
        return data

    def _check(self) -> None:
        """Refuse the record as a whole (``ValueError``) once its fields are valid (default: accept)."""

    @classmethod
    def model_field_names(cls) -> tuple[str, ...]:
        """The fields' names, in order (inherited ones first)."""
        return tuple(spec.name for spec in cls.__shape_fields__)

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
        except (ValueError, RecursionError) as invalid:
            raise ShapeError(cls.__name__, [((), f"Invalid JSON: {_unreadable(invalid)}")]) from None
        return cls.model_validate(data)

    def model_dump(self, *, mode: Literal["python", "json"] = "python", by_alias: bool | None = None) -> dict[str, Any]:
        """The record as a dict; ``mode="json"`` gives JSON types (enums as values, datetimes as ISO 8601).

        :param by_alias: write fields under their ``key`` (default: only for ``camel`` shapes).
        """
        aliased = self.__shape_camel__ if by_alias is None else by_alias
        return {
            (entry.keys[0] if aliased else entry.name): _dump(getattr(self, entry.name), mode, by_alias)
            for entry in _plan(type(self))
        }

    def model_dump_json(self) -> str:
        """The record as compact JSON, as pydantic writes it: UTF-8 unescaped, and no ``NaN`` (``null``)."""
        return json.dumps(self.model_dump(mode="json"), separators=(",", ":"), ensure_ascii=False, default=_not_json)

    def model_copy(self, *, update: Mapping[str, Any] | None = None) -> Self:
        """A copy with some fields replaced (not validated, as pydantic's)."""
        return type(self)(**{**dict(self._items()), **(update or {})})


def _unreadable(error: ValueError | RecursionError) -> str:
    """Why ``json.loads`` refused a document (a RecursionError: nested deeper than it parses)."""
    if isinstance(error, json.JSONDecodeError):
        return error.msg
    if isinstance(error, UnicodeDecodeError):
        return "not UTF-8"
    return "nested too deeply" if isinstance(error, RecursionError) else "a number with too many digits"


def _dump(value: Any, mode: Literal["python", "json"], by_alias: bool | None) -> Any:
    if isinstance(value, Shape):
        return value.model_dump(mode=mode, by_alias=by_alias)
    if isinstance(value, Mapping):
        return {key: _dump(item, mode, by_alias) for key, item in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        items = [_dump(item, mode, by_alias) for item in value]
        return sorted(items) if mode == "json" and isinstance(value, frozenset | set) else items
    if mode == "json":
        return _json_value(value)
    return value


def _json_value(value: Any) -> Any:
    """A value as pydantic's JSON mode gives it: enums by value, times in ISO 8601 (UTC as ``Z``),
    a ``Decimal`` as a string, and a non-finite float as ``None`` (``NaN`` is not JSON)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _not_json(value: object) -> object:
    raise TypeError(f"a {type(value).__name__} is not JSON: give records JSON types (str, numbers, lists, objects)")


def _check_shape(shape: type[Shape], data: Any, loc: Loc, problems: Problems) -> Any:
    if isinstance(data, shape):
        return data
    try:
        data = shape._prepare(data)
    except (ValueError, TypeError) as refused:  # the hook reads raw input: its failure is the input's
        # Not the exception's text: int("secret") would quote the input.
        problems.append((loc, f"Input could not be read ({type(refused).__name__})"))
        return INVALID
    if not isinstance(data, Mapping):
        problems.append((loc, "Input should be an object"))
        return INVALID
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
        if value is not INVALID:
            values[entry.name] = value
    if shape.__shape_extra__ == "forbid":
        problems.extend(((*loc, key), "Extra inputs are not permitted") for key in data if key not in known)
    if len(problems) > before:
        return INVALID
    record = shape(**values)
    try:
        record._check()
    except ShapeError as refused:
        problems.extend(((*loc, *where), message) for where, message in refused.problems)
        return INVALID
    except ValueError as refused:
        problems.append((loc, f"Value error, {refused}"))
        return INVALID
    return record


def _plan(shape: type[Shape]) -> tuple[_Field, ...]:
    """How to read each field of a shape (built on first use, once per class)."""
    plan: tuple[_Field, ...] | None = shape.__dict__.get("__shape_plan__")
    if plan is None:
        hints = typing.get_type_hints(shape)
        entries = []
        for spec in shape.__shape_fields__:
            key = spec.rules.key or (_camel(spec.name) if shape.__shape_camel__ else spec.name)
            keys = (key,) if key == spec.name else (key, spec.name)
            required = spec.default is _MISSING and spec.default_factory is _MISSING
            check = checks.with_rules(_checker(hints[spec.name], strict=spec.rules.strict), spec.rules)
            entries.append(_Field(spec.name, keys, required, check))
        plan = tuple(entries)
        type.__setattr__(shape, "__shape_plan__", plan)
    return plan


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _checker(hint: Any, *, strict: bool = False) -> Checker:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        members = [_checker(arg, strict=strict) for arg in args if arg is not type(None)]
        return checks.union(members, optional=type(None) in args)
    if origin is Literal:
        return checks.literal(args)
    if origin in (list, tuple, frozenset):
        return checks.sequence(origin, _checker(args[0] if args else Any, strict=strict))
    if origin is dict or hint is dict:
        return checks.mapping(_checker(args[1] if args else Any, strict=strict))
    if isinstance(hint, type) and issubclass(hint, Shape):
        return lambda value, loc, problems: _check_shape(hint, value, loc, problems)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return checks.enum(hint)
    scalars = checks.STRICT_SCALARS if strict else checks.SCALARS
    if hint not in scalars:
        raise TypeError(f"Shape fields of type {hint!r} are not supported")
    return scalars[hint]
