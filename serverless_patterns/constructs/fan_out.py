"""FanOut: a master splits a job into chunks, workers process them in parallel, one aggregator combines them.

The seed's fan-out, without its race: the seed's workers each ask "are all chunks complete?" and
several can see "yes" (or none, if the last two finish together). Here a chunk is counted once
(conditional put of its result + ADD to the job's counter, in one transaction) and the job moves
RUNNING -> AGGREGATING by one conditional update, so aggregation starts exactly once
(``serverless_patterns/lambdas/fan_out/logic.py`` has the full argument).

Why SQS for dispatch rather than the seed's async ``Invoke`` per chunk:

* backpressure: the event source's maximum concurrency caps the workers below their reserved
  concurrency, so a 1,000-chunk job queues instead of throttling (async invokes would be throttled
  and retried by Lambda's internal queue, out of our sight);
* bounded retries and a real DLQ: ``maxReceiveCount`` = retries + 1, then the chunk message itself
  sits in a DLQ that an operator can redrive after a fix (async on-failure destinations hold a
  wrapped invocation record that cannot be redriven as is); a job whose failed chunks are redriven
  and complete still goes on to aggregate;
* cheaper, faster dispatch: ``SendMessageBatch`` queues 10 chunks per call;
* the queue's age-of-oldest-message and depth are the natural "workers are behind" signals.

Dispatch is resumable: the master records how many chunks it has queued after each batch, and
resubmitting a job whose master died mid-dispatch queues exactly the chunks that were not
(``serverless_patterns/lambdas/fan_out/submission.py`` explains why the master, not the sweeper,
resumes: the sweeper keeps table-only access and fails such a job saying which chunks were never queued).

The aggregator, invoked once per job, is an async invoke: Lambda's bounded retries and an SQS
on-failure destination (``ServerlessFunction(async_invocation=True)``) fit a single event.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from aws_cdk import (
    Duration,
    aws_cloudwatch as cloudwatch,
    aws_dynamodb as dynamodb,
    aws_events as events,
    aws_events_targets as targets,
    aws_iam as iam,
    aws_lambda_event_sources as event_sources,
    aws_s3 as s3,
    aws_sqs as sqs,
)
from constructs import Construct

from serverless_patterns.config import FanOutSettings, FunctionSettings, PatternDefaults
from serverless_patterns.config.checks import check_type
from serverless_patterns.constructs.compliance import acknowledge
from serverless_patterns.constructs.fan_out_monitoring import create_alarms, dashboard_widgets
from serverless_patterns.constructs.fan_out_wiring import grant_function_access
from serverless_patterns.constructs.function import ServerlessFunction
from serverless_patterns.constructs.handler_code import HandlerCode, merged_environment
from serverless_patterns.constructs.lambda_code import handler_code, handler_path
from serverless_patterns.constructs.props import (
    existing_or_props,
    owner_name,
    resolve_defaults,
    resolve_functions,
    resolve_handlers,
    resolve_settings,
)
from serverless_patterns.constructs.scope import claim_service, pin_feature_flags
from serverless_patterns.constructs.storage import queue_with_dlq, secure_bucket, secure_table
from serverless_patterns.lambdas.fan_out import contract

HANDLER_PACKAGE = "fan_out"
VISIBILITY_TIMEOUT_FACTOR = 6
AGGREGATOR_RETRY_ATTEMPTS = 2
ACCESS_LOG_RETENTION = Duration.days(90)


class FanOut(Construct):
    """Chunked parallel work with race-free fan-in and exactly-once aggregation.

    Submit a job by invoking ``master`` (items inline, or an object in ``input_bucket``); poll it
    by invoking ``status_reader`` with the returned job id. Workers consume ``work_queue`` with
    bounded concurrency and retries; chunks that exhaust them land in ``dead_letter_queue`` and
    fail their job with the reason. ``sweeper`` fails jobs still open past their deadline.

    Alarms: every function's (errors, throttles, duration; the aggregator's on-failure queue not
    empty), chunk attempts failing, DLQ not empty, oldest chunk too old, jobs stuck past their deadline.
    """

    ROLES: ClassVar[tuple[str, ...]] = ("master", "worker", "aggregator", "sweeper", "status")
    FUNCTION_DEFAULTS: ClassVar[Mapping[str, FunctionSettings]] = {
        # The master queues up to max_items; the aggregator reads every chunk's result.
        "master": FunctionSettings(memory_mb=512, timeout_seconds=60),
        "worker": FunctionSettings(memory_mb=512, timeout_seconds=30),
        "aggregator": FunctionSettings(memory_mb=512, timeout_seconds=60),
        "sweeper": FunctionSettings(memory_mb=256, timeout_seconds=30),
        "status": FunctionSettings(memory_mb=256, timeout_seconds=10),
    }

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        defaults: PatternDefaults | None = None,
        settings: FanOutSettings | None = None,
        functions: Mapping[str, FunctionSettings] | None = None,
        handlers: Mapping[str, HandlerCode] | None = None,
        table_props: dynamodb.TablePropsV2 | None = None,
        existing_input_bucket: s3.IBucket | None = None,
        input_bucket_props: s3.BucketProps | None = None,
        existing_access_logs_bucket: s3.IBucket | None = None,
        work_queue_props: sqs.QueueProps | None = None,
        existing_dead_letter_queue: sqs.IQueue | None = None,
        dead_letter_queue_props: sqs.QueueProps | None = None,
        service: str | None = None,
    ) -> None:
        """Create the table, queues, bucket, five functions, schedule and alarms.

        :param defaults: the environment's cross-cutting settings (retention, removal, thresholds...).
        :param settings: ``FanOutSettings``: chunk size, limits, retries, concurrency cap, deadline.
        :param functions: ``FunctionSettings`` per role (``ROLES``); the worker's ``reserved_concurrency``,
            when set, must be at least ``settings.worker_max_concurrency``, or workers would be throttled.
        :param handlers: your code per role, built with ``serverless_patterns.lambdas.fan_out.custom``:
            ``worker`` (``build_worker_handler(your_chunk_processor)``) and ``aggregator``
            (``build_aggregator_handler(your_combiner)``); counting, retries, poison chunks, bounded
            parallelism, exactly-once aggregation and the sweeper stay the pattern's.
        :param table_props: ``dynamodb.TablePropsV2`` merged over the jobs table's defaults (its key
            schema, TTL attribute and open-jobs index are the pattern's). There is no
            ``existing_table``: the job store's layout is part of the exactly-once protocol.
        :param existing_input_bucket: a bucket you own for items objects of large jobs.
        :param input_bucket_props: ``s3.BucketProps`` merged over the created input bucket's defaults.
        :param existing_access_logs_bucket: where the created input bucket writes its server access
            logs; by default a logs bucket is created.
        :param work_queue_props: ``sqs.QueueProps`` merged over the work queue's defaults (the
            visibility timeout may only grow; the DLQ is always wired).
        :param existing_dead_letter_queue: a DLQ you own for chunks that exhausted their retries.
        :param dead_letter_queue_props: ``sqs.QueueProps`` merged over the created DLQ's defaults.
        :param service: Powertools service name: the ``service`` dimension of the business metrics
            and alarms; unique per metrics namespace in a Stage; by default the construct id in kebab case.
        """
        super().__init__(scope, construct_id)
        pin_feature_flags(self)
        owner = owner_name(self)
        defaults = resolve_defaults(self, defaults)
        self.settings = settings = resolve_settings(self, "settings", settings, FanOutSettings)
        sizing = resolve_functions(self, self.FUNCTION_DEFAULTS, functions)
        custom = resolve_handlers(self, self.ROLES, handlers)
        existing_or_props(
            self, "existing_input_bucket", existing_input_bucket, "input_bucket_props", input_bucket_props
        )
        existing_or_props(
            self,
            "existing_dead_letter_queue",
            existing_dead_letter_queue,
            "dead_letter_queue_props",
            dead_letter_queue_props,
        )
        for name, value, hint in (
            ("existing_input_bucket", existing_input_bucket, s3.IBucket),
            ("existing_access_logs_bucket", existing_access_logs_bucket, s3.IBucket),
            ("existing_dead_letter_queue", existing_dead_letter_queue, sqs.IQueue),
        ):
            check_type(owner, name, value, hint | None)
        worker = sizing["worker"]
        if worker.reserved_concurrency is not None and worker.reserved_concurrency < settings.worker_max_concurrency:
            raise ValueError(
                f"{owner}: functions['worker'].reserved_concurrency ({worker.reserved_concurrency}) is below "
                f"settings.worker_max_concurrency ({settings.worker_max_concurrency}): the event source would be "
                "throttled"
            )
        self._defaults = defaults
        self.service = service = claim_service(self, service, namespace=defaults.metrics_namespace)

        self.table = secure_table(
            self,
            "Jobs",
            defaults=defaults,
            partition_key=contract.PARTITION_KEY,
            sort_key=contract.SORT_KEY,
            time_to_live_attribute=contract.TTL_ATTRIBUTE,
            props=table_props,
        )
        self.table.add_global_secondary_index(
            index_name=contract.OPEN_JOBS_INDEX,
            partition_key=dynamodb.Attribute(name=contract.OPEN_JOBS_KEY, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=contract.DEADLINE_ATTRIBUTE, type=dynamodb.AttributeType.NUMBER),
            projection_type=dynamodb.ProjectionType.KEYS_ONLY,
        )

        self.access_logs_bucket: s3.IBucket | None = None
        input_bucket = existing_input_bucket
        if input_bucket is None:
            self.access_logs_bucket = existing_access_logs_bucket or self._access_logs_bucket(defaults)
            input_bucket = secure_bucket(
                self,
                "InputBucket",
                defaults=defaults,
                server_access_logs_bucket=self.access_logs_bucket,
                server_access_logs_prefix="fan-out-input/",
                lifecycle_rules=[
                    s3.LifecycleRule(
                        expiration=Duration.days(settings.job_retention_days),
                        noncurrent_version_expiration=Duration.days(1),
                        abort_incomplete_multipart_upload_after=Duration.days(1),
                    )
                ],
                props=input_bucket_props,
                props_name="input_bucket_props",
            )
        self.input_bucket: s3.IBucket = input_bucket

        worker_timeout = Duration.seconds(worker.timeout_seconds)
        self.work_queue, self.dead_letter_queue = queue_with_dlq(
            self,
            "WorkQueue",
            visibility_timeout=Duration.seconds(worker.timeout_seconds * VISIBILITY_TIMEOUT_FACTOR),
            max_receive_count=settings.worker_retries + 1,
            removal_policy=defaults.removal_policy,
            queue_props=work_queue_props,
            dead_letter_queue_props=dead_letter_queue_props,
            existing_dead_letter_queue=existing_dead_letter_queue,
            props_prefix="work_",
        )

        code = handler_code(HANDLER_PACKAGE)
        deadline_seconds = str(settings.job_deadline_minutes * 60)
        table_env = {"TABLE_NAME": self.table.table_name}

        def function(
            construct_id: str,
            role: str,
            *,
            environment: Mapping[str, str],
            function_defaults: PatternDefaults = defaults,
            **props: Any,
        ) -> ServerlessFunction:
            """The function of ``role``: the pattern's code (handler module named after the id) or the user's."""
            own = custom.get(role)
            return ServerlessFunction(
                self,
                construct_id,
                code=own.bind(HANDLER_PACKAGE) if own else code,
                handler=own.handler if own else handler_path(HANDLER_PACKAGE, construct_id.lower()),
                settings=sizing[role],
                role=role,
                service=service,
                defaults=function_defaults,
                environment=merged_environment(f"{owner}: handlers[{role!r}]", environment, own),
                **props,
            )

        self.aggregator = function(
            "Aggregator",
            "aggregator",
            environment=table_env,
            description="FanOut: combines a job's chunk results, once, and marks the job SUCCEEDED",
            async_invocation=True,
            async_retry_attempts=AGGREGATOR_RETRY_ATTEMPTS,
        )
        self.master = function(
            "Master",
            "master",
            environment={
                **table_env,
                "QUEUE_URL": self.work_queue.queue_url,
                "INPUT_BUCKET": self.input_bucket.bucket_name,
                "INPUT_PREFIX": settings.input_prefix,
                "CHUNK_SIZE": str(settings.chunk_size),
                "MAX_ITEMS": str(settings.max_items),
                "MAX_SOURCE_BYTES": str(settings.max_source_bytes),
                "JOB_DEADLINE_SECONDS": deadline_seconds,
                "JOB_RETENTION_DAYS": str(settings.job_retention_days),
                "COMPLETION_SHARDS": str(settings.completion_shards),
            },
            description="FanOut: validates a job, records it and queues its chunks",
        )
        self.worker = function(
            "Worker",
            "worker",
            environment={
                **table_env,
                "AGGREGATOR_FUNCTION": self.aggregator.alias.function_arn,
                "WORKER_PARALLELISM": str(settings.worker_parallelism),
                "MAX_RECEIVE_COUNT": str(settings.worker_retries + 1),
                "JOB_DEADLINE_SECONDS": deadline_seconds,
                "AGGREGATION_CLAIM_SECONDS": str(int(worker_timeout.to_seconds())),
            },
            description="FanOut: processes one chunk, counts it once, starts aggregation after the last",
        )
        self.event_source = event_sources.SqsEventSource(
            self.work_queue,
            batch_size=settings.worker_batch_size,
            max_concurrency=settings.worker_max_concurrency,
            report_batch_item_failures=True,
        )
        self.worker.alias.add_event_source(self.event_source)
        acknowledge(
            self.worker.alias,
            (
                "Serverless::Serverless-LambdaEventSourceMappingDestination",
                "SQS event sources take no on-failure destination: a chunk failing maxReceiveCount times moves to "
                "the work queue's DLQ (its redrive policy), after the worker has failed its job with the reason.",
            ),
        )
        self.sweeper = function(
            "Sweeper",
            "sweeper",
            function_defaults=dataclasses.replace(defaults, keep_warm=False),
            environment={**table_env, "OPEN_JOBS_INDEX": contract.OPEN_JOBS_INDEX},
            description="FanOut: fails jobs still open past their deadline and counts them",
        )
        self.status_reader = function(
            "Status",
            "status",
            environment=table_env,
            description="FanOut: a job's status, progress, result or failure reason",
        )

        grant_function_access(self, settings.input_prefix)

        self.sweep_rule = events.Rule(
            self,
            "SweepSchedule",
            description=f"{service}: fails jobs still open past their deadline",
            schedule=events.Schedule.rate(Duration.minutes(settings.sweep_interval_minutes)),
            targets=[targets.LambdaFunction(self.sweeper.alias, retry_attempts=2)],
        )
        acknowledge(
            self.sweep_rule,
            (
                "Serverless::Serverless-EventBusDLQ",
                "A lost sweep is repeated by the next scheduled one; there is nothing to redrive.",
            ),
        )

        self._alarms = create_alarms(self, self._defaults)

    # --- public API ---------------------------------------------------------------------------

    @property
    def functions(self) -> Mapping[str, ServerlessFunction]:
        """Every function by role: master, worker, aggregator, sweeper, status."""
        return {
            "master": self.master,
            "worker": self.worker,
            "aggregator": self.aggregator,
            "sweeper": self.sweeper,
            "status": self.status_reader,
        }

    @property
    def alarms(self) -> Sequence[cloudwatch.Alarm]:
        """The pattern's own alarms followed by each function's."""
        own = list(self._alarms)
        return own + [alarm for function in self.functions.values() for alarm in function.alarms]

    def grant_submit(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` to submit jobs (invoke the master's ``live`` alias)."""
        return self.master.grant_invoke(grantee)

    def grant_upload_items(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` to put items objects under the input prefix, for jobs too large to send inline."""
        return self.input_bucket.grant_put(grantee, f"{self.settings.input_prefix}*")

    def grant_read_status(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` to read job status and results (invoke the status reader)."""
        return self.status_reader.grant_invoke(grantee)

    def metric(self, metric_name: str, *, statistic: str = "Sum", period: Duration | None = None) -> cloudwatch.Metric:
        """One of the handlers' business metrics (names in ``lambdas/fan_out/contract.py``)."""
        return cloudwatch.Metric(
            namespace=self._defaults.metrics_namespace,
            metric_name=metric_name,
            dimensions_map={"service": self.service},
            statistic=statistic,
            period=period or Duration.minutes(1),
        )

    def metric_jobs_stuck(self) -> cloudwatch.Metric:
        """Jobs the sweeper failed for being open past their deadline, per sweep interval."""
        return self.metric(contract.METRIC_JOBS_STUCK, period=Duration.minutes(self.settings.sweep_interval_minutes))

    def metric_chunk_attempts_failed(self) -> cloudwatch.Metric:
        """Chunk deliveries that failed (each is retried until the DLQ); partial batch failures
        are invisible to the Lambda Errors metric, so this is the workers' error signal."""
        return self.metric(contract.METRIC_CHUNK_ATTEMPTS_FAILED)

    def dashboard_widgets(self) -> Sequence[cloudwatch.IWidget]:
        """Jobs, chunks, the work queue and its DLQ, the workers' concurrency, the jobs table, every function."""
        return dashboard_widgets(self, self._defaults)

    # --- internals ----------------------------------------------------------------------------

    def _access_logs_bucket(self, defaults: PatternDefaults) -> s3.Bucket:
        return secure_bucket(
            self,
            "AccessLogs",
            defaults=defaults,
            lifecycle_rules=[
                s3.LifecycleRule(expiration=ACCESS_LOG_RETENTION, noncurrent_version_expiration=Duration.days(1))
            ],
        )
