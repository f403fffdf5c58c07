"""Checks that apply to every pattern: secrets read on the hot path, KMS behind them, scaling ramps.

The handlers read their secrets once per container (the API's cursor key) or cache them for
``SECRET_MAX_AGE_SECONDS`` per container (the HTTP clients' credentials, ``lambdas/shared/http.py``),
never per request: Secrets Manager then sees at most one call per new container (Lambda starts
at most 1,000 per function every 10 s) plus one per container per cache period. Each call
decrypts under KMS once. Both stay far below their quotas; the check says by how much.
"""

from __future__ import annotations

import math

from serverless_patterns.capacity.model import Context, number
from serverless_patterns.capacity.patterns import PatternInstance
from serverless_patterns.lambdas.shared.http import SECRET_MAX_AGE_SECONDS

SECRET_SUFFIX = "SECRET_ARN"  # noqa: S105 (an environment variable's name, not a secret)
READ_ONCE_PER_CONTAINER = frozenset({"CURSOR_SECRET_ARN"})  # lambdas/api_backend/data_access.cursor_signing_key


def secret_checks(context: Context, instance: PatternInstance, concurrency: dict[str, float]) -> list[str]:
    """One line per function that reads a secret, at the concurrency the ceiling keeps it at."""
    lines = []
    new_per_second = context.quotas("lambda.scaling_per_10_seconds") / 10
    quota = context.quotas("secretsmanager.get_secret_value_rate")
    kms = context.quotas("kms.symmetric_request_rate")
    for role, spec in instance.functions.items():
        variables = {*spec.environment, *spec.environment_references}
        secrets = sorted(name for name in variables if name.endswith(SECRET_SUFFIX))
        for name in secrets:
            busy = concurrency.get(role, 0.0)
            cached = name not in READ_ONCE_PER_CONTAINER
            rate = new_per_second + (busy / SECRET_MAX_AGE_SECONDS if cached else 0.0)
            how = f"cached {SECRET_MAX_AGE_SECONDS} s per container" if cached else "read once per container"
            lines.append(
                f"Secrets Manager GetSecretValue ({role}, {name}, {how}): at most {number(rate)}/s "
                f"(new containers at most {number(new_per_second)}/s) of {number(quota)}/s; "
                f"KMS Decrypt behind it: the same of {number(kms)}/s"
            )
    return lines


def ramp_note(context: Context, role: str, needed: float, warm: int) -> str:
    """How long Lambda's scaling rate takes from ``warm`` environments to ``needed`` for ``role``."""
    step = context.quotas("lambda.scaling_per_10_seconds")
    missing = max(0.0, needed - warm)
    seconds = 10 * math.ceil(missing / step) if missing else 0
    start = f"{warm} provisioned" if warm else "none warm"
    return (
        f"{role} needs {number(needed)} concurrent executions at the ceiling; from {start}, Lambda's scaling rate "
        f"({number(step)} per 10 s per function) reaches them within {seconds} s"
    )
