"""``python -m serverless_patterns.capacity --env prod``: how far each pattern scales, and what binds first.

Synthesizes the environment through the app's ``cdk.json`` in the working directory (as
``serverless-patterns cost`` does; cdk-nag gates included) and models each pattern instance of its
template against AWS's default quotas (``quotas.json``) or yours (``--quotas my-quotas.json``,
merged over them), with the work per function of the cost estimator's traffic profile
(``--profile``). ``--template`` reads a template already synthesized instead. Bad input is one
line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from serverless_patterns.capacity.analysis import analyse
from serverless_patterns.capacity.quotas import Quotas
from serverless_patterns.capacity.report import render
from serverless_patterns.cli.common import CliError
from serverless_patterns.cost.prices import PRICES_FILE, Prices
from serverless_patterns.cost.profile import load_profile
from serverless_patterns.cost.template import read_inventory

ENVIRONMENTS = ("dev", "staging", "prod")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is a ValueError for ``main`` to report, never a SystemExit."""

    def error(self, message: str) -> Any:
        raise ValueError(message)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = _Parser(prog="python -m serverless_patterns.capacity", description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="dev", choices=ENVIRONMENTS, help="environment to model")
    parser.add_argument("--template", type=Path, help="model this synthesized template instead of synthesizing")
    parser.add_argument("--name", help="environment name shown for --template (default: the file's name)")
    parser.add_argument("--quotas", type=Path, help="your account's quotas, merged over quotas.json")
    parser.add_argument("--profile", type=Path, help="traffic profile JSON (work per function) merged over the default")
    parser.add_argument("--prices", type=Path, default=PRICES_FILE, help="dated price file for the cost at the ceiling")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    return parser.parse_args(argv)


def _template(arguments: argparse.Namespace) -> tuple[str, dict[str, Any], dict[str, str]]:
    """The environment's name, its one stack's template and the construct paths of its resources."""
    if arguments.template is not None:
        try:
            document: Any = json.loads(arguments.template.read_text())
        except json.JSONDecodeError as error:
            raise ValueError(f"{arguments.template}: not valid JSON (line {error.lineno}: {error.msg})") from None
        if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
            raise ValueError(f"{arguments.template}: not a CloudFormation template (no Resources)")
        return arguments.name or arguments.template.name.split(".")[0], document, {}
    from serverless_patterns.cli.app_source import AppSource
    from serverless_patterns.cli.cost import stack_templates

    with tempfile.TemporaryDirectory(prefix="serverless-patterns-capacity-") as outdir:
        directory = AppSource(env=arguments.env).synthesize(Path(outdir), _progress)
        templates = stack_templates(directory, arguments.env)
    if len(templates) != 1:
        raise ValueError(f"the app's {arguments.env} has {len(templates)} stacks; model one with --template")
    ((name, (template, paths)),) = templates.items()
    return name, template, paths


def _progress(message: str) -> None:
    print(f"[capacity] {message}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the capacity of one environment; 2 on bad input (arguments, template, quotas, profile)."""
    try:
        arguments = _arguments(argv)
        quotas = Quotas.load(arguments.quotas)
        profile = load_profile(arguments.profile)
        prices = Prices.load(arguments.prices)
        name, template, paths = _template(arguments)
        analysis = analyse(
            read_inventory(template, paths=paths or None),
            quotas=quotas,
            profile=profile,
            prices=prices,
            environment=name,
        )
    except (ValueError, OSError, KeyError, CliError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"error: {message}", file=sys.stderr)
        return 2
    print(json.dumps(analysis.as_dict(), indent=2) if arguments.json else render(analysis))
    return 0


if __name__ == "__main__":
    sys.exit(main())
