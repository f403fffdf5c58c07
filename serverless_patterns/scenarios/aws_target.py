"""AwsTarget: the scenarios' ``Target`` over a stage deployed in a real AWS account.

``pytest -m aws`` (``tests/aws``) runs every scenario of this package against a deployed
stage through this class: the same scenarios ``make local`` runs on the local cloud, so the
two never drift. Nothing here runs in ``make test`` against AWS; its unit tests use moto and
a local HTTP server.

How the Target maps onto the account:

``outputs``
    The service stack's outputs (CloudFormation ``DescribeStacks``), read once.
``resource(path)``, ``find``, ``has_construct``
    The stage synthesized locally and offline (``SynthesizedStack``: the cloud assembly names
    every logical id's construct path, from the template's ``aws:cdk:path`` metadata or the
    assembly's ``aws:cdk:logicalId`` entries), joined with the deployed stack's physical ids
    (``ListStackResources``: ``DescribeStackResources`` stops at 100 resources). Paths match
    as on the local cloud (``target.path_matches``). A resource synthesized but not deployed
    means the stage is older than the checkout: ``missing_resources`` lists them.
``api_request``
    HTTPS to the ``ApiUrl`` output, authenticated as the API's methods require
    (``default_authorization``): SigV4 for ``AWS_IAM`` (service ``execute-api``, the session's
    credentials), an ID token in ``Authorization`` for ``COGNITO_USER_POOLS`` (``IdToken``: from
    the caller, or from a throw-away ``CognitoTestUser`` signed in with SRP and TOTP MFA as the
    app's client is), nothing for an open API (Dev). A request that brings its own
    ``Authorization`` header is sent as it is (to check that a bad token is refused).
``invoke``, ``put_object``, ``client``
    The Lambda and S3 APIs, or any client, from the session (its account and region).
``run_execution``
    ``StartExecution`` then ``DescribeExecution`` polled to the end (``StartSyncExecution`` for
    an EXPRESS state machine); ``TimeoutError`` after ``timeout_seconds``.
``settle``
    Polls ``until`` (a ``ClientError`` raised by it counts as "not yet": the result object is
    not written yet) or, without it, until every queue a Lambda event source mapping consumes is
    empty and no execution of the stack's standard state machines runs, twice in a row (SQS
    counts are approximate). Async invocations in flight cannot be seen: pass ``until``.

Usage::

    stack = SynthesizedStack.from_stage(stage)          # or .from_assembly(Path("cdk.out/assembly-Dev"))
    session = boto3.Session(profile_name="dev", region_name="eu-west-1")
    target = AwsTarget(stack, session=session)
    target.ensure_deployed()                            # StageNotDeployedError when it is not (usable)
    target.api_request("POST", "/items", body={"name": "x"})
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
import struct
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

import boto3
import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import BotoCoreError, ClientError

from serverless_patterns.scenarios.target import (
    ExecutionResult,
    HttpResponse,
    InvokeResult,
    path_is_under,
    path_matches,
)

if TYPE_CHECKING:
    from aws_cdk import Stage

USER_AGENT = "serverless-patterns-e2e/1"
# Stack states in which the stage's resources are all there and stable.
USABLE_STACK_STATUSES = frozenset(
    {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE", "IMPORT_ROLLBACK_COMPLETE"}
)
# What tests/conftest.py, moto and LocalStack put in the environment: never an account's credentials.
FAKE_ACCESS_KEY_IDS = frozenset({"testing", "test", "FOOBARKEY"})
_ENDED = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})


class StageNotDeployedError(LookupError):
    """The stage's service stack is not in the account and region, or not in a usable state."""


# -- what was synthesized ---------------------------------------------------------------------


