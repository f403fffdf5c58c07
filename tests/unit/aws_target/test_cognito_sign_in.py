"""The throw-away Cognito user: TOTP, SRP-6a as Cognito does it, and the whole sign-in under moto.

The SRP check plays the server's side here, independently of the client code: it derives the
verifier from the password, answers with B, and computes the session key from A and the
verifier; the client's signature must match the one the server expects.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from serverless_patterns.scenarios.aws_target import (
    SRP_MULTIPLIER,
    SRP_N as N,
    CognitoTestUser,
    SrpClient,
    cognito_timestamp,
    srp_pad_hex,
    totp,
)

RFC6238_SECRET = base64.b32encode(b"12345678901234567890").decode()


@pytest.mark.parametrize(
    ("at", "code"),
    [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
    ],
)
def test_totp_matches_the_rfc_6238_vectors(at: int, code: str) -> None:
    assert totp(RFC6238_SECRET, at, digits=8) == code
    assert totp(RFC6238_SECRET.rstrip("=").lower(), at + 0.9) == code[-6:]  # unpadded, lower-case, mid-step


def test_the_srp_group_is_the_rfc_5054_3072_bit_safe_prime() -> None:
    assert N.bit_length() == 3072
    assert N >> (3072 - 64) == N & (2**64 - 1) == 2**64 - 1  # RFC 3526: top and bottom 64 bits set
    for witness in (2, 3, 5, 7):  # a typo in the constant would fail these (Fermat) checks
        assert pow(witness, N - 1, N) == 1
        assert pow(witness, (N - 1) // 2 - 1, (N - 1) // 2) == 1
    assert srp_pad_hex(N).startswith("00ffffffff")
    assert int(hashlib.sha256(bytes.fromhex(srp_pad_hex(N) + "02")).hexdigest(), 16) == SRP_MULTIPLIER


@pytest.mark.parametrize(
    ("value", "padded"), [(0x7F, "7f"), (0x80, "0080"), (0xABC, "0abc"), ("ff", "00ff"), ("1f", "1f")]
)
def test_srp_hex_padding_keeps_values_positive_and_whole_bytes(value: int | str, padded: str) -> None:
    assert srp_pad_hex(value) == padded


def test_the_timestamp_is_in_the_format_cognito_signs() -> None:
    assert cognito_timestamp(dt.datetime(2025, 1, 7, 9, 5, 3, tzinfo=dt.UTC)) == "Tue Jan 7 09:05:03 UTC 2025"
    paris = dt.timezone(dt.timedelta(hours=1))
    assert cognito_timestamp(dt.datetime(2025, 11, 30, 0, 30, 0, tzinfo=paris)) == "Sat Nov 29 23:30:00 UTC 2025"


def _hash_hex(hex_string: str) -> int:
    return int(hashlib.sha256(bytes.fromhex(hex_string)).hexdigest(), 16)


def _pad(value: int) -> str:
    digits = f"{value:x}"
    digits = "0" * (len(digits) % 2) + digits
    return "00" + digits if int(digits[0], 16) >= 8 else digits


class SrpServer:
    """Cognito's side of SRP-6a for one user: verifier from the password, B, and the expected claim."""

    def __init__(self, pool_name: str, user_id: str, password: str) -> None:
        self.pool_name, self.user_id = pool_name, user_id
        self.salt = secrets.token_hex(16)
        identity = hashlib.sha256(f"{pool_name}{user_id}:{password}".encode()).hexdigest()
        salt = "00" + self.salt if int(self.salt[0], 16) >= 8 else self.salt
        self.verifier = pow(2, _hash_hex(salt + identity), N)
        self._private = secrets.randbits(1024)
        multiplier = _hash_hex(_pad(N) + "02")
        self.public = (multiplier * self.verifier + pow(2, self._private, N)) % N
        self.secret_block = base64.b64encode(secrets.token_bytes(64)).decode()

    def expected_signature(self, client_public_hex: str, timestamp: str) -> str:
        client_public = int(client_public_hex, 16)
        scrambler = _hash_hex(_pad(client_public) + _pad(self.public))
        shared = pow(client_public * pow(self.verifier, scrambler, N), self._private, N)
        prk = hmac.new(bytes.fromhex(_pad(scrambler)), bytes.fromhex(_pad(shared)), hashlib.sha256).digest()
        key = hmac.new(prk, b"Caldera Derived Key\x01", hashlib.sha256).digest()[:16]
        message = (
            self.pool_name.encode() + self.user_id.encode() + base64.b64decode(self.secret_block) + timestamp.encode()
        )
        return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def claim(client: SrpClient, server: SrpServer, password: str, timestamp: str) -> str:
    return client.password_signature(
        user_id=server.user_id,
        password=password,
        salt_hex=server.salt,
        server_public_hex=f"{server.public:x}",
        secret_block=server.secret_block,
        timestamp=timestamp,
    )


