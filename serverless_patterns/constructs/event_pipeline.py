"""EventPipeline: S3 upload -> validate -> SQS -> process -> S3 results, with nothing lost."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import (
    Duration,
    Stack,
    aws_cloudwatch as cloudwatch,
    aws_dynamodb as dynamodb,
    aws_iam as iam,
    aws_lambda as lambda_,
    aws_lambda_event_sources as event_sources,
    aws_s3 as s3,
    aws_s3_notifications as s3n,
    aws_secretsmanager as secretsmanager,
    aws_sqs as sqs,
)
from constructs import Construct

from serverless_patterns.config import FunctionSettings, PatternDefaults, PipelineSettings
from serverless_patterns.constructs.alarms import threshold_alarm
from serverless_patterns.constructs.circuit_breaker import CircuitBreakers
from serverless_patterns.constructs.compliance import acknowledge, wildcard_finding
from serverless_patterns.constructs.function import ServerlessFunction
from serverless_patterns.constructs.lambda_code import handler_code, handler_path
from serverless_patterns.constructs.storage import idempotency_table, queue_with_dlq, secure_bucket
from serverless_patterns.constructs.widgets import table_widget
from serverless_patterns.lambdas.event_pipeline.layout import (
    ENRICHMENT_BREAKER,
    PROCESSED_PREFIX,
    REJECTED_PREFIX,
    STATUS_PROCESSED,
    STATUS_REJECTED,
    STATUS_TAG,
    Env,
    Metric,
)

HANDLER_PACKAGE = "event_pipeline"
VISIBILITY_TIMEOUT_FACTOR = 6
MULTIPART_ABORT_DAYS = 7
# The singleton Lambda CDK deploys to apply bucket notifications (Custom::S3BucketNotifications).
NOTIFICATIONS_HANDLER_ID = "BucketNotificationsHandler050a0587b7544547bf325f094a3db834"
READ_UPLOAD_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging", "s3:GetObjectVersionTagging")
TAG_UPLOAD_ACTIONS = ("s3:PutObjectTagging", "s3:PutObjectVersionTagging")
RECORD_ACTIONS = ("s3:GetObject", "s3:PutObject")
OUTCOME_METRICS = (Metric.UPLOADS_ACCEPTED, Metric.FILES_PROCESSED, Metric.FILES_REJECTED, Metric.DUPLICATES_SKIPPED)


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
      ``process_settings.timeout_seconds`` for a batch's worth of them.
    - Lifecycle: processed and rejected uploads expire by tag, old versions after a while.
    - Alarms: DLQ not empty, age of the oldest message, and each function's errors, throttles and
      duration (plus the validator's on-failure queue not empty).

    Redrive the DLQ after a fix with ``python -m serverless_patterns.ops redrive --dlq <arn>``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: PipelineSettings,
        validate_settings: FunctionSettings,
        process_settings: FunctionSettings,
        defaults: PatternDefaults | None = None,
        service: str = "event-pipeline",
        process_code: lambda_.Code | None = None,
        process_handler: str | None = None,
        process_environment: Mapping[str, str] | None = None,
        access_logs_bucket: s3.IBucket | None = None,
        results_bucket: s3.IBucket | None = None,
        circuit_breakers: CircuitBreakers | None = None,
        enrichment_secret: secretsmanager.ISecret | None = None,
    ) -> None:
        """Create the pipeline.

        :param settings: batch size, batching window, maximum concurrency, retries, limits, retention.
        :param validate_settings: memory/timeout of the validator (it reads only the first bytes).
        :param process_settings: memory/timeout of the processor, sized for ``settings.max_file_bytes``;
            the queue's visibility timeout follows from its timeout.
        :param defaults: the environment's cross-cutting settings (alarms, logs, removal policy).
        :param service: Powertools service name: the dimension of the pipeline's business metrics.
        :param process_code: your own processing code; give ``process_handler`` with it. Stage it
            with ``event_pipeline_code.processor_code`` to reuse the batching, retries and
            idempotency (``handler = build_handler(your_processor)``).
        :param process_handler: the Lambda handler string inside ``process_code``.
        :param process_environment: extra environment variables for the processor (e.g. an
            enrichment endpoint).
        :param access_logs_bucket: an existing bucket for S3 server access logs (an organisation's
            log bucket); by default one is created.
        :param results_bucket: an existing bucket for the records (e.g. a data lake's); by default
            one is created.
        :param circuit_breakers: the service's breakers, declaring ``enrichment``; required with
            ``settings.enrichment_url``, whose calls they guard (shared state, opened-alarm, timeouts).
        :param enrichment_secret: the secret with the enrichment service's HTTP headers (a JSON object
            such as ``{"Authorization": "Bearer ..."}``), when it is not found by
            ``settings.enrichment_secret_name``. Only the process function may read it.
        """
        super().__init__(scope, construct_id)
        if (process_code is None) != (process_handler is None):
            raise ValueError("process_code and process_handler go together")
        reserved = process_settings.reserved_concurrency
        if reserved is not None and reserved < settings.max_concurrency:
            raise ValueError(
                f"process reserved_concurrency {reserved} is below max_concurrency {settings.max_concurrency}: "
                "throttled batches would count as receives and push good messages to the DLQ"
            )
        defaults = defaults or PatternDefaults()
        self.settings = settings
        self._defaults = defaults
        self._service = service

        self.access_logs_bucket = access_logs_bucket or self._create_access_logs_bucket(defaults, settings)
        self.upload_bucket = secure_bucket(
            self,
            "Uploads",
            defaults=defaults,
            lifecycle_rules=self._upload_lifecycle(settings),
            server_access_logs_bucket=self.access_logs_bucket,
            server_access_logs_prefix="uploads/",
        )
        self.results_bucket = results_bucket or secure_bucket(
            self,
            "Results",
            defaults=defaults,
            lifecycle_rules=[self._noncurrent_rule(settings)],
            server_access_logs_bucket=self.access_logs_bucket,
            server_access_logs_prefix="results/",
        )
        self.idempotency_table: dynamodb.TableV2 = idempotency_table(self, "Idempotency", defaults=defaults)

        # The queue's visibility follows from the processor's timeout, which is known before it exists.
        visibility = Duration.seconds(
            VISIBILITY_TIMEOUT_FACTOR * process_settings.timeout_seconds + settings.batching_window_seconds
        )
        self.queue, self.dead_letter_queue = queue_with_dlq(
            self, "Queue", visibility_timeout=visibility, max_receive_count=settings.max_receive_count
        )
        self.process_function = ServerlessFunction(
            self,
            "Process",
            code=process_code or handler_code(HANDLER_PACKAGE),
            handler=process_handler or handler_path(HANDLER_PACKAGE, "process"),
            settings=process_settings,
            service=service,
            defaults=defaults,
            description="Processes validated uploads from the queue into processed/{key}.json",
            environment={
                Env.QUEUE_URL: self.queue.queue_url,
                Env.RESULTS_BUCKET: self.results_bucket.bucket_name,
                Env.IDEMPOTENCY_TABLE: self.idempotency_table.table_name,
                Env.IDEMPOTENCY_SECONDS: str(settings.idempotency_hours * 3600),
                Env.MAX_RECEIVE_COUNT: str(settings.max_receive_count),
                Env.RETRY_BASE_SECONDS: str(settings.retry_base_seconds),
                Env.RETRY_MAX_SECONDS: str(settings.retry_max_seconds),
                Env.MAX_DEFERRALS: str(settings.max_deferrals),
                **(process_environment or {}),
            },
        )
        self.validate_function = ServerlessFunction(
            self,
            "Validate",
            code=handler_code(HANDLER_PACKAGE),
            handler=handler_path(HANDLER_PACKAGE, "validate"),
            settings=validate_settings,
            service=service,
            defaults=defaults,
            description="Validates uploads: queues the valid ones, parks the rest with their reason",
            environment={
                Env.QUEUE_URL: self.queue.queue_url,
                Env.RESULTS_BUCKET: self.results_bucket.bucket_name,
                Env.UPLOAD_PREFIX: settings.upload_prefix,
                Env.MAX_FILE_BYTES: str(settings.max_file_bytes),
                Env.FORMAT_SAMPLE_BYTES: str(settings.format_sample_bytes),
                Env.ALLOWED_EXTENSIONS: ",".join(settings.allowed_extensions),
            },
            async_invocation=True,
            async_retry_attempts=settings.validate_retry_attempts,
        )
        assert self.validate_function.failure_queue is not None  # async_invocation=True creates it
        self.validate_failure_queue: sqs.Queue = self.validate_function.failure_queue
        self.circuit_breakers = circuit_breakers
        self.enrichment_secret = self._connect_enrichment(settings, circuit_breakers, enrichment_secret)

        self._grant_handler_access()
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
        self._notify_validator(settings)
        self._alarms = self._create_alarms(defaults)

    # --- public API ---------------------------------------------------------------------------

    @property
    def alarms(self) -> Sequence[cloudwatch.Alarm]:
        """DLQ not empty, oldest message age, and each function's (the validator's on-failure queue too)."""
        return [*self._alarms, *self.validate_function.alarms, *self.process_function.alarms]

    def grant_upload(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` put files where the pipeline picks them up (the upload prefix only)."""
        return self.upload_bucket.grant_put(grantee, f"{self.settings.upload_prefix}*")

    def grant_read_results(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read the ``processed/`` and ``rejected/`` records."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["s3:GetObject", "s3:ListBucket"],
            resource_arns=[
                self.results_bucket.bucket_arn,
                self.results_bucket.arn_for_objects(f"{PROCESSED_PREFIX}*"),
                self.results_bucket.arn_for_objects(f"{REJECTED_PREFIX}*"),
            ],
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
            dimensions_map={"service": self._service},
            statistic="Sum",
            period=self._period(),
        )

    def dashboard_widgets(self) -> Sequence[cloudwatch.IWidget]:
        """Outcomes, queue depths, oldest message age, retries, the idempotency table, both functions."""
        validate, process = self.validate_function.function, self.process_function.function
        return [
            cloudwatch.GraphWidget(
                title="Pipeline outcomes", left=[self.metric_outcome(name) for name in OUTCOME_METRICS], width=6
            ),
            cloudwatch.GraphWidget(
                title="Pipeline queue",
                left=[
                    self.queue.metric_approximate_number_of_messages_visible(period=self._period()),
                    self.queue.metric_approximate_number_of_messages_not_visible(period=self._period()),
                ],
                right=[self.metric_dead_letters()],
                width=6,
            ),
            cloudwatch.GraphWidget(
                title="Pipeline oldest message (s)", left=[self.metric_oldest_message_age()], width=6
            ),
            cloudwatch.GraphWidget(
                title="Pipeline functions",
                left=[validate.metric_errors(), process.metric_errors()],
                right=[self.metric_outcome(Metric.PROCESSING_RETRIED), self.metric_outcome(Metric.PROCESSING_DEFERRED)],
                width=6,
            ),
            table_widget(self.idempotency_table, title="Pipeline idempotency table", period=self._period()),
            *self.validate_function.dashboard_widgets(),
            *self.process_function.dashboard_widgets(),
        ]

    # --- building blocks ------------------------------------------------------------------------

    def _period(self) -> Duration:
        return Duration.seconds(self._defaults.thresholds.period_seconds)

    def _create_access_logs_bucket(self, defaults: PatternDefaults, settings: PipelineSettings) -> s3.Bucket:
        return secure_bucket(
            self,
            "AccessLogs",
            defaults=defaults,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireLogs",
                    expiration=Duration.days(settings.access_log_retention_days),
                    noncurrent_version_expiration=Duration.days(1),
                )
            ],
        )

    @staticmethod
    def _noncurrent_rule(settings: PipelineSettings) -> s3.LifecycleRule:
        return s3.LifecycleRule(
            id="NoncurrentVersions",
            noncurrent_version_expiration=Duration.days(settings.noncurrent_retention_days),
            abort_incomplete_multipart_upload_after=Duration.days(MULTIPART_ABORT_DAYS),
            expired_object_delete_marker=True,
        )

    @classmethod
    def _upload_lifecycle(cls, settings: PipelineSettings) -> list[s3.LifecycleRule]:
        return [
            s3.LifecycleRule(
                id="ExpireProcessed",
                prefix=settings.upload_prefix,
                tag_filters={STATUS_TAG: STATUS_PROCESSED},
                expiration=Duration.days(settings.processed_retention_days),
            ),
            s3.LifecycleRule(
                id="ExpireRejected",
                prefix=settings.upload_prefix,
                tag_filters={STATUS_TAG: STATUS_REJECTED},
                expiration=Duration.days(settings.rejected_retention_days),
            ),
            cls._noncurrent_rule(settings),
        ]

    def _connect_enrichment(
        self,
        settings: PipelineSettings,
        breakers: CircuitBreakers | None,
        secret: secretsmanager.ISecret | None,
    ) -> secretsmanager.ISecret | None:
        """Connect the processor to the enrichment service, if there is one; the secret it reads."""
        if not settings.enrichment_url:
            if secret is not None:
                raise ValueError("enrichment_secret is given but settings.enrichment_url is not")
            return None
        if breakers is None:
            raise ValueError(
                f"settings.enrichment_url needs circuit_breakers declaring {ENRICHMENT_BREAKER!r}: "
                "every external call goes through a breaker"
            )
        if secret is None and settings.enrichment_secret_name:
            secret = secretsmanager.Secret.from_secret_name_v2(
                self, "EnrichmentCredentials", settings.enrichment_secret_name
            )
        breakers.connect(self.process_function, ENRICHMENT_BREAKER, url=settings.enrichment_url, secret=secret)
        return secret

    def _grant_handler_access(self) -> None:
        uploads = self.upload_bucket.arn_for_objects(f"{self.settings.upload_prefix}*")
        record_prefixes = (
            (self.validate_function, (REJECTED_PREFIX,)),
            (self.process_function, (PROCESSED_PREFIX, REJECTED_PREFIX)),
        )
        # ListBucket lets HeadObject answer 404 (gone) instead of 403 for a missing key.
        list_buckets = iam.PolicyStatement(
            actions=["s3:ListBucket"], resources=[self.upload_bucket.bucket_arn, self.results_bucket.bucket_arn]
        )
        for function, prefixes in record_prefixes:
            records = [self.results_bucket.arn_for_objects(f"{prefix}*") for prefix in prefixes]
            role = function.role
            role.add_to_principal_policy(
                iam.PolicyStatement(actions=[*READ_UPLOAD_ACTIONS, *TAG_UPLOAD_ACTIONS], resources=[uploads])
            )
            role.add_to_principal_policy(iam.PolicyStatement(actions=list(RECORD_ACTIONS), resources=records))
            role.add_to_principal_policy(list_buckets)
            self.queue.grant_send_messages(role)
            acknowledge(
                role,
                (
                    wildcard_finding(self, uploads),
                    "Upload keys are unknown at deploy time; access is limited to the upload prefix.",
                ),
                *(
                    (
                        wildcard_finding(self, arn),
                        "Record keys follow the upload keys; access is limited to the records' prefix.",
                    )
                    for arn in records
                ),
            )
        # Exactly Powertools idempotency's calls (as ApiBackend grants them): no batches, queries or scans.
        self.idempotency_table.grant(
            self.process_function.role,
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        )

    def _notify_validator(self, settings: PipelineSettings) -> None:
        destination = s3n.LambdaDestination(self.validate_function.alias)
        for suffix in settings.upload_suffixes or (None,):
            self.upload_bucket.add_event_notification(
                s3.EventType.OBJECT_CREATED,
                destination,
                s3.NotificationKeyFilter(prefix=settings.upload_prefix, suffix=suffix),
            )
        handler = Stack.of(self).node.try_find_child(NOTIFICATIONS_HANDLER_ID)
        if handler is not None:
            acknowledge(
                handler,
                (
                    "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                    "CDK's bucket-notifications handler (a deployment-time custom resource) comes with this role.",
                ),
            )

    def _create_alarms(self, defaults: PatternDefaults) -> list[cloudwatch.Alarm]:
        thresholds = defaults.thresholds
        path = self.node.path
        return [
            threshold_alarm(
                self,
                "DeadLettersAlarm",
                self.metric_dead_letters(),
                thresholds.dlq_visible_messages,
                f"{path}: poison messages in the DLQ (fix, then redrive with serverless_patterns.ops)",
                thresholds,
            ),
            threshold_alarm(
                self,
                "OldestMessageAlarm",
                self.metric_oldest_message_age(),
                thresholds.queue_oldest_message_seconds,
                f"{path}: uploads wait too long for processing",
                thresholds,
            ),
        ]
