"""The opt-in suite against a stage deployed in a real AWS account: ``pytest -m aws``.

Never part of ``make test`` (pyproject's ``addopts`` deselect the ``aws`` marker) and skipped
unless the caller has credentials and the chosen stage is deployed in their account. Set:

``SP_E2E_STAGE``     dev (default), staging or prod: deployed with ``npx cdk deploy 'Dev/*'``
``SP_E2E_PROFILE``   a profile of ``~/.aws/config`` (else the shell's own credentials: access
                     keys, ``AWS_PROFILE``, SSO or web identity, in the SDK's usual order)
``SP_E2E_REGION``    the stage's region (else ``AWS_REGION``, ``AWS_DEFAULT_REGION``, the profile's)
``SP_E2E_ID_TOKEN``  for a stage whose API uses Cognito (Prod): an ID token of one of its users;
                     without it a temporary user is created, signed in and deleted
``SP_E2E_ALLOW_DRIFT=1``  run even though the deployed stage differs from this checkout
                     (by default that fails the suite: it would test other code)

``tests/conftest.py`` replaces the process's ``AWS_*`` variables with fakes before any test
runs (nothing else may reach AWS); it keeps the caller's own in ``CALLER_AWS_ENVIRONMENT``,
and only the ``AwsTarget``'s explicit session uses them.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from aws_cdk import App
from botocore.exceptions import BotoCoreError, ClientError

from serverless_patterns.scenarios.aws_target import (
    AwsTarget,
    CognitoTestUser,
    IdToken,
    StageNotDeployedError,
    SynthesizedStack,
    TokenRequired,
    caller_session,
    has_account_credentials,
)
from serverless_patterns.stacks.app import add_environments
from tests.conftest import CALLER_AWS_ENVIRONMENT

STAGE_VARIABLE = "SP_E2E_STAGE"
PROFILE_VARIABLE = "SP_E2E_PROFILE"
REGION_VARIABLE = "SP_E2E_REGION"
TOKEN_VARIABLE = "SP_E2E_ID_TOKEN"
DRIFT_VARIABLE = "SP_E2E_ALLOW_DRIFT"


@pytest.fixture(scope="session")
def aws_target(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsTarget]:
    """The chosen stage of this checkout, synthesized offline and joined with its deployment."""
    stage_name = os.environ.get(STAGE_VARIABLE, "dev").lower()
    try:
        session = caller_session(
            CALLER_AWS_ENVIRONMENT,
            profile=os.environ.get(PROFILE_VARIABLE) or None,
            region=os.environ.get(REGION_VARIABLE) or None,
        )
    except BotoCoreError as error:
        pytest.skip(f"no usable AWS profile: {error}")
    if not has_account_credentials(session):
        pytest.skip(f"no AWS credentials (set {PROFILE_VARIABLE}, AWS_PROFILE or access keys)")
    if not session.region_name:
        pytest.skip(f"no AWS region (set {REGION_VARIABLE} or AWS_REGION)")
    try:
        account = session.client("sts").get_caller_identity()["Account"]
    except (BotoCoreError, ClientError) as error:
        pytest.skip(f"the AWS credentials were refused: {error}")

    # What `cdk deploy` synthesized: the same app, for the caller's account and region.
    app = App(context=cdk_context, outdir=str(tmp_path_factory.mktemp("aws-cdk-out")))
    (stage,) = add_environments(app, only=stage_name, account=account, region=session.region_name)
    app.synth()
    stack = SynthesizedStack.from_stage(stage)
    target = AwsTarget(stack, session=session)
    try:
        target.ensure_deployed()
    except StageNotDeployedError as error:
        pytest.skip(f"{error} (account {account}): deploy it with npx cdk deploy '{stage.stage_name}/*'")
    missing = target.missing_resources()
    if missing:
        drift = (
            f"{stack.stack_name} differs from this checkout ({len(missing)} synthesized resources are not deployed, "
            f"e.g. {missing[0]}; new code gives Lambda versions new ids): run npx cdk deploy '{stage.stage_name}/*'"
        )
        if os.environ.get(DRIFT_VARIABLE) != "1":
            pytest.fail(f"{drift}, or set {DRIFT_VARIABLE}=1 to test the deployed stage as it is", pytrace=False)
        warnings.warn(drift, stacklevel=1)
    if not isinstance(target.authorization, TokenRequired):
        yield target
        return
    token = os.environ.get(TOKEN_VARIABLE)
    if token:
        target.authorization = IdToken(token)
        yield target
        return
    with CognitoTestUser(
        session.client("cognito-idp"),
        user_pool_id=target.outputs["UserPoolId"],
        client_id=target.outputs["UserPoolClientId"],
    ) as user:
        target.authorization = IdToken(user.id_token)
        yield target
