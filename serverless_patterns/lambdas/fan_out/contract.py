"""What the handlers and the construct must agree on: the table's layout and the metric names.

No imports: the CDK construct reads this module too, and must not pull in handler dependencies.

One table holds a job item (``sk = JOB``), one item per completed chunk (``CHUNK#0000042``) and
one per chunk that exhausted its retries (``FAILURE#0000042``), all under ``pk = <job id>``.
Open jobs (RUNNING, AGGREGATING) carry ``open_jobs = OPEN``: a sparse index on it, sorted by
``deadline_at``, is how the sweeper finds overdue jobs without scanning.
"""

PARTITION_KEY = "pk"
SORT_KEY = "sk"
TTL_ATTRIBUTE = "expires_at"
OPEN_JOBS_INDEX = "OpenJobsByDeadline"
OPEN_JOBS_KEY = "open_jobs"
OPEN_JOBS_VALUE = "OPEN"
DEADLINE_ATTRIBUTE = "deadline_at"

JOB_SORT_KEY = "JOB"
CHUNK_PREFIX = "CHUNK#"
FAILURE_PREFIX = "FAILURE#"


def chunk_sort_key(chunk_index: int) -> str:
    """Sort key of a completed chunk: zero-padded so chunks list in order."""
    return f"{CHUNK_PREFIX}{chunk_index:07d}"


def failure_sort_key(chunk_index: int) -> str:
    """Sort key of a chunk that exhausted its retries."""
    return f"{FAILURE_PREFIX}{chunk_index:07d}"


# Business metrics (EMF, namespace and ``service`` dimension from the POWERTOOLS_* variables).
METRIC_JOBS_SUBMITTED = "JobsSubmitted"
METRIC_JOBS_REJECTED = "JobsRejected"
METRIC_ITEMS_SUBMITTED = "ItemsSubmitted"
METRIC_CHUNKS_COMPLETED = "ChunksCompleted"
METRIC_DUPLICATE_DELIVERIES = "DuplicateChunkDeliveries"
METRIC_CHUNK_ATTEMPTS_FAILED = "ChunkAttemptsFailed"
METRIC_CHUNKS_FAILED = "ChunksFailed"
METRIC_AGGREGATIONS_STARTED = "AggregationsStarted"
METRIC_JOBS_SUCCEEDED = "JobsSucceeded"
METRIC_JOBS_STUCK = "JobsStuck"
