"""The FanOut scenario's view of the deployed pattern (``FanOutApp``), its items and the result they must give."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from serverless_patterns.scenarios.target import Target

MEAN_PLACES = Decimal("0.000001")
SETTLE_MARGIN_SECONDS = 300.0

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class FanOutApp:
    """The deployed FanOut's entry points and the sizes it was deployed with."""

    master: str
    status: str
    table_name: str
    input_bucket: str
    work_queue_url: str
    dlq_url: str
    aggregator_log_group: str
    worker_log_group: str
    chunk_size: int
    max_receive_count: int
    visibility_timeout_seconds: int

    @classmethod
    def of(cls, cloud: Target) -> FanOutApp:
        """Find the pattern through the stack's outputs and construct paths."""
        outputs = cloud.outputs
        master = outputs["FanOutMasterFunction"]
        lambda_client, sqs = cloud.client("lambda"), cloud.client("sqs")
        variables = lambda_client.get_function_configuration(FunctionName=master)["Environment"]["Variables"]
        work_queue_url = cloud.resource("FanOut/WorkQueue", "AWS::SQS::Queue").physical_id
        attributes = sqs.get_queue_attributes(
            QueueUrl=work_queue_url, AttributeNames=["RedrivePolicy", "VisibilityTimeout"]
        )["Attributes"]
        return cls(
            master=master,
            status=outputs["FanOutStatusFunction"],
            table_name=outputs["FanOutTableName"],
            input_bucket=outputs["FanOutInputBucketName"],
            work_queue_url=work_queue_url,
            dlq_url=cloud.resource("FanOut/WorkQueueDlq", "AWS::SQS::Queue").physical_id,
            aggregator_log_group=cloud.resource("FanOut/Aggregator/LogGroup", "AWS::Logs::LogGroup").physical_id,
            worker_log_group=cloud.resource("FanOut/Worker/LogGroup", "AWS::Logs::LogGroup").physical_id,
            chunk_size=int(variables["CHUNK_SIZE"]),
            max_receive_count=int(json.loads(attributes["RedrivePolicy"])["maxReceiveCount"]),
            visibility_timeout_seconds=int(attributes["VisibilityTimeout"]),
        )

    def chunks_of(self, item_count: int) -> int:
        """How many chunks the master makes of ``item_count`` items."""
        return math.ceil(item_count / self.chunk_size)

    @property
    def retries_settle_seconds(self) -> float:
        """How long a real stage may take to park a poison chunk: every attempt's visibility timeout, and a margin."""
        return self.visibility_timeout_seconds * (self.max_receive_count + 1) + SETTLE_MARGIN_SECONDS


# --- items and the result they must give ---------------------------------------------------------


def item_value(position: int) -> Decimal:
    """A deterministic value with two decimal places, negative and positive, for the item at ``position``."""
    return Decimal((position * 7_919) % 20_011) / 100 - 50


def numbered_items(count: int, *, poison_at: Iterable[int] = ()) -> list[JsonObject]:
    """``count`` items ``{"id", "value"}``; the positions in ``poison_at`` get a value the workers must refuse."""
    poisoned = set(poison_at)
    return [
        {"id": position, "value": "not a number" if position in poisoned else float(item_value(position))}
        for position in range(count)
    ]


def json_lines(items: Sequence[JsonObject]) -> str:
    """Items as the input bucket takes them: one JSON object per line."""
    return "".join(json.dumps(item) + "\n" for item in items)


def expected_result(items: Sequence[JsonObject]) -> dict[str, Decimal]:
    """The job result the items must give, computed independently: exact sums, mean to 6 places."""
    values = [Decimal(repr(item["value"])) for item in items]
    total = sum(values, Decimal(0))
    return {
        "count": Decimal(len(values)),
        "sum": total,
        "min": min(values),
        "max": max(values),
        "mean": (total / len(values)).quantize(MEAN_PLACES),
    }


def result_decimals(result: Mapping[str, Any] | None) -> dict[str, Decimal]:
    """A job result from the status function, as exact decimals (JSON numbers read back by their text)."""
    return {name: Decimal(repr(value)) for name, value in (result or {}).items()}
