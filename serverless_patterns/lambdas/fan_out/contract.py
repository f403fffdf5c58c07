"""What the handlers and the construct must agree on: the table's layout and the metric names.

No imports: the CDK construct reads this module too, and must not pull in handler dependencies.

One table holds a job item (``sk = JOB``) and one item per chunk that exhausted its retries
(``FAILURE#0000042``) under ``pk = <job id>``. A job is counted in ``completion_shards`` shards
(``pk = <job id>#<shard>``, chunk ``i`` in shard ``i % shards``): each holds its counter
(``sk = SHARD``) and the records of its completed chunks (``CHUNK#0000042``), so no single item
or partition takes a write per chunk (``logic``'s docstring). A job without shards (``0``, the
jobs of 0.2) keeps its chunk records under its own ``pk`` and counts on the job item.
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
SHARD_SORT_KEY = "SHARD"
CHUNK_PREFIX = "CHUNK#"
FAILURE_PREFIX = "FAILURE#"
SHARD_SEPARATOR = "#"  # never in a job id (``models.JOB_ID_PATTERN``)
MAX_COMPLETION_SHARDS = 99  # the job and its shards are created in one transaction (at most 100 items)


def chunk_sort_key(chunk_index: int) -> str:
    """Sort key of a completed chunk: zero-padded so chunks list in order."""
    return f"{CHUNK_PREFIX}{chunk_index:07d}"


def completion_shard(chunk_index: int, shards: int) -> int:
    """The shard that counts chunk ``chunk_index`` of a job with ``shards`` shards."""
    return chunk_index % shards


def shard_partition_key(job_id: str, shard: int) -> str:
    """Partition key of one completion shard of a job: its counter and its chunks' records."""
    return f"{job_id}{SHARD_SEPARATOR}{shard}"


def shard_chunks(total_chunks: int, shards: int, shard: int) -> int:
    """How many of a job's chunks ``shard`` counts."""
    return len(range(shard, total_chunks, shards))


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
