"""Typed, frozen configuration shared by the constructs and the environment stacks.

Constructs take these values as keyword arguments; only ``app.py`` decides which
environment's values are used. Nothing here reads the process environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from aws_cdk import RemovalPolicy, aws_logs as logs


class ApiAuth(StrEnum):
    """How callers authenticate to the API. ``NONE`` is refused outside Dev.

    ``IAM``: SigV4-signed requests from AWS principals (services, CLIs); grant them with
    ``ApiBackend.grant_invoke_api``. ``COGNITO``: end users with an ID token of a Cognito user
    pool (given, or created with MFA required and no self sign-up). ``NONE``: open, for Dev.
    """

    IAM = "iam"
    COGNITO = "cognito"
    NONE = "none"


@dataclass(frozen=True)
class FunctionSettings:
    """Sizing of one Lambda function.

    ``provisioned_concurrency`` > 0 publishes a ``live`` alias with that many
    pre-initialised environments and scales it between that value and
    ``max_provisioned_concurrency`` on utilisation.

    Attributes:
        memory_mb: memory, 128..10240 MB. CPU share grows with it, so a CPU-bound handler can
            get both faster and cheaper with more (measure with Lambda Power Tuning).
        timeout_seconds: 1..900 s. Queues that feed the function get a visibility timeout
            derived from it, and the p99-duration alarm fires near it.
        provisioned_concurrency: environments kept initialised on the ``live`` alias (no cold
            starts up to that many concurrent calls; billed while idle). 0: none.
        max_provisioned_concurrency: with ``provisioned_concurrency``, the ceiling the alias's
            provisioned concurrency auto scales to (at 70 % utilisation). 0 or equal: no scaling.
        reserved_concurrency: caps the function's concurrent executions and sets them aside
            from the account's pool (protects both the function and its neighbours). None:
            the unreserved pool.
    """

    memory_mb: int = 256
    timeout_seconds: int = 10
    provisioned_concurrency: int = 0
    max_provisioned_concurrency: int = 0
    reserved_concurrency: int | None = None

    def __post_init__(self) -> None:
        if not 128 <= self.memory_mb <= 10_240:
            raise ValueError(f"memory_mb must be 128..10240, got {self.memory_mb}")
        if not 1 <= self.timeout_seconds <= 900:
            raise ValueError(f"timeout_seconds must be 1..900, got {self.timeout_seconds}")
        if self.provisioned_concurrency < 0:
            raise ValueError("provisioned_concurrency must be >= 0")
        if self.max_provisioned_concurrency and (self.max_provisioned_concurrency < self.provisioned_concurrency):
            raise ValueError("max_provisioned_concurrency must be >= provisioned_concurrency")


@dataclass(frozen=True)
class AlarmThresholds:
    """Alarm thresholds shared by every pattern in one environment.

    An alarm fires when its metric reaches the threshold (>=) in ``datapoints_to_alarm`` of
    the last ``evaluation_periods`` periods; missing data is not breaching.

    Attributes:
        lambda_errors: failed invocations per period, per function.
        lambda_throttles: throttled invocations per period, per function.
        duration_p99_fraction_of_timeout: p99 duration above this share of the timeout alarms
            before invocations start timing out.
        provisioned_spillover: invocations per period that found no provisioned environment
            free (only functions with provisioned concurrency).
        api_5xx_rate_percent: share of API requests answered 5XX (counted from 10 requests
            per period on: fewer is noise).
        api_4xx_rate_percent: share answered 4XX; a warning alarm (client misuse), not a page.
        api_p99_latency_ms: API Gateway's p99 latency.
        dynamodb_throttles: throttled requests per period, per table.
        queue_oldest_message_seconds: age of the oldest message of a work queue (work is stuck
            or falling behind).
        dlq_visible_messages: messages in a dead-letter or on-failure queue.
        account_concurrency: the account's Lambda concurrency quota in the Region (AWS's default
            1,000; set yours if it was raised): the dashboard alarms as concurrent executions near it.
        capacity_share: share of a limit (that quota, a function's reserved concurrency) at which
            its alarm fires, before the limit throttles (0..1).
        evaluation_periods: how many periods each alarm looks at.
        datapoints_to_alarm: how many of them must breach.
        period_seconds: the length of one period (also the dashboards' metric period).
    """

    lambda_errors: int = 1
    lambda_throttles: int = 1
    duration_p99_fraction_of_timeout: float = 0.8
    provisioned_spillover: int = 1
    api_5xx_rate_percent: float = 1.0
    api_4xx_rate_percent: float = 10.0
    api_p99_latency_ms: int = 1_000
    dynamodb_throttles: int = 1
    queue_oldest_message_seconds: int = 300
    dlq_visible_messages: int = 1
    account_concurrency: int = 1_000
    capacity_share: float = 0.8
    evaluation_periods: int = 3
    datapoints_to_alarm: int = 2
    period_seconds: int = 60

    def __post_init__(self) -> None:
        if self.account_concurrency < 1:
            raise ValueError(f"account_concurrency must be >= 1, got {self.account_concurrency}")
        if not 0 < self.capacity_share <= 1:
            raise ValueError(f"capacity_share must be in (0, 1], got {self.capacity_share}")


@dataclass(frozen=True)
class PatternDefaults:
    """Cross-cutting settings every pattern applies to the resources it creates.

    An environment hands its own to every pattern (``EnvironmentConfig.defaults``); an app
    of your own builds one directly. The defaults are production-safe: data retained,
    point-in-time recovery, tracing on.

    Attributes:
        metrics_namespace: CloudWatch namespace of the handlers' business metrics (EMF).
        thresholds: the alarm thresholds (``AlarmThresholds``).
        log_retention: retention of every log group created (functions, API access logs,
            state machine executions).
        removal_policy: what ``cdk destroy`` does to tables, buckets, log groups, keys and
            secrets; ``RETAIN`` also turns on deletion protection of tables and user pools.
        point_in_time_recovery: continuous backups of every DynamoDB table created.
        tracing: X-Ray active tracing of functions, the API stage and state machines.
        log_level: the handlers' Powertools log level (``DEBUG`` also raises API Gateway's
            execution logging from ERROR to INFO).
        debug_log_sample_rate: share of invocations (0..1) logged at DEBUG whatever the level.
        keep_warm: ping functions without provisioned concurrency every 5 minutes (the
            handlers return at once on the ping).
    """

    metrics_namespace: str = "ServerlessPatterns"
    thresholds: AlarmThresholds = field(default_factory=AlarmThresholds)
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH
    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN
    point_in_time_recovery: bool = True
    tracing: bool = True
    log_level: str = "INFO"
    debug_log_sample_rate: float = 0.0
    keep_warm: bool = False


@dataclass(frozen=True)
class PipelineSettings:
    """EventPipeline tuning.

    ``upload_suffixes`` narrows the S3 notification (one per suffix); left empty, every
    object under ``upload_prefix`` is validated, so a file of the wrong type is parked with
    its reason instead of being silently ignored. ``allowed_extensions`` is what the
    validator accepts (the default processor reads CSV with a header row and JSON Lines).
    Transient processing failures back off by ``retry_base_seconds * 2**(receives - 1)``
    up to ``retry_max_seconds``; a downstream outage (``RetryLaterError``) is re-queued up
    to ``max_deferrals`` times instead of counting towards ``max_receive_count``.
    ``enrichment_url`` (optional) is an HTTP service the default processor asks about each
    upload, behind the ``enrichment`` circuit breaker, with the HTTP headers carrying its
    credentials in the Secrets Manager secret ``enrichment_secret_name``.

    Attributes:
        batch_size: messages per processor invocation (1..10000; above 10 needs a batching window).
        batching_window_seconds: how long the event source gathers a batch (0..300 s).
        max_concurrency: the SQS event source's maximum concurrency (2..1000); at most the
            processor's reserved concurrency, or throttled batches would count as receives.
        max_receive_count: receives of a message before SQS moves it to the DLQ.
        max_file_bytes: larger uploads are parked as too large.
        upload_prefix: the folder uploads are picked up from, such as ``incoming/``.
        upload_suffixes: narrow the S3 notification to these suffixes (empty: every key).
        allowed_extensions: the extensions (and so formats) the validator accepts.
        format_sample_bytes: how many first bytes the validator reads (1 KiB..1 MiB).
        retry_base_seconds: the first backoff of a failed message.
        retry_max_seconds: the longest backoff (at most 12 h, SQS's visibility limit).
        max_deferrals: re-queues while a dependency is down, not counted as receives.
        idempotency_hours: how long a processed upload version is remembered.
        validate_retry_attempts: Lambda's async retries of the validator (0..2).
        processed_retention_days: lifecycle of uploads tagged processed.
        rejected_retention_days: lifecycle of uploads tagged rejected.
        noncurrent_retention_days: lifecycle of old object versions in both buckets.
        access_log_retention_days: lifecycle of the S3 server access logs.
        enrichment_url: the optional enrichment service's URL.
        enrichment_secret_name: the Secrets Manager secret with its HTTP headers.
    """

    batch_size: int = 10
    batching_window_seconds: int = 5
    max_concurrency: int = 5
    max_receive_count: int = 5
    max_file_bytes: int = 50 * 1024 * 1024
    upload_prefix: str = "incoming/"
    upload_suffixes: tuple[str, ...] = ()
    allowed_extensions: tuple[str, ...] = (".csv", ".jsonl", ".ndjson")
    format_sample_bytes: int = 64 * 1024
    retry_base_seconds: int = 15
    retry_max_seconds: int = 900
    max_deferrals: int = 10
    idempotency_hours: int = 72
    validate_retry_attempts: int = 2
    processed_retention_days: int = 30
    rejected_retention_days: int = 90
    noncurrent_retention_days: int = 30
    access_log_retention_days: int = 90
    enrichment_url: str | None = None
    enrichment_secret_name: str | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= 10_000:
            raise ValueError(f"batch_size must be 1..10000, got {self.batch_size}")
        if not 0 <= self.batching_window_seconds <= 300:
            raise ValueError("batching_window_seconds must be 0..300")
        if self.batch_size > 10 and self.batching_window_seconds < 1:
            raise ValueError("a batch_size above 10 needs batching_window_seconds >= 1")
        if not 2 <= self.max_concurrency <= 1_000:
            raise ValueError("max_concurrency must be 2..1000 (the SQS event source's limits)")
        if not 1 <= self.max_receive_count <= 1_000:
            raise ValueError("max_receive_count must be 1..1000")
        if self.max_file_bytes < 1:
            raise ValueError("max_file_bytes must be positive")
        if not self.upload_prefix.endswith("/") or self.upload_prefix.startswith("/"):
            raise ValueError("upload_prefix must be a folder such as 'incoming/'")
        if not self.allowed_extensions or not all(ext.startswith(".") for ext in self.allowed_extensions):
            raise ValueError("allowed_extensions must be a non-empty tuple such as ('.csv',)")
        if not 1_024 <= self.format_sample_bytes <= 1_048_576:
            raise ValueError("format_sample_bytes must be 1 KiB..1 MiB")
        if not 1 <= self.retry_base_seconds <= self.retry_max_seconds <= 43_200:
            raise ValueError("need 1 <= retry_base_seconds <= retry_max_seconds <= 43200 (12 h)")
        if self.max_deferrals < 0 or self.idempotency_hours < 1 or not 0 <= self.validate_retry_attempts <= 2:
            raise ValueError("max_deferrals >= 0, idempotency_hours >= 1, validate_retry_attempts 0..2")
        retention = (
            self.processed_retention_days,
            self.rejected_retention_days,
            self.noncurrent_retention_days,
            self.access_log_retention_days,
        )
        if min(retention) < 1:
            raise ValueError("retention days must be >= 1")
        if self.enrichment_secret_name and not self.enrichment_url:
            raise ValueError("enrichment_secret_name needs enrichment_url")


@dataclass(frozen=True)
class FanOutSettings:
    """FanOut tuning.

    ``worker_retries`` bounds redeliveries of a chunk (the queue's maxReceiveCount is
    ``worker_retries + 1``); ``worker_max_concurrency`` caps concurrent workers at the
    event source (the backpressure), so it must not exceed the worker's reserved
    concurrency when that is set. Jobs still open ``job_deadline_minutes`` after they
    start (or after aggregation starts) are failed by a sweeper running every
    ``sweep_interval_minutes``. A job's completions are counted in ``completion_shards``
    shards (at most one per chunk), so no single DynamoDB item takes a write per chunk: a job
    completes at up to about 250 chunks/s per shard (``python -m serverless_patterns.capacity``).

    Attributes:
        chunk_size: items per chunk (one queue message each).
        max_items: larger jobs are refused (at most 1,000,000 chunks).
        worker_parallelism: threads a worker uses on the items of one chunk (1..64).
        worker_retries: redeliveries of a failed chunk before it goes to the DLQ (0..999).
        job_deadline_minutes: a job still open this long after it started is failed.
        worker_batch_size: chunks per worker invocation (1..10).
        worker_max_concurrency: concurrent workers, the event source's cap (2..1000).
        sweep_interval_minutes: how often the sweeper looks for overdue jobs.
        max_source_bytes: the largest items object a job may name in the input bucket.
        job_retention_days: how long job records (TTL) and input objects are kept.
        completion_shards: shards a job's completed chunks are counted in (0..99; 0: one counter
            on the job item, which caps a job near 200 chunks/s).
    """

    chunk_size: int = 100
    max_items: int = 100_000
    worker_parallelism: int = 8
    worker_retries: int = 2
    job_deadline_minutes: int = 30
    worker_batch_size: int = 1
    worker_max_concurrency: int = 10
    sweep_interval_minutes: int = 5
    max_source_bytes: int = 10 * 1024 * 1024
    job_retention_days: int = 30
    completion_shards: int = 8

    def __post_init__(self) -> None:
        if not 1 <= self.chunk_size <= self.max_items:
            raise ValueError(f"chunk_size must be 1..max_items ({self.max_items}), got {self.chunk_size}")
        if self.max_items // self.chunk_size + 1 > 1_000_000:
            raise ValueError("max_items / chunk_size must stay below 1,000,000 chunks")
        if not 1 <= self.worker_parallelism <= 64:
            raise ValueError(f"worker_parallelism must be 1..64, got {self.worker_parallelism}")
        if not 0 <= self.worker_retries <= 999:
            raise ValueError(f"worker_retries must be 0..999, got {self.worker_retries}")
        if not 1 <= self.worker_batch_size <= 10:
            raise ValueError(f"worker_batch_size must be 1..10, got {self.worker_batch_size}")
        if not 2 <= self.worker_max_concurrency <= 1_000:
            raise ValueError(
                f"worker_max_concurrency must be 2..1000 (SQS event source), got {self.worker_max_concurrency}"
            )
        if not 1 <= self.sweep_interval_minutes < self.job_deadline_minutes:
            raise ValueError("sweep_interval_minutes must be >= 1 and shorter than job_deadline_minutes")
        if self.max_source_bytes < 1 or self.job_retention_days < 1:
            raise ValueError("max_source_bytes and job_retention_days must be positive")
        if not 0 <= self.completion_shards <= 99:
            raise ValueError(
                f"completion_shards must be 0..99 (a job and its shards are created in one transaction), "
                f"got {self.completion_shards}"
            )


@dataclass(frozen=True)
class WorkflowSettings:
    """OrderWorkflow tuning.

    ``failed_executions_threshold``: declined payments, invalid orders and out-of-stock
    orders end in Fail states too, so one failed execution is business as usual; the
    alarm fires at this many per period (timeouts and throttles alarm at one).
    ``payment_gateway`` names the ChargePayment adapter (``"ledger"``: charges are
    recorded in our own payments ledger only; ``"http"``: a provider's REST API at
    ``payment_gateway_url``, behind the ``payment-gateway`` circuit breaker, with the HTTP
    headers carrying its credentials in the Secrets Manager secret
    ``payment_gateway_secret_name``). ``max_charge_cents``: larger charges
    are declined. ``charge_idempotency_hours``: how long a repeated charge of the same
    order returns the first result without touching the gateway (the ledger keeps
    refusing a second charge after that).

    Attributes:
        express: an Express state machine (runs of at most 5 minutes) instead of Standard.
        log_execution_data: include states' inputs and outputs in the execution logs.
        execution_timeout_minutes: an execution running longer fails (no compensation runs).
        payment_gateway: the ChargePayment adapter, ``ledger`` or ``http``.
        payment_gateway_url: the provider's API for ``http``.
        payment_gateway_secret_name: the Secrets Manager secret with its HTTP headers.
        max_charge_cents: larger charges are declined.
        charge_idempotency_hours: how long a repeated charge returns the first result.
        failed_executions_threshold: failed executions per period that alarm.
        confirmation_max_receive_count: receives of a deferred confirmation before its DLQ.
    """

    express: bool = False
    log_execution_data: bool = False
    execution_timeout_minutes: int = 5
    payment_gateway: str = "ledger"
    payment_gateway_url: str | None = None
    payment_gateway_secret_name: str | None = None
    max_charge_cents: int = 1_000_000
    charge_idempotency_hours: int = 24
    failed_executions_threshold: int = 5
    confirmation_max_receive_count: int = 5

    def __post_init__(self) -> None:
        # Express workflows run for at most five minutes.
        longest = 5 if self.express else 60 * 24 * 365
        if not 1 <= self.execution_timeout_minutes <= longest:
            raise ValueError(f"execution_timeout_minutes must be 1..{longest}, got {self.execution_timeout_minutes}")
        if self.max_charge_cents < 1:
            raise ValueError("max_charge_cents must be >= 1")
        if self.charge_idempotency_hours < 1:
            raise ValueError("charge_idempotency_hours must be >= 1")
        if self.failed_executions_threshold < 1 or self.confirmation_max_receive_count < 1:
            raise ValueError("failed_executions_threshold and confirmation_max_receive_count must be >= 1")
        if self.payment_gateway_secret_name and not self.payment_gateway_url:
            raise ValueError("payment_gateway_secret_name needs payment_gateway_url")


@dataclass(frozen=True)
class CircuitBreakerSettings:
    """Thresholds of the circuit breakers that guard calls to external services.

    A breaker opens after ``failure_threshold`` failures within ``window_seconds``,
    fails fast for ``cooldown_seconds``, then lets one trial call through. Each
    container trusts its cached view of a closed breaker for ``cache_seconds``
    (a closed breaker then costs no DynamoDB call). HTTP calls time out after
    ``connect_timeout_seconds`` + ``read_timeout_seconds``, which must stay under
    half of the calling function's timeout.

    Attributes:
        failure_threshold: failures within the window that open a breaker.
        window_seconds: the window failures are counted in.
        cooldown_seconds: how long an open breaker fails fast before a trial call.
        connect_timeout_seconds: the HTTP connect timeout of guarded calls.
        read_timeout_seconds: the HTTP read timeout of guarded calls.
        cache_seconds: how long a container trusts its cached view of a closed breaker.
    """

    failure_threshold: int = 5
    window_seconds: int = 60
    cooldown_seconds: int = 30
    connect_timeout_seconds: float = 1.0
    read_timeout_seconds: float = 3.0
    cache_seconds: float = 5.0

    def __post_init__(self) -> None:
        if self.failure_threshold < 1:
            raise ValueError(f"failure_threshold must be >= 1, got {self.failure_threshold}")
        if self.window_seconds < 1 or self.cooldown_seconds < 1:
            raise ValueError("window_seconds and cooldown_seconds must be >= 1")
        if self.connect_timeout_seconds <= 0 or self.read_timeout_seconds <= 0:
            raise ValueError("connect_timeout_seconds and read_timeout_seconds must be > 0")
        if not 0 <= self.cache_seconds <= self.cooldown_seconds:
            raise ValueError("cache_seconds must be between 0 and cooldown_seconds")


@dataclass(frozen=True)
class PowerTuningSettings:
    """AWS Lambda Power Tuning (the public Serverless Application Repository app): opt-in, Dev only.

    ``enabled`` deploys its state machine next to the service. A tuning run republishes the
    function it tunes at each of ``power_values`` (MB) and invokes it with the payload you give,
    so it belongs in Dev. ``total_execution_timeout_seconds`` bounds one run's executor step;
    ``log_retention_days`` is its own functions' log retention.
    """

    enabled: bool = False
    power_values: tuple[int, ...] = (128, 256, 512, 1024, 1536, 3008)
    semantic_version: str = "4.4.0"
    total_execution_timeout_seconds: int = 300
    log_retention_days: int = 7

    def __post_init__(self) -> None:
        if not self.power_values or not all(128 <= value <= 10_240 for value in self.power_values):
            raise ValueError(f"power_values must be 128..10240 MB each, got {self.power_values}")
        if not 10 <= self.total_execution_timeout_seconds <= 900:
            raise ValueError("total_execution_timeout_seconds must be 10..900")
        if self.log_retention_days < 1:
            raise ValueError("log_retention_days must be >= 1")


@dataclass(frozen=True)
class EnvironmentConfig:
    """Everything that differs between Dev, Staging and Prod.

    The three values live in ``serverless_patterns.stacks.environments``; the service stack
    hands each pattern its part. Only Dev may run an open API (``ApiAuth.NONE``) or allow
    the CORS origin ``*``.

    Attributes:
        name: the Stage's name (``Dev``, ``Staging``, ``Prod``) and the metrics namespace suffix.
        account: AWS account to deploy to (None: environment-agnostic, from the CLI's credentials).
        region: AWS region to deploy to (None: environment-agnostic).
        functions: ``FunctionSettings`` per function role (``api``, ``validate``, ``process``,
            ``master``, ``worker``, ``aggregator``, ``sweeper``, ``status``, ``validate_order``,
            ``charge_payment``, ``update_inventory``, ``send_confirmation``, ``refund_payment``).
        default_function: the settings of every role not in ``functions``.
        log_retention: retention of every log group.
        removal_policy: ``DESTROY`` (Dev) or ``RETAIN`` (data survives ``cdk destroy``).
        alarm_thresholds: the ``AlarmThresholds`` of every alarm.
        alarm_emails: who the alarm topic e-mails (each must confirm the subscription).
        api_auth: ``ApiAuth`` of the items API.
        cors_origins: browser origins allowed to call the API (empty: no CORS).
        api_throttle_rate: the API stage's steady requests per second.
        api_throttle_burst: the API stage's burst.
        point_in_time_recovery: continuous backups of every table.
        tracing: X-Ray tracing everywhere.
        keep_warm: keep-warm pings for functions without provisioned concurrency.
        log_level: the handlers' log level.
        debug_log_sample_rate: share of invocations logged at DEBUG.
        pipeline: ``PipelineSettings`` of the EventPipeline.
        fan_out: ``FanOutSettings`` of the FanOut.
        workflow: ``WorkflowSettings`` of the OrderWorkflow.
        circuit_breaker: ``CircuitBreakerSettings`` of the breakers guarding external calls.
        power_tuning: ``PowerTuningSettings`` (opt-in AWS Lambda Power Tuning, Dev only).
    """

    name: str
    account: str | None = None
    region: str | None = None
    functions: dict[str, FunctionSettings] = field(default_factory=dict)
    default_function: FunctionSettings = field(default_factory=FunctionSettings)
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_WEEK
    removal_policy: RemovalPolicy = RemovalPolicy.DESTROY
    alarm_thresholds: AlarmThresholds = field(default_factory=AlarmThresholds)
    alarm_emails: tuple[str, ...] = ()
    api_auth: ApiAuth = ApiAuth.IAM
    cors_origins: tuple[str, ...] = ()
    api_throttle_rate: int = 100
    api_throttle_burst: int = 200
    point_in_time_recovery: bool = True
    tracing: bool = True
    keep_warm: bool = False
    log_level: str = "INFO"
    debug_log_sample_rate: float = 0.0
    pipeline: PipelineSettings = field(default_factory=PipelineSettings)
    fan_out: FanOutSettings = field(default_factory=FanOutSettings)
    workflow: WorkflowSettings = field(default_factory=WorkflowSettings)
    circuit_breaker: CircuitBreakerSettings = field(default_factory=CircuitBreakerSettings)
    power_tuning: PowerTuningSettings = field(default_factory=PowerTuningSettings)

    def __post_init__(self) -> None:
        if not self.is_dev and self.api_auth is ApiAuth.NONE:
            raise ValueError(f"{self.name}: an unauthenticated API is allowed in Dev only")
        if not self.is_dev and "*" in self.cors_origins:
            raise ValueError(f"{self.name}: CORS origin '*' is allowed in Dev only")
        if not self.is_dev and self.power_tuning.enabled:
            raise ValueError(f"{self.name}: Lambda Power Tuning republishes and invokes functions; Dev only")

    @property
    def is_dev(self) -> bool:
        """Dev alone may run an open API and CORS ``*``."""
        return self.name.lower() == "dev"

    @property
    def metrics_namespace(self) -> str:
        """CloudWatch namespace of the business metrics, one per environment."""
        return f"ServerlessPatterns/{self.name}"

    @property
    def defaults(self) -> PatternDefaults:
        """The cross-cutting settings handed to every pattern of this environment."""
        return PatternDefaults(
            metrics_namespace=self.metrics_namespace,
            thresholds=self.alarm_thresholds,
            log_retention=self.log_retention,
            removal_policy=self.removal_policy,
            point_in_time_recovery=self.point_in_time_recovery,
            tracing=self.tracing,
            log_level=self.log_level,
            debug_log_sample_rate=self.debug_log_sample_rate,
            keep_warm=self.keep_warm,
        )

    def function(self, role: str) -> FunctionSettings:
        """Settings of the function playing ``role`` (e.g. ``"api"``), or the default."""
        return self.functions.get(role, self.default_function)
