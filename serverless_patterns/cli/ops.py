"""``redrive``, ``redrive-status``, ``redrive-cancel``, ``replay-failures``: the operator commands.

Each argument is checked before boto3 is imported (queue ARNs and URLs parsed, function names
and ARNs too); the region comes from ``--region``, else from the ARNs or URLs given, else from
the AWS environment (``AWS_REGION``, the profile). ``--endpoint-url`` points them at another
endpoint, e.g. ``serverless-patterns serve``'s emulated AWS. boto3 is the ``[ops]`` extra.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from serverless_patterns.cli.common import USAGE_ERROR, CliError, require
from serverless_patterns.ops import arns

COMMANDS = ("redrive", "redrive-status", "redrive-cancel", "replay-failures")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def _checked(parse: Callable[[str, str], Any], option: str) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            return parse(text, option)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error).removeprefix(f"{option}: ")) from None

    return convert


def add_commands(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Register the operator subcommands on ``commands`` (an argparse subparsers object)."""
    aws = argparse.ArgumentParser(add_help=False)
    aws.add_argument("--region", help="AWS region (default: the one the ARNs name, else the AWS environment)")
    aws.add_argument("--endpoint-url", help="another AWS endpoint, e.g. serverless-patterns serve's")
    queue = _checked(arns.parse_queue, "--dlq")

    start = commands.add_parser(
        "redrive", parents=[*parents, aws], help="move a DLQ's messages back to their source queue"
    )
    start.add_argument("--dlq", required=True, type=queue, help="the dead-letter queue (ARN or URL)")
    start.add_argument("--to", type=_checked(arns.parse_queue, "--to"), help="another destination queue")
    start.add_argument("--max-per-second", type=_positive, help="move at most this many messages per second")
    start.add_argument("--wait", action="store_true", help="follow the move task until it finishes")
    start.add_argument("--manual", action="store_true", help="receive/send/delete instead of a move task (needs --to)")
    start.add_argument("--limit", type=_positive, help="with --manual: move at most this many messages")
    start.set_defaults(run=_redrive)

    status = commands.add_parser("redrive-status", parents=[*parents, aws], help="show a DLQ's recent move tasks")
    status.add_argument("--dlq", required=True, type=queue, help="the dead-letter queue (ARN or URL)")
    status.set_defaults(run=_status)

    cancel = commands.add_parser("redrive-cancel", parents=[*parents, aws], help="stop a running move task")
    cancel.add_argument("--task-handle", required=True, help="the handle redrive printed")
    cancel.set_defaults(run=_cancel)

    replay = commands.add_parser(
        "replay-failures", parents=[*parents, aws], help="re-invoke a function with the events it gave up on"
    )
    replay.add_argument(
        "--queue", required=True, type=_checked(arns.parse_queue, "--queue"), help="its on-failure destination queue"
    )
    replay.add_argument(
        "--function",
        required=True,
        type=_checked(arns.parse_function, "--function"),
        help="function name or ARN with its alias (e.g. name:live)",
    )
    replay.add_argument("--limit", type=_positive, help="replay at most this many events")
    replay.set_defaults(run=_replay)


def _region(args: argparse.Namespace, *named: tuple[str, str | None]) -> str | None:
    try:
        return arns.common_region(args.region, *named)
    except ValueError as error:
        raise CliError(str(error), USAGE_ERROR) from None


def _clients(args: argparse.Namespace, region: str | None, *services: str) -> list[Any]:
    """boto3 clients (``[ops]`` extra) in ``region``; a one-line error when no region is known."""
    boto3 = require("boto3", extra="ops", purpose=f"serverless-patterns {args.command}")
    session = boto3.session.Session(region_name=region)
    if not session.region_name:
        raise CliError("no AWS region: pass --region, give an ARN (it names the region) or set AWS_REGION", USAGE_ERROR)
    return [session.client(service, endpoint_url=args.endpoint_url) for service in services]


def run_aws(command: Callable[[], int]) -> int:
    """Run an AWS call sequence; the SDK's expected failures become one-line errors."""
    exceptions = require("botocore.exceptions", extra="ops", purpose="the operator commands")
    try:
        return command()
    except exceptions.ClientError as error:
        details = error.response.get("Error", {})
        raise CliError(f"AWS refused: {details.get('Code', 'error')}: {details.get('Message', error)}") from None
    except exceptions.BotoCoreError as error:
        raise CliError(str(error)) from None
    except (RuntimeError, TimeoutError) as error:
        raise CliError(str(error)) from None


def _redrive(args: argparse.Namespace) -> int:
    from serverless_patterns.ops import redrive

    if args.manual and not args.to:
        raise CliError("redrive --manual needs --to <queue>", USAGE_ERROR)
    if args.limit and not args.manual:
        raise CliError("redrive --limit applies to --manual only", USAGE_ERROR)
    region = _region(args, ("--dlq", args.dlq.region), ("--to", args.to.region if args.to else None))
    (sqs,) = _clients(args, region, "sqs")
    destination = args.to.text if args.to else None

    def run() -> int:
        if args.manual:
            print(f"moved {redrive.manual_redrive(sqs, args.dlq.text, str(destination), limit=args.limit)} messages")
            return 0
        handle = redrive.start_redrive(sqs, args.dlq.text, destination=destination, max_per_second=args.max_per_second)
        print(f"started move task {handle}")
        if args.wait:
            task = redrive.wait_for_redrive(sqs, args.dlq.text, report=lambda task: print(task.describe(), flush=True))
            return 0 if task.status == "COMPLETED" else 1
        return 0

    return run_aws(run)


def _status(args: argparse.Namespace) -> int:
    from serverless_patterns.ops import redrive

    (sqs,) = _clients(args, _region(args, ("--dlq", args.dlq.region)), "sqs")

    def run() -> int:
        tasks = redrive.redrive_tasks(sqs, args.dlq.text)
        for task in tasks:
            print(f"{task.handle}  {task.describe()}")
        if not tasks:
            print("no move tasks")
        return 0

    return run_aws(run)


def _cancel(args: argparse.Namespace) -> int:
    from serverless_patterns.ops import redrive

    if not args.task_handle.strip():
        raise CliError("redrive-cancel: --task-handle is empty", USAGE_ERROR)
    (sqs,) = _clients(args, _region(args, ("--task-handle", arns.task_handle_region(args.task_handle))), "sqs")
    return run_aws(lambda: print(f"cancelled after {redrive.cancel_redrive(sqs, args.task_handle)} messages") or 0)


def _replay(args: argparse.Namespace) -> int:
    from serverless_patterns.ops import redrive

    region = _region(args, ("--queue", args.queue.region), ("--function", args.function.region))
    sqs, lambda_client = _clients(args, region, "sqs", "lambda")

    def run() -> int:
        replayed = redrive.replay_failures(sqs, lambda_client, args.queue.text, args.function.text, limit=args.limit)
        print(f"replayed {replayed} events")
        return 0

    return run_aws(run)