@dataclass(frozen=True)
class SynthesizedStack:
    """One stack of a locally synthesized cloud assembly: what the stage deploys, and where in the construct tree.

    ``construct_paths`` maps each logical id to its construct path (``/Dev/Service/Api/...``):
    the join key between a scenario's ``resource("Api/Handler/LiveAlias")`` and the deployed
    stack's physical ids.
    """

    stack_name: str
    template: dict[str, Any]
    construct_paths: dict[str, str]

    @classmethod
    def from_assembly(cls, directory: Path, stack_name: str | None = None) -> SynthesizedStack:
        """Read the stack (``stack_name`` or display name; the only one when not given) of an assembly directory."""
        manifest: dict[str, Any] = json.loads((directory / "manifest.json").read_text())
        stacks = [
            (artifact_id, artifact)
            for artifact_id, artifact in manifest.get("artifacts", {}).items()
            if artifact.get("type") == "aws:cloudformation:stack"
            and stack_name
            in (None, artifact.get("properties", {}).get("stackName", artifact_id), artifact.get("displayName"))
        ]
        if len(stacks) != 1:
            names = [artifact_id for artifact_id, _ in stacks]
            raise LookupError(f"{directory}: expected one stack named {stack_name!r}, found {names or 'none'}")
        artifact_id, artifact = stacks[0]
        properties = artifact.get("properties", {})
        template: dict[str, Any] = json.loads((directory / properties["templateFile"]).read_text())
        paths: dict[str, str] = {}
        for logical_id, resource in template.get("Resources", {}).items():
            cdk_path = (resource.get("Metadata") or {}).get("aws:cdk:path")
            if isinstance(cdk_path, str):
                paths[logical_id] = "/" + cdk_path.strip("/")
        entries: dict[str, Any] = dict(artifact.get("metadata") or {})
        metadata_file = artifact.get("additionalMetadataFile")
        if metadata_file and (directory / metadata_file).is_file():
            entries.update(json.loads((directory / metadata_file).read_text()))
        for path, items in entries.items():
            for item in items:
                if item.get("type") == "aws:cdk:logicalId" and isinstance(item.get("data"), str):
                    paths.setdefault(item["data"], "/" + path.strip("/"))
        return cls(str(properties.get("stackName", artifact_id)), template, paths)

    @classmethod
    def from_stage(cls, stage: Stage, stack_name: str | None = None) -> SynthesizedStack:
        """Synthesize ``stage`` (offline; the CDK app's own compliance gates run) and read its stack."""
        return cls.from_assembly(Path(stage.synth().directory), stack_name)

    @property
    def resources(self) -> dict[str, Any]:
        """The template's resources by logical id."""
        resources: dict[str, Any] = self.template.get("Resources", {})
        return resources


def api_authorization_types(template: Mapping[str, Any]) -> set[str]:
    """The ``AuthorizationType`` of the REST API methods that carry traffic (CORS preflights excluded)."""
    return {
        str(resource.get("Properties", {}).get("AuthorizationType", "NONE"))
        for resource in template.get("Resources", {}).values()
        if resource.get("Type") == "AWS::ApiGateway::Method"
        and str(resource.get("Properties", {}).get("HttpMethod", "")).upper() != "OPTIONS"
    }


# -- what a scenario gets back ----------------------------------------------------------------


@dataclass(frozen=True)
class StackResource:
    """A deployed resource: physical id and status from CloudFormation, the rest from the synthesized template.

    ``properties`` are as synthesized: intrinsic functions (Ref, Fn::GetAtt) are not resolved.
    """

    stack_name: str
    logical_id: str
    resource_type: str
    path: str
    physical_id: str
    status: str
    properties: dict[str, Any] = field(default_factory=dict)


Transport = Callable[[AWSRequest, bytes | None, float], HttpResponse]
"""Sends an authorized request (its body as bytes, a timeout in seconds) and returns the response."""


# -- waiting on a real stage ------------------------------------------------------------------


@dataclass(frozen=True)
class Polling:
    """How a real stage is waited on: a first interval growing by ``backoff`` up to a cap.

    ``sleep`` and ``clock`` are injectable so that tests wait in virtual time.
    """

    interval_seconds: float = 1.0
    max_interval_seconds: float = 10.0
    backoff: float = 1.5
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def until(self, condition: Callable[[], bool], timeout_seconds: float) -> bool:
        """True as soon as ``condition()`` holds; False when it still does not at the deadline."""
        deadline = self.clock() + timeout_seconds
        interval = self.interval_seconds
        while True:
            if condition():
                return True
            remaining = deadline - self.clock()
            if remaining <= 0:
                return False
            self.sleep(min(interval, remaining))
            interval = min(interval * self.backoff, self.max_interval_seconds)


# -- API authorization ------------------------------------------------------------------------


class ApiAuthorization(Protocol):
    """Adds what the API's authorizer expects to a request (called last, just before sending)."""

    def apply(self, request: AWSRequest) -> None:
        """Authorize ``request`` in place."""
        ...


@dataclass(frozen=True)
class Unauthenticated:
    """An open API (Dev's ``ApiAuth.NONE``): nothing to add."""

    def apply(self, request: AWSRequest) -> None:
        """Leave the request as it is."""


