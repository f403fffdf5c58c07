"""The dashboard's capacity alarms on the real environments: the limits ``make capacity`` names, watched."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import assertions

from serverless_patterns.config import AlarmThresholds
from serverless_patterns.stacks.environments import ENVIRONMENTS

PREFIX = "ObservabilityCapacity"


def _capacity_alarms(template: assertions.Template) -> dict[str, dict[str, Any]]:
    """The dashboard's capacity alarms by name: the logical id without prefix, ``Alarm`` and CDK's hash."""
    return {
        logical_id[len(PREFIX) : -len("Alarm12345678")]: resource["Properties"]
        for logical_id, resource in template.find_resources("AWS::CloudWatch::Alarm").items()
        if logical_id.startswith(PREFIX)
    }


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_every_limit_the_capacity_model_names_has_an_alarm_near_it(
    templates: dict[str, assertions.Template], env: str
) -> None:
    """Account concurrency at 80 % of the quota; the reserved functions (Prod: the API handler, the
    fan-out workers) at 80 % of their reservation; the asynchronously invoked validator and aggregator
    on their event age; and the throttles of every table but the API's two, which ApiBackend alarms on."""
    config = ENVIRONMENTS[env]
    alarms = _capacity_alarms(templates[env])

    tables = {
        "EventPipelineIdempotencyThrottles",
        "FanOutJobsThrottles",
        "OrderWorkflowOrdersTableThrottles",
        "OrderWorkflowInventoryTableThrottles",
        "OrderWorkflowPaymentsTableThrottles",
        "OrderWorkflowIdempotencyTableThrottles",
    }
    asynchronous = {"EventPipelineValidateAsyncEventAge", "FanOutAggregatorAsyncEventAge"}
    reserved: dict[str, int] = {}
    for path, role in (("ApiHandler", "api"), ("FanOutWorker", "worker")):
        reservation = config.function(role).reserved_concurrency
        if reservation:
            reserved[f"{path}ReservedConcurrency"] = reservation
    assert set(alarms) == {"AccountConcurrency", *tables, *asynchronous, *reserved}
    thresholds = config.alarm_thresholds
    assert alarms["AccountConcurrency"]["Threshold"] == thresholds.capacity_share * thresholds.account_concurrency
    for name, reservation in reserved.items():
        assert alarms[name]["Threshold"] == thresholds.capacity_share * reservation
    for name in asynchronous:
        assert alarms[name]["Threshold"] == thresholds.queue_oldest_message_seconds * 1000


@pytest.mark.parametrize(
    ("field", "value"), [("account_concurrency", 0), ("capacity_share", 0.0), ("capacity_share", 1.5)]
)
def test_thresholds_refuse_a_quota_or_share_that_could_never_alarm_right(field: str, value: float) -> None:
    settings: dict[str, Any] = {field: value}
    with pytest.raises(ValueError, match=f"{field} must"):
        AlarmThresholds(**settings)
