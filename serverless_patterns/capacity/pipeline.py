"""EventPipeline: uploaded files a second, through the validator, the queue's event source and the processor.

Per file: S3 invokes the validator once (asynchronously); the validator queues one message; the
event source hands the processor full batches when the queue has a backlog (which it has at the
ceiling), so the processor runs once per ``BatchSize`` files, for ``per_invocation + BatchSize x
per_record`` of the profile's work. The event source runs at most ``MaximumConcurrency`` batches
at once (else as many as Lambda scales it to, at most 1,000), starting from 5 and adding up to
300 a minute. Every upload lives under one prefix (``incoming/``), and S3 serves a prefix's
requests at a fixed rate until it partitions it.
"""

from __future__ import annotations

import math

from serverless_patterns.capacity.checks import secret_checks
from serverless_patterns.capacity.model import (
    DESIGN,
    SETTING,
    Context,
    Limit,
    PatternCapacity,
    Step,
    lambda_limits,
    number,
    table_limits,
    tables_of,
)
from serverless_patterns.capacity.patterns import PatternInstance
from serverless_patterns.cost.inventory import QueueSource

UNIT = "file"


def event_source_limit(
    context: Context, step: Step, source: QueueSource, records_per_unit: float, unit: str, setting: str
) -> Limit:
    """The cap an SQS event source's concurrency puts on the units its batches carry."""
    maximum = context.quotas("sqs_event_source.maximum_concurrency")
    batches = source.maximum_concurrency or maximum
    seconds = max(step.duration_ms, context.minimum_duration_ms) / 1000
    per_batch = source.batch_size / records_per_unit
    configured = source.maximum_concurrency is not None
    return Limit(
        name=f"SQS event source concurrency ({step.role})",
        ceiling=batches * per_batch / seconds,
        detail=(
            f"{number(batches)} concurrent batches ({'MaximumConcurrency' if configured else 'Lambda at most'}) x "
            f"{number(per_batch)} {unit}s / {number(seconds * 1000)} ms per batch"
        ),
        kind=SETTING if configured and batches < maximum else DESIGN,
        raise_by=(
            context.where(f"{setting} (at most {number(maximum)})")
            if configured and batches < maximum
            else f"already {number(maximum)}, the most one event source runs: add queues and event sources"
        ),
    )


def scale_out_note(context: Context, role: str, source: QueueSource) -> str:
    """How long the event source takes to scale from its initial batches to its maximum."""
    start = context.quotas("sqs_event_source.initial_concurrency")
    per_minute = context.quotas("sqs_event_source.scale_up_per_minute")
    target = source.maximum_concurrency or context.quotas("sqs_event_source.maximum_concurrency")
    if target <= start:
        return f"{role}'s event source runs its {number(target)} concurrent batches as soon as the queue has a backlog"
    minutes = math.ceil((target - start) / per_minute)
    return (
        f"{role}'s event source starts at {number(start)} concurrent batches and adds up to {number(per_minute)} "
        f"a minute: {number(target)} within {minutes} min of a backlog"
    )


def analyse_pipeline(instance: PatternInstance, context: Context) -> PatternCapacity:
    """The EventPipeline instance's limits and checks."""
    validate, process = instance.function("validate"), instance.function("process")
    assert validate is not None  # recognition guarantees the roles
    assert process is not None
    source = context.inventory.queue_source(process.logical_id)
    batch = float(source.batch_size) if source else 1.0
    validate_work = context.work(instance, "validate").invocation(1)
    process_work = context.work(instance, "process").invocation(batch)
    steps = [
        Step("validate", validate, 1.0, validate_work.duration_ms),
        Step("process", process, 1 / batch, process_work.duration_ms),
    ]
    limits = lambda_limits(context, steps, UNIT)
    notes = []
    if source is not None:
        limits.append(event_source_limit(context, steps[1], source, 1.0, UNIT, "pipeline.max_concurrency"))
        notes.append(scale_out_note(context, "process", source))
    per_file = validate_work.plus(process_work, 1 / batch)
    prefix = validate.environment.get("UPLOAD_PREFIX", "the upload prefix")
    for kind, requests, quota in (
        ("GET/HEAD", per_file.s3_get_requests, "s3.prefix_get_rate"),
        ("PUT", per_file.s3_put_requests + 1, "s3.prefix_put_rate"),  # + the upload itself
    ):
        if not requests:
            continue
        rate = context.quotas(quota)
        limits.append(
            Limit(
                name=f"S3 {kind} requests per prefix",
                ceiling=rate / requests,
                detail=f"{number(rate)}/s per prefix / {number(requests)} per file (the upload and every request "
                f"processing it makes, all counted under {prefix})",
                kind=DESIGN,
                raise_by="spread uploads over several prefixes (S3 scales per prefix), or accept S3's own "
                "partitioning after sustained load",
            )
        )
    limits += table_limits(
        context, tables_of(instance, context), per_file.dynamodb_write_units, per_file.dynamodb_read_units, UNIT
    )
    ceiling = min(limit.ceiling for limit in limits)
    busy = context.busy(steps, ceiling)
    return PatternCapacity(
        pattern=instance.pattern,
        instance=instance.instance,
        unit=UNIT,
        limits=tuple(limits),
        concurrency=busy,
        invocations=context.invocations(steps),
        checked=(
            "SQS standard queue: nearly unlimited sends and receives a second",
            *secret_checks(context, instance, busy),
        ),
        notes=(
            *notes,
            f"below the ceiling, a batch gathers what arrives within the batching window "
            f"({source.batching_window_seconds if source else 0} s): latency, not throughput",
        ),
    )
