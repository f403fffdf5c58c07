"""The local cloud: the synthesized app deployed into an embedded emulated AWS, with its code running.

No account, no Docker: moto runs in this process (``mock_aws``), the CDK app's cloud
assembly is deployed through moto's CloudFormation, and every Lambda function runs its
real handler code in-process. ``make local`` (``python -m serverless_patterns.local
--env dev|staging|prod``) deploys one environment and drives every pattern's scenario;
the integration tests use the same machinery against the same templates. This package is
an optional extra (``pip install .[local]``); Lambda code never imports it.

Modules
    ``cloud``           ``LocalCloud``: lifecycle, inventory, and the calls tests make.
    ``assets``          reads cloud assemblies, synthesizes a Stage, publishes file assets.
    ``cloudformation``  the deployer and the registry of resource emulators (``emulates``).
    ``resources``       the emulators: aliases, versions, EventInvokeConfig, SQS mappings,
                        state machines, S3 notifications, GlobalTable, alarms, API stages...
    ``lambda_runtime``  in-process invocations: containers, context, env, error payloads.
    ``sandbox``         what keeps concurrent invocations apart: per-thread environments,
                        module namespaces per container, the runtime lock (released at
                        every AWS request), the container pool.
    ``dynamodb``        one DynamoDB request at a time; transactions back up only their items.
    ``event_sources``   the SQS poller (batching, partial failures, visibility, redrive).
    ``async_invoke``    async invocations: retries, event age, destination records.
    ``s3_events``       AWS-shaped S3 notifications; bucket policies evaluated over HTTPS.
    ``events``          EventBridge buses (emulator) and rules delivering to Step Functions
                        (StartExecution) and Lambda (async invoke), DLQ on a failed start.
    ``stepfunctions``   executions that run; Retry/Wait delays recorded, not slept.
    ``apigateway``      REST API proxy events routed from the template's resources.
    ``report``          the report ``make local`` prints.

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
        cloud.read_queue(dlq_url)                           # e.g. what reached a DLQ

A pattern adds to ``make local`` one module in ``scenarios`` with one ``@scenario``
function (see that package's docstring), and to the integration tests a module in
``tests/integration`` using ``LocalCloud.deploy(stages["dev"])`` (module-scoped fixture)
that drives its entry points and asserts on outcomes.

Fidelity, in short: functions, aliases, versions, event source mappings, async retries
and destinations, S3 notifications, EventBridge rules to Step Functions and Lambda, Step
Functions Retry/Catch, and the API's routing behave as on AWS, with virtual time instead of
waiting. Invocations run concurrently (e.g. a hundred Step Functions executions at once):
each overlapping invocation of a function gets a container of its own (up to
``sandbox.DEFAULT_MAX_CONTAINERS`` per version; more wait), sees only its own environment,
and interleaves with the others at its AWS requests, which the emulator's DynamoDB applies
one at a time, so races between invocations show as they would on AWS. Not simulated: IAM
authorization (every call is allowed; API auth is taken as granted), throttling,
provisioned concurrency and auto scaling (configured only), cold-start timing, Lambda
layers (the process's own packages stand in for the Powertools layer, shared by all
containers), non-Python runtimes, EventBridge schedules and target retry policies, alarm
evaluation and composite alarms, Logs Insights queries. Each module says more.
"""

from serverless_patterns.local.cloud import LocalCloud

__all__ = ["LocalCloud"]
