"""What the shared observability module writes: EMF metrics, correlated JSON logs, nothing secret.

Each configuration runs in a fresh interpreter (a new container): Powertools reads its
environment once, at import.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from tests.unit.observability.probe import ProbeRun, run_probe

NAMESPACE = "ServerlessPatterns/Test"
SERVICE = "probe"
FUNCTION = "probe-fn"
SECRET_BODY = "top-secret-request-body"
BEARER = "Bearer do-not-log-me"
CARD = "4111111111111111"

API_EVENT = {
    "requestContext": {"requestId": "api-request-1"},
    "body": json.dumps({"name": SECRET_BODY}),
    "headers": {"Authorization": BEARER, "Accept": "application/json"},
}
S3_BATCH = {"Records": [{"s3": {"object": {"key": "incoming/a.csv"}}}, {"s3": {"object": {"key": "incoming/b.exe"}}}]}
DECLINED_ORDER = {"orderId": "order-9", "amount": 5_000, "cardNumber": CARD}
CONFIRMED_ORDER = {"orderId": "order-10", "amount": 5}
WARMUP = {"source": "serverless-patterns.warmup"}


def _env(**overrides: str) -> dict[str, str]:
    return {
        "POWERTOOLS_SERVICE_NAME": SERVICE,
        "POWERTOOLS_METRICS_NAMESPACE": NAMESPACE,
        "AWS_LAMBDA_FUNCTION_NAME": FUNCTION,
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "AWS_LAMBDA_LOG_LEVEL": "DEBUG",
        "POWERTOOLS_LOGGER_SAMPLE_RATE": "0",
        **overrides,
    }


@pytest.fixture(scope="module")
def run() -> ProbeRun:
    """One container: an API call, an S3 batch, a declined then a confirmed payment, a warm-up ping.

    ``POWERTOOLS_LOGGER_LOG_EVENT`` is on, as someone debugging might leave it: events must still
    stay out of the logs.
    """
    return run_probe(
        _env(POWERTOOLS_LOGGER_LOG_EVENT="true"),
        [
            ("create_item", API_EVENT),
            ("process_files", S3_BATCH),
            ("charge_payment", DECLINED_ORDER),
            ("charge_payment", CONFIRMED_ORDER),
            ("create_item", WARMUP),
        ],
    )


def _metric_lines(run: ProbeRun, name: str) -> list[dict[str, Any]]:
    return [
        line
        for line in run.emf
        if any(
            metric["Name"] == name for directive in line["_aws"]["CloudWatchMetrics"] for metric in directive["Metrics"]
        )
    ]


def _directive(line: dict[str, Any]) -> dict[str, Any]:
    (directive,) = line["_aws"]["CloudWatchMetrics"]
    result: dict[str, Any] = directive
    return result


def test_every_invocation_ran(run: ProbeRun) -> None:
    assert [outcome["outcome"] for outcome in run.outcomes] == ["ok", "ok", "error", "ok", "ok"]
    assert run.outcomes[2]["error"] == "PaymentDeclinedError"


@pytest.mark.parametrize(
    ("metric", "value"),
    [("ItemsCreated", 1), ("FilesProcessed", 1), ("FilesRejected", 1), ("PaymentsDeclined", 1), ("OrdersConfirmed", 1)],
)
def test_business_metrics_are_emf_in_the_namespace_with_the_service_dimension(
    run: ProbeRun, metric: str, value: int
) -> None:
    """PaymentsDeclined is recorded by an invocation that raises: metrics are flushed anyway."""
    (line,) = _metric_lines(run, metric)
    directive = _directive(line)
    assert directive["Namespace"] == NAMESPACE
    assert directive["Dimensions"] == [["service"]]
    assert {"Name": metric, "Unit": "Count"} in directive["Metrics"]
    assert line["service"] == SERVICE
    assert line[metric] == [value]


def test_one_cold_start_metric_per_container_by_function_and_service(run: ProbeRun) -> None:
    (line,) = _metric_lines(run, "ColdStart")
    directive = _directive(line)
    assert directive["Namespace"] == NAMESPACE
    assert directive["Dimensions"] == [["function_name", "service"]]
    assert (line["function_name"], line["service"], line["ColdStart"]) == (FUNCTION, SERVICE, [1.0])


def test_logs_are_json_with_lambda_context_and_rfc3339_timestamps(run: ProbeRun) -> None:
    assert run.logs
    for line in run.logs:
        assert line["service"] == SERVICE
        assert line["function_name"] == FUNCTION
        assert line["function_request_id"].startswith("request-")
        datetime.fromisoformat(line["timestamp"])  # Lambda needs RFC 3339 to read level and time
    assert [line["cold_start"] for line in run.logs if line["function_request_id"] == "request-0"] == [True]
    assert {line["cold_start"] for line in run.logs if line["function_request_id"] != "request-0"} == {False}


def test_api_logs_carry_the_api_request_id(run: ProbeRun) -> None:
    (line,) = (line for line in run.logs if line["message"] == "item created")
    assert line["correlation_id"] == "api-request-1"


def test_each_record_of_a_batch_is_correlated_by_its_s3_key_and_nothing_leaks(run: ProbeRun) -> None:
    by_message = {line["message"]: line for line in run.logs if line["function_request_id"] == "request-1"}
    assert by_message["file processed"]["correlation_id"] == by_message["file processed"]["s3_key"] == "incoming/a.csv"
    assert by_message["file rejected"]["correlation_id"] == by_message["file rejected"]["s3_key"] == "incoming/b.exe"
    assert by_message["file rejected"]["level"] == "WARNING"
    assert "s3_key" not in by_message["batch done"]
    assert "correlation_id" not in by_message["batch done"]


def test_order_steps_are_correlated_by_order_id_and_errors_name_the_exception(run: ProbeRun) -> None:
    (line,) = (line for line in run.logs if line["message"] == "payment declined")
    assert (line["correlation_id"], line["order_id"]) == ("order-9", "order-9")
    assert (line["level"], line["exception_name"]) == ("ERROR", "PaymentDeclinedError")
    later = [line for line in run.logs if line["function_request_id"] == "request-3"]
    assert all(line.get("order_id") != "order-9" for line in later)


def test_no_event_body_or_secret_reaches_the_logs(run: ProbeRun) -> None:
    assert SECRET_BODY not in run.raw_stdout
    assert BEARER not in run.raw_stdout
    assert CARD not in run.raw_stdout
    (line,) = (line for line in run.logs if line["message"] == "item created")
    assert line["headers"] == {"Authorization": "***", "Accept": "application/json"}


def test_warmup_ping_writes_nothing(run: ProbeRun) -> None:
    assert run.outcomes[-1]["result"] == {"warmup": True}
    assert not [line for line in run.lines if line.get("function_request_id") == "request-4"]
    assert len(_metric_lines(run, "ItemsCreated")) == 1


@pytest.mark.parametrize(("sample_rate", "debug_lines"), [("0", 0), ("1", 1)])
def test_debug_logs_follow_the_sample_rate_when_lambda_lets_debug_through(sample_rate: str, debug_lines: int) -> None:
    """Lambda's log filter at DEBUG is only the gate: the Powertools level and sample rate decide."""
    sampled = run_probe(_env(POWERTOOLS_LOGGER_SAMPLE_RATE=sample_rate), [("create_item", API_EVENT)])
    assert len([line for line in sampled.logs if line["level"] == "DEBUG"]) == debug_lines
    assert [line["message"] for line in sampled.logs if line["level"] == "INFO"] == ["item created"]
