"""Cognito sign-in for AwsTarget's API requests: SRP-6a (``USER_SRP_AUTH``), TOTP MFA, and a throw-away test user."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import struct
import time
import uuid
from collections.abc import Callable
from types import TracebackType
from typing import Any

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
