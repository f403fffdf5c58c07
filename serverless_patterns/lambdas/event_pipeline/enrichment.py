"""Optional enrichment: the default processor asks an external service about each upload.

``EventPipeline`` turns it on when ``PipelineSettings.enrichment_url`` is set: it connects the
process function to the ``enrichment`` circuit breaker (``CircuitBreakers.connect``), which sets
``ENRICHMENT_URL``, the secret with the service's HTTP headers (``ENRICHMENT_SECRET_ARN``), the
timeouts and the breaker's thresholds. Without ``ENRICHMENT_URL`` nothing is called.

The service's contract::

    POST {url}  {"key", "versionId", "etag", "size", "format", "contentType", "metadata"}
        -> 2xx  a JSON object, recorded as ``summary["enrichment"]`` in ``processed/{key}.json``

The call comes before the upload's body is read, so an outage costs no streamed object. It
must be safe to repeat: a redelivered message asks again (a result already recorded is not).

- The service unavailable (timeout, refused connection, 408, 429, 5xx: counted by the breaker)
  or the breaker open (no call made): the ``DependencyUnavailableError`` goes through to the
  batch handler, which defers the message: held back for the breaker's remaining cooldown or a
  backoff, re-queued instead of dead-lettered. An outage is not a poison message.
- Any other answer (a 4xx, or a 2xx that is not a JSON object): ``EnrichmentError``, an ordinary
  failure, retried with backoff and then kept in the DLQ for a redrive once the service or its
  configuration is fixed. (The breaker counts it as the service being up.)
"""

from __future__ import annotations

from typing import Any

from serverless_patterns.lambdas.event_pipeline.layout import ENRICHMENT_BREAKER
from serverless_patterns.lambdas.event_pipeline.models import PipelineMessage
from serverless_patterns.lambdas.shared.circuit_breaker_contract import url_env
from serverless_patterns.lambdas.shared.settings import load_settings
from serverless_patterns.lambdas.shared.shapes import Shape, field


class EnrichmentError(Exception):
    """The enrichment service answered, but not usefully: retried, then dead-lettered (never parked)."""


class EnrichmentSettings(Shape):
    """Whether the process function was connected to an enrichment service."""

    url: str | None = field(default=None, key=url_env(ENRICHMENT_BREAKER))


def enrichment_enabled() -> bool:
    """True when the construct connected the processor to an enrichment service."""
    return bool(load_settings(EnrichmentSettings).url)


def enrichment_request(message: PipelineMessage) -> dict[str, Any]:
    """What the service is told about an upload: its identity and metadata, never its content."""
    return {
        "key": message.key,
        "versionId": message.version_id,
        "etag": message.etag,
        "size": message.size,
        "format": message.format.value,
        "contentType": message.content_type,
        "metadata": message.metadata,
    }


def enrich(message: PipelineMessage) -> dict[str, Any]:
    """The service's answer about this upload, through this container's client and breaker."""
    # Imported here: enrichment is off by default, and the HTTP client and breaker cost cold-start time.
    from serverless_patterns.lambdas.shared.http import HttpClient, UpstreamRejectedError

    client = HttpClient.from_env(ENRICHMENT_BREAKER)
    try:
        response = client.post(json_body=enrichment_request(message))
    except UpstreamRejectedError as error:
        raise EnrichmentError(f"the enrichment service refused the upload with HTTP {error.status}") from None
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise EnrichmentError(f"the enrichment service answered HTTP {response.status} without a JSON object")
    return answer
