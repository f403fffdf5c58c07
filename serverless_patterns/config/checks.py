"""Type and value checks shared by the configuration dataclasses.

Every settings dataclass calls :func:`check_fields` first in ``__post_init__``: a value of the
wrong type (``timeout_seconds="30"``, a dict where a dataclass belongs, a single string where a
tuple of strings belongs) fails at once with a ``TypeError`` naming the field and what it takes,
instead of deep inside CDK with an unrelated message. Lists given for tuple fields are accepted
and stored as tuples (the dataclasses are frozen and hashable).
"""

from __future__ import annotations

import dataclasses
import enum
import re
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def check_fields(instance: Any) -> None:
    """Raise ``TypeError`` for the first field of the dataclass ``instance`` whose value has the wrong type."""
    owner = type(instance).__name__
    hints = _hints(type(instance))
    for field in dataclasses.fields(instance):
        hint = hints[field.name]
        value = getattr(instance, field.name)
        if _is_tuple_hint(hint) and isinstance(value, list):
            value = tuple(value)
            object.__setattr__(instance, field.name, value)
        if not matches(value, hint):
            raise TypeError(f"{owner}.{field.name} must be {describe(hint)}, got {_show(value)}")


def check_type(owner: str, name: str, value: Any, hint: Any) -> None:
    """Raise ``TypeError`` unless ``value`` fits ``hint``: for a construct's keyword arguments."""
    if not matches(value, hint):
        raise TypeError(f"{owner}: {name} must be {describe(hint)}, got {_show(value)}")


def check_emails(owner: str, name: str, emails: Sequence[str]) -> tuple[str, ...]:
    """``emails`` as a tuple of well-formed addresses (a single string is refused: wrap it in a tuple)."""
    if isinstance(emails, str):
        raise TypeError(f"{owner}: {name} must be a sequence of e-mail addresses, got the single string {emails!r}")
    result = tuple(emails)
    for email in result:
        if not isinstance(email, str) or not _EMAIL.fullmatch(email):
            raise ValueError(f"{owner}: {name} has {email!r}, which is not an e-mail address")
    if len(set(result)) != len(result):
        raise ValueError(f"{owner}: {name} lists an address twice: {result}")
    return result


def matches(value: Any, hint: Any) -> bool:
    """Whether ``value`` fits the type hint (the subset of typing the settings use)."""
    if hint is Any:
        return True
    if hint is None or hint is type(None):
        return value is None
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(matches(value, arg) for arg in args)
    if origin is tuple:
        if not isinstance(value, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(matches(item, args[0]) for item in value)
        return len(args) == len(value) and all(matches(item, arg) for item, arg in zip(value, args, strict=True))
    if origin in (dict, Mapping) or (isinstance(origin, type) and issubclass(origin, Mapping)):
        key, item = args or (Any, Any)
        return isinstance(value, Mapping) and all(matches(k, key) and matches(v, item) for k, v in value.items())
    if origin in (list, Sequence):
        (item,) = args or (Any,)
        return isinstance(value, Sequence) and not isinstance(value, str) and all(matches(v, item) for v in value)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if _is_jsii_interface(hint):
        # An imported resource may come back as a dynamic proxy over several jsii types.
        delegates = getattr(value, "_delegates", None) or [value]
        return any(hint.__jsii_type__ in _jsii_interfaces(type(delegate)) for delegate in delegates)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True  # a hint this checker does not model (e.g. a Protocol): left to the consumer


def describe(hint: Any) -> str:
    """A type hint in words, for error messages."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(describe(arg) for arg in args)
    if hint is None or hint is type(None):
        return "None"
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return f"a tuple of {_name(args[0])} (a list is fine; a single value is not)"
    if origin is not None and (origin in (dict, Mapping) or issubclass(origin, Mapping)):
        return f"a mapping of {_name(args[0])} to {_name(args[1])}" if args else "a mapping"
    if origin in (list, Sequence):
        return f"a sequence of {_name(args[0])}" if args else "a sequence"
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return f"a {hint.__name__} (one of {', '.join(member.name for member in hint)})"
    if hint in (int, float, str, bool):
        return {int: "an int", float: "a number", str: "a str", bool: "a bool"}[hint]
    name = str(getattr(hint, "__name__", hint))
    return f"{'an' if name[:1] in 'AEIOU' else 'a'} {name}"


def _is_jsii_interface(hint: Any) -> bool:
    """A CDK interface (``dynamodb.ITable``...): a Protocol that ``isinstance`` cannot check."""
    return isinstance(hint, type) and hasattr(hint, "__jsii_type__") and getattr(hint, "_is_protocol", False)


def _jsii_interfaces(cls: type) -> set[object]:
    """The jsii type names of every CDK interface ``cls`` implements or proxies.

    A class records the interfaces it implements as ``__jsii_ifaces__``; an interface's proxy
    class (what an imported resource may be) carries the interface's own ``__jsii_type__``.
    """
    found: set[object] = set()
    for klass in cls.__mro__:
        for interface in getattr(klass, "__jsii_ifaces__", None) or ():
            found.update(getattr(parent, "__jsii_type__", parent) for parent in interface.__mro__)
        if klass.__name__.startswith("_") and klass.__name__.endswith("Proxy"):
            found.add(getattr(klass, "__jsii_type__", None))
    return found


def _name(hint: Any) -> str:
    """A type's bare name inside a container description (``str``, ``FunctionSettings``)."""
    if typing.get_origin(hint) is not None or hint is Any:
        return describe(hint)
    return str(getattr(hint, "__name__", hint))


def _is_tuple_hint(hint: Any) -> bool:
    if typing.get_origin(hint) is tuple:
        return True
    return any(typing.get_origin(arg) is tuple for arg in typing.get_args(hint))


def _show(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"
