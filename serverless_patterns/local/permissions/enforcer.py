"""The authorizer: who makes each AWS call, what it needs, and whether the deployed policies allow it.

Who calls (``caller_for``), in this order:

1. the invocation running on this thread: a function's environment holds credentials issued
   for its execution role (``credentials_for``), as the Lambda sandbox's do, so every client
   a handler creates (boto3 clients and resources, Powertools' own, threads it starts) signs
   as that role;
2. the local cloud acting for a role or a service (``acting_as``): an event source mapping
   polling with the function's role, Lambda sending a destination record with it;
3. the client's own credentials, when issued for a role: Step Functions tasks call with
   their state machine's role;
4. anyone else (the test, the operator) is the account's administrator: not checked.

Each call is turned into the IAM actions and resources it needs (``catalog``), plus the
KMS actions on the customer managed key of the queue, topic, bucket, table or secret it
touches (``KEY_USE``), and evaluated as AWS does for one account: an explicit ``Deny`` in any
applicable policy wins; otherwise an ``Allow`` in the role's identity policies or in the
resource's policy (naming the principal itself, not only its account) suffices; a KMS key
is used only when its key policy allows the principal, directly or by enabling IAM policies
(the account root) together with an identity policy that allows it. A denied call raises
the service's own error (``AccessDeniedException``, ``AccessDenied``, SNS's
``AuthorizationError``, ``KMS.AccessDeniedException`` for a queue's key...) with AWS's message,
and is recorded as a ``Denial`` naming the caller, role, action and resource. Every allow is
recorded against the statements that granted it, for the least-privilege report.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from botocore.client import BaseClient

from serverless_patterns.local.permissions import catalog
from serverless_patterns.local.permissions.policy import Principal, Statement, evaluate
from serverless_patterns.local.permissions.store import PolicyStore

# The KMS actions a call makes on the customer managed key of the resource it touches.
_DYNAMODB_DATA = ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem")
KEY_USE: dict[str, tuple[str, ...]] = {
    "sqs:SendMessage": ("kms:GenerateDataKey", "kms:Decrypt"),
    "sqs:ReceiveMessage": ("kms:Decrypt",),
    "sns:Publish": ("kms:GenerateDataKey", "kms:Decrypt"),
    "s3:PutObject": ("kms:GenerateDataKey",),
    "s3:GetObject": ("kms:Decrypt",),
    "s3:GetObjectVersion": ("kms:Decrypt",),
    "secretsmanager:GetSecretValue": ("kms:Decrypt",),
    "secretsmanager:PutSecretValue": ("kms:GenerateDataKey",),
    **{f"dynamodb:{action}": ("kms:Decrypt",) for action in (*_DYNAMODB_DATA, "ConditionCheckItem")},
}
_POLICY_SETTERS = frozenset({"PutBucketPolicy", "SetQueueAttributes", "SetTopicAttributes"})
_READS_OBJECT = frozenset({"s3:GetObject", "s3:GetObjectVersion"})
# The error each service answers a denied call with: (code, HTTP status).
DENIED = {
    "s3": ("AccessDenied", 403),
    "sqs": ("AccessDenied", 403),
    "sns": ("AuthorizationError", 403),
    "cloudwatch": ("AccessDenied", 403),
    "sts": ("AccessDenied", 403),
    "lambda": ("AccessDeniedException", 403),
}
KEY_DENIED = {"sqs": ("KMS.AccessDeniedException", 400), "sns": ("KMSAccessDenied", 400)}
DEFAULT_DENIED = ("AccessDeniedException", 400)
ACCESS_DENIED_CODES = frozenset(code for code, _ in (*DENIED.values(), *KEY_DENIED.values(), DEFAULT_DENIED))


@dataclass(frozen=True)
class Caller:
    """Who makes a request: a role (with what runs as it) or a service principal."""

    principal: Principal
    label: str  # "function X", "state machine Y", "s3.amazonaws.com"
    source_arn: str | None = None  # a service's aws:SourceArn
    source_account: str | None = None

    @property
    def role_arn(self) -> str | None:
        return self.principal.identifier if self.principal.kind == "AWS" else None


@dataclass(frozen=True)
class Denial:
    """A request the policies did not allow."""

    caller: str
    principal: str  # the role ARN or the service principal
    action: str
    resource: str
    reason: str
    operation: str
    at: float

    def __str__(self) -> str:
        return (
            f"{self.caller} ({self.principal}) may not {self.action} on {self.resource} "
            f"[{self.operation}]: {self.reason}"
        )


class AccessDeniedError(Exception):
    """Raised by ``require`` (service-to-service checks)."""

    def __init__(self, denial: Denial) -> None:
        super().__init__(str(denial))
        self.denial = denial


@dataclass(frozen=True)
class Use:
    """One allowed request, against one statement that granted it."""

    statement: Statement
    action: str
    resource: str


@dataclass
class Enforcer:
    """Evaluates requests against a deployment's policies; records denials and the grants used."""

    store: PolicyStore
    enabled: bool = True
    denials: list[Denial] = field(default_factory=list)
    uses: dict[tuple[str, str, str], Use] = field(default_factory=dict)  # (statement, action, resource)
    resolver: catalog.Resolver = field(default_factory=catalog.Resolver)
    _keys: dict[str, Caller] = field(default_factory=dict)
    _local: threading.local = field(default_factory=threading.local)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- identities -------------------------------------------------------------------------

    def role_caller(self, role_arn: str, session: str, label: str) -> Caller:
        """A session of ``role_arn`` (``label`` says what runs as it)."""
        name = role_arn.rsplit("/", 1)[-1]
        session_arn = f"arn:aws:sts::{self.store.account}:assumed-role/{name}/{session}"
        return Caller(Principal("AWS", role_arn, self.store.account, session_arn), label)

    def function_caller(self, function_name: str) -> Caller | None:
        """The execution role's session of a function (None: a function this deployment did not make)."""
        role = self.store.function_roles.get(function_name)
        return self.role_caller(role, function_name, f"function {function_name}") if role else None

    def service_caller(
        self, service: str, *, source_arn: str | None = None, source_account: str | None = None
    ) -> Caller:
        """A service principal acting for a resource (``source_arn``) of the account."""
        principal = Principal("Service", service, self.store.account)
        return Caller(principal, service, source_arn, source_account or self.store.account)

    def credentials(self, caller: Caller) -> dict[str, str]:
        """Temporary credentials of ``caller``'s role, recognised on every request signed with them."""
        digest = hashlib.sha256(f"{caller.principal.session_arn}|{caller.label}".encode()).hexdigest().upper()
        key = f"ASIA{digest[:16]}"
        with self._lock:
            self._keys[key] = caller
        return {"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": digest[16:56], "AWS_SESSION_TOKEN": digest}

    def credentials_for(self, function_name: str) -> dict[str, str] | None:
        """What a function's sandbox gets as its role's credentials (None: not a function of the deployment)."""
        caller = self.function_caller(function_name)
        return self.credentials(caller) if caller else None

    @contextlib.contextmanager
    def acting_as(self, caller: Caller | None) -> Iterator[None]:
        """Requests this thread makes meanwhile (outside handler code) are ``caller``'s."""
        stack: list[Caller | None] = self._local.__dict__.setdefault("acting", [])
        stack.append(caller)
        try:
            yield
        finally:
            stack.pop()

    def caller_for(self, client: Any) -> Caller | None:
        """Who signs a request made now on this thread with ``client`` (None: the administrator)."""
        import os

        invocation = self._keys.get(os.environ.get("AWS_ACCESS_KEY_ID", ""))
        if invocation is not None:
            return invocation
        acting: list[Caller | None] = self._local.__dict__.get("acting", [])
        if acting:
            return acting[-1]
        signer = getattr(client, "_request_signer", None)
        credentials = getattr(signer, "_credentials", None)
        return self._keys.get(str(getattr(credentials, "access_key", "") or "")) if credentials else None

    # -- decisions ----------------------------------------------------------------------------

    def _context(self, caller: Caller, via: str | None, request: Mapping[str, str] | None = None) -> dict[str, str]:
        now = time.time()
        context = {
            "aws:securetransport": "true",
            "aws:requestedregion": self.store.region,
            "aws:currenttime": datetime.datetime.fromtimestamp(now, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "aws:epochtime": str(int(now)),
        }
        if caller.principal.kind == "AWS":
            context |= {
                "aws:principalarn": caller.principal.identifier,
                "aws:principalaccount": caller.principal.account,
                "aws:principaltype": "AssumedRole",
            }
        else:
            context["aws:principalservicename"] = caller.principal.identifier
            context["aws:sourceowner"] = caller.source_account or self.store.account
            if caller.source_arn:
                context["aws:sourcearn"] = caller.source_arn
            if caller.source_account:
                context["aws:sourceaccount"] = caller.source_account
        if via:
            context["kms:viaservice"] = f"{via}.{self.store.region}.amazonaws.com"
            context["kms:calleraccount"] = self.store.account
        return context | dict(request or {})

    def decide(
        self,
        caller: Caller,
        action: str,
        resource: str,
        *,
        via: str | None = None,
        for_owner: bool = False,
        request: Mapping[str, str] | None = None,
    ) -> tuple[bool, str, list[Statement]]:
        """``(allowed, why not, the statements that allowed it)`` for one action on one resource.

        ``for_owner``: a service acting for the resource owner's account (CloudWatch publishing an
        alarm to a topic of its account) needs no allow, only no explicit deny. ``request``: the
        condition keys the request itself carries (``s3:prefix`` of a listing), lower case.
        """
        role = self.store.roles.get(caller.role_arn or "")
        identity = role.statements if role else []
        if caller.role_arn and role is None:
            return False, f"the role {caller.role_arn} is not deployed", []
        context = self._context(caller, via, request)
        principal = caller.principal
        mine = evaluate(identity, principal, action, resource, context)
        key_policy = self.store.key_policies.get(resource) if action.startswith("kms:") else None
        other = key_policy if key_policy is not None else self.store.resource_policy(resource)
        theirs = evaluate(other, principal, action, resource, context)
        kind = "key" if key_policy is not None else "resource-based"
        for denied, where in ((mine.denied_by, "an identity-based"), (theirs.denied_by, f"a {kind}")):
            if denied is not None:
                return False, f"with an explicit deny in {where} policy ({denied.source})", []
        if key_policy is not None:
            if theirs.allowed_by:
                return True, "", list(theirs.allowed_by)
            if theirs.delegated_by and mine.allowed_by:
                return True, "", [*theirs.delegated_by, *mine.allowed_by]
            if not theirs.delegated_by:
                return False, "because the key policy neither allows it nor enables IAM policies", []
            return False, f"because no identity-based policy allows the {action} action", []
        if mine.allowed_by or theirs.allowed_by or for_owner:
            return True, "", [*mine.allowed_by, *theirs.allowed_by]
        policy = "identity-based" if principal.kind == "AWS" else "resource-based"
        return False, f"because no {policy} policy allows the {action} action", []

    def authorize(
        self,
        caller: Caller,
        action: str,
        resource: str,
        *,
        operation: str,
        via: str | None = None,
        for_owner: bool = False,
        request: Mapping[str, str] | None = None,
        record: bool = True,
    ) -> Denial | None:
        """Decide, record the use or the denial; return the denial, if any.

        ``record=False``: a refusal the caller is meant to handle (S3's 403 for a missing key to a
        caller that may list only some prefixes) is returned but not reported as a denial.
        """
        if action in catalog.UNAUTHORIZED:
            return None
        allowed, reason, statements = self.decide(
            caller, action, resource, via=via, for_owner=for_owner, request=request
        )
        with self._lock:
            if allowed:
                for statement in statements:
                    self.uses.setdefault((statement.source, action, resource), Use(statement, action, resource))
                return None
            denial = Denial(caller.label, caller.principal.identifier, action, resource, reason, operation, time.time())
            if record:
                self.denials.append(denial)
            return denial

    def require(self, caller: Caller, action: str, resource: str, *, operation: str, via: str | None = None) -> None:
        """``authorize``, raising ``AccessDeniedError`` when denied."""
        denial = self.authorize(caller, action, resource, operation=operation, via=via)
        if denial is not None:
            raise AccessDeniedError(denial)

    def check_request(
        self, caller: Caller, prefix: str, operation: str, params: Mapping[str, Any], region: str
    ) -> tuple[Denial, bool] | None:
        """Every need of one API call; the first denial and whether it was the key's."""
        for need in catalog.needs(
            prefix, operation, params, region=region, account=self.store.account, resolve=self.resolver
        ):
            if not self.resolver.exists(need.resource):
                continue
            denial = self.authorize(
                caller,
                need.action,
                need.resource,
                operation=f"{prefix}:{operation}",
                request=catalog.request_condition_keys(prefix, operation, params),
            )
            if denial is not None:
                return denial, False
            if need.action in _READS_OBJECT and self.resolver.missing_object(need.resource):
                # S3 answers NoSuchKey only to a caller that may list the bucket; anyone else gets 403.
                # Not a denial to report: a grant scoped to prefixes (s3:prefix) is least privilege, and
                # the caller tells the 403 from a real denial by listing the key (shared.s3_objects).
                bucket = need.resource.split("/", 1)[0]
                denial = self.authorize(
                    caller, "s3:ListBucket", bucket, operation=f"{prefix}:{operation} (missing key)", record=False
                )
                if denial is not None:
                    return denial, False
            key = self.store.key_of(need.resource)
            for key_action in KEY_USE.get(need.action, ()) if key else ():
                denial = self.authorize(caller, key_action, str(key), operation=f"{prefix}:{operation}", via=prefix)
                if denial is not None:
                    return denial, True
        return None

    def key_needs(self, resource: str, action: str) -> Sequence[tuple[str, str]]:
        """The KMS (action, key) pairs ``action`` on ``resource`` also needs."""
        key = self.store.key_of(resource)
        return [(a, key) for a in KEY_USE.get(action, ())] if key else []

    # -- interception -------------------------------------------------------------------------

    def install(self, stack: ExitStack) -> None:
        """Check every botocore call of the process for as long as ``stack`` is open."""
        enforcer = self
        original = BaseClient._make_api_call  # type: ignore[attr-defined]

        def make_api_call(client: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
            caller = enforcer.caller_for(client) if enforcer.enabled else None
            model = client.meta.service_model
            prefix = catalog.iam_prefix(model.signing_name or model.endpoint_prefix)
            if caller is not None:
                found = enforcer.check_request(caller, prefix, operation_name, api_params, client.meta.region_name)
                if found is not None:
                    denial, by_key = found
                    raise _client_error(client, operation_name, prefix, denial, by_key)
            response = original(client, operation_name, api_params)
            if operation_name in _POLICY_SETTERS:
                enforcer.store.observe(prefix, operation_name, api_params)
            return response

        stack.enter_context(mock.patch.object(BaseClient, "_make_api_call", make_api_call))


def denied_message(denial: Denial, session_arn: str | None = None) -> str:
    """AWS's wording: ``User: <arn> is not authorized to perform: <action> on resource: <arn> <reason>``."""
    return (
        f"User: {session_arn or denial.principal} is not authorized to perform: {denial.action} "
        f"on resource: {denial.resource} {denial.reason}"
    )


def _client_error(client: BaseClient, operation: str, prefix: str, denial: Denial, by_key: bool) -> Exception:
    code, status = (KEY_DENIED.get(prefix) if by_key else None) or DENIED.get(prefix, DEFAULT_DENIED)
    response = {
        "Error": {"Code": code, "Message": denied_message(denial)},
        "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "local-cloud-access-denied"},
    }
    error_class: Any = client.exceptions.from_code(code)
    error: Exception = error_class(response, operation)
    return error
