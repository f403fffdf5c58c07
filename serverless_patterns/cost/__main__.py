"""``python -m serverless_patterns.cost --env prod``: ``serverless-patterns cost``.

Synthesizes the app (``cdk.json`` in the working directory, or ``--app``; ``--env all`` prices
every stage), reads each stack's template and prices the default traffic profile, or your own
(``--profile my.json``, merged over the default; ``--set api.requests_per_day=2e6`` for single
values). ``--template`` prices a template already synthesized without synthesizing.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from serverless_patterns.cli import run_module


def main(argv: Sequence[str] | None = None) -> int:
    """``serverless-patterns cost`` with these arguments."""
    return run_module("cost", argv)


if __name__ == "__main__":
    sys.exit(main())
