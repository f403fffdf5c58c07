"""The default processor with an enrichment service on 127.0.0.1 that fails, then recovers.

The real process handler runs under moto (SQS on a virtual clock, the breaker's state table,
the service's credentials in Secrets Manager) with the breaker's clock moved in step with
SQS's: no sleeps. Calls stop while the breaker is open, one trial call goes out in half-open,
service is normal after recovery, and every upload is processed once: none dead-lettered.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from serverless_patterns.lambdas.event_pipeline import process
from serverless_patterns.lambdas.event_pipeline.layout import ENRICHMENT_BREAKER, Env
from serverless_patterns.lambdas.shared import circuit_breaker, http
from serverless_patterns.lambdas.shared.circuit_breaker import BreakerState, CircuitBreaker
from serverless_patterns.lambdas.shared.settings import load_settings
from tests.handlers.event_pipeline.conftest import MAX_RECEIVE_COUNT, Pipeline
from tests.handlers.local_service import Call, LocalService
from tests.unit.circuit_breaker.support import Clock, create_table, emitted, metric_names

THRESHOLD = 3
COOLDOWN = 30
TOKEN = "Bearer enrichment-test-token"
UPLOADS = [f"incoming/batch-{number}.csv" for number in range(6)]
CSV = b"id,amount\n1,10\n2,20\n"


def catalogue(call: Call) -> tuple[int, Any]:
    """The enrichment service: owner and classification of an upload, from what it is told."""
    if call.headers.get("Authorization") != TOKEN:
        return 401, {"error": "unauthorized"}
    return 200, {"owner": f"team-{call.body['metadata'].get('team', 'unknown')}", "classification": "internal"}


@dataclass
class Enrichment:
    service: LocalService
    clock: Clock
    pipeline: Pipeline

    def advance(self, seconds: float) -> None:
        """Time passes for SQS and for the breaker alike."""
        self.pipeline.clock.advance(seconds)
        self.clock.advance(seconds)

    def breaker(self) -> BreakerState:
        """The breaker's state as this container sees it (a call: no narrowing across transitions)."""
        return CircuitBreaker.from_env(ENRICHMENT_BREAKER).state


def _clear_caches() -> None:
    load_settings.cache_clear()
    process.runtime.cache_clear()
    http.clear_caches()
    circuit_breaker.clear_caches()


