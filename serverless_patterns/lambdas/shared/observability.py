"""Powertools Logger and Metrics (EMF) shared by every handler.

Service name, namespace, log level and debug sampling come from the
``POWERTOOLS_*`` variables the building block sets. Metrics are written as EMF
log lines: no synchronous PutMetricData on the hot path. Tracing is Lambda's
active tracing; the X-Ray SDK is not imported (it is the costliest import on
the cold-start path).
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

logger = Logger(log_uncaught_exceptions=True)
metrics = Metrics()
