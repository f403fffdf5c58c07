"""The master: validate a job, record it, queue its chunks, return the job id.

Invoke it synchronously with ``{"items": [{"value": 1.5}, ...]}`` or, for large jobs, with
``{"source": {"key": "jobs/2024-06-01.jsonl"}}`` naming an object under the input bucket's input
prefix (``FanOutSettings.input_prefix``, ``jobs/`` by default; JSON Lines or a JSON array of
objects). An optional ``"job_id"`` makes the submission idempotent. A refused
job returns ``{"error", "message", "status_code": 400, "details"}`` and creates nothing. If queuing
the chunks fails, the invocation fails with the job id: submitting the same job again queues the
chunks that were not (``submission``).
"""

from __future__ import annotations

import uuid
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_patterns.lambdas.fan_out import contract, data_access, services, submission
from serverless_patterns.lambdas.fan_out.models import JobRequest, MasterSettings
from serverless_patterns.lambdas.fan_out.responses import CLIENT_ERRORS, error_response
from serverless_patterns.lambdas.shared.observability import logger, metrics, observed
from serverless_patterns.lambdas.shared.settings import load_settings
from serverless_patterns.lambdas.shared.warmup import warmup_aware

SECONDS_PER_DAY = 86_400


def _limits(settings: MasterSettings) -> submission.JobLimits:
    return submission.JobLimits(
        chunk_size=settings.chunk_size,
        max_items=settings.max_items,
        max_source_bytes=settings.max_source_bytes,
        deadline_seconds=settings.job_deadline_seconds,
        retention_seconds=settings.job_retention_days * SECONDS_PER_DAY,
        completion_shards=settings.completion_shards,
    )


@warmup_aware
@observed()
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    """Submit one job; the answer carries the job id to poll the status reader with."""
    settings = load_settings(MasterSettings)
    try:
        request = JobRequest.model_validate(event)
        job_id = request.job_id or uuid.uuid4().hex
        logger.set_correlation_id(job_id)
        logger.append_keys(job_id=job_id)
        response = submission.submit_job(
            request,
            job_id=job_id,
            store=data_access.job_store(settings.table_name),
            queue=services.chunk_queue(settings.queue_url),
            reader=services.items_reader(settings.input_bucket, settings.input_prefix),
            limits=_limits(settings),
            lease_seconds=context.get_remaining_time_in_millis() / 1000,
        )
    except CLIENT_ERRORS as error:
        refusal = error_response(error)
        metrics.add_metric(name=contract.METRIC_JOBS_REJECTED, unit=MetricUnit.Count, value=1)
        logger.info("job refused", extra={"error": refusal["error"], "reason": refusal["message"]})
        return refusal
    if response.created:
        metrics.add_metric(name=contract.METRIC_JOBS_SUBMITTED, unit=MetricUnit.Count, value=1)
        metrics.add_metric(name=contract.METRIC_ITEMS_SUBMITTED, unit=MetricUnit.Count, value=response.total_items)
    logger.info(
        "job submitted",
        extra={
            "job_created": response.created,
            "total_items": response.total_items,
            "total_chunks": response.total_chunks,
            "queued_chunks": response.queued_chunks,
        },
    )
    return response.model_dump(mode="json")
