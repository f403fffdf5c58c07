"""Concurrent invocations: containers per invocation, environments per thread, DynamoDB one request at a time."""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

import pytest

from serverless_patterns.local import LocalCloud
from serverless_patterns.local.sandbox import DEFAULT_MAX_CONTAINERS, ThreadEnviron

THREADS = 8


def _in_parallel(count: int, call: Callable[[int], Any]) -> list[Any]:
    """``call(0..count-1)`` from ``THREADS`` threads, released together."""
    barrier = threading.Barrier(min(THREADS, count))

    def run(index: int) -> Any:
        if index < THREADS:
            barrier.wait(timeout=30)
        return call(index)

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(run, range(count)))


def test_overlapping_invocations_get_containers_of_their_own(cloud: LocalCloud) -> None:
    flaky = cloud.resource("Flaky/LiveAlias", "AWS::Lambda::Alias").physical_id
    run = uuid.uuid4().hex[:8]

    responses = _in_parallel(24, lambda n: cloud.invoke(flaky, {"id": f"{run}-{n % 3}"}))

    assert [r.function_error for r in responses] == [None] * 24
    assert sorted(r.payload["attempts"] for r in responses) == sorted(list(range(1, 9)) * 3)  # DynamoDB ADD, exact
    containers = cloud.runtime.containers(flaky.split(":")[6])
    # Handlers waiting on DynamoDB let others run: a second container was needed, but never more than the limit.
    assert 1 < len(containers) <= DEFAULT_MAX_CONTAINERS
    assert sum(c.invocations for c in containers) >= 24


def test_each_invocation_sees_its_own_environment_and_the_process_keeps_its_own(
    cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCAL_CLOUD_LEAK_PROBE", "the test process's")
    aliases = {"Echo": cloud.outputs["EchoAlias"], "EchoTwin": cloud.outputs["TwinAlias"]}
    stop = threading.Event()
    host_views: list[tuple[str | None, bool]] = []

    def watch_host() -> None:
        while not stop.is_set():
            snapshot = dict(os.environ)  # iterating while handlers run must never fail
            host_views.append((snapshot.get("LOCAL_CLOUD_LEAK_PROBE"), "AWS_LAMBDA_FUNCTION_NAME" in snapshot))

    watcher = threading.Thread(target=watch_host)
    watcher.start()
    try:
        names = ["Echo", "EchoTwin"] * 12
        responses = _in_parallel(len(names), lambda n: (names[n], cloud.invoke(aliases[names[n]], {"n": n})))
    finally:
        stop.set()
        watcher.join()

    for name, response in responses:
        assert response.payload["greeting"] == f"hello from {name}"
        assert response.payload["lambda_function_name"] == response.payload["function_name"]
        assert response.payload["leak_probe"] is None
    assert host_views
    assert set(host_views) == {("the test process's", False)}


def test_concurrent_transactions_are_applied_one_at_a_time(cloud: LocalCloud) -> None:
    dynamodb = cloud.client("dynamodb")
    table, key = cloud.outputs["TableName"], {"pk": {"S": f"counter-{uuid.uuid4().hex[:8]}"}}
    dynamodb.put_item(TableName=table, Item={**key, "count": {"N": "0"}})
    per_thread = 15

    def increment(_: int) -> None:
        for _ in range(per_thread):
            dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": table,
                            "Key": key,
                            "UpdateExpression": "SET #c = #c + :one",
                            "ConditionExpression": "attribute_exists(pk)",
                            "ExpressionAttributeNames": {"#c": "count"},
                            "ExpressionAttributeValues": {":one": {"N": "1"}},
                        }
                    }
                ]
            )

    _in_parallel(THREADS, increment)

    item = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    assert int(item["count"]["N"]) == THREADS * per_thread


