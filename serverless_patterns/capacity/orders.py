"""OrderWorkflow: orders a second, through Step Functions' rates, the task functions and EventBridge.

Per order: one execution of the state machine, entering the states of its path through the
definition (``cost.workflow.walk``): the happy path, or for the profile's compensated share the
path where ``UpdateInventory`` fails and the compensation runs. Each Task state invokes its
function once. A Standard machine is held to StartExecution's and StateTransition's refill
rates; an Express one to its own StartExecution rate only, which is why Express is the right
type once those bind (its executions run at most 5 minutes and at least once per start, so its
tasks must be idempotent: ChargePayment is, by order id). SendConfirmation publishes one
OrderConfirmed event; orders may also arrive as OrderPlaced events on the bus. UpdateInventory
takes each line's stock in one transaction: a popular SKU is one hot item.
"""

from __future__ import annotations

from collections import defaultdict

from serverless_patterns.capacity.checks import secret_checks
from serverless_patterns.capacity.model import (
    QUOTA,
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
from serverless_patterns.cost.inventory import StateMachineSpec
from serverless_patterns.cost.workflow import walk

UNIT = "order"
COMPENSATED_STATE = "UpdateInventory"
EXPRESS_LONGEST_SECONDS = 300
TRANSACTIONAL_UNITS = 2  # a transactional write of an item up to 1 KB
EVENTS_PER_ORDER_ON_THE_BUS = 1  # OrderPlaced, when orders arrive as events


def machine_of(instance: PatternInstance, context: Context) -> StateMachineSpec | None:
    """The state machine whose Task states invoke the instance's functions."""
    ours = {spec.logical_id for spec in instance.functions.values()}
    for machine in context.inventory.state_machines:
        if ours & set(walk(machine.definition, resolve=context.inventory.function_behind).functions):
            return machine
    return None


def analyse_orders(instance: PatternInstance, context: Context, *, express: bool | None = None) -> PatternCapacity:
    """The OrderWorkflow instance's limits; ``express`` models the other machine type (what if)."""
    machine = machine_of(instance, context)
    if machine is None:
        raise ValueError(f"{instance.instance}: no state machine invokes the order workflow's functions")
    express = machine.machine_type == "EXPRESS" if express is None else express
    compensated = context.profile.orders.compensated_share
    paths = [(1 - compensated, walk(machine.definition, resolve=context.inventory.function_behind))]
    if compensated and COMPENSATED_STATE in machine.definition.get("States", {}):
        failing = walk(machine.definition, resolve=context.inventory.function_behind, failing_state=COMPENSATED_STATE)
        paths.append((compensated, failing))
    invoked: dict[str, float] = defaultdict(float)
    for share, path in paths:
        for function in path.functions:
            invoked[function] += share
    transitions = sum(share * path.transitions for share, path in paths)
    steps: list[Step] = []
    events = writes = reads = 0.0
    for role, spec in instance.functions.items():
        if not invoked[spec.logical_id]:
            continue
        work = context.work(instance, role).invocation(1)
        steps.append(Step(role, spec, invoked[spec.logical_id], work.duration_ms))
        events += work.events_published * invoked[spec.logical_id]
        writes += work.dynamodb_write_units * invoked[spec.logical_id]
        reads += work.dynamodb_read_units * invoked[spec.logical_id]
    limits = lambda_limits(context, steps, UNIT) + _step_functions_limits(context, express, transitions)
    put_events = context.quotas.quota("eventbridge.put_events_rate")
    per_order = events + (EVENTS_PER_ORDER_ON_THE_BUS if context.inventory.event_buses else 0)
    if per_order:
        limits.append(
            Limit(
                name="EventBridge PutEvents",
                ceiling=put_events.value / per_order,
                detail=f"{number(put_events.value)} requests/s / {number(per_order)} per order "
                f"(OrderConfirmed, and OrderPlaced when orders arrive on the bus)",
                kind=QUOTA,
                raise_by=context.quota("eventbridge.put_events_rate", "EventBridge"),
            )
        )
    limits += table_limits(context, tables_of(instance, context), writes, reads, UNIT)
    ceiling = min(limit.ceiling for limit in limits)
    per_sku = context.quotas("dynamodb.partition_write_units") / TRANSACTIONAL_UNITS
    hot = HotKey(
        item="one SKU's stock item (inventory table)",
        per_second=per_sku,
        unit="orders/s of that SKU",
        detail=f"every order line takes its SKU's stock in a transaction ({TRANSACTIONAL_UNITS} write units): "
        f"{number(context.quotas('dynamodb.partition_write_units'))} / {TRANSACTIONAL_UNITS}",
        binds=per_sku < ceiling,
        mitigation="a conflict or throttle is retried by the state machine; a SKU selling faster needs its stock "
        "split over several items",
    )
    busy = context.busy(steps, ceiling)
    notes = [
        f"{number(transitions)} state transitions per order ({1 - compensated:.0%} happy path, "
        f"{compensated:.0%} compensated)"
    ]
    if not express:
        notes.append(_express_note(instance, context, machine))
    return PatternCapacity(
        pattern=instance.pattern,
        instance=instance.instance,
        unit=UNIT,
        limits=tuple(limits),
        hot_keys=(hot,),
        concurrency=busy,
        invocations=context.invocations(steps),
        checked=tuple(secret_checks(context, instance, busy)),
        notes=tuple(notes),
    )


def _step_functions_limits(context: Context, express: bool, transitions: float) -> list[Limit]:
    if express:
        return [_rate(context, "StartExecution (Express)", "stepfunctions.express_start_execution_rate", 1.0, "")]
    instead = f"; or Express: {context.where('workflow.express = True')}"
    return [
        _rate(context, "StartExecution (Standard)", "stepfunctions.standard_start_execution_rate", 1.0, instead),
        _rate(
            context,
            "state transitions (Standard)",
            "stepfunctions.standard_state_transition_rate",
            transitions,
            instead,
        ),
    ]


def _rate(context: Context, name: str, key: str, per_order: float, instead: str) -> Limit:
    quota = context.quotas.quota(key)
    return Limit(
        name=f"Step Functions {name}",
        ceiling=quota.value / per_order,
        detail=f"{number(quota.value)} {quota.unit.split(' (', 1)[0]} / {number(per_order)} per order",
        kind=QUOTA,
        raise_by=context.quota(key, "Step Functions") + instead,
    )


def _express_note(instance: PatternInstance, context: Context, machine: StateMachineSpec) -> str:
    timeout = machine.definition.get("TimeoutSeconds")
    express = analyse_orders(instance, context, express=True)
    fits = isinstance(timeout, int | float) and timeout <= EXPRESS_LONGEST_SECONDS
    when = (
        f"executions time out within {timeout} s, so Express fits"
        if fits
        else f"only if executions end within {EXPRESS_LONGEST_SECONDS} s (this one allows {timeout or 'a year'})"
    )
    return (
        f"Express is the right type once a Step Functions limit binds: {when}; its ceiling would be "
        f"{number(express.ceiling)} orders/s (first limit: {express.first.name}): set "
        f"{context.where('workflow.express = True')}"
    )
