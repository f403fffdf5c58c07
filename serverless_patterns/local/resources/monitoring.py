"""CloudWatch alarms (composite alarms recorded), Logs query definitions and metric filters."""

from __future__ import annotations

from typing import Any

from serverless_patterns.local.cloudformation import RECORDED, Emulated, ResourceContext, emulates, recorded
from serverless_patterns.local.resources.common import camel

# -- CloudWatch and Logs -----------------------------------------------------------------

_ALARM_KEYS = (
    "AlarmDescription",
    "ActionsEnabled",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Dimensions",
    "Period",
    "Unit",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
    "Metrics",
    "ThresholdMetricId",
)


@emulates("AWS::CloudWatch::Alarm")
def metric_alarm(ctx: ResourceContext) -> Emulated:
    """PutMetricAlarm with the template's settings."""
    name = str(ctx.properties.get("AlarmName") or ctx.physical_name)
    kwargs = {key: ctx.properties[key] for key in _ALARM_KEYS if key in ctx.properties}
    for key in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
        if key in kwargs:
            kwargs[key] = int(kwargs[key])
    if "Threshold" in kwargs:
        kwargs["Threshold"] = float(kwargs["Threshold"])
    ctx.client("cloudwatch").put_metric_alarm(AlarmName=name, **kwargs)
    return Emulated(name, {"Arn": ctx.arn("cloudwatch", f"alarm:{name}")})


@emulates("AWS::CloudWatch::CompositeAlarm")
def composite_alarm(ctx: ResourceContext) -> Emulated:
    """moto has no PutCompositeAlarm: recorded, with its rule."""
    name = str(ctx.properties.get("AlarmName") or ctx.physical_name)
    return Emulated(
        name,
        {"Arn": ctx.arn("cloudwatch", f"alarm:{name}")},
        outcome=RECORDED,
        detail=f"rule: {str(ctx.properties.get('AlarmRule', ''))[:80]}",
    )


class _LogGroup:
    """moto's log group, whose GetAtt Arn ends in ``:*`` as on AWS (policies granting on it rely on that)."""

    def __init__(self, model: Any) -> None:
        self._model = model

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        value = self._model.get_cfn_attribute(attribute_name)
        return f"{value}:*" if attribute_name == "Arn" and not str(value).endswith(":*") else value


@emulates("AWS::Logs::LogGroup")
def log_group(ctx: ResourceContext) -> Any:
    """moto creates the group; its ``Arn`` attribute is AWS's (``arn:...:log-group:NAME:*``)."""
    if ctx.moto_create is None:
        raise ValueError("moto has no log group model")
    return _LogGroup(ctx.moto_create())


@emulates("AWS::Logs::QueryDefinition")
def query_definition(ctx: ResourceContext) -> Emulated:
    """moto has no PutQueryDefinition: recorded, with its name."""
    return recorded(ctx, f"query {ctx.properties.get('Name', '')}", {"QueryDefinitionId": ctx.physical_name})


@emulates("AWS::Logs::MetricFilter")
def metric_filter(ctx: ResourceContext) -> Emulated:
    """PutMetricFilter (the emulator does not turn log lines into metrics)."""
    props = ctx.properties
    name = str(props.get("FilterName") or ctx.physical_name)
    ctx.client("logs").put_metric_filter(
        logGroupName=props["LogGroupName"],
        filterName=name,
        filterPattern=props.get("FilterPattern", ""),
        metricTransformations=camel(props["MetricTransformations"]),
    )
    return Emulated(name, detail="metrics are not extracted locally")
