"""``serverless-patterns``: one command line for any app built from the constructs.

Subcommands::

    local            deploy the app into the embedded emulated cloud and drive its patterns' scenarios
    serve            the local dev server: the app's API on 127.0.0.1, the emulated AWS beside it
    cost             monthly cost estimate of the app's stacks
    redrive          move a DLQ's messages back (also redrive-status, redrive-cancel)
    replay-failures  re-invoke a function with the events its retries gave up on
    capacity         the capacity model (when ``serverless_patterns.capacity`` is installed)

``local``, ``serve`` and ``cost`` find the app as the CDK CLI does: ``--app`` (a cloud assembly
directory or the command that synthesizes the app), else ``cdk.json`` in the working directory;
``-c key=value`` adds context, ``--env NAME`` picks a stage. Optional dependencies are imported
when a command needs them (``[local]`` for local/serve, ``[ops]`` for the operator commands); a
missing one, a bad argument or an AWS refusal is one ``error:`` line and a non-zero exit.
``python -m serverless_patterns.local|ops|cost`` are the same commands.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Sequence

from serverless_patterns.cli import cost, local, ops
from serverless_patterns.cli.common import PROG, USAGE_ERROR, CliError, Parser, print_error

# The capacity model (another package of this project) plugs in here: a module with ``main(argv) -> int``.
CAPACITY_MODULE = "serverless_patterns.capacity"


def app_options() -> argparse.ArgumentParser:
    """``--app``, ``-c``, ``--env``: how the commands that read the app find it."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--app",
        help='a cloud assembly directory, or the command that synthesizes the app (default: cdk.json\'s "app")',
    )
    options.add_argument(
        "-c", "--context", action="append", default=[], metavar="KEY=VALUE", help="context for the app (repeatable)"
    )
    options.add_argument("--env", help="the stage to use when the app has several (also passed as context env)")
    return options


def parser() -> Parser:
    """The command line (every subcommand registered)."""
    top = Parser(prog=PROG, description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    app = [app_options()]
    local.add_commands(commands, app)
    cost.add_command(commands, app)
    ops.add_commands(commands, [])
    if _capacity_installed():
        commands.add_parser("capacity", help="the capacity model (its own --help)", add_help=False)
    return top


def _capacity_installed() -> bool:
    try:
        return importlib.util.find_spec(CAPACITY_MODULE) is not None
    except (ImportError, ValueError):
        return False


def _capacity(argv: list[str]) -> int:
    """The capacity model's own command line, handed every argument after ``capacity``."""
    module = importlib.import_module(CAPACITY_MODULE)
    code: int = module.main(argv)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; the process exit status (errors are one line on stderr, never a traceback)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        if arguments[:1] == ["capacity"] and _capacity_installed():
            return _capacity(arguments[1:])
        args = parser().parse_args(arguments)
        code: int = args.run(args)
        return code
    except CliError as error:
        print_error(str(error))
        return error.code
    except KeyboardInterrupt:
        print_error("interrupted")
        return 130
    except SystemExit as exit_:  # --help, or a command that exits by itself
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else USAGE_ERROR)


def run_module(command: str | None, argv: Sequence[str] | None = None) -> int:
    """``python -m serverless_patterns.<module>``: the same as ``serverless-patterns <command> ...``."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    return main([command, *arguments] if command else arguments)
