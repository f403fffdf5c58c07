"""Each pattern's own tuning: ``ApiSettings``, ``PipelineSettings``, ``FanOutSettings``, ``WorkflowSettings``,
and the building blocks' ``CircuitBreakerSettings`` and ``PowerTuningSettings``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from serverless_patterns.config.checks import check_fields
from serverless_patterns.config.common import ApiAuth

_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")
_STAGE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
# An S3 folder that an IAM resource ARN can name exactly: no wildcards, no leading slash.
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$")  # an RFC 9110 token
_PREFIX = re.compile(r"^(?!/)[^*?]{0,510}[^/*?]/$")


@dataclass(frozen=True)
class ApiSettings:
    """ApiBackend tuning: who may call the API, from which browser origins, how fast.

    :param auth: ``ApiAuth.IAM`` (SigV4 callers), ``COGNITO`` (ID tokens of a user pool) or
        ``NONE`` (open; development environments only, see ``PatternDefaults.development``).
    :param cors_origins: browser origins allowed to call the API: exact ``https://host[:port]``
        values, or ``*`` alone. ``*`` and ``http://`` origins are for development environments
        only. Empty: no CORS (same-origin and server callers).
    :param cors_allow_headers: request headers your routes read that browsers must be allowed to
        send (e.g. ``X-Tenant-Id``), besides the ones the pattern's helpers read (``Idempotency-Key``,
        ``If-Match``) and CORS's own defaults; API Gateway's preflight and the handler's CORS both
        allow them (the handler gets them as ``CORS_ALLOW_HEADERS``).
    :param throttle_rate: the stage's steady requests per second (every method).
    :param throttle_burst: the stage's burst bucket.
    :param stage_name: the deployed stage, the first path segment of the URL.
    :param idempotency_hours: how long a repeated ``POST`` with the same ``Idempotency-Key`` is
        answered from the first result.
    :param web_acl: put a WAFv2 web ACL in front of the stage (AWS managed rules and a per-IP rate
        limit, ``ApiWebAcl``). None: created outside development environments
        (``PatternDefaults.development``); True/False: always/never. An ``existing_web_acl_arn`` given to
        the construct is used instead.
    :param web_acl_rate_limit: requests one client IP may send per 5 minutes before the web ACL blocks
        it (10..2,000,000,000). Callers behind one NAT share an IP: size it for them.
    """

    auth: ApiAuth = ApiAuth.IAM
    cors_origins: tuple[str, ...] = ()
    cors_allow_headers: tuple[str, ...] = ()
    throttle_rate: int = 100
    throttle_burst: int = 200
    stage_name: str = "v1"
    idempotency_hours: int = 24
    web_acl: bool | None = None
    web_acl_rate_limit: int = 3_000

    def __post_init__(self) -> None:
        check_fields(self)
        origins = tuple(origin.strip() for origin in self.cors_origins)
        object.__setattr__(self, "cors_origins", origins)
        if "*" in origins and len(origins) > 1:
            raise ValueError("ApiSettings.cors_origins: '*' must be the only origin")
        for origin in origins:
            if origin != "*" and not _ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"ApiSettings.cors_origins: {origin!r} must look like https://host[:port], without a path"
                )
        if len(set(origins)) != len(origins):
            raise ValueError(f"ApiSettings.cors_origins lists an origin twice: {origins}")
        for header in self.cors_allow_headers:
            if not _HEADER_NAME.fullmatch(header):
                raise ValueError(f"ApiSettings.cors_allow_headers: {header!r} is not an HTTP header name")
        if self.throttle_rate < 1 or self.throttle_burst < 1:
            raise ValueError("ApiSettings.throttle_rate and throttle_burst must be >= 1")
        if not _STAGE_NAME.fullmatch(self.stage_name):
            raise ValueError(f"ApiSettings.stage_name must match {_STAGE_NAME.pattern}, got {self.stage_name!r}")
        if not 1 <= self.idempotency_hours <= 24 * 30:
            raise ValueError(f"ApiSettings.idempotency_hours must be 1..720, got {self.idempotency_hours}")
        if not 10 <= self.web_acl_rate_limit <= 2_000_000_000:
            raise ValueError(
                f"ApiSettings.web_acl_rate_limit must be 10..2000000000 (WAF's rate-based rule), "
                f"got {self.web_acl_rate_limit}"
            )

    def creates_web_acl(self, *, development: bool) -> bool:
        """Whether the API gets a web ACL of its own: ``web_acl``, or by default outside development."""
        return (not development) if self.web_acl is None else self.web_acl

    def development_allowances(self) -> list[str]:
        """What these settings allow that only a development environment may: empty when production-safe."""
        allowances = []
        if self.auth is ApiAuth.NONE:
            allowances.append("auth=ApiAuth.NONE (an open API)")
        if "*" in self.cors_origins:
            allowances.append("the CORS origin '*'")
        allowances.extend(f"the plain-http CORS origin {o!r}" for o in self.cors_origins if o.startswith("http://"))
        return allowances

    def check_environment(self, *, development: bool, where: str) -> None:
        """Refuse development allowances outside a development environment, naming each."""
        allowances = self.development_allowances()
        if allowances and not development:
            raise ValueError(
                f"{where}: {'; '.join(allowances)} is allowed in development environments only "
                "(PatternDefaults(development=True))"
            )


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

    :param batch_size: messages per processor invocation (1..10000; above 10 needs a batching window).
    :param batching_window_seconds: how long the event source gathers a batch (0..300 s).
    :param max_concurrency: the SQS event source's maximum concurrency (2..1000); at most the
        processor's reserved concurrency, or throttled batches would count as receives.
    :param max_receive_count: receives of a message before SQS moves it to the DLQ.
    :param max_file_bytes: larger uploads are parked as too large.
    :param upload_prefix: the folder uploads are picked up from, such as ``incoming/``.
    :param upload_suffixes: narrow the S3 notification to these suffixes (empty: every key).
    :param allowed_extensions: the extensions (and so formats) the validator accepts.
    :param format_sample_bytes: how many first bytes the validator reads (1 KiB..1 MiB).
    :param retry_base_seconds: the first backoff of a failed message.
    :param retry_max_seconds: the longest backoff (at most 12 h, SQS's visibility limit).
    :param max_deferrals: re-queues while a dependency is down, not counted as receives.
    :param idempotency_hours: how long a processed upload version is remembered.
    :param validate_retry_attempts: Lambda's async retries of the validator (0..2).
    :param processed_retention_days: lifecycle of uploads tagged processed.
    :param rejected_retention_days: lifecycle of uploads tagged rejected.
    :param noncurrent_retention_days: lifecycle of old object versions in both buckets.
    :param access_log_retention_days: lifecycle of the S3 server access logs.
    :param enrichment_url: the optional enrichment service's URL.
    :param enrichment_secret_name: the Secrets Manager secret with its HTTP headers.
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
        check_fields(self)
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

    :param chunk_size: items per chunk (one queue message each).
    :param max_items: larger jobs are refused (at most 1,000,000 chunks).
    :param worker_parallelism: threads a worker uses on the items of one chunk (1..64).
    :param worker_retries: redeliveries of a failed chunk before it goes to the DLQ (0..999).
    :param job_deadline_minutes: a job still open this long after it started is failed.
    :param worker_batch_size: chunks per worker invocation (1..10).
    :param worker_max_concurrency: concurrent workers, the event source's cap (2..1000).
    :param sweep_interval_minutes: how often the sweeper looks for overdue jobs.
    :param max_source_bytes: the largest items object a job may name in the input bucket.
    :param job_retention_days: how long job records (TTL) and input objects are kept.
    :param input_prefix: the folder of the input bucket that jobs' items objects live in; the master
        may read only there (a ``source.key`` elsewhere is refused as an invalid job).
    :param completion_shards: shards a job's completed chunks are counted in (0..99; 0: one counter
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
    input_prefix: str = "jobs/"
    completion_shards: int = 8

    def __post_init__(self) -> None:
        check_fields(self)
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
        if not _PREFIX.fullmatch(self.input_prefix):
            raise ValueError(
                f"input_prefix must be a folder such as 'jobs/' (no leading '/', ending in '/', no '*' or '?', at "
                f"most 512 characters), got {self.input_prefix!r}"
            )
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

    :param express: an Express state machine (runs of at most 5 minutes) instead of Standard.
    :param log_execution_data: include states' inputs and outputs in the execution logs.
    :param execution_timeout_minutes: an execution running longer fails (no compensation runs).
    :param payment_gateway: the ChargePayment adapter, ``ledger`` or ``http``.
    :param payment_gateway_url: the provider's API for ``http``.
    :param payment_gateway_secret_name: the Secrets Manager secret with its HTTP headers.
    :param max_charge_cents: larger charges are declined.
    :param charge_idempotency_hours: how long a repeated charge returns the first result.
    :param failed_executions_threshold: failed executions per period that alarm.
    :param confirmation_max_receive_count: receives of a deferred confirmation before its DLQ.
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
        check_fields(self)
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

    :param failure_threshold: failures within the window that open a breaker.
    :param window_seconds: the window failures are counted in.
    :param cooldown_seconds: how long an open breaker fails fast before a trial call.
    :param connect_timeout_seconds: the HTTP connect timeout of guarded calls.
    :param read_timeout_seconds: the HTTP read timeout of guarded calls.
    :param cache_seconds: how long a container trusts its cached view of a closed breaker.
    """

    failure_threshold: int = 5
    window_seconds: int = 60
    cooldown_seconds: int = 30
    connect_timeout_seconds: float = 1.0
    read_timeout_seconds: float = 3.0
    cache_seconds: float = 5.0

    def __post_init__(self) -> None:
        check_fields(self)
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
        check_fields(self)
        if not self.power_values or not all(128 <= value <= 10_240 for value in self.power_values):
            raise ValueError(f"power_values must be 128..10240 MB each, got {self.power_values}")
        if not 10 <= self.total_execution_timeout_seconds <= 900:
            raise ValueError("total_execution_timeout_seconds must be 10..900")
        if self.log_retention_days < 1:
            raise ValueError("log_retention_days must be >= 1")
