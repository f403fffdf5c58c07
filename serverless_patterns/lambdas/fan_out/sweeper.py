"""The sweeper: on a schedule, fails open jobs past their deadline and counts them (the stuck-jobs alarm).

A job can only get stuck when something bypassed the normal failure paths: a worker timing out on
a chunk's last attempt, a message moved to the DLQ without reaching the worker, an aggregator
that exhausted its retries. The metric is written on every run (0 included) so the alarm sees data.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_patterns.lambdas.fan_out import contract, data_access, logic
from serverless_patterns.lambdas.fan_out.models import SweeperSettings
from serverless_patterns.lambdas.shared.observability import logger, metrics, observed
from serverless_patterns.lambdas.shared.settings import load_settings
from serverless_patterns.lambdas.shared.warmup import warmup_aware


@warmup_aware
@observed()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, list[str]]:
    """Fail every overdue job; return their ids."""
    settings = load_settings(SweeperSettings)
    overdue = logic.sweep_overdue_jobs(data_access.job_store(settings.table_name), index_name=settings.open_jobs_index)
    metrics.add_metric(name=contract.METRIC_JOBS_STUCK, unit=MetricUnit.Count, value=len(overdue))
    for job in overdue:
        logger.warning("job failed past its deadline", extra={"job_id": job.job_id, "reason": job.reason})
    return {"failed_jobs": [job.job_id for job in overdue]}