@pytest.fixture
def enrichment(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> Iterator[Enrichment]:
    """The process function connected to the service as ``CircuitBreakers.connect`` does it."""
    service = LocalService(catalogue).start()
    table = f"breakers-{pipeline.table}"
    create_table(pipeline.dynamodb, table)
    secret_arn = boto3.client("secretsmanager").create_secret(
        Name=f"enrichment/{pipeline.table}", SecretString=json.dumps({"Authorization": TOKEN})
    )["ARN"]
    for name, value in {
        "ENRICHMENT_URL": f"{service.url}/enrich",
        "ENRICHMENT_SECRET_ARN": secret_arn,
        "CIRCUIT_BREAKER_TABLE": table,
        "CIRCUIT_BREAKER_FAILURE_THRESHOLD": str(THRESHOLD),
        "CIRCUIT_BREAKER_WINDOW_SECONDS": "60",
        "CIRCUIT_BREAKER_COOLDOWN_SECONDS": str(COOLDOWN),
        "CIRCUIT_BREAKER_CACHE_SECONDS": "5",
        "CIRCUIT_BREAKER_TRIAL_LEASE_SECONDS": "60",
        "HTTP_CONNECT_TIMEOUT_SECONDS": "1",
        "HTTP_READ_TIMEOUT_SECONDS": "5",
        Env.MAX_DEFERRALS: "5",
    }.items():
        monkeypatch.setenv(name, value)
    _clear_caches()
    clock = Clock()
    monkeypatch.setattr(CircuitBreaker.from_env(ENRICHMENT_BREAKER), "_clock", clock)
    yield Enrichment(service=service, clock=clock, pipeline=pipeline)
    service.stop()
    _clear_caches()


def _upload_all(pipeline: Pipeline) -> None:
    records = [pipeline.upload(key, CSV, Metadata={"team": "sales"}) for key in UPLOADS]
    assert pipeline.validate(*records)["accepted"] == len(UPLOADS)


def test_calls_stop_while_open_one_trial_in_half_open_and_no_upload_is_lost(
    enrichment: Enrichment, capsys: pytest.CaptureFixture[str]
) -> None:
    pipeline, service = enrichment.pipeline, enrichment.service
    _upload_all(pipeline)

    # The service goes down: the breaker opens at the THRESHOLD-th failure, the rest fail fast.
    # Every message is deferred (held back), none is counted as a failed attempt.
    service.down = 503
    response = pipeline.poll()
    assert response is not None
    assert len(response["batchItemFailures"]) == len(UPLOADS)
    assert len(service.calls) == THRESHOLD
    assert enrichment.breaker() is BreakerState.OPEN

    # While open, the messages that come back first fail fast again: nothing reaches the service.
    enrichment.advance(10)
    response = pipeline.poll()
    assert response is not None
    assert len(response["batchItemFailures"]) == THRESHOLD
    assert len(service.calls) == THRESHOLD

    # Cooldown over: all six come back, one trial call goes out, fails, and the breaker reopens.
    # The first three are on their last receive: re-queued as fresh messages, not dead-lettered.
    enrichment.advance(COOLDOWN - 10)
    assert pipeline.poll() is not None
    assert len(service.calls) == THRESHOLD + 1
    assert enrichment.breaker() is BreakerState.OPEN

    # The service recovers: the next trial closes the breaker and everything left goes through.
    service.down = None
    enrichment.advance(COOLDOWN)
    assert pipeline.poll() is not None
    assert enrichment.breaker() is BreakerState.CLOSED
    pipeline.drain()  # a message re-queued after a real failure waits out its backoff
    assert len(service.calls) == THRESHOLD + 1 + len(UPLOADS)

    # Every upload processed once, enriched, and nothing in the DLQ.
    for key in UPLOADS:
        result = pipeline.record(f"processed/{key}.json")
        assert result["summary"]["rows"] == 2
        assert result["summary"]["enrichment"] == {"owner": "team-sales", "classification": "internal"}
    assert pipeline.results("rejected/") == []
    assert pipeline.depth(pipeline.queue_url) == pipeline.depth(pipeline.dlq_url) == 0
    # The service was told about the uploads (never their content), with the secret's credentials.
    first = service.calls[0]
    assert (first.method, first.path, first.headers["Authorization"]) == ("POST", "/enrich", TOKEN)
    assert first.body["key"] in UPLOADS
    assert set(first.body) == {"key", "versionId", "etag", "size", "format", "contentType", "metadata"}
    output = capsys.readouterr().out
    names = metric_names(output)
    assert (names.count("CircuitOpened"), names.count("CircuitHalfOpened"), names.count("CircuitClosed")) == (2, 2, 1)
    assert "ProcessingRetried" not in names  # an outage is never counted against a message
    processed = [value for document in emitted(output) for value in document.get("FilesProcessed", [])]
    assert sum(processed) == len(UPLOADS)


def test_a_refusal_is_an_ordinary_failure_retried_then_dead_lettered(
    enrichment: Enrichment, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = enrichment.pipeline
    wrong = json.dumps({"Authorization": "Bearer wrong"})
    secret_arn = boto3.client("secretsmanager").create_secret(
        Name=f"enrichment/{pipeline.table}/wrong", SecretString=wrong
    )["ARN"]
    monkeypatch.setenv("ENRICHMENT_SECRET_ARN", secret_arn)
    http.clear_caches()
    assert pipeline.validate(pipeline.upload(UPLOADS[0], CSV))["accepted"] == 1

    pipeline.drain()

    (dead,) = pipeline.dead_letters()  # kept for a redrive once the credentials are fixed
    assert json.loads(dead["Body"])["key"] == UPLOADS[0]
    assert len(enrichment.service.calls) == MAX_RECEIVE_COUNT  # one per receive, each answered 401
    assert enrichment.breaker() is BreakerState.CLOSED  # the service answered: it is up
    assert pipeline.results("") == []
