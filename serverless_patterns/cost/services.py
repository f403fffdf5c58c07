"""Line items per service, from the inventory, the traffic model's loads and the list prices."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from serverless_patterns.cost.prices import Prices
from serverless_patterns.cost.profile import TrafficProfile, Work
from serverless_patterns.cost.results import LineItem
from serverless_patterns.cost.template import SECONDS_PER_DAY, Inventory
from serverless_patterns.cost.traffic import Traffic

KB_PER_GB = 1024 * 1024
MILLION = 1_000_000
UNRETAINED_LOG_DAYS = 365


def xray_items(inventory: Inventory, traffic: Traffic, profile: TrafficProfile, prices: Prices) -> list[LineItem]:
    assumptions = profile.assumptions
    reservoir = assumptions.xray_reservoir_per_second * SECONDS_PER_DAY
    traces = 0.0
    for logical_id, spec in inventory.functions.items():
        if not spec.traced:
            continue
        per_day = sum(load.invocations_per_day for load in traffic.loads.get(logical_id, []))
        traces += min(per_day, reservoir) + assumptions.xray_sampled_share * max(0.0, per_day - reservoir)
    if not traces:
        return []
    return [
        LineItem(
            "X-Ray",
            "Traces recorded (default sampling)",
            traces * profile.days_per_month,
            "traces",
            prices("xray", "traces_recorded_per_million"),
            MILLION,
            note="each traced invocation counted as its own trace: an upper bound",
        )
    ]


def sqs_items(
    inventory: Inventory, traffic: Traffic, work: Work, profile: TrafficProfile, prices: Prices
) -> list[LineItem]:
    days = profile.days_per_month
    price = prices("sqs", "standard_requests_per_million")
    batches = 0.0
    for source in inventory.queue_sources:
        batches += sum(load.invocations_per_day for load in traffic.loads.get(source.function, []))
    idle = (
        len(inventory.queue_sources)
        * profile.assumptions.sqs_pollers_per_event_source
        * SECONDS_PER_DAY
        / max(1.0, profile.assumptions.sqs_long_poll_seconds)
    )
    items = [
        LineItem(
            "SQS",
            "Messages sent by functions",
            work.sqs_requests + traffic.sqs_sends * days,
            "requests",
            price,
            MILLION,
        ),
        LineItem(
            "SQS", "Batches received and deleted by event sources", 2 * batches * days, "requests", price, MILLION
        ),
        LineItem(
            "SQS",
            "Event source long polls",
            idle * days,
            "requests",
            price,
            MILLION,
            note=f"{profile.assumptions.sqs_pollers_per_event_source:g} pollers per event source, "
            f"{profile.assumptions.sqs_long_poll_seconds:g} s long polls",
        ),
    ]
    return [item for item in items if item.quantity]


def dynamodb_items(
    inventory: Inventory, work: Work, profile: TrafficProfile, prices: Prices
) -> tuple[list[LineItem], list[str]]:
    if not inventory.tables:
        return [], []
    notes = []
    items = [
        LineItem(
            "DynamoDB",
            "Write request units (on demand)",
            work.dynamodb_write_units,
            "WRU",
            prices("dynamodb", "on_demand_write_request_units_per_million"),
            MILLION,
        ),
        LineItem(
            "DynamoDB",
            "Read request units (on demand)",
            work.dynamodb_read_units,
            "RRU",
            prices("dynamodb", "on_demand_read_request_units_per_million"),
            MILLION,
        ),
    ]
    if any(not table.on_demand for table in inventory.tables):
        notes.append("tables with provisioned capacity are priced as on-demand requests; their capacity is not")
    storage = profile.assumptions.dynamodb_storage_gb
    items.append(LineItem("DynamoDB", "Storage", storage, "GB-month", prices("dynamodb", "storage_gb_month")))
    with_pitr = sum(1 for table in inventory.tables if table.point_in_time_recovery)
    if with_pitr:
        items.append(
            LineItem(
                "DynamoDB",
                "Point-in-time recovery",
                storage * with_pitr / len(inventory.tables),
                "GB-month",
                prices("dynamodb", "pitr_gb_month"),
                note=f"{with_pitr} of {len(inventory.tables)} tables",
            )
        )
    return [item for item in items if item.quantity], notes


def step_functions_items(traffic: Traffic, profile: TrafficProfile, prices: Prices) -> list[LineItem]:
    days = profile.days_per_month
    items = []
    if traffic.transitions:
        items.append(
            LineItem(
                "Step Functions",
                "Standard state transitions",
                traffic.transitions * days,
                "transitions",
                prices("stepfunctions", "standard_transitions_per_thousand"),
                1_000,
            )
        )
    if traffic.express_gb_seconds:
        items.append(
            LineItem(
                "Step Functions",
                "Express requests",
                traffic.executions * days,
                "requests",
                prices("stepfunctions", "express_requests_per_million"),
                MILLION,
            )
        )
        items.append(
            LineItem(
                "Step Functions",
                "Express duration (64 MB)",
                traffic.express_gb_seconds * days,
                "GB-s",
                prices("stepfunctions", "express_gb_second"),
            )
        )
    return items


def s3_items(
    inventory: Inventory, traffic: Traffic, work: Work, profile: TrafficProfile, prices: Prices
) -> list[LineItem]:
    if not inventory.buckets:
        return []
    days = profile.days_per_month
    items = [
        LineItem(
            "S3",
            "PUT requests (uploads and results)",
            work.s3_put_requests + traffic.client_uploads * days,
            "requests",
            prices("s3", "put_requests_per_thousand"),
            1_000,
        ),
        LineItem(
            "S3", "GET requests", work.s3_get_requests, "requests", prices("s3", "get_requests_per_thousand"), 1_000
        ),
        LineItem(
            "S3",
            "Standard storage",
            profile.assumptions.s3_storage_gb,
            "GB-month",
            prices("s3", "standard_storage_gb_month"),
        ),
    ]
    return [item for item in items if item.quantity]


def cloudwatch_items(
    inventory: Inventory,
    traffic: Traffic,
    function_log_kb: Mapping[str, float],
    profile: TrafficProfile,
    prices: Prices,
) -> list[LineItem]:
    days = profile.days_per_month
    log_kb: dict[str, float] = defaultdict(float, function_log_kb)
    access_kb = traffic.api_requests * days * profile.assumptions.api_access_log_kb_per_request
    for group in inventory.rest_api_access_log_groups[:1]:
        log_kb[group] += access_kb
    for group, kb in traffic.state_machine_log_kb.items():
        log_kb[group] += kb * days
    ingested_gb = sum(log_kb.values()) / KB_PER_GB
    stored_gb = (
        sum(kb / days * (inventory.log_groups.get(group) or UNRETAINED_LOG_DAYS) for group, kb in log_kb.items())
        / KB_PER_GB
        * profile.assumptions.log_stored_share
    )
    standard = sum(alarm.metrics for alarm in inventory.alarms if not alarm.high_resolution)
    high_resolution = sum(alarm.metrics for alarm in inventory.alarms if alarm.high_resolution)
    metrics = profile.assumptions.custom_metrics if inventory.functions else 0
    items = [
        LineItem(
            "CloudWatch", "Dashboards", inventory.dashboards, "dashboards", prices("cloudwatch", "dashboard_month")
        ),
        LineItem(
            "CloudWatch",
            "Alarm metrics (standard resolution)",
            standard,
            "metrics",
            prices("cloudwatch", "standard_alarm_month"),
        ),
        LineItem(
            "CloudWatch",
            "Alarm metrics (high resolution)",
            high_resolution,
            "metrics",
            prices("cloudwatch", "high_resolution_alarm_month"),
        ),
        LineItem(
            "CloudWatch",
            "Composite alarms",
            inventory.composite_alarms,
            "alarms",
            prices("cloudwatch", "composite_alarm_month"),
        ),
        LineItem("CloudWatch", "Logs ingestion", ingested_gb, "GB", prices("cloudwatch", "logs_ingestion_gb")),
        LineItem(
            "CloudWatch",
            "Logs storage (steady state)",
            stored_gb,
            "GB-month",
            prices("cloudwatch", "logs_storage_gb_month"),
            note=f"each group's retention, {profile.assumptions.log_stored_share:g} of the raw size",
        ),
        LineItem("CloudWatch", "Custom metrics (EMF)", metrics, "metrics", prices("cloudwatch", "custom_metric_month")),
    ]
    return [item for item in items if item.quantity]


def api_gateway_items(traffic: Traffic, profile: TrafficProfile, prices: Prices) -> list[LineItem]:
    if not traffic.api_requests:
        return []
    return [
        LineItem(
            "API Gateway",
            "REST API requests",
            traffic.api_requests * profile.days_per_month,
            "requests",
            prices("apigateway", "rest_requests_per_million"),
            MILLION,
        )
    ]


def other_items(inventory: Inventory, work: Work, prices: Prices) -> list[LineItem]:
    items = [
        LineItem("KMS", "Customer managed keys", inventory.kms_keys, "keys", prices("kms", "key_month")),
        LineItem("Secrets Manager", "Secrets", inventory.secrets, "secrets", prices("secretsmanager", "secret_month")),
        LineItem(
            "EventBridge",
            "Custom events published",
            work.events_published,
            "events",
            prices("eventbridge", "custom_events_per_million"),
            MILLION,
        ),
    ]
    return [item for item in items if item.quantity]
