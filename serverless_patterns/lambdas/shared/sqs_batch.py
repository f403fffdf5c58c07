"""SQS partial batch responses, without Powertools' batch utility on the cold path.

Powertools' ``BatchProcessor`` costs a handler about 45 ms of every cold start: importing it loads
``asyncio`` and the data classes of every event source. An SQS handler needs only this much of
it, with the same contract:

* ``handle_record`` is called with each record of the event (an ``SQSRecord``), in order;
* a record whose handler raises is reported in ``batchItemFailures``, so SQS makes it visible
  again (the function's event source mapping must enable ``ReportBatchItemFailures``, as the
  constructs do), and the others are deleted;
* when every record failed, ``EntireBatchFailedError`` is raised instead (unless
  ``raise_on_entire_batch_failure=False``): the invocation fails and its Errors alarm sees it,
  where an all-failed response would look like a success;
* an event that is not an SQS batch is refused with ``ValueError``.

``SQSRecord`` has the names of Powertools' ``SQSRecord`` for what the handlers read; the rest of
a record is in its ``raw_event``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, TypedDict

_logger = logging.getLogger(__name__)


class BatchItemFailure(TypedDict):
    """One record SQS should make visible again."""

    itemIdentifier: str


class PartialBatchResponse(TypedDict):
    """What an SQS handler with ``ReportBatchItemFailures`` returns."""

    batchItemFailures: list[BatchItemFailure]


class EntireBatchFailedError(Exception):
    """Every record of the batch failed; ``errors`` holds each record's exception, in order."""

    def __init__(self, errors: list[Exception]) -> None:
        super().__init__(f"all {len(errors)} records failed processing; each was logged as it failed")
        self.errors = errors


class SQSRecordAttributes:
    """The system attributes of a record (``attributes``), under Powertools' names."""

    __slots__ = ("_raw",)

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self._raw = raw

    @property
    def approximate_receive_count(self) -> str:
        """How many times SQS has delivered the message, this delivery included."""
        return str(self._raw["ApproximateReceiveCount"])


class SQSMessageAttribute:
    """One message attribute as SQS delivers it to Lambda."""

    __slots__ = ("_raw",)

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self._raw = raw

    @property
    def string_value(self) -> str | None:
        """The value of a ``String`` or ``Number`` attribute."""
        value = self._raw.get("stringValue")
        return None if value is None else str(value)


class SQSMessageAttributes(dict[str, Any]):
    """The message attributes by name; a missing one is ``None``, as in Powertools."""

    def __getitem__(self, name: str) -> SQSMessageAttribute | None:
        raw = self.get(name)
        return None if raw is None else SQSMessageAttribute(raw)


class SQSRecord:
    """One record of an SQS event: what the handlers read, under Powertools' names (the rest: ``raw_event``)."""

    __slots__ = ("raw_event",)

    def __init__(self, raw_event: Mapping[str, Any]) -> None:
        self.raw_event = raw_event

    @property
    def message_id(self) -> str:
        """The message's id (what ``batchItemFailures`` names it by)."""
        return str(self.raw_event["messageId"])

    @property
    def receipt_handle(self) -> str:
        """The handle of this delivery (to change its visibility or delete it)."""
        return str(self.raw_event["receiptHandle"])

    @property
    def body(self) -> str:
        """The message body."""
        return str(self.raw_event["body"])

    @property
    def attributes(self) -> SQSRecordAttributes:
        """The message's system attributes."""
        return SQSRecordAttributes(self.raw_event.get("attributes") or {})

    @property
    def message_attributes(self) -> SQSMessageAttributes:
        """The sender's message attributes (``record.message_attributes["name"]`` is ``None`` if absent)."""
        return SQSMessageAttributes(self.raw_event.get("messageAttributes") or {})


def process_sqs_batch(
    event: Mapping[str, Any],
    handle_record: Callable[[SQSRecord], object],
    *,
    raise_on_entire_batch_failure: bool = True,
) -> PartialBatchResponse:
    """Call ``handle_record`` on each record; the records that raised, as a partial batch response.

    :param event: the SQS event Lambda invoked the function with.
    :param handle_record: processes one record; raising marks it failed.
    :param raise_on_entire_batch_failure: raise ``EntireBatchFailedError`` when every record failed.
    """
    records = event.get("Records") if isinstance(event, Mapping) else None
    if not isinstance(records, list) or not all(isinstance(record, Mapping) for record in records):
        raise ValueError("not an SQS event: expected {'Records': [...]} with one object per message")
    failures: list[BatchItemFailure] = []
    errors: list[Exception] = []
    for raw in records:
        record = SQSRecord(raw)
        try:
            handle_record(record)
        except Exception as error:
            _logger.debug("record %s failed: %s", raw.get("messageId"), type(error).__name__)
            failures.append({"itemIdentifier": record.message_id})
            errors.append(error)
    if records and len(errors) == len(records) and raise_on_entire_batch_failure:
        raise EntireBatchFailedError(errors)
    return {"batchItemFailures": failures}
