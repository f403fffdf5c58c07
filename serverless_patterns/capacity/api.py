"""ApiBackend: requests a second, through the stage throttle, the handler's concurrency and the tables.

Per request the handler runs once (``profile.work["Api/Handler"]``: duration and DynamoDB units);
it reads its cursor key from Secrets Manager once per container. The hot keys are single items:
DynamoDB takes about 1,000 write units a second on one item, and a write costs one unit per KB
of the item, so a client hammering one item's counters is throttled long before the API is
(since 0.3.0 the caller gets a 429 with Retry-After for it, never a 500).
"""

from __future__ import annotations

import math

from serverless_patterns.capacity.checks import ramp_note, secret_checks
from serverless_patterns.capacity.model import (
    QUOTA,
    SETTING,
    Context,
    HotKey,
    Limit,
    PatternCapacity,
    Step,
    lambda_limits,
    number,
    table_limits,
    tables_of,
)
from serverless_patterns.capacity.patterns import PatternInstance
from serverless_patterns.lambdas.api_backend.models import MAX_COUNTERS, ItemInput

UNIT = "request"
DYNAMODB_NUMBER_BYTES = 21  # the most a DynamoDB number takes
SERVER_FIELDS_BYTES = 200  # id (64), version, createdAt, updatedAt, and the attribute names
NAME_BYTES = 64  # counter and attribute names: at most 64 characters (models.COUNTER_NAME_PATTERN)


def largest_item_bytes() -> int:
    """About the largest item the API lets a client build: every field, attribute and counter at its maximum.

    DynamoDB sizes an item as its attribute names plus values; counters and attributes are maps of
    name -> value. An approximation (a few bytes of overhead per entry are left out).
    """
    properties = ItemInput.model_json_schema()["properties"]
    name = int(properties["name"]["maxLength"])
    description = max(int(option.get("maxLength", 0)) for option in properties["description"]["anyOf"])
    attributes = properties["attributes"]
    (value_schema,) = attributes["patternProperties"].values()
    attribute_bytes = int(attributes["maxProperties"]) * (NAME_BYTES + int(value_schema["maxLength"]))
    counter_bytes = MAX_COUNTERS * (NAME_BYTES + DYNAMODB_NUMBER_BYTES)
    return name + description + attribute_bytes + counter_bytes + SERVER_FIELDS_BYTES


def analyse_api(instance: PatternInstance, context: Context) -> PatternCapacity:
    """The ApiBackend instance's limits, hot items and checks."""
    handler = instance.function("api")
    assert handler is not None  # recognition guarantees the role
    work = context.work(instance, "api").invocation(1)
    step = Step("api", handler, 1.0, work.duration_ms)
    limits = lambda_limits(context, [step], UNIT)
    stage = next((s for s in context.inventory.stages if handler.logical_id in s.functions), None)
    if stage is not None and stage.rate_limit:
        limits.append(
            Limit(
                name="API stage throttle",
                ceiling=stage.rate_limit,
                detail=f"stage rate {number(stage.rate_limit)} requests/s (burst {number(stage.burst_limit or 0)})",
                kind=SETTING,
                raise_by=context.where("api.throttle_rate (and api.throttle_burst)"),
            )
        )
    account = context.quotas.quota("apigateway.account_rate")
    limits.append(
        Limit(
            name="API Gateway account throttle",
            ceiling=account.value,
            detail=f"{number(account.value)} requests/s shared by every API of the account in the Region",
            kind=QUOTA,
            raise_by=context.quota("apigateway.account_rate", "API Gateway"),
        )
    )
    limits += table_limits(
        context, tables_of(instance, context), work.dynamodb_write_units, work.dynamodb_read_units, UNIT
    )
    ceiling = min(limit.ceiling for limit in limits)
    busy = context.busy([step], ceiling)
    return PatternCapacity(
        pattern=instance.pattern,
        instance=instance.instance,
        unit=UNIT,
        limits=tuple(limits),
        hot_keys=(_hot_item(context, ceiling),),
        checked=tuple(secret_checks(context, instance, busy)),
        concurrency=busy,
        invocations=context.invocations([step]),
        notes=(
            ramp_note(context, "api", busy["api"], handler.provisioned_concurrency),
            f"the stage's burst ({number(stage.burst_limit or 0) if stage else '-'}) and API Gateway's account burst "
            f"({number(context.quotas('apigateway.account_burst'))}) absorb spikes above the ceiling, "
            "not sustained load",
        ),
    )


def _hot_item(context: Context, ceiling: float) -> HotKey:
    per_item = context.quotas("dynamodb.partition_write_units")
    largest = largest_item_bytes()
    units = math.ceil(largest / 1024)
    return HotKey(
        item="one item of the items table (its counters, updates, deletes)",
        per_second=per_item / units,
        unit="writes/s to that item",
        detail=(
            f"{number(per_item)} write units/s per item; a write costs 1 unit per KB of the item: {number(per_item)}/s "
            f"for items up to 1 KB, {number(per_item / units)}/s for the largest the API allows "
            f"(~{number(largest / 1024)} KB: {MAX_COUNTERS} counters and every attribute at its maximum)"
        ),
        binds=per_item / units < ceiling,
        mitigation=(
            "bounded: counters per item are capped (409 beyond), and a throttled write is a 429 with Retry-After, "
            "never a 500; spread a hot counter over several items if one item must take more"
        ),
    )
