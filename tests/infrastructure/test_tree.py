"""``tree.unique``: one construct counts once, however many Python handles reach it."""

from __future__ import annotations

from aws_cdk import App, Stack, aws_lambda as lambda_, aws_logs as logs

from serverless_patterns.constructs.tree import unique


def test_handles_on_the_same_construct_count_once_and_order_is_kept() -> None:
    stack = Stack(App(), "Tree")
    first = logs.LogGroup(stack, "First")
    function = lambda_.Function(
        stack,
        "Function",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
    )
    # The function's own log group, created in the kernel: each read is a new Python handle.
    handle, again = function.log_group, function.log_group
    assert handle is not again
    references = [proxy.__jsii_ref__.ref for proxy in (handle, again)]  # type: ignore[attr-defined]
    assert references[0] == references[1]  # unique's key, read without a call into jsii
    second = logs.LogGroup(stack, "Second")
    assert unique([first, handle, second, again, first]) == [first, handle, second]
    assert [group.node.path for group in unique([handle, again])] == [handle.node.path]