@dataclass(frozen=True)
class SigV4:
    """IAM auth: Signature Version 4 over method, URL, signed headers and body, for ``execute-api``.

    Credentials are read at every request, so refreshed (assumed-role, SSO) credentials are used.
    """

    session: boto3.Session
    region: str
    service: str = "execute-api"

    def apply(self, request: AWSRequest) -> None:
        """Add ``Authorization``, ``X-Amz-Date`` and, for temporary credentials, ``X-Amz-Security-Token``."""
        credentials = self.session.get_credentials()
        if credentials is None:
            raise RuntimeError("no AWS credentials to sign the API request with")
        SigV4Auth(credentials.get_frozen_credentials(), self.service, self.region).add_auth(request)


@dataclass(frozen=True)
class IdToken:
    """Cognito user pool auth: the user's ID token in ``Authorization`` (no ``Bearer`` prefix for REST APIs)."""

    token: str

    def apply(self, request: AWSRequest) -> None:
        """Set the ``Authorization`` header to the token."""
        del request.headers["Authorization"]
        request.headers["Authorization"] = self.token


@dataclass(frozen=True)
class TokenRequired:
    """A Cognito-protected API for which no token was given: say how to get one instead of sending a 401."""

    def apply(self, request: AWSRequest) -> None:
        """Refuse to send the request."""
        raise RuntimeError(
            "the API authorizes with a Cognito user pool: give AwsTarget authorization=IdToken(token) "
            "(the aws suite takes SP_E2E_ID_TOKEN, or signs in a temporary CognitoTestUser)"
        )


def default_authorization(template: Mapping[str, Any], session: boto3.Session) -> ApiAuthorization:
    """What the synthesized API's methods require: SigV4 for IAM, a token for Cognito, nothing for an open API."""
    types = api_authorization_types(template)
    if "AWS_IAM" in types:
        return SigV4(session, _region(session))
    if "COGNITO_USER_POOLS" in types:
        return TokenRequired()
    return Unauthenticated()


# -- Cognito sign-in (SRP, TOTP MFA) ----------------------------------------------------------

# RFC 5054's 3072-bit group, the one Cognito's SRP uses (generator 2).
SRP_N = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C"
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
    16,
)
SRP_G = 2
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def srp_pad_hex(value: int | str) -> str:
    """Hex of ``value`` as SRP hashes it: even length, and a leading 00 when the top bit is set (never negative)."""
    digits = value if isinstance(value, str) else f"{value:x}"
    if len(digits) % 2:
        return "0" + digits
    return "00" + digits if digits[0] in "89abcdefABCDEF" else digits


def srp_hex_hash(hex_string: str) -> str:
    """SHA-256 of the bytes a hex string spells, as 64 hex digits."""
    return hashlib.sha256(bytes.fromhex(hex_string)).hexdigest()


SRP_MULTIPLIER = int(srp_hex_hash(srp_pad_hex(SRP_N) + srp_pad_hex(SRP_G)), 16)


def cognito_timestamp(moment: dt.datetime) -> str:
    """``Tue Jan 7 09:05:03 UTC 2025``: the format Cognito signs (day not zero-padded, English names)."""
    utc = moment.astimezone(dt.UTC)
    return (
        f"{_WEEKDAYS[utc.weekday()]} {_MONTHS[utc.month - 1]} {utc.day} "
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d} UTC {utc.year}"
    )


class SrpClient:
    """The client side of Cognito's SRP-6a (``USER_SRP_AUTH``): the password never leaves the process."""

    def __init__(self, user_pool_id: str, *, private_value: int | None = None) -> None:
        self.pool_name = user_pool_id.split("_", 1)[1]
        self._private = private_value if private_value is not None else secrets.randbits(1024) % SRP_N
        self.public_value = pow(SRP_G, self._private, SRP_N)
        if self.public_value % SRP_N == 0:
            raise ValueError("SRP public value A must not be 0 mod N")

    @property
    def public_hex(self) -> str:
        """``SRP_A`` for InitiateAuth."""
        return f"{self.public_value:x}"

    def password_signature(
        self,
        *,
        user_id: str,
        password: str,
        salt_hex: str,
        server_public_hex: str,
        secret_block: str,
        timestamp: str,
    ) -> str:
        """``PASSWORD_CLAIM_SIGNATURE``: HMAC of pool, user, secret block and time under the session key."""
        server_public = int(server_public_hex, 16)
        if server_public % SRP_N == 0:
            raise ValueError("SRP_B from Cognito is 0 mod N")
        scrambler = int(srp_hex_hash(srp_pad_hex(self.public_value) + srp_pad_hex(server_public)), 16)
        if scrambler == 0:
            raise ValueError("SRP scrambling parameter u is 0")
        identity = hashlib.sha256(f"{self.pool_name}{user_id}:{password}".encode()).hexdigest()
        exponent = int(srp_hex_hash(srp_pad_hex(salt_hex) + identity), 16)
        base = server_public - SRP_MULTIPLIER * pow(SRP_G, exponent, SRP_N)
        shared = pow(base, self._private + scrambler * exponent, SRP_N)
        key = srp_session_key(shared, scrambler)
        message = self.pool_name.encode() + user_id.encode() + base64.b64decode(secret_block) + timestamp.encode()
        return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def srp_session_key(shared_secret: int, scrambler: int) -> bytes:
    """HKDF-SHA256 of the shared secret S, salted with u, info ``Caldera Derived Key``: 16 bytes."""
    pseudo_random = hmac.new(
        bytes.fromhex(srp_pad_hex(scrambler)), bytes.fromhex(srp_pad_hex(shared_secret)), hashlib.sha256
    ).digest()
    return hmac.new(pseudo_random, b"Caldera Derived Key\x01", hashlib.sha256).digest()[:16]