def test_threads_started_by_handler_code_inherit_its_environment() -> None:
    environ = ThreadEnviron(os.environ)
    running_handler = threading.local()
    seen: dict[str, str | None] = {}

    def child(label: str) -> None:
        seen[label] = os.environ.get("ONLY_IN_THE_INVOCATION")

    with ExitStack() as stack:
        environ.install(stack, lambda: bool(getattr(running_handler, "active", False)))
        with environ.overlay({"ONLY_IN_THE_INVOCATION": "yes"}):
            running_handler.active = True
            from_handler = threading.Thread(target=child, args=("handler",))
            from_handler.start()
            running_handler.active = False  # e.g. the emulator serving the handler's request
            from_emulator = threading.Thread(target=child, args=("emulator",))
            from_emulator.start()
            assert os.environ["ONLY_IN_THE_INVOCATION"] == "yes"
            from_handler.join()
            from_emulator.join()
        outside = threading.Thread(target=child, args=("outside",))
        outside.start()
        outside.join()
        assert "ONLY_IN_THE_INVOCATION" not in os.environ

    assert seen == {"handler": "yes", "emulator": None, "outside": None}


def test_one_invocations_log_context_never_shows_in_anothers(cloud: LocalCloud) -> None:
    """Powertools keys and correlation ids belong to each container's own logger (its own layer and registry)."""
    logged = cloud.outputs["LoggedAlias"]
    run = uuid.uuid4().hex[:8]

    responses = _in_parallel(16, lambda n: cloud.invoke(logged, {"job_id": f"{run}-{n}"}))

    assert [r.function_error for r in responses] == [None] * 16
    name = logged.split(":")[6]
    invocations = [i for i in cloud.invocations if i.function_name == name and str(i.event["job_id"]).startswith(run)]
    assert len(invocations) == 16
    containers = cloud.runtime.containers(name)
    assert len(containers) > 1, "the invocations overlapped"
    cold_starts = 0
    for invocation in invocations:
        lines = [json.loads(line) for line in invocation.logs.splitlines() if line.startswith('{"level"')]
        assert [line["message"] for line in lines] == ["started", "working", "working", "working", "finished"]
        job_id = invocation.event["job_id"]
        for line in lines:
            assert (line["job_id"], line["correlation_id"], line["step"]) == (job_id, job_id, f"of {job_id}")
            assert line["function_request_id"] == invocation.request_id
        cold_starts += lines[0]["cold_start"]
        metrics = [json.loads(line) for line in invocation.logs.splitlines() if '"_aws"' in line]
        values = [m["LoggedJobs"] for m in metrics if "LoggedJobs" in m]
        assert values in ([1], [[1]], [1.0], [[1.0]]), values  # its own metric, once
    assert cold_starts == len(containers)  # each container's first invocation, as each has its own Powertools


# --- SnapStart: each container is a restored environment ---------------------------------------------


def test_a_snapstart_version_runs_its_hooks_after_init_and_before_its_first_invocation(cloud: LocalCloud) -> None:
    first = cloud.invoke(cloud.outputs["SnapAlias"], {})
    again = cloud.invoke(cloud.outputs["SnapAlias"], {})

    assert first.function_error is None, first.payload
    # Before-snapshot hooks in reverse order of registration, after-restore hooks in order, as on AWS.
    restored = ["init", "before:second", "before:first", "after:first", "after:second"]
    assert first.payload["events"] == restored
    assert again.payload["events"] == [*restored, "invoked"]  # the same environment: no second restore


def test_latest_is_not_restored_from_a_snapshot(cloud: LocalCloud) -> None:
    unqualified = cloud.invoke(cloud.outputs["SnapFunction"], {})
    assert unqualified.payload["events"] == ["init"]


def test_a_failing_after_restore_hook_fails_the_invocation_with_snapstart_exception(cloud: LocalCloud) -> None:
    failed = cloud.invoke(cloud.outputs["BrokenSnapAlias"], {})
    assert failed.function_error is not None
    assert failed.payload["errorType"] == "SnapStartException"
    assert "after-restore runtime hook reconnect raised ConnectionError" in failed.payload["errorMessage"]
