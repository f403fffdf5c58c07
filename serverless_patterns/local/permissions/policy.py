"""The IAM policy language: statements, wildcards, principals and conditions, as AWS evaluates them.

A ``Statement`` is parsed once from a policy document (an identity policy, a resource
policy, a key policy or an ``AWS::Lambda::Permission`` turned into one). ``matches`` tells
whether it applies to a request: its ``Action``/``NotAction``, ``Resource``/``NotResource``,
``Principal``/``NotPrincipal`` (resource and key policies) and ``Condition``.

Wildcards: ``*`` and ``?`` in actions (case-insensitive) and resources (case-sensitive, and
``*`` spans ``:`` and ``/`` as in IAM). Conditions: the ``String*``, ``Arn*``, ``Numeric*``,
``Bool`` and ``Null`` operators, their ``IfExists`` forms and the ``ForAnyValue:`` /
``ForAllValues:`` set qualifiers; keys are case-insensitive. A key missing from the request
makes a condition false, except for the negated operators (``StringNotEquals``,
``ArnNotLike``...), ``...IfExists`` and ``Null``, as in AWS's documentation. An operator
not listed (``Date*``, ``IpAddress``, ``BinaryEquals``) never holds: the statement is left
out and ``unsupported`` names it, so a policy relying on one shows in the report.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ALLOW = "Allow"
DENY = "Deny"

_NEGATED = ("StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike")
_NUMERIC = {
    "NumericEquals": lambda a, b: a == b,
    "NumericNotEquals": lambda a, b: a != b,
    "NumericLessThan": lambda a, b: a < b,
    "NumericLessThanEquals": lambda a, b: a <= b,
    "NumericGreaterThan": lambda a, b: a > b,
    "NumericGreaterThanEquals": lambda a, b: a >= b,
}


@functools.lru_cache(maxsize=4096)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """IAM's wildcards: ``*`` any run of characters (``:`` and ``/`` included), ``?`` one character."""
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def wildcard_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """Whether ``value`` matches an IAM pattern with ``*``/``?`` wildcards."""
    if pattern == "*":
        return True
    return _glob(pattern, ignore_case).fullmatch(value) is not None


def as_list(value: Any) -> list[Any]:
    """A policy element's value as a list (IAM accepts a single value or a list)."""
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


@dataclass(frozen=True)
class Principal:
    """Who makes a request: an IAM role's session (``AWS``) or a service (``Service``)."""

    kind: str  # "AWS" or "Service"
    identifier: str  # the role ARN, or the service principal ("sns.amazonaws.com")
    account: str
    session_arn: str = ""

    def matched_by(self, kind: str, value: str) -> str | None:
        """How a policy's principal entry names this principal: ``direct``, ``account`` or None.

        ``account`` (the account's root or id) names every principal of the account, but in a
        resource or key policy it delegates to the account's IAM policies rather than granting.
        """
        if value == "*":
            return "direct"
        if kind != self.kind:
            return None
        if kind == "Service":
            return "direct" if value == self.identifier else None
        if value in (self.identifier, self.session_arn):
            return "direct"
        if value in (self.account, f"arn:aws:iam::{self.account}:root"):
            return "account"
        return None


@dataclass(frozen=True)
class Statement:
    """One policy statement and where it comes from (for denials and the least-privilege report)."""

    effect: str
    source: str
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] = ("*",)
    not_resources: tuple[str, ...] | None = None
    principals: tuple[tuple[str, str], ...] | None = None  # ((kind, value), ...); None: identity policy
    not_principals: tuple[tuple[str, str], ...] | None = None
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (operator, key, values)
    unsupported: tuple[str, ...] = field(default=())

    @classmethod
    def parse(cls, raw: Mapping[str, Any], source: str) -> Statement:
        """From a statement of a policy document (values resolved, as CloudFormation deployed it)."""
        conditions = []
        unsupported = []
        for operator, tests in (raw.get("Condition") or {}).items():
            for key, values in (tests or {}).items():
                if not _supported(str(operator)):
                    unsupported.append(str(operator))
                conditions.append((str(operator), str(key).lower(), tuple(str(v) for v in as_list(values))))
        return cls(
            effect=str(raw.get("Effect", ALLOW)),
            source=source,
            actions=tuple(str(a) for a in as_list(raw.get("Action"))),
            not_actions=tuple(str(a) for a in as_list(raw["NotAction"])) if "NotAction" in raw else None,
            resources=tuple(str(r) for r in as_list(raw.get("Resource", "*" if "NotResource" not in raw else None))),
            not_resources=tuple(str(r) for r in as_list(raw["NotResource"])) if "NotResource" in raw else None,
            principals=_principals(raw["Principal"]) if "Principal" in raw else None,
            not_principals=_principals(raw["NotPrincipal"]) if "NotPrincipal" in raw else None,
            conditions=tuple(conditions),
            unsupported=tuple(sorted(set(unsupported))),
        )

    def applies_to_action(self, action: str) -> bool:
        """Whether the statement's Action (or NotAction) covers ``action``."""
        if self.not_actions is not None:
            return not any(wildcard_match(p, action, ignore_case=True) for p in self.not_actions)
        return any(wildcard_match(p, action, ignore_case=True) for p in self.actions)

    def applies_to_resource(self, resource: str) -> bool:
        """Whether the statement's Resource (or NotResource) covers ``resource``."""
        if self.not_resources is not None:
            return not any(wildcard_match(p, resource) for p in self.not_resources)
        return any(wildcard_match(p, resource) for p in self.resources)

    def principal_match(self, principal: Principal) -> str | None:
        """``direct``, ``account`` or None (identity policies apply to their role: ``direct``)."""
        if self.principals is None and self.not_principals is None:
            return "direct"
        if self.not_principals is not None:
            named = any(principal.matched_by(k, v) for k, v in self.not_principals)
            return None if named else "direct"
        matches = [principal.matched_by(k, v) for k, v in self.principals or ()]
        if "direct" in matches:
            return "direct"
        return "account" if "account" in matches else None

    def conditions_hold(self, context: Mapping[str, str | Sequence[str]]) -> bool:
        """Whether every condition holds for a request with ``context`` (keys lower-cased)."""
        if self.unsupported:
            return False
        return all(_holds(operator, context.get(key), values) for operator, key, values in self.conditions)

    def matches(self, action: str, resource: str, context: Mapping[str, str | Sequence[str]]) -> bool:
        """Action, resource and conditions (not the principal: see ``principal_match``)."""
        return self.applies_to_action(action) and self.applies_to_resource(resource) and self.conditions_hold(context)


