"""FanOut: items a second, through the workers' event source and concurrency, and a job's completion count.

Per job of ``J`` items (the profile's ``items_per_job``) in chunks of ``CHUNK_SIZE``: the master
runs once, queueing the chunks; the workers run once per batch of chunks; the aggregator once;
the status reader per poll. Each chunk's completion is written to DynamoDB: with completion
shards (``COMPLETION_SHARDS`` on the master, ``FanOutSettings.completion_shards``) into the
partition of its shard, which takes its record and its count (two transactional writes of a
small item: 4 write units); without (0, the 0.2 layout) into the job's own partition, which
takes the record (2), the count on the job item (2) and the start attempt every delivery makes
on the job item (a conditional write: 1 even when it fails). One partition takes 1,000 write
units a second, so a job completes at most 250 chunks a second per shard, or 200 without.
"""

from __future__ import annotations

import math

from serverless_patterns.capacity.checks import secret_checks
from serverless_patterns.capacity.model import (
    DESIGN,
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
from serverless_patterns.capacity.pipeline import event_source_limit, scale_out_note
from serverless_patterns.lambdas.fan_out.contract import MAX_COMPLETION_SHARDS

UNIT = "item"
UNSHARDED_UNITS_PER_CHUNK = 5  # the job's partition: record 2 + count on the job item 2 + start attempt 1
SHARDED_UNITS_PER_CHUNK = 4  # a shard's partition: record 2 + count on the shard 2


def job_completions_per_second(shards: int, partition_units: float) -> float:
    """Chunks a second one job can complete: its shards' partitions, or (0 shards) its own partition."""
    if shards == 0:
        return partition_units / UNSHARDED_UNITS_PER_CHUNK
    return shards * partition_units / SHARDED_UNITS_PER_CHUNK


def analyse_fan_out(instance: PatternInstance, context: Context) -> PatternCapacity:
    """The FanOut instance's limits, its jobs' completion hot key (before and after sharding) and checks."""
    master, worker = instance.function("master"), instance.function("worker")
    assert master is not None  # recognition guarantees the roles
    assert worker is not None
    chunk_size = int(master.environment.get("CHUNK_SIZE") or context.profile.assumptions.default_chunk_size)
    job_items = context.profile.fan_out.items_per_job or float(chunk_size)
    chunks = math.ceil(job_items / chunk_size)
    source = context.inventory.queue_source(worker.logical_id)
    batch = float(source.batch_size) if source else 1.0
    records = {"master": float(chunks), "worker": batch, "aggregator": float(chunks), "status": 0.0}
    per_item = {
        "master": 1 / job_items,
        "worker": 1 / (chunk_size * batch),
        "aggregator": 1 / job_items,
        "status": context.profile.fan_out.status_polls_per_job / job_items,
    }
    steps, invocation_work = [], []
    for role, invocations in per_item.items():
        spec = instance.function(role)
        if spec is None or not invocations:
            continue
        work = context.work(instance, role).invocation(records[role])
        steps.append(Step(role, spec, invocations, work.duration_ms))
        invocation_work.append(work)
    limits = lambda_limits(context, steps, UNIT)
    notes = [f"a job of {number(job_items)} items ({chunks} chunks of {chunk_size}), as in the traffic profile"]
    if source is not None:
        worker_step = next(step for step in steps if step.role == "worker")
        limits.append(
            event_source_limit(context, worker_step, source, 1 / chunk_size, UNIT, "fan_out.worker_max_concurrency")
        )
        notes.append(scale_out_note(context, "worker", source))
    configured = int(master.environment.get("COMPLETION_SHARDS") or 0)
    shards = min(configured, chunks)
    partition = context.quotas("dynamodb.partition_write_units")
    per_job = job_completions_per_second(shards, partition)
    limits.append(_completion_limit(context, shards, configured, per_job, chunk_size, partition))
    writes = sum(w.dynamodb_write_units * s.invocations_per_unit for w, s in zip(invocation_work, steps, strict=True))
    reads = sum(w.dynamodb_read_units * s.invocations_per_unit for w, s in zip(invocation_work, steps, strict=True))
    limits += table_limits(context, tables_of(instance, context), writes, reads, UNIT)
    ceiling = min(limit.ceiling for limit in limits)
    hot = HotKey(
        item="a job's completion count",
        per_second=per_job,
        unit="chunks/s per job",
        before_per_second=job_completions_per_second(0, partition),
        detail=(
            f"{shards} completion shard(s): {number(per_job)} chunks/s per job"
            if shards
            else f"one counter on the job item, in the job's partition: {number(per_job)} chunks/s per job"
        ),
        binds=per_job * chunk_size <= ceiling,
        mitigation="counted in completion shards, each in its own partition; the job item takes 2 writes per shard",
    )
    busy = context.busy(steps, ceiling)
    return PatternCapacity(
        pattern=instance.pattern,
        instance=instance.instance,
        unit=UNIT,
        limits=tuple(limits),
        hot_keys=(hot,),
        concurrency=busy,
        invocations=context.invocations(steps),
        checked=(
            "SQS standard queue: nearly unlimited sends (the master sends 10 chunks per SendMessageBatch)",
            "the job item while queuing: one watermark write per 10 chunks queued, one master at a time",
            *secret_checks(context, instance, busy),
        ),
        notes=tuple(notes),
    )


def _completion_limit(
    context: Context, shards: int, configured: int, per_job: float, chunk_size: int, partition: float
) -> Limit:
    if shards:
        detail = (
            f"{shards} shards x {number(partition)} write units/s / {SHARDED_UNITS_PER_CHUNK} per chunk "
            f"x {chunk_size} items per chunk"
        )
    else:
        detail = (
            f"the job's partition: {number(partition)} write units/s / {UNSHARDED_UNITS_PER_CHUNK} per chunk "
            f"x {chunk_size} items per chunk"
        )
    adjustable = shards == configured and configured < MAX_COMPLETION_SHARDS
    return Limit(
        name="One job's completions (DynamoDB partition)",
        ceiling=per_job * chunk_size,
        detail=detail,
        kind=SETTING if adjustable else DESIGN,
        raise_by=context.where(f"fan_out.completion_shards (now {configured}, at most {MAX_COMPLETION_SHARDS})")
        if adjustable
        else "larger jobs (a job has at most one shard per chunk), or several jobs at once",
    )
