"""Logs Insights queries over the functions' JSON logs.

They read two kinds of record: the handlers' Powertools lines (``level``,
``function_name``, ``correlation_id``, ``exception_name``, written by
``lambdas/shared/observability``) and Lambda's own ``platform.report`` records
(duration, billed duration, memory, init duration). ``@log`` names the log
group, so it identifies the function on every line, including lines the
handler did not write (runtime errors, timeouts).

``platform.report`` records reach CloudWatch only when the function's system
log level is INFO or DEBUG: the slowest-invocations and cold-starts queries
need that.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_logs as logs

LEVEL_FIELD = "level"
CORRELATION_ID_FIELD = "correlation_id"
FUNCTION_NAME_FIELD = "function_name"
EXCEPTION_NAME_FIELD = "exception_name"
ERROR_LEVELS = ("ERROR", "CRITICAL")
# Statuses of Lambda's report record other than "success" (the Telemetry API schema the JSON system logs use).
FAILED_STATUSES = ("error", "failure", "timeout")
CORRELATION_ID_PLACEHOLDER = "PASTE-A-CORRELATION-ID"
REPORT_RECORD = 'type = "platform.report"'


def _listed(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(f'"{value}"' for value in values) + "]"


_IS_ERROR = f"{LEVEL_FIELD} in {_listed(ERROR_LEVELS)} or record.status in {_listed(FAILED_STATUSES)}"


@dataclass(frozen=True)
class SavedQuery:
    """A Logs Insights query saved per environment under ``<folder>/<slug>``."""

    slug: str
    query: logs.QueryString


ERRORS_BY_FUNCTION = SavedQuery(
    "errors-by-function",
    logs.QueryString(
        filter_statements=[_IS_ERROR],
        stats_statements=[f"count(*) as errors by @log, {EXCEPTION_NAME_FIELD}"],
        sort="errors desc",
    ),
)

SLOWEST_INVOCATIONS = SavedQuery(
    "slowest-invocations",
    logs.QueryString(
        fields=[
            "@timestamp",
            "@log",
            "record.requestId",
            "record.status",
            "record.metrics.durationMs",
            "record.metrics.billedDurationMs",
            "record.metrics.initDurationMs",
            "record.metrics.maxMemoryUsedMB",
        ],
        filter_statements=[REPORT_RECORD],
        sort="record.metrics.durationMs desc",
        limit=50,
    ),
)

COLD_STARTS = SavedQuery(
    "cold-starts",
    logs.QueryString(
        filter_statements=[REPORT_RECORD, "ispresent(record.metrics.initDurationMs)"],
        stats_statements=[
            "count(*) as cold_starts, avg(record.metrics.initDurationMs) as avg_init_ms, "
            "max(record.metrics.initDurationMs) as max_init_ms by @log, bin(1h)"
        ],
        sort="cold_starts desc",
    ),
)

CORRELATION_ID = SavedQuery(
    "correlation-id",
    logs.QueryString(
        fields=["@timestamp", "@log", LEVEL_FIELD, FUNCTION_NAME_FIELD, CORRELATION_ID_FIELD, "message"],
        # Substring match: finds the id as correlation_id, order_id, job_id or s3_key, and in EMF metadata.
        filter_statements=[f'@message like "{CORRELATION_ID_PLACEHOLDER}"'],
        sort="@timestamp asc",
        limit=1000,
    ),
)

SAVED_QUERIES = (ERRORS_BY_FUNCTION, SLOWEST_INVOCATIONS, COLD_STARTS, CORRELATION_ID)

RECENT_ERRORS = logs.QueryString(
    fields=["@timestamp", "@log", CORRELATION_ID_FIELD, EXCEPTION_NAME_FIELD, "message"],
    filter_statements=[_IS_ERROR],
    sort="@timestamp desc",
    limit=20,
)