def _principals(raw: Any) -> tuple[tuple[str, str], ...]:
    if raw == "*":
        return (("*", "*"),)
    entries = []
    for kind, values in dict(raw).items():
        entries += [(str(kind), str(v)) for v in as_list(values)]
    return tuple(("*", "*") if value == "*" else (kind, value) for kind, value in entries)


def _base_operator(operator: str) -> tuple[str, str, bool]:
    """``(set qualifier, operator, if_exists)`` of e.g. ``ForAnyValue:StringLikeIfExists``."""
    qualifier, _, name = operator.rpartition(":")
    if_exists = name.endswith("IfExists")
    return qualifier, name.removesuffix("IfExists"), if_exists


def _supported(operator: str) -> bool:
    qualifier, name, _ = _base_operator(operator)
    known = name in _NUMERIC or name in ("Bool", "Null") or name.startswith(("String", "Arn"))
    return known and qualifier in ("", "ForAnyValue", "ForAllValues")


def _compare(name: str, actual: str, expected: str) -> bool:
    """One value against one expected value, for a positive operator (negation is applied by the caller)."""
    if name == "StringEquals":
        return actual == expected
    if name == "StringEqualsIgnoreCase":
        return actual.lower() == expected.lower()
    if name in ("StringLike", "ArnLike", "ArnEquals"):  # ArnEquals takes wildcards too
        return wildcard_match(expected, actual)
    if name == "Bool":
        return actual.lower() == expected.lower()
    if name in _NUMERIC:
        try:
            return bool(_NUMERIC[name](float(actual), float(expected)))
        except ValueError:
            return False
    return False


def _holds(operator: str, actual: str | Sequence[str] | None, expected: tuple[str, ...]) -> bool:
    qualifier, name, if_exists = _base_operator(operator)
    if name == "Null":
        missing = actual is None or (not isinstance(actual, str) and not actual)
        return any((value.lower() == "true") == missing for value in expected)
    negated = name in _NEGATED
    if actual is None:
        return if_exists or negated or qualifier == "ForAllValues"
    positive = name.replace("Not", "", 1) if negated else name
    values = [actual] if isinstance(actual, str) else list(actual)

    def one(value: str) -> bool:
        hit = any(_compare(positive, value, e) for e in expected)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return all(one(v) for v in values)
    return any(one(v) for v in values)


@dataclass(frozen=True)
class Evaluation:
    """What a set of statements says about one request."""

    denied_by: Statement | None = None
    allowed_by: tuple[Statement, ...] = ()  # statements naming the principal itself
    delegated_by: tuple[Statement, ...] = ()  # statements naming the principal's account (resource/key policies)

    @property
    def allows(self) -> bool:
        return self.denied_by is None and bool(self.allowed_by)


def evaluate(
    statements: Sequence[Statement],
    principal: Principal,
    action: str,
    resource: str,
    context: Mapping[str, str | Sequence[str]],
) -> Evaluation:
    """Every statement that applies to the request: the first explicit deny, the allows."""
    allowed: list[Statement] = []
    delegated: list[Statement] = []
    for statement in statements:
        how = statement.principal_match(principal)
        if how is None or not statement.matches(action, resource, context):
            continue
        if statement.effect == DENY:
            return Evaluation(denied_by=statement)
        (allowed if how == "direct" else delegated).append(statement)
    return Evaluation(allowed_by=tuple(allowed), delegated_by=tuple(delegated))