def test_the_srp_password_claim_is_what_the_server_expects() -> None:
    server = SrpServer("AbCdEf123", "5f3c-user-id", "Corr3ct horse!")
    client = SrpClient("eu-west-1_AbCdEf123")
    timestamp = "Tue Jan 7 09:05:03 UTC 2025"
    signature = claim(client, server, "Corr3ct horse!", timestamp)
    assert signature == server.expected_signature(client.public_hex, timestamp)
    assert claim(client, server, "wrong password", timestamp) != server.expected_signature(client.public_hex, timestamp)


def test_srp_refuses_a_degenerate_server_value() -> None:
    client = SrpClient("eu-west-1_AbCdEf123")
    with pytest.raises(ValueError, match="0 mod N"):
        client.password_signature(
            user_id="u", password="p", salt_hex="ab", server_public_hex=f"{N:x}", secret_block="", timestamp="t"
        )


@pytest.fixture
def user_pool() -> Iterator[tuple[Any, str, str]]:
    """A pool like the API's: e-mail sign-in, TOTP MFA required, an SRP-only app client without a secret."""
    with mock_aws():
        idp = boto3.client("cognito-idp", region_name="us-east-1")
        pool_id = idp.create_user_pool(PoolName="items", UsernameAttributes=["email"], MfaConfiguration="OFF")[
            "UserPool"
        ]["Id"]
        idp.set_user_pool_mfa_config(
            UserPoolId=pool_id, SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration="ON"
        )
        client_id = idp.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName="app",
            GenerateSecret=False,
            ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        yield idp, pool_id, client_id


def _claims(jwt: str) -> dict[str, Any]:
    payload = jwt.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


def test_a_test_user_signs_in_with_srp_and_mfa_and_is_deleted_after(user_pool: tuple[Any, str, str]) -> None:
    idp, pool_id, client_id = user_pool
    with CognitoTestUser(idp, user_pool_id=pool_id, client_id=client_id) as user:
        assert user.email.endswith("@example.com")
        claims = _claims(user.id_token)
        assert claims["token_use"] == "id"
        assert claims["email"] == user.email
        stored = idp.admin_get_user(UserPoolId=pool_id, Username=user.email)
        assert stored["UserStatus"] == "CONFIRMED"
        assert {"Name": "email_verified", "Value": "true"} in stored["UserAttributes"]
        assert user.sign_in()["IdToken"]  # again: now answering SOFTWARE_TOKEN_MFA with a fresh code
    with pytest.raises(idp.exceptions.UserNotFoundException):
        idp.admin_get_user(UserPoolId=pool_id, Username=user.email)


def test_a_user_whose_sign_in_fails_is_deleted_at_once(user_pool: tuple[Any, str, str]) -> None:
    idp, pool_id, _ = user_pool
    user = CognitoTestUser(idp, user_pool_id=pool_id, client_id="no-such-client")
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        user.__enter__()
    assert not user.created
    assert idp.list_users(UserPoolId=pool_id)["Users"] == []
    with pytest.raises(RuntimeError, match="not signed in"):
        _ = user.id_token
