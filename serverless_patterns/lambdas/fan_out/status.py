"""The status reader: ``{"job_id": ...}`` -> the job's status, progress, result or failure reason."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from serverless_patterns.lambdas.fan_out import data_access, logic
from serverless_patterns.lambdas.fan_out.models import JobQuery, TableSettings
from serverless_patterns.lambdas.fan_out.responses import CLIENT_ERRORS, error_response
from serverless_patterns.lambdas.shared.observability import CorrelationKey, correlated, observed
from serverless_patterns.lambdas.shared.settings import load_settings
from serverless_patterns.lambdas.shared.warmup import warmup_aware


@warmup_aware
@observed()
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    """One job's status; ``{"error": "JobNotFound", "status_code": 404, ...}`` for an unknown id."""
    settings = load_settings(TableSettings)
    try:
        query = JobQuery.model_validate(event)
        with correlated(CorrelationKey.JOB_ID, query.job_id):
            return logic.job_status(query.job_id, store=data_access.job_store(settings.table_name)).model_dump(
                mode="json"
            )
    except CLIENT_ERRORS as error:
        return error_response(error)
