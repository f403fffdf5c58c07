"""Whatever a caller invokes FanOut's master and status reader with, and whatever a chunk message
holds, the answer is a job, a documented 4xx payload, or a record failure SQS retries then parks:
never an exception out of the handler (a 5xx behind an API), never a silent drop."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, event as event_kind, given, settings, strategies as st

from serverless_patterns.lambdas.fan_out import status
from tests.handlers.fan_out.conftest import FanOutCloud, lambda_context

CLIENT_ERRORS = {"InvalidRequest": 400, "InvalidJob": 400, "JobConflict": 409, "JobNotFound": 404}
PROPERTIES = settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
)
ITEMS = st.lists(st.dictionaries(st.sampled_from(["id", "value"]), JSON, max_size=2), max_size=4)
JOB_IDS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,8}", fullmatch=True)
# Valid jobs, near-valid requests (the keys the master knows, with any values) and anything at all.
REQUESTS = (
    st.fixed_dictionaries({"items": ITEMS.filter(bool)}, optional={"job_id": JOB_IDS})
    | st.fixed_dictionaries(
        {},
        optional={
            "items": ITEMS | JSON,
            "source": st.fixed_dictionaries({"key": st.text(max_size=12)}) | JSON,
            "job_id": JOB_IDS | JSON,
        },
    )
    | JSON
)


def _is_client_error(response: Any) -> bool:
    return (
        isinstance(response, dict)
        and CLIENT_ERRORS.get(response.get("error", "")) == response.get("status_code")
        and isinstance(response.get("message"), str)
    )


@PROPERTIES
@given(event=REQUESTS)
def test_any_request_is_a_job_or_a_client_error(cloud: FanOutCloud, event: Any) -> None:
    response = cloud.submit(event)

    if "job_id" in response and "status" in response:
        event_kind("a job")  # hypothesis statistics: how many examples were valid jobs
        assert response["total_items"] == len(event["items"])
        assert response["total_chunks"] >= 1
    else:
        event_kind(str(response.get("error")))
        assert _is_client_error(response), response


@PROPERTIES
@given(event=JSON)
def test_any_status_query_is_a_status_or_a_client_error(cloud: FanOutCloud, event: Any) -> None:
    response = status.handler(event, lambda_context())

    assert _is_client_error(response), response  # no job exists: never a status


@PROPERTIES
@given(body=st.text(max_size=40) | JSON.map(str))
def test_a_chunk_message_that_is_not_one_is_a_record_failure(cloud: FanOutCloud, body: str) -> None:
    """SQS redelivers it up to maxReceiveCount, then parks it in the DLQ with the message as it was."""
    message = {"MessageId": "m-1", "ReceiptHandle": "r-1", "Body": body}
    failed = cloud.deliver([message])

    assert failed == {"m-1"}
