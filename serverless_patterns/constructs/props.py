"""The vocabulary every pattern shares: roles, handlers, existing resources and props overrides.

One implementation for all five patterns, so they name and check the same things the same way:

- ``functions={role: FunctionSettings}``: sizing per role; roles are the construct's ``ROLES``;
  an omitted role gets the construct's default for it (``FUNCTION_DEFAULTS``);
- ``handlers={role: HandlerCode}``: your code for a role;
- ``existing_<resource>=``: a resource you already own, used instead of creating one;
- ``<resource>_props=``: the CDK props struct of a resource the pattern creates, merged over the
  pattern's secure defaults; an override that would weaken a security default is refused, and
  giving both ``existing_x`` and ``x_props`` is refused.

Errors are raised at construct time and name the construct, the keyword argument and what it takes.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from aws_cdk import RemovalPolicy, aws_s3 as s3, aws_sqs as sqs
from constructs import Construct

from serverless_patterns.config import FunctionSettings, PatternDefaults
from serverless_patterns.config.checks import check_type, matches
from serverless_patterns.constructs.handler_code import HandlerCode

T = TypeVar("T")


def owner_name(construct: Construct) -> str:
    """How errors name a construct: its class and path, e.g. ``FanOut Service/Jobs``."""
    return f"{type(construct).__name__} {construct.node.path}"


def checked(owner: Construct, name: str, value: Any, hint: Any) -> None:
    """``check_type`` for a construct's argument; the owner's name (a call into jsii) is read only to refuse."""
    if not matches(value, hint):
        check_type(owner_name(owner), name, value, hint)


def resolve_defaults(owner: Construct, defaults: PatternDefaults | None) -> PatternDefaults:
    """``defaults`` checked, or the production-safe ``PatternDefaults()``."""
    checked(owner, "defaults", defaults, PatternDefaults | None)
    return defaults or PatternDefaults()


def resolve_settings(owner: Construct, name: str, value: T | None, settings_type: type[T]) -> T:
    """A settings dataclass checked, or its defaults."""
    checked(owner, name, value, settings_type | None)
    return value if value is not None else settings_type()


def resolve_functions(
    owner: Construct, defaults: Mapping[str, FunctionSettings], given: Mapping[str, FunctionSettings] | None
) -> dict[str, FunctionSettings]:
    """Every role's ``FunctionSettings``: the given ones over the construct's defaults per role."""
    checked(owner, "functions", given, Mapping[str, FunctionSettings] | None)
    _check_roles(owner, "functions", given or {}, tuple(defaults))
    return {role: (given or {}).get(role, default) for role, default in defaults.items()}


def resolve_handlers(
    owner: Construct, roles: tuple[str, ...], given: Mapping[str, HandlerCode] | None
) -> dict[str, HandlerCode]:
    """The roles whose code the user replaces, checked against the construct's roles."""
    checked(owner, "handlers", given, Mapping[str, HandlerCode] | None)
    _check_roles(owner, "handlers", given or {}, roles)
    return dict(given or {})


def _check_roles(owner: Construct, argument: str, given: Mapping[str, Any], roles: tuple[str, ...]) -> None:
    unknown = [role for role in given if role not in roles]
    if unknown:
        hints = [
            f"{role!r} (did you mean {match[0]!r}?)"
            if (match := difflib.get_close_matches(role, roles, n=1))
            else repr(role)
            for role in unknown
        ]
        raise ValueError(
            f"{owner_name(owner)}: {argument} has unknown role(s) {', '.join(hints)}; the roles are {list(roles)}"
        )


def existing_or_props(owner: Construct, existing_name: str, existing: object, props_name: str, props: object) -> None:
    """Refuse ``existing_x`` together with ``x_props``: the props would configure nothing."""
    if existing is not None and props is not None:
        raise ValueError(
            f"{owner_name(owner)}: give {existing_name} or {props_name}, not both "
            f"({props_name} configures a resource the construct creates; with {existing_name} it creates none)"
        )


