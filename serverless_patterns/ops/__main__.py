"""``python -m serverless_patterns.ops``: redrive a DLQ, follow or cancel it, replay failed events.

Examples (queue URL or ARN, as the stack outputs print them)::

    python -m serverless_patterns.ops redrive --dlq <dlq-arn> --wait
    python -m serverless_patterns.ops redrive --dlq <dlq-arn> --max-per-second 10
    python -m serverless_patterns.ops redrive-status --dlq <dlq-arn>
    python -m serverless_patterns.ops redrive-cancel --task-handle <handle>
    python -m serverless_patterns.ops redrive --dlq <dlq-url> --to <queue-url> --manual
    python -m serverless_patterns.ops replay-failures --queue <failure-queue-url> --function <name>:live

Credentials and region come from the usual AWS environment (``AWS_PROFILE``, ``AWS_REGION``...)
or ``--region``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import boto3

from serverless_patterns.ops import redrive


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m serverless_patterns.ops", description=__doc__.split("\n")[0])
    parser.add_argument("--region", help="AWS region (default: from the environment)")
    commands = parser.add_subparsers(dest="command", required=True)

    start = commands.add_parser("redrive", help="move a DLQ's messages back to their source queue")
    start.add_argument("--dlq", required=True, help="the dead-letter queue (URL or ARN)")
    start.add_argument("--to", help="another destination queue (default: each message's source queue)")
    start.add_argument("--max-per-second", type=int, help="move at most this many messages per second")
    start.add_argument("--wait", action="store_true", help="follow the move task until it finishes")
    start.add_argument("--manual", action="store_true", help="receive/send/delete instead of a move task (needs --to)")
    start.add_argument("--limit", type=int, help="with --manual: move at most this many messages")

    status = commands.add_parser("redrive-status", help="show a DLQ's recent move tasks")
    status.add_argument("--dlq", required=True)

    cancel = commands.add_parser("redrive-cancel", help="stop a running move task")
    cancel.add_argument("--task-handle", required=True)

    replay = commands.add_parser("replay-failures", help="re-invoke a function with the events it gave up on")
    replay.add_argument("--queue", required=True, help="the function's on-failure destination queue")
    replay.add_argument("--function", required=True, help="function name or ARN, with its alias (e.g. name:live)")
    replay.add_argument("--limit", type=int, help="replay at most this many events")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the process exit status."""
    args = _parser().parse_args(argv)
    session = boto3.session.Session(region_name=args.region)
    sqs = session.client("sqs")
    if args.command == "redrive":
        if args.manual:
            if not args.to:
                print("--manual needs --to <queue>", file=sys.stderr)
                return 2
            print(f"moved {redrive.manual_redrive(sqs, args.dlq, args.to, limit=args.limit)} messages")
            return 0
        handle = redrive.start_redrive(sqs, args.dlq, destination=args.to, max_per_second=args.max_per_second)
        print(f"started move task {handle}")
        if args.wait:
            task = redrive.wait_for_redrive(sqs, args.dlq, report=lambda task: print(task.describe()))
            return 0 if task.status == "COMPLETED" else 1
        return 0
    if args.command == "redrive-status":
        tasks = redrive.redrive_tasks(sqs, args.dlq)
        for task in tasks:
            print(f"{task.handle}  {task.describe()}")
        if not tasks:
            print("no move tasks")
        return 0
    if args.command == "redrive-cancel":
        print(f"cancelled after {redrive.cancel_redrive(sqs, args.task_handle)} messages")
        return 0
    replayed = redrive.replay_failures(sqs, session.client("lambda"), args.queue, args.function, limit=args.limit)
    print(f"replayed {replayed} events")
    return 0


if __name__ == "__main__":
    sys.exit(main())
