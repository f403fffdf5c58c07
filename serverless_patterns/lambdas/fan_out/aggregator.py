"""The aggregator: invoked asynchronously by the worker that completed a job's last chunk.

Idempotent: a job already SUCCEEDED is left alone, and the final write is conditional on the job
still AGGREGATING. Failures are retried by Lambda (bounded) and then land in the on-failure queue.

``build_handler(combiner)`` is the aggregator with another result combiner (your own code:
``lambdas.fan_out.custom.build_aggregator_handler``); ``handler`` is the built-in one
(``processing.combine_summaries``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_patterns.lambdas.fan_out import contract, data_access, logic
from serverless_patterns.lambdas.fan_out.models import JobQuery, TableSettings
from serverless_patterns.lambdas.fan_out.processing import ResultCombiner, combine_summaries
from serverless_patterns.lambdas.shared.observability import CorrelationKey, correlated, logger, metrics, observed
from serverless_patterns.lambdas.shared.settings import load_settings
from serverless_patterns.lambdas.shared.warmup import warmup_aware

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, str]]


def build_handler(combiner: ResultCombiner) -> LambdaHandler:
    """An aggregator handler that combines a job's chunk results with ``combiner``, exactly once."""

    @warmup_aware
    @observed()
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
        """Combine the chunk results of ``event["job_id"]`` and mark the job SUCCEEDED."""
        settings = load_settings(TableSettings)
        query = JobQuery.model_validate(event)
        with correlated(CorrelationKey.JOB_ID, query.job_id):
            store = data_access.job_store(settings.table_name)
            outcome = logic.aggregate_job(query.job_id, store=store, combiner=combiner)
            if outcome is logic.AggregationOutcome.SUCCEEDED:
                metrics.add_metric(name=contract.METRIC_JOBS_SUCCEEDED, unit=MetricUnit.Count, value=1)
            logger.info("aggregation finished", extra={"outcome": outcome.value})
        return {"job_id": query.job_id, "outcome": outcome.value}

    return cast(LambdaHandler, handler)


handler = build_handler(combine_summaries)