def totp(secret: str, at: float, *, digits: int = 6, step_seconds: int = 30) -> str:
    """RFC 6238 time-based one-time password (HMAC-SHA1) for a base32 secret, as authenticator apps compute it."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(at // step_seconds)), "sha1").digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return f"{code:0{digits}d}"


class CognitoTestUser:
    """A throw-away user of a user pool, signed in as the app's client signs in; deleted on exit.

    The pool's app client allows SRP only and the pool requires TOTP MFA, so the sign-in is
    ``USER_SRP_AUTH`` -> ``PASSWORD_VERIFIER`` -> ``MFA_SETUP`` (a software token is associated
    and verified with a TOTP code computed here) -> tokens. Needs ``cognito-idp:AdminCreateUser``,
    ``AdminSetUserPassword`` and ``AdminDeleteUser`` on the pool. No e-mail is sent
    (``MessageAction=SUPPRESS``); the address is on example.com.

    ::

        with CognitoTestUser(session.client("cognito-idp"), user_pool_id=..., client_id=...) as user:
            target = AwsTarget(stack, session=session, authorization=IdToken(user.id_token))
    """

    def __init__(
        self,
        client: Any,
        *,
        user_pool_id: str,
        client_id: str,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.user_pool_id = user_pool_id
        self.client_id = client_id
        self._now = now
        self.email = f"e2e-{uuid.uuid4().hex[:12]}@example.com"
        # Meets the pool's policy (12+ characters, upper, lower, digit, symbol) whatever the random part holds.
        self._password = f"{secrets.token_urlsafe(24)}Aa1!"
        self._mfa_secret: str | None = None
        self.created = False
        self.tokens: dict[str, Any] = {}

    def __enter__(self) -> CognitoTestUser:
        self.create()
        try:
            self.sign_in()
        except BaseException:
            self.delete()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.delete()

    @property
    def id_token(self) -> str:
        """The ID token the API's Cognito authorizer validates."""
        token = self.tokens.get("IdToken")
        if not isinstance(token, str):
            raise RuntimeError("the test user has not signed in")
        return token

    def create(self) -> None:
        """Create the user, confirmed, with a verified address and a permanent password."""
        self.client.admin_create_user(
            UserPoolId=self.user_pool_id,
            Username=self.email,
            UserAttributes=[{"Name": "email", "Value": self.email}, {"Name": "email_verified", "Value": "true"}],
            MessageAction="SUPPRESS",
        )
        self.created = True
        self.client.admin_set_user_password(
            UserPoolId=self.user_pool_id, Username=self.email, Password=self._password, Permanent=True
        )

    def sign_in(self) -> dict[str, Any]:
        """Sign in with SRP, setting up (first time) or answering TOTP MFA; return the tokens."""
        srp = SrpClient(self.user_pool_id)
        response = self.client.initiate_auth(
            ClientId=self.client_id,
            AuthFlow="USER_SRP_AUTH",
            AuthParameters={"USERNAME": self.email, "SRP_A": srp.public_hex},
        )
        username = self.email
        for _ in range(5):
            if "AuthenticationResult" in response:
                self.tokens = dict(response["AuthenticationResult"])
                return self.tokens
            challenge = str(response.get("ChallengeName"))
            parameters = response.get("ChallengeParameters") or {}
            username = str(parameters.get("USERNAME", username))
            session = response.get("Session")
            if challenge == "PASSWORD_VERIFIER":
                user_id = str(parameters["USER_ID_FOR_SRP"])
                timestamp = cognito_timestamp(dt.datetime.fromtimestamp(self._now(), dt.UTC))
                signature = srp.password_signature(
                    user_id=user_id,
                    password=self._password,
                    salt_hex=str(parameters["SALT"]),
                    server_public_hex=str(parameters["SRP_B"]),
                    secret_block=str(parameters["SECRET_BLOCK"]),
                    timestamp=timestamp,
                )
                response = self._respond(
                    challenge,
                    session,
                    {
                        "USERNAME": username,
                        "TIMESTAMP": timestamp,
                        "PASSWORD_CLAIM_SECRET_BLOCK": str(parameters["SECRET_BLOCK"]),
                        "PASSWORD_CLAIM_SIGNATURE": signature,
                    },
                )
            elif challenge == "MFA_SETUP":
                associated = self.client.associate_software_token(Session=session)
                self._mfa_secret = str(associated["SecretCode"])
                verified = self.client.verify_software_token(
                    Session=associated.get("Session", session),
                    UserCode=totp(self._mfa_secret, self._now()),
                    FriendlyDeviceName="serverless-patterns-e2e",
                )
                response = self._respond(challenge, verified.get("Session"), {"USERNAME": username})
            elif challenge == "SOFTWARE_TOKEN_MFA" and self._mfa_secret is not None:
                code = totp(self._mfa_secret, self._now())
                response = self._respond(challenge, session, {"USERNAME": username, "SOFTWARE_TOKEN_MFA_CODE": code})
            else:
                raise RuntimeError(f"Cognito asked for {challenge}, which a test user cannot answer")
        raise RuntimeError("Cognito sign-in did not finish within 5 challenges")

    def _respond(self, challenge: str, session: Any, responses: dict[str, str]) -> Any:
        kwargs: dict[str, Any] = {
            "ClientId": self.client_id,
            "ChallengeName": challenge,
            "ChallengeResponses": responses,
        }
        if session:
            kwargs["Session"] = session
        return self.client.respond_to_auth_challenge(**kwargs)

    def delete(self) -> None:
        """Delete the user (idempotent)."""
        if self.created:
            self.client.admin_delete_user(UserPoolId=self.user_pool_id, Username=self.email)
            self.created = False


