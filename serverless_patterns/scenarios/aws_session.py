"""The caller's AWS session for AwsTarget: their credentials (never the test suite's fakes) and region."""

from __future__ import annotations

from collections.abc import Mapping

import boto3
import botocore.session
from botocore.exceptions import BotoCoreError

# What tests/conftest.py, moto and LocalStack put in the environment: never an account's credentials.
FAKE_ACCESS_KEY_IDS = frozenset({"testing", "test", "FOOBARKEY"})


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


def session_region(session: boto3.Session) -> str:
    """The session's region; ValueError when it has none."""
    if not session.region_name:
        raise ValueError("the session has no region: give region_name (or AWS_REGION / the profile's region)")
    return session.region_name