@dataclass(frozen=True)
class Guard:
    """A rule an override must keep: ``allowed(value)``, or the override is refused with ``reason``."""

    allowed: Callable[[Any], bool]
    reason: str


def fixed(value: object, reason: str) -> Guard:
    """An override must keep exactly ``value`` (or leave it unset)."""
    return Guard(lambda given: given == value, reason)


def merged_props(
    owner: Construct,
    props_name: str,
    props_type: type,
    defaults: Mapping[str, Any],
    given: object,
    guards: Mapping[str, Guard] | None = None,
) -> dict[str, Any]:
    """The keyword arguments of a resource: ``defaults`` overridden by the user's ``props_type`` struct.

    An override of a guarded field that the guard does not allow is refused with the guard's reason.
    """
    checked(owner, props_name, given, props_type | None)
    overrides: dict[str, Any] = dict(getattr(given, "_values", {})) if given is not None else {}
    for field, value in overrides.items():
        guard = (guards or {}).get(field)
        if guard is not None and not guard.allowed(value):
            raise ValueError(f"{owner_name(owner)}: {props_name}.{field}={value!r} is refused: {guard.reason}")
    return {**defaults, **overrides}


# --- guards of the shared secure defaults ---------------------------------------------------------

BUCKET_GUARDS: Mapping[str, Guard] = {
    "encryption": Guard(
        lambda value: value is not None and value is not s3.BucketEncryption.UNENCRYPTED,
        "buckets are encrypted at rest (S3_MANAGED, KMS or KMS_MANAGED)",
    ),
    "enforce_ssl": fixed(True, "buckets refuse requests without TLS"),
    "block_public_access": fixed(s3.BlockPublicAccess.BLOCK_ALL, "the patterns' buckets are never public"),
    "public_read_access": fixed(False, "the patterns' buckets are never public"),
    "access_control": Guard(
        lambda value: value in (None, s3.BucketAccessControl.PRIVATE),
        "the patterns' buckets use no ACLs (object ownership is bucket-owner-enforced)",
    ),
    "object_ownership": fixed(
        s3.ObjectOwnership.BUCKET_OWNER_ENFORCED, "ACLs are disabled: the bucket owner owns every object"
    ),
    "versioned": fixed(True, "uploads and records are versioned (redrive and audit rely on versions)"),
    "website_index_document": fixed(None, "the patterns' buckets are not websites"),
}

QUEUE_GUARDS: Mapping[str, Guard] = {
    "encryption": Guard(
        lambda value: value is not None and value is not sqs.QueueEncryption.UNENCRYPTED,
        "queues are encrypted at rest (SQS_MANAGED, KMS or KMS_MANAGED)",
    ),
    "enforce_ssl": fixed(True, "queues refuse requests without TLS"),
    "dead_letter_queue": fixed(None, "the pattern wires its own dead-letter queue (give existing_dead_letter_queue)"),
    "fifo": fixed(None, "the patterns' event sources read standard queues"),
}

TABLE_GUARDS: Mapping[str, Guard] = {
    "encryption": Guard(
        lambda value: value is not None, "tables are encrypted (AWS-owned, AWS-managed or your KMS key)"
    ),
}


def table_guards(defaults: PatternDefaults, **fixed_fields: tuple[object, str]) -> dict[str, Guard]:
    """The table guards, plus deletion protection where data is retained, plus fields the handlers rely on."""
    guards = dict(TABLE_GUARDS)
    if defaults.removal_policy is RemovalPolicy.RETAIN:
        guards["deletion_protection"] = fixed(
            True, "retained data is deletion-protected (PatternDefaults.removal_policy)"
        )
    if defaults.point_in_time_recovery:
        guards["point_in_time_recovery_specification"] = Guard(
            lambda value: bool(getattr(value, "point_in_time_recovery_enabled", False)),
            "point-in-time recovery is on (PatternDefaults.point_in_time_recovery)",
        )
    guards.update({name: fixed(value, reason) for name, (value, reason) in fixed_fields.items()})
    return guards