# -- credentials ------------------------------------------------------------------------------


def caller_session(
    environment: Mapping[str, str], *, profile: str | None = None, region: str | None = None
) -> boto3.Session:
    """A session with the caller's credentials as ``environment`` (their shell's) describes them.

    Test processes replace ``AWS_*`` in ``os.environ`` with fakes, so the caller's are passed in:
    an explicit ``profile`` wins, then access keys from ``environment``, then its ``AWS_PROFILE``,
    then the default chain without environment variables (shared files, SSO, web identity,
    container, instance metadata). Region: ``region``, the environment's, then the profile's.
    """
    region = region or environment.get("AWS_REGION") or environment.get("AWS_DEFAULT_REGION")
    access_key = environment.get("AWS_ACCESS_KEY_ID")
    secret_key = environment.get("AWS_SECRET_ACCESS_KEY")
    if profile is None and access_key and secret_key:
        return boto3.Session(
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            aws_session_token=environment.get("AWS_SESSION_TOKEN"),
            region_name=region,
        )
    profile = profile or environment.get("AWS_PROFILE")
    core = botocore.session.Session(profile=profile)
    if profile is None:
        core.get_component("credential_provider").remove("env")
    region = region or core.get_scoped_config().get("region")
    return boto3.Session(botocore_session=core, region_name=region)


def has_account_credentials(session: boto3.Session) -> bool:
    """True when the session resolves credentials that are not the test suite's or moto's fakes."""
    try:
        credentials = session.get_credentials()
    except BotoCoreError:
        return False
    return credentials is not None and credentials.get_frozen_credentials().access_key not in FAKE_ACCESS_KEY_IDS


def _region(session: boto3.Session) -> str:
    if not session.region_name:
        raise ValueError("the session has no region: give region_name (or AWS_REGION / the profile's region)")
    return session.region_name


# -- the target -------------------------------------------------------------------------------


