"""Domain exceptions mapped to response payloads, in one place.

Only the caller's mistakes become responses; anything else propagates, so the invocation fails,
the function's Errors alarm sees it, and async or queue retries apply.
"""

from __future__ import annotations

from typing import Any

from serverless_patterns.lambdas.fan_out.errors import InvalidJobError, JobConflictError, JobNotFoundError
from serverless_patterns.lambdas.fan_out.models import ErrorResponse
from serverless_patterns.lambdas.shared.shapes import ShapeError

CLIENT_ERRORS: tuple[type[Exception], ...] = (ShapeError, InvalidJobError, JobConflictError, JobNotFoundError)


def error_response(error: Exception) -> dict[str, Any]:
    """The payload for one of ``CLIENT_ERRORS``; never echoes the request's values."""
    if isinstance(error, ShapeError):
        details = [
            f"{'.'.join(str(part) for part in problem['loc']) or 'request'}: {problem['msg']}"
            for problem in error.errors()
        ]
        response = ErrorResponse(
            error="InvalidRequest", message="the request does not match the schema", status_code=400, details=details
        )
    elif isinstance(error, InvalidJobError):
        response = ErrorResponse(error="InvalidJob", message=str(error), status_code=400, details=error.details)
    elif isinstance(error, JobConflictError):
        response = ErrorResponse(error="JobConflict", message=str(error), status_code=409)
    elif isinstance(error, JobNotFoundError):
        response = ErrorResponse(error="JobNotFound", message=str(error), status_code=404)
    else:
        raise TypeError(f"{type(error).__name__} is not a client error") from error
    return response.model_dump(mode="json")
