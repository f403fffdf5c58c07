"""caller_session: the caller's credentials, though the test process's own environment holds fakes."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ProfileNotFound

from serverless_patterns.scenarios.aws_target import caller_session, has_account_credentials


@pytest.fixture
def aws_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Shared config and credentials files with a default and an ``e2e`` profile; no instance metadata."""
    (tmp_path / "config").write_text("[default]\nregion = ap-south-1\n\n[profile e2e]\nregion = eu-central-1\n")
    (tmp_path / "credentials").write_text(
        "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = s1\n\n"
        "[e2e]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = s2\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return tmp_path


def access_key(session: boto3.Session) -> str:
    credentials = session.get_credentials()
    assert credentials is not None
    return str(credentials.get_frozen_credentials().access_key)


def test_the_callers_access_keys_win_over_the_fakes(aws_files: Path) -> None:
    caller = {
        "AWS_ACCESS_KEY_ID": "AKIACALLER",
        "AWS_SECRET_ACCESS_KEY": "s3",
        "AWS_SESSION_TOKEN": "t",
        "AWS_REGION": "sa-east-1",
    }
    session = caller_session(caller)
    assert access_key(session) == "AKIACALLER"
    assert session.get_credentials().get_frozen_credentials().token == "t"  # type: ignore[union-attr]
    assert session.region_name == "sa-east-1"
    assert has_account_credentials(session)


def test_an_explicit_profile_wins_and_brings_its_region(aws_files: Path) -> None:
    session = caller_session({"AWS_ACCESS_KEY_ID": "AKIACALLER", "AWS_SECRET_ACCESS_KEY": "s3"}, profile="e2e")
    assert access_key(session) == "AKIAPROFILE"  # not the caller's keys, nor the process's fake ones
    assert session.region_name == "eu-central-1"
    assert caller_session({}, profile="e2e", region="us-west-2").region_name == "us-west-2"


def test_the_callers_aws_profile_is_used(aws_files: Path) -> None:
    session = caller_session({"AWS_PROFILE": "e2e", "AWS_DEFAULT_REGION": "ca-central-1"})
    assert access_key(session) == "AKIAPROFILE"
    assert session.region_name == "ca-central-1"


def test_without_keys_or_profile_the_default_chain_skips_the_environment(aws_files: Path) -> None:
    session = caller_session({})
    assert access_key(session) == "AKIADEFAULT"  # the process's own AWS_ACCESS_KEY_ID is the fake "testing"
    assert session.region_name == "ap-south-1"


def test_fake_or_missing_credentials_do_not_count(aws_files: Path) -> None:
    assert not has_account_credentials(boto3.Session(region_name="us-east-1"))  # tests/conftest.py's "testing"
    (aws_files / "credentials").write_text("")
    assert not has_account_credentials(caller_session({}))
    with pytest.raises(ProfileNotFound):  # a misspelt profile is an error, not "no credentials"
        caller_session({}, profile="missing")
