"""``shared.sqs_batch``: Powertools' partial batch contract for SQS, record by record."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from serverless_patterns.lambdas.shared.sqs_batch import EntireBatchFailedError, SQSRecord, process_sqs_batch


def _record(message_id: str, body: str, receive_count: int = 1) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": f"handle-{message_id}",
        "body": body,
        "attributes": {"ApproximateReceiveCount": str(receive_count), "SentTimestamp": "1700000000000"},
        "messageAttributes": {"trace": {"stringValue": "t", "dataType": "String"}},
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:work",
    }


def _fail_on(bodies: set[str], seen: list[str]) -> Any:
    def handle(record: SQSRecord) -> None:
        seen.append(record.body)
        if record.body in bodies:
            raise RuntimeError(f"failed {record.body}")

    return handle


def test_only_the_records_that_raised_are_reported_and_every_record_is_tried_in_order() -> None:
    seen: list[str] = []
    event = {"Records": [_record("m1", "a"), _record("m2", "b"), _record("m3", "c")]}

    response = process_sqs_batch(event, _fail_on({"b"}, seen))

    assert response == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    assert seen == ["a", "b", "c"]
    assert process_sqs_batch({"Records": []}, _fail_on(set(), seen)) == {"batchItemFailures": []}


def test_an_entirely_failed_batch_fails_the_invocation_unless_told_otherwise() -> None:
    event = {"Records": [_record("m1", "a"), _record("m2", "b")]}

    with pytest.raises(EntireBatchFailedError) as raised:
        process_sqs_batch(event, _fail_on({"a", "b"}, []))
    assert [str(error) for error in raised.value.errors] == ["failed a", "failed b"]

    response = process_sqs_batch(event, _fail_on({"a", "b"}, []), raise_on_entire_batch_failure=False)
    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}]}


@pytest.mark.parametrize("event", [{}, {"Records": "x"}, {"Records": [1]}, [], None])
def test_an_event_that_is_not_an_sqs_batch_is_refused(event: Any) -> None:
    with pytest.raises(ValueError, match="not an SQS event"):
        process_sqs_batch(event, _fail_on(set(), []))


def test_a_record_reads_as_powertools_sqs_record() -> None:
    record = SQSRecord(_record("m1", "{}", receive_count=3))

    assert (record.message_id, record.receipt_handle, record.body) == ("m1", "handle-m1", "{}")
    assert record.attributes.approximate_receive_count == "3"
    trace = record.message_attributes["trace"]
    assert trace is not None
    assert trace.string_value == "t"
    assert record.message_attributes["absent"] is None
    assert SQSRecord({"messageId": "m"}).message_attributes["any"] is None
    assert record.raw_event["eventSourceARN"].endswith(":work")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.booleans(), max_size=12))
def test_the_failures_are_exactly_the_records_that_raised_in_order(outcomes: list[bool]) -> None:
    event = {"Records": [_record(f"m{index}", "fail" if failed else "ok") for index, failed in enumerate(outcomes)]}
    expected = [{"itemIdentifier": f"m{index}"} for index, failed in enumerate(outcomes) if failed]
    seen: list[str] = []

    if outcomes and all(outcomes):
        with pytest.raises(EntireBatchFailedError):
            process_sqs_batch(event, _fail_on({"fail"}, seen))
    else:
        assert process_sqs_batch(event, _fail_on({"fail"}, seen)) == {"batchItemFailures": expected}
    assert len(seen) == len(outcomes)  # every record was tried
    assert process_sqs_batch(event, _fail_on({"fail"}, []), raise_on_entire_batch_failure=False) == {
        "batchItemFailures": expected
    }
