"""EventPipeline: S3 upload -> validate -> SQS -> process -> S3 results, with nothing lost."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from aws_cdk import (
    Duration,
    aws_cloudwatch as cloudwatch,
    aws_dynamodb as dynamodb,
    aws_iam as iam,
    aws_lambda as lambda_,
    aws_lambda_event_sources as event_sources,
    aws_s3 as s3,
    aws_secretsmanager as secretsmanager,
    aws_sqs as sqs,
)
from constructs import Construct

from serverless_patterns.config import FunctionSettings, PatternDefaults, PipelineSettings
from serverless_patterns.config.checks import check_type
from serverless_patterns.constructs.circuit_breaker import CircuitBreakers
from serverless_patterns.constructs.compliance import acknowledge
from serverless_patterns.constructs.event_pipeline_monitoring import (
    OUTCOME_METRICS as OUTCOME_METRICS,
    create_alarms,
    dashboard_widgets,
)
from serverless_patterns.constructs.event_pipeline_storage import (
    MULTIPART_ABORT_DAYS as MULTIPART_ABORT_DAYS,
    access_logs_bucket,
    noncurrent_rule,
    upload_lifecycle,
)
from serverless_patterns.constructs.event_pipeline_wiring import (
    NOTIFICATIONS_HANDLER_ID as NOTIFICATIONS_HANDLER_ID,
    READ_UPLOAD_ACTIONS as READ_UPLOAD_ACTIONS,
    RECORD_ACTIONS as RECORD_ACTIONS,
    TAG_UPLOAD_ACTIONS as TAG_UPLOAD_ACTIONS,
    connect_enrichment,
    grant_handler_access,
    notify_validator,
)
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
from serverless_patterns.constructs.storage import idempotency_table, queue_with_dlq, secure_bucket
from serverless_patterns.lambdas.event_pipeline.layout import (
    PROCESSED_PREFIX,
    REJECTED_PREFIX,
    Env,
)

HANDLER_PACKAGE = "event_pipeline"
VISIBILITY_TIMEOUT_FACTOR = 6


class EventPipeline(Construct):
    """Uploads under a prefix are validated, queued, processed once each, and every one is accounted for.

    - Upload bucket (encrypted, TLS only, public access blocked, versioned, access-logged): every
      object created under ``settings.upload_prefix`` notifies the validate function.
    - Validate (async, bounded retries, on-failure queue): size, type and a format check of the
      first bytes. A valid upload becomes one message; an invalid one gets ``rejected/{key}.json``
      in the results bucket with its reason, and a ``pipeline-status=rejected`` tag.
    - Processing queue (encrypted, TLS only, visibility >= 6x the process timeout) with a DLQ
      (14 days, ``max_receive_count``, redrive only from this queue).
    - Process (SQS event source: batch size, batching window, maximum concurrency, partial batch
      responses): idempotent per upload version, streams the object, writes
      ``processed/{key}.json``; failures back off by receive count, then reach the DLQ.
    - Enrichment (optional, ``settings.enrichment_url``): the default processor asks an external
      service about each upload through ``circuit_breakers`` (breaker ``enrichment``) and records
      its answer; while the service is down or the breaker open, messages are deferred (held back,
      then re-queued with a delay, up to ``settings.max_deferrals`` times), not counted as poison.
      Each call is bounded by the breaker's connect and read timeouts: size
      ``functions['process'].timeout_seconds`` for a batch's worth of them.
    - Lifecycle: processed and rejected uploads expire by tag, old versions after a while.
    - Alarms: DLQ not empty, age of the oldest message, and each function's errors, throttles and
      duration (plus the validator's on-failure queue not empty).

    Redrive the DLQ after a fix with ``python -m serverless_patterns.ops redrive --dlq <arn>``.
    """

    ROLES: ClassVar[tuple[str, ...]] = ("validate", "process")
    FUNCTION_DEFAULTS: ClassVar[Mapping[str, FunctionSettings]] = {
        # The validator reads only the first bytes; the processor streams files of up to max_file_bytes.
        "validate": FunctionSettings(memory_mb=256, timeout_seconds=15),
        "process": FunctionSettings(memory_mb=1024, timeout_seconds=60),
    }

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        defaults: PatternDefaults | None = None,
        settings: PipelineSettings | None = None,
        functions: Mapping[str, FunctionSettings] | None = None,
        handlers: Mapping[str, HandlerCode] | None = None,
        existing_upload_bucket: s3.IBucket | None = None,
        upload_bucket_props: s3.BucketProps | None = None,
        existing_results_bucket: s3.IBucket | None = None,
        results_bucket_props: s3.BucketProps | None = None,
        existing_access_logs_bucket: s3.IBucket | None = None,
        queue_props: sqs.QueueProps | None = None,
        existing_dead_letter_queue: sqs.IQueue | None = None,
        dead_letter_queue_props: sqs.QueueProps | None = None,
        service: str | None = None,
        circuit_breakers: CircuitBreakers | None = None,
        existing_enrichment_secret: secretsmanager.ISecret | None = None,
    ) -> None:
        """Create the pipeline.

        :param defaults: the environment's cross-cutting settings (alarms, logs, removal policy).
        :param settings: ``PipelineSettings``: batching, concurrency, retries, limits, retention.
        :param functions: ``FunctionSettings`` per role (``ROLES``: ``validate``, ``process``); the
            queue's visibility timeout follows from the processor's timeout.
        :param handlers: your code per role, built with ``serverless_patterns.lambdas.event_pipeline.custom``:
            ``process`` (``build_process_handler(your_processor)``: batching, retries, idempotency
            and records stay the pipeline's) and ``validate`` (``build_validate_handler(rules)``: your
            rules after the pipeline's size, type and format checks).
        :param existing_upload_bucket: a bucket you own that uploads arrive in (its encryption,
            versioning, lifecycle and access logging are yours; the pipeline adds its notification
            and tags uploads it is done with).
        :param upload_bucket_props: ``s3.BucketProps`` merged over the created upload bucket's defaults.
        :param existing_results_bucket: a bucket you own for the ``processed/`` and ``rejected/`` records.
        :param results_bucket_props: ``s3.BucketProps`` merged over the created results bucket's defaults.
        :param existing_access_logs_bucket: a bucket for the created buckets' S3 server access logs
            (an organisation's log bucket); by default one is created.
        :param queue_props: ``sqs.QueueProps`` merged over the processing queue's defaults (the
            visibility timeout may only grow; the DLQ is always wired).
        :param existing_dead_letter_queue: a DLQ you own for poison messages (e.g. one shared by
            several pipelines). There is no ``existing_queue``: the pipeline's guarantees rest on the
            queue's visibility timeout and redrive policy, which it sets itself.
        :param dead_letter_queue_props: ``sqs.QueueProps`` merged over the created DLQ's defaults.
        :param service: Powertools service name: the dimension of the pipeline's business metrics;
            unique per metrics namespace in a Stage; by default the construct id in kebab case.
        :param circuit_breakers: the service's breakers, declaring ``enrichment``; required with
            ``settings.enrichment_url``, whose calls they guard (shared state, opened-alarm, timeouts).
        :param existing_enrichment_secret: the secret with the enrichment service's HTTP headers (a
            JSON object such as ``{"Authorization": "Bearer ..."}``), when it is not found by
            ``settings.enrichment_secret_name``. Only the process function may read it.
        """
        super().__init__(scope, construct_id)
        pin_feature_flags(self)
        owner = owner_name(self)
        defaults = resolve_defaults(self, defaults)
        settings = resolve_settings(self, "settings", settings, PipelineSettings)
        sizing = resolve_functions(self, self.FUNCTION_DEFAULTS, functions)
        custom = resolve_handlers(self, self.ROLES, handlers)
        existing_or_props(
            self, "existing_upload_bucket", existing_upload_bucket, "upload_bucket_props", upload_bucket_props
        )
        existing_or_props(
            self, "existing_results_bucket", existing_results_bucket, "results_bucket_props", results_bucket_props
        )
        existing_or_props(
            self,
            "existing_dead_letter_queue",
            existing_dead_letter_queue,
            "dead_letter_queue_props",
            dead_letter_queue_props,
        )
        for name, value, hint in (
            ("existing_upload_bucket", existing_upload_bucket, s3.IBucket),
            ("existing_results_bucket", existing_results_bucket, s3.IBucket),
            ("existing_access_logs_bucket", existing_access_logs_bucket, s3.IBucket),
            ("existing_dead_letter_queue", existing_dead_letter_queue, sqs.IQueue),
            ("existing_enrichment_secret", existing_enrichment_secret, secretsmanager.ISecret),
            ("circuit_breakers", circuit_breakers, CircuitBreakers),
        ):
            check_type(owner, name, value, hint | None)
        reserved = sizing["process"].reserved_concurrency
        if reserved is not None and reserved < settings.max_concurrency:
            raise ValueError(
                f"{owner}: functions['process'].reserved_concurrency {reserved} is below settings.max_concurrency "
                f"{settings.max_concurrency}: throttled batches would count as receives and push good messages "
                "to the DLQ"
            )
        self.settings = settings
        self._defaults = defaults
        self.service = claim_service(self, service, namespace=defaults.metrics_namespace)

        needs_logs_bucket = existing_upload_bucket is None or existing_results_bucket is None
        self.access_logs_bucket: s3.IBucket | None = existing_access_logs_bucket or (
            access_logs_bucket(self, defaults, settings) if needs_logs_bucket else None
        )
        self.upload_bucket: s3.IBucket = existing_upload_bucket or secure_bucket(
            self,
            "Uploads",
            defaults=defaults,
            lifecycle_rules=upload_lifecycle(settings),
            server_access_logs_bucket=self.access_logs_bucket,
            server_access_logs_prefix="uploads/",
            props=upload_bucket_props,
            props_name="upload_bucket_props",
        )
        self.results_bucket: s3.IBucket = existing_results_bucket or secure_bucket(
            self,
            "Results",
            defaults=defaults,
            lifecycle_rules=[noncurrent_rule(settings)],
            server_access_logs_bucket=self.access_logs_bucket,
            server_access_logs_prefix="results/",
            props=results_bucket_props,
            props_name="results_bucket_props",
        )
        self.idempotency_table: dynamodb.TableV2 = idempotency_table(self, "Idempotency", defaults=defaults)

        # The queue's visibility follows from the processor's timeout, which is known before it exists.
        visibility = Duration.seconds(
            VISIBILITY_TIMEOUT_FACTOR * sizing["process"].timeout_seconds + settings.batching_window_seconds
        )
        self.queue, self.dead_letter_queue = queue_with_dlq(
            self,
            "Queue",
            visibility_timeout=visibility,
            max_receive_count=settings.max_receive_count,
            removal_policy=defaults.removal_policy,
            queue_props=queue_props,
            dead_letter_queue_props=dead_letter_queue_props,
            existing_dead_letter_queue=existing_dead_letter_queue,
        )
        process_code, validate_code = custom.get("process"), custom.get("validate")
        self.process_function = ServerlessFunction(
            self,
            "Process",
            code=process_code.bind(HANDLER_PACKAGE) if process_code else handler_code(HANDLER_PACKAGE),
            handler=process_code.handler if process_code else handler_path(HANDLER_PACKAGE, "process"),
            settings=sizing["process"],
            role="process",
            service=self.service,
            defaults=defaults,
            description="Processes validated uploads from the queue into processed/{key}.json",
            environment=merged_environment(
                f"{owner}: handlers['process']",
                {
                    Env.QUEUE_URL: self.queue.queue_url,
                    Env.RESULTS_BUCKET: self.results_bucket.bucket_name,
                    Env.IDEMPOTENCY_TABLE: self.idempotency_table.table_name,
                    Env.IDEMPOTENCY_SECONDS: str(settings.idempotency_hours * 3600),
                    Env.MAX_RECEIVE_COUNT: str(settings.max_receive_count),
                    Env.RETRY_BASE_SECONDS: str(settings.retry_base_seconds),
                    Env.RETRY_MAX_SECONDS: str(settings.retry_max_seconds),
                    Env.MAX_DEFERRALS: str(settings.max_deferrals),
                },
                process_code,
            ),
        )
        self.validate_function = ServerlessFunction(
            self,
            "Validate",
            code=validate_code.bind(HANDLER_PACKAGE) if validate_code else handler_code(HANDLER_PACKAGE),
            handler=validate_code.handler if validate_code else handler_path(HANDLER_PACKAGE, "validate"),
            settings=sizing["validate"],
            role="validate",
            service=self.service,
            defaults=defaults,
            description="Validates uploads: queues the valid ones, parks the rest with their reason",
            environment=merged_environment(
                f"{owner}: handlers['validate']",
                {
                    Env.QUEUE_URL: self.queue.queue_url,
                    Env.RESULTS_BUCKET: self.results_bucket.bucket_name,
                    Env.UPLOAD_PREFIX: settings.upload_prefix,
                    Env.MAX_FILE_BYTES: str(settings.max_file_bytes),
                    Env.FORMAT_SAMPLE_BYTES: str(settings.format_sample_bytes),
                    Env.ALLOWED_EXTENSIONS: ",".join(settings.allowed_extensions),
                },
                validate_code,
            ),
            async_invocation=True,
            async_retry_attempts=settings.validate_retry_attempts,
        )
        self.functions: Mapping[str, ServerlessFunction] = {
            "validate": self.validate_function,
            "process": self.process_function,
        }
        assert self.validate_function.failure_queue is not None  # async_invocation=True creates it
        self.validate_failure_queue: sqs.Queue = self.validate_function.failure_queue
        self.circuit_breakers = circuit_breakers
        self.enrichment_secret = connect_enrichment(self, settings, circuit_breakers, existing_enrichment_secret)

        grant_handler_access(self)
        self.event_source = event_sources.SqsEventSource(
            self.queue,
            batch_size=settings.batch_size,
            max_batching_window=Duration.seconds(settings.batching_window_seconds)
            if settings.batching_window_seconds
            else None,
            max_concurrency=settings.max_concurrency,
            report_batch_item_failures=True,
        )
        self.process_function.alias.add_event_source(self.event_source)
        mapping = next(
            child
            for child in self.process_function.alias.node.children
            if isinstance(child, lambda_.EventSourceMapping)
        )
        acknowledge(
            mapping,
            (
                "Serverless::Serverless-LambdaEventSourceMappingDestination",
                "SQS event sources take no on-failure destination: the queue's redrive policy moves a message "
                "to the DLQ after maxReceiveCount receives.",
            ),
        )
        notify_validator(self, settings)
        self._alarms = create_alarms(self, defaults)

    # --- public API ---------------------------------------------------------------------------

    @property
    def alarms(self) -> Sequence[cloudwatch.Alarm]:
        """DLQ not empty, oldest message age, and each function's (the validator's on-failure queue too)."""
        return [*self._alarms, *self.validate_function.alarms, *self.process_function.alarms]

    def grant_upload(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` put files where the pipeline picks them up (the upload prefix only)."""
        return self.upload_bucket.grant_put(grantee, f"{self.settings.upload_prefix}*")

    def grant_read_results(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read and list the ``processed/`` and ``rejected/`` records (nothing else in the bucket)."""
        prefixes = (PROCESSED_PREFIX, REJECTED_PREFIX)
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[self.results_bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{prefix}*" for prefix in prefixes]}},
            )
        )
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["s3:GetObject"],
            resource_arns=[self.results_bucket.arn_for_objects(f"{prefix}*") for prefix in prefixes],
        )

    def grant_redrive(self, grantee: iam.IGrantable) -> iam.Grant:
        """What ``python -m serverless_patterns.ops redrive`` needs: a message move task DLQ -> queue."""
        grant = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=[
                "sqs:StartMessageMoveTask",
                "sqs:ListMessageMoveTasks",
                "sqs:CancelMessageMoveTask",
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:GetQueueUrl",
            ],
            resource_arns=[self.dead_letter_queue.queue_arn],
        )
        return grant.combine(self.queue.grant_send_messages(grantee))

    def metric_dead_letters(self) -> cloudwatch.Metric:
        """Messages waiting in the DLQ (poison messages, kept 14 days)."""
        return self.dead_letter_queue.metric_approximate_number_of_messages_visible(
            statistic="Maximum", period=self._period()
        )

    def metric_oldest_message_age(self) -> cloudwatch.Metric:
        """Seconds the oldest message has waited: grows when processing stalls or backs off."""
        return self.queue.metric_approximate_age_of_oldest_message(statistic="Maximum", period=self._period())

    def metric_outcome(self, name: str) -> cloudwatch.Metric:
        """A metric the handlers emit (EMF; names in ``layout.Metric``), e.g. ``FilesProcessed``."""
        return cloudwatch.Metric(
            namespace=self._defaults.metrics_namespace,
            metric_name=name,
            dimensions_map={"service": self.service},
            statistic="Sum",
            period=self._period(),
        )

    def dashboard_widgets(self) -> Sequence[cloudwatch.IWidget]:
        """Outcomes, queue depths, oldest message age, retries, the idempotency table, both functions."""
        return dashboard_widgets(self, self._period())

    # --- building blocks ------------------------------------------------------------------------

    def _period(self) -> Duration:
        return Duration.seconds(self._defaults.thresholds.period_seconds)
