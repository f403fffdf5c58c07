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

import json
import time
import urllib.parse
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ClientError

from serverless_patterns.scenarios.aws_cognito import (
    SRP_G as SRP_G,
    SRP_MULTIPLIER as SRP_MULTIPLIER,
    SRP_N as SRP_N,
    CognitoTestUser as CognitoTestUser,
    SrpClient as SrpClient,
    cognito_timestamp as cognito_timestamp,
    srp_hex_hash as srp_hex_hash,
    srp_pad_hex as srp_pad_hex,
    srp_session_key as srp_session_key,
    totp as totp,
)
from serverless_patterns.scenarios.aws_http import (
    ApiAuthorization as ApiAuthorization,
    IdToken as IdToken,
    SigV4 as SigV4,
    TokenRequired as TokenRequired,
    Transport as Transport,
    Unauthenticated as Unauthenticated,
    api_authorization_types as api_authorization_types,
    default_authorization as default_authorization,
    send as send,
)
from serverless_patterns.scenarios.aws_session import (
    FAKE_ACCESS_KEY_IDS as FAKE_ACCESS_KEY_IDS,
    caller_session as caller_session,
    has_account_credentials as has_account_credentials,
    session_region,
)
from serverless_patterns.scenarios.aws_stack import StackResource as StackResource, SynthesizedStack as SynthesizedStack
from serverless_patterns.scenarios.target import (
    ExecutionResult,
    HttpResponse,
    InvokeResult,
    path_is_under,
    path_matches,
)

USER_AGENT = "serverless-patterns-e2e/1"
# Stack states in which the stage's resources are all there and stable.
USABLE_STACK_STATUSES = frozenset(
    {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE", "IMPORT_ROLLBACK_COMPLETE"}
)
_ENDED = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})


class StageNotDeployedError(LookupError):
    """The stage's service stack is not in the account and region, or not in a usable state."""


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
        self.region = session_region(session)
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
