"""``python -m serverless_patterns.local [--env dev|staging|prod]``: ``serverless-patterns local``.

Synthesizes one stage of the app (``cdk.json`` in the working directory, or ``--app``),
deploys it into the embedded emulated cloud, runs every registered scenario whose pattern is
deployed, prints the report and exits 1 when a check or a resource failed or a request was
denied by the deployed policies (``--no-permissions`` skips the permission checks; the
least-privilege report lists the grants no scenario used). Without ``--env``
it is ``--env dev`` (this repository's ``make local``). No AWS account and no Docker.
"""

from __future__ import annotations

import sys

from serverless_patterns.cli import run_module


def main(argv: list[str] | None = None) -> int:
    """``serverless-patterns local`` with these arguments (``--env dev`` unless one is given)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not any(a == "--env" or a.startswith("--env=") or a in ("-h", "--help") for a in arguments):
        arguments = ["--env", "dev", *arguments]
    return run_module("local", arguments)


if __name__ == "__main__":
    sys.exit(main())