class AwsTarget:
    """A deployed stage, driven as scenarios drive the local cloud (see the module docstring)."""

    def __init__(
        self,
        stack: SynthesizedStack,
        *,
        session: boto3.Session,
        authorization: ApiAuthorization | None = None,
        polling: Polling | None = None,
        http_timeout_seconds: float = 30.0,
        transport: Transport | None = None,
    ) -> None:
        """
        :param stack: the stage as synthesized from this checkout (names the construct paths).
        :param session: credentials and region of the account the stage is deployed in.
        :param authorization: how API requests are authorized; by default what the synthesized
            API's methods require (``default_authorization``).
        :param polling: intervals and the clock of every wait (executions, ``settle``).
        :param http_timeout_seconds: per API request (API Gateway's own limit is 29 s).
        :param transport: what sends an authorized API request (``send``: HTTPS); another one
            routes requests elsewhere, e.g. to an emulated API.
        """
        self.stack = stack
        self.session = session
        self.region = _region(session)
        self.polling = polling or Polling()
        self.authorization = authorization or default_authorization(stack.template, session)
        self.http_timeout_seconds = http_timeout_seconds
        self.transport = transport or send
        self._clients: dict[str, Any] = {}
        self._description: dict[str, Any] | None = None
        self._resources: list[StackResource] | None = None

    # -- inventory ---------------------------------------------------------------------------

    @property
    def description(self) -> dict[str, Any]:
        """The stack as ``DescribeStacks`` returns it (read once); StageNotDeployedError when absent."""
        if self._description is None:
            try:
                stacks = self.client("cloudformation").describe_stacks(StackName=self.stack.stack_name)["Stacks"]
            except ClientError as error:
                if "does not exist" in str(error.response.get("Error", {}).get("Message", "")):
                    raise StageNotDeployedError(
                        f"stack {self.stack.stack_name} is not deployed in {self.region}"
                    ) from error
                raise
            self._description = dict(stacks[0])
        return self._description

    def ensure_deployed(self) -> None:
        """Raise StageNotDeployedError unless the stack exists in a stable, complete state."""
        status = str(self.description.get("StackStatus"))
        if status not in USABLE_STACK_STATUSES:
            raise StageNotDeployedError(f"stack {self.stack.stack_name} in {self.region} is {status}")

    @property
    def outputs(self) -> dict[str, str]:
        """The service stack's outputs (ApiUrl, UploadBucketName, ...)."""
        return {str(o["OutputKey"]): str(o["OutputValue"]) for o in self.description.get("Outputs", [])}

    @property
    def resources(self) -> list[StackResource]:
        """Every deployed resource of the stack with its construct path (read once)."""
        if self._resources is None:
            synthesized = self.stack.resources
            resources = []
            paginator = self.client("cloudformation").get_paginator("list_stack_resources")
            for page in paginator.paginate(StackName=self.stack.stack_name):
                for summary in page["StackResourceSummaries"]:
                    logical_id = str(summary["LogicalResourceId"])
                    resources.append(
                        StackResource(
                            stack_name=self.stack.stack_name,
                            logical_id=logical_id,
                            resource_type=str(summary["ResourceType"]),
                            path=self.stack.construct_paths.get(logical_id, logical_id),
                            physical_id=str(summary.get("PhysicalResourceId", "")),
                            status=str(summary.get("ResourceStatus", "")),
                            properties=dict(synthesized.get(logical_id, {}).get("Properties") or {}),
                        )
                    )
            self._resources = resources
        return list(self._resources)

    def missing_resources(self) -> list[str]:
        """Construct paths synthesized from this checkout but not deployed (the stage is out of date)."""
        deployed = {r.logical_id for r in self.resources}
        return sorted(
            self.stack.construct_paths.get(logical_id, logical_id)
            for logical_id, resource in self.stack.resources.items()
            if logical_id not in deployed and "Condition" not in resource
        )

    def resource(self, path: str, resource_type: str | None = None) -> StackResource:
        """The resource at construct ``path`` (e.g. ``"Api/Handler/LiveAlias"``) or with that logical id."""
        found = [
            r
            for r in self.resources
            if path_matches(r.path, r.logical_id, path) and resource_type in (None, r.resource_type)
        ]
        if len(found) != 1:
            raise LookupError(
                f"{len(found)} deployed resources of {self.stack.stack_name} match {path!r}"
                + (f" of type {resource_type}" if resource_type else "")
            )
        return found[0]

    def find(self, resource_type: str, *, under: str = "") -> list[StackResource]:
        """Deployed resources of ``resource_type`` whose construct path holds the segment(s) ``under``."""
        return [r for r in self.resources if r.resource_type == resource_type and path_is_under(r.path, under)]

    def has_construct(self, construct_id: str) -> bool:
        """True when a construct with this id (e.g. ``"Api"``) has deployed resources."""
        return any(path_is_under(r.path, construct_id) for r in self.resources)

    def client(self, service: str) -> Any:
        """A boto3 client of the session's account and region (one per service)."""
        if service not in self._clients:
            self._clients[service] = self.session.client(service, region_name=self.region)  # type: ignore[call-overload]
        return self._clients[service]

    # -- API Gateway -------------------------------------------------------------------------

    def api_url(self, path: str, query: Mapping[str, str] | None = None) -> str:
        """The URL of ``path`` on the stage's API (``ApiUrl`` output), with ``query``.

        Everything but unreserved characters and ``/`` is percent-encoded, as SDKs build URLs:
        the form SigV4 canonicalizes without surprises; API Gateway decodes path parameters.
        """
        base = self.outputs["ApiUrl"].rstrip("/")
        url = base + "/" + urllib.parse.quote(path.lstrip("/"), safe="/~")
        if query:
            url += "?" + urllib.parse.urlencode(dict(query), quote_via=urllib.parse.quote)
        return url

    def api_request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> HttpResponse:
        """Call the items API over HTTPS, authorized as ``authorization`` says.

        A dict or list ``body`` is sent as JSON; any body defaults to ``Content-Type:
        application/json`` (a JSON API). Non-2xx answers are returned, not raised.
        """
        outgoing = {"User-Agent": USER_AGENT, **dict(headers or {})}
        data: bytes | None = None
        if body is not None:
            data = (
                body
                if isinstance(body, bytes)
                else body.encode()
                if isinstance(body, str)
                else json.dumps(body).encode()
            )
            if not any(name.lower() == "content-type" for name in outgoing):
                outgoing["Content-Type"] = "application/json"
        request = AWSRequest(method=method.upper(), url=self.api_url(path, query), data=data, headers=outgoing)
        if not any(name.lower() == "authorization" for name in outgoing):
            self.authorization.apply(request)
        return self.transport(request, data, self.http_timeout_seconds)

    # -- Lambda, S3 --------------------------------------------------------------------------

    def invoke(self, function: str, payload: Any = None, *, qualifier: str | None = None) -> InvokeResult:
        """Invoke through the Lambda API (RequestResponse) and decode the JSON result."""
        kwargs: dict[str, Any] = {"FunctionName": function, "Payload": json.dumps(payload).encode()}
        if qualifier:
            kwargs["Qualifier"] = qualifier
        response = self.client("lambda").invoke(**kwargs)
        raw = response["Payload"].read()
        try:
            decoded: Any = json.loads(raw) if raw else None
        except ValueError:
            decoded = raw.decode(errors="replace")
        return InvokeResult(
            status_code=int(response["StatusCode"]),
            payload=decoded,
            function_error=response.get("FunctionError"),
            executed_version=response.get("ExecutedVersion"),
        )

    def put_object(self, bucket: str, key: str, body: bytes | str = b"") -> None:
        """Upload an object; the bucket's notifications fire as they do for any client."""
        self.client("s3").put_object(Bucket=bucket, Key=key, Body=body.encode() if isinstance(body, str) else body)

    # -- Step Functions ----------------------------------------------------------------------

    def start_execution(self, state_machine_arn: str, execution_input: Any = None, *, name: str | None = None) -> str:
        """Start a named execution (``e2e-<uuid>`` unless given); return its ARN."""
        response = self.client("stepfunctions").start_execution(
            stateMachineArn=state_machine_arn,
            name=name or f"e2e-{uuid.uuid4().hex}",
            input=json.dumps(execution_input or {}),
        )
        return str(response["executionArn"])

    def wait_for_execution(self, execution_arn: str, *, timeout_seconds: float = 300.0) -> ExecutionResult:
        """Poll ``DescribeExecution`` until the execution ends; TimeoutError when it is still running."""
        described: dict[str, Any] = {}

        def ended() -> bool:
            described.update(self.client("stepfunctions").describe_execution(executionArn=execution_arn))
            return described.get("status") in _ENDED

        if not self.polling.until(ended, timeout_seconds):
            raise TimeoutError(f"{execution_arn} is still {described.get('status')} after {timeout_seconds} s")
        return _execution_result(execution_arn, described)

    def run_execution(
        self,
        state_machine_arn: str,
        execution_input: Any = None,
        *,
        name: str | None = None,
        timeout_seconds: float = 300.0,
    ) -> ExecutionResult:
        """Start an execution and wait for its result (synchronously for an EXPRESS state machine)."""
        if self._state_machine_type(state_machine_arn) == "EXPRESS":
            response = self.client("stepfunctions").start_sync_execution(
                stateMachineArn=state_machine_arn,
                name=name or f"e2e-{uuid.uuid4().hex}",
                input=json.dumps(execution_input or {}),
            )
            return _execution_result(str(response.get("executionArn", "")), response)
        arn = self.start_execution(state_machine_arn, execution_input, name=name)
        return self.wait_for_execution(arn, timeout_seconds=timeout_seconds)

    def _state_machine_type(self, state_machine_arn: str) -> str:
        for resource in self.find("AWS::StepFunctions::StateMachine"):
            if resource.physical_id == state_machine_arn:
                return str(resource.properties.get("StateMachineType", "STANDARD"))
        described = self.client("stepfunctions").describe_state_machine(stateMachineArn=state_machine_arn)
        return str(described.get("type", "STANDARD"))

    # -- waiting -----------------------------------------------------------------------------

    def consumed_queues(self) -> list[StackResource]:
        """The stack's queues that a Lambda event source mapping reads (DLQs and failure queues are not)."""
        queues = {r.logical_id: r for r in self.find("AWS::SQS::Queue")}
        consumed = []
        for mapping in self.find("AWS::Lambda::EventSourceMapping"):
            source = mapping.properties.get("EventSourceArn")
            if isinstance(source, dict) and isinstance(source.get("Fn::GetAtt"), list):
                queue = queues.get(str(source["Fn::GetAtt"][0]))
                if queue is not None and queue not in consumed:
                    consumed.append(queue)
        return consumed

    def pending_work(self) -> dict[str, int]:
        """What is still to be processed, by construct path: messages on (or in flight from) every
        consumed queue, and running executions of the stack's standard state machines.
        """
        pending: dict[str, int] = {}
        sqs = self.client("sqs")
        for queue in self.consumed_queues():
            attributes = sqs.get_queue_attributes(
                QueueUrl=queue.physical_id,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            pending[queue.path] = int(attributes["ApproximateNumberOfMessages"]) + int(
                attributes["ApproximateNumberOfMessagesNotVisible"]
            )
        stepfunctions = self.client("stepfunctions")
        for machine in self.find("AWS::StepFunctions::StateMachine"):
            if machine.properties.get("StateMachineType", "STANDARD") == "EXPRESS":
                continue
            running = stepfunctions.list_executions(
                stateMachineArn=machine.physical_id, statusFilter="RUNNING", maxResults=100
            )["executions"]
            pending[machine.path] = len(running)
        return pending

    def settle(self, until: Callable[[], bool] | None = None, *, timeout_seconds: float = 300.0) -> bool:
        """Poll until ``until()`` holds, or, without it, until ``pending_work`` is zero twice in a row.

        A ``ClientError`` raised by ``until`` (e.g. NoSuchKey: the result is not written yet)
        counts as not yet; any other exception propagates.
        """
        if until is not None:
            condition = until

            def holds() -> bool:
                try:
                    return bool(condition())
                except ClientError:
                    return False

            return self.polling.until(holds, timeout_seconds)

        quiet_polls = 0

        def idle() -> bool:
            nonlocal quiet_polls
            quiet_polls = quiet_polls + 1 if not any(self.pending_work().values()) else 0
            return quiet_polls >= 2

        return self.polling.until(idle, timeout_seconds)


def _execution_result(execution_arn: str, described: Mapping[str, Any]) -> ExecutionResult:
    output = described.get("output")
    return ExecutionResult(
        execution_arn=execution_arn,
        status=str(described.get("status")),
        output=json.loads(output) if output else None,
        error=described.get("error"),
        cause=described.get("cause"),
    )


def send(request: AWSRequest, data: bytes | None, timeout_seconds: float) -> HttpResponse:
    """Send a (signed) request exactly as prepared; an HTTP error status is a response, not an exception."""
    url = str(request.url)
    if urllib.parse.urlsplit(url).scheme not in ("https", "http"):
        raise ValueError(f"not an HTTP(S) URL: {url}")
    outgoing = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url, data=data, headers=dict(request.headers.items()), method=request.method
    )
    try:
        with urllib.request.urlopen(outgoing, timeout=timeout_seconds) as response:  # noqa: S310
            return _http_response(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        with error:
            return _http_response(error.code, error.headers, error.read())


def _http_response(status: int, headers: Message, body: bytes) -> HttpResponse:
    merged: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        merged[key] = f"{merged[key]},{value}" if key in merged else value
    return HttpResponse(status, merged, body.decode(errors="replace"))
