"""What each of FanOut's functions may do: exactly its calls on the jobs table, the work queue,
the input bucket and the aggregator (``FanOut`` calls ``grant_function_access`` on itself)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import aws_iam as iam

from serverless_patterns.constructs.compliance import acknowledge, wildcard_finding
from serverless_patterns.constructs.function import ServerlessFunction
from serverless_patterns.lambdas.fan_out import contract

if TYPE_CHECKING:
    from serverless_patterns.constructs.fan_out import FanOut


def grant_function_access(fan_out: FanOut, input_prefix: str) -> None:
    """Every function's table actions, the master's queue sends and input reads, the worker's aggregator invoke.

    :param fan_out: the pattern, its functions created.
    :param input_prefix: where the master may read items objects.
    """
    # BatchGetItem: a job's status reads the progress of its open completion shards in one request.
    grant_table(
        fan_out, fan_out.master, "dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:UpdateItem"
    )
    grant_table(
        fan_out,
        fan_out.worker,
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:ConditionCheckItem",
    )
    grant_table(
        fan_out,
        fan_out.aggregator,
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
    )
    grant_table(fan_out, fan_out.sweeper, "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:UpdateItem")
    fan_out.sweeper.role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["dynamodb:Query"],
            resources=[f"{fan_out.table.table_arn}/index/{contract.OPEN_JOBS_INDEX}"],
        )
    )
    grant_table(fan_out, fan_out.status_reader, "dynamodb:GetItem", "dynamodb:BatchGetItem")
    fan_out.work_queue.grant_send_messages(fan_out.master.role)
    grant_input_reads(fan_out, input_prefix)
    fan_out.aggregator.grant_invoke(fan_out.worker.role)


def grant_table(fan_out: FanOut, function: ServerlessFunction, *actions: str) -> None:
    """Exactly ``actions`` on the table itself: no index wildcard (only the sweeper queries an index)."""
    function.role.add_to_principal_policy(
        iam.PolicyStatement(actions=list(actions), resources=[fan_out.table.table_arn])
    )


def grant_input_reads(fan_out: FanOut, prefix: str) -> None:
    """The master reads items objects under ``prefix`` only; it may list just those keys (a 404, not a 403)."""
    items = fan_out.input_bucket.arn_for_objects(f"{prefix}*")
    role = fan_out.master.role
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=["s3:GetObject", "s3:GetObjectVersion"], resources=[items])
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["s3:ListBucket"],
            resources=[fan_out.input_bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{prefix}*"]}},
        )
    )
    acknowledge(
        role,
        (
            wildcard_finding(fan_out, items),
            f"Job input keys are chosen at submission; the master reads only under the input prefix {prefix!r}.",
        ),
    )
