"""The least-privilege report: every grant, whether the traffic used it, and every denial.

A *grant* is one action pattern on one resource pattern of an ``Allow`` statement: of a
role's identity policies (per role), or of a resource or key policy (a queue policy's
statement for EventBridge, an ``AWS::Lambda::Permission``, a key policy's entries). It was
*used* when an allowed request matched it. A grant never used is a finding, like IAM Access
Analyzer's unused-access findings: either the grant is not needed (remove it from the
construct) or it is needed by something the local traffic does not do (acknowledge it,
with the reason, in one place: ``Acknowledgement``s, for this app
``serverless_patterns/scenarios/acknowledged_grants.json``). Unused grants are warnings,
counted in the summary line; denials are failures.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from serverless_patterns.local.permissions.enforcer import Denial, Enforcer, Use
from serverless_patterns.local.permissions.policy import ALLOW, Statement, wildcard_match


@dataclass(frozen=True)
class Acknowledgement:
    """A grant kept although the local traffic does not use it, and why.

    ``path`` is matched (``*`` wildcards) against the role's construct path and the
    statement's source (the policy's construct path); ``action`` and ``resource`` against the
    grant's patterns.
    """

    path: str
    action: str
    reason: str
    resource: str = "*"

    def covers(self, grant: Grant) -> bool:
        return (
            (wildcard_match(self.path, grant.owner) or wildcard_match(self.path, grant.source.rsplit("#", 1)[0]))
            and wildcard_match(self.action, grant.action, ignore_case=True)
            and wildcard_match(self.resource, grant.resource)
        )


def load_acknowledgements(path: Path) -> list[Acknowledgement]:
    """Acknowledgements from a JSON list of ``{"path", "action", "resource", "reason"}`` objects."""
    return [Acknowledgement(**item) for item in json.loads(path.read_text())]


@dataclass(frozen=True)
class Grant:
    """One action pattern on one resource pattern, and how often it allowed a request."""

    owner: str  # the role's construct path, or "resource policy"/"key policy"
    source: str  # the statement: policy construct path#index
    action: str
    resource: str
    uses: int
    acknowledged: str = ""  # the reason, when unused on purpose

    @property
    def unused(self) -> bool:
        return self.uses == 0 and not self.acknowledged


def _patterns(statement: Statement) -> list[tuple[str, str]]:
    actions = list(statement.actions) if statement.not_actions is None else [f"NotAction {list(statement.not_actions)}"]
    if statement.not_resources is not None:
        resources = [f"NotResource {list(statement.not_resources)}"]
    else:
        resources = list(statement.resources)
    return [(a, r) for a in actions for r in resources]


def _count(statement: Statement, action: str, resource: str, uses: Sequence[Use]) -> int:
    count = 0
    for use in uses:
        if use.statement.source != statement.source:
            continue
        action_ok = action.startswith("NotAction") or wildcard_match(action, use.action, ignore_case=True)
        resource_ok = resource.startswith("NotResource") or wildcard_match(resource, use.resource)
        count += action_ok and resource_ok
    return count


def _family(resource: str) -> str:
    """Log streams of one group count as one resource when denials are grouped."""
    return resource.split(":log-stream:", 1)[0]


@dataclass(frozen=True)
class AccessReport:
    """Grants by owner, their use, and the denials of a run."""

    grants: tuple[Grant, ...]
    denials: tuple[Denial, ...]
    enforced: bool

    @classmethod
    def build(cls, enforcer: Enforcer, acknowledged: Iterable[Acknowledgement] = ()) -> AccessReport:
        """From what the enforcer recorded."""
        acknowledgements = list(acknowledged)
        uses = list(enforcer.uses.values())
        owned: list[tuple[str, Statement]] = []
        for role in sorted(enforcer.store.roles.values(), key=lambda r: r.path):
            owned += [(role.path, s) for s in role.statements]
        for label, policies in (
            ("resource policy", enforcer.store.resource_policies),
            ("key policy", enforcer.store.key_policies),
        ):
            for statements in policies.values():
                owned += [(label, s) for s in statements]
        grants = []
        for owner, statement in owned:
            if statement.effect != ALLOW:
                continue
            for action, resource in _patterns(statement):
                grant = Grant(owner, statement.source, action, resource, _count(statement, action, resource, uses))
                if grant.uses == 0:
                    reason = next((a.reason for a in acknowledgements if a.covers(grant)), "")
                    grant = Grant(owner, statement.source, action, resource, 0, reason)
                grants.append(grant)
        return cls(tuple(grants), tuple(enforcer.denials), enforcer.enabled)

    @property
    def unused(self) -> list[Grant]:
        """Grants never used and not acknowledged (warnings); none when nothing was checked."""
        return [g for g in self.grants if g.unused] if self.enforced else []

    def summary(self) -> str:
        """One line: grants, used, acknowledged, unused (warnings), denials."""
        if not self.enforced:
            return "Permissions: not enforced (enforce_permissions=False)"
        used = sum(g.uses > 0 for g in self.grants)
        acknowledged = sum(bool(g.acknowledged) for g in self.grants)
        return (
            f"Permissions: {len(self.denials)} denied request(s); {len(self.grants)} grants, {used} used, "
            f"{acknowledged} unused but acknowledged, {len(self.unused)} unused (warnings)"
        )

    def render(self, *, verbose: bool = False) -> list[str]:
        """The report's lines: denials, then per owner its grants (all with ``verbose``, else the unused)."""
        if not self.enforced:
            return [self.summary()]
        lines = ["Least privilege (every AWS call checked against the deployed policies)"]
        seen: dict[tuple[str, str, str, str], int] = {}
        for denial in self.denials:
            key = (denial.caller, denial.action, _family(denial.resource), denial.reason)
            seen[key] = seen.get(key, 0) + 1
            if seen[key] == 1:
                lines.append(f"  DENIED {denial}")
        lines += [
            f"  ({count - 1} more like: {caller} {action})"
            for (caller, action, _, _), count in seen.items()
            if count > 1
        ]
        owner = None
        for grant in self.grants:
            if not verbose and not grant.unused:
                continue
            if grant.owner != owner:
                owner = grant.owner
                lines.append(f"  {owner}")
            status = (
                f"used {grant.uses}x"
                if grant.uses
                else (f"unused, acknowledged: {grant.acknowledged}" if grant.acknowledged else "UNUSED")
            )
            lines.append(f"    {grant.action} on {grant.resource}  [{status}]  ({grant.source})")
        lines.append(self.summary())
        return lines
