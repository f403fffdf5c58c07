"""``python -m serverless_patterns.ops``: the operator commands of ``serverless-patterns``.

Examples (queue URL or ARN, as the stack outputs print them)::

    python -m serverless_patterns.ops redrive --dlq <dlq-arn> --wait
    python -m serverless_patterns.ops redrive --dlq <dlq-arn> --max-per-second 10
    python -m serverless_patterns.ops redrive-status --dlq <dlq-arn>
    python -m serverless_patterns.ops redrive-cancel --task-handle <handle> --region eu-west-1
    python -m serverless_patterns.ops redrive --dlq <dlq-url> --to <queue-url> --manual
    python -m serverless_patterns.ops replay-failures --queue <failure-queue-url> --function <name>:live

The region is ``--region``, else the one the ARNs or URLs name, else the AWS environment
(``AWS_REGION``, ``AWS_PROFILE``); ``--endpoint-url`` targets another endpoint (e.g. the dev server's).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from serverless_patterns.cli import run_module
from serverless_patterns.cli.ops import COMMANDS


def main(argv: Sequence[str] | None = None) -> int:
    """Run one operator command; options given before it (``--region X redrive ...``) apply to it."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = next((index for index, word in enumerate(arguments) if word in COMMANDS), None)
    if command:
        arguments = [arguments[command], *arguments[:command], *arguments[command + 1 :]]
    return run_module(None, arguments)


if __name__ == "__main__":
    sys.exit(main())
