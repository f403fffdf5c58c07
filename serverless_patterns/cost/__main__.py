"""``python -m serverless_patterns.cost --env prod``: the monthly estimate of an environment.

Synthesizes the environment (cdk-nag gates included), reads its template and prices the
default traffic profile, or your own (``--profile my.json``, merged over the default; ``--set
api.requests_per_day=2e6`` for single values). ``--template`` prices a template already
synthesized (e.g. ``cdk.out/assembly-Prod/*.template.json``) without synthesizing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from serverless_patterns.cost.estimate import batching_comparison, estimate
from serverless_patterns.cost.prices import PRICES_FILE, Prices
from serverless_patterns.cost.profile import load_profile
from serverless_patterns.cost.report import render_batching, render_estimate, render_summary
from serverless_patterns.cost.template import read_inventory

ENVIRONMENTS = ("dev", "staging", "prod")


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m serverless_patterns.cost", description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="dev", choices=[*ENVIRONMENTS, "all"], help="environment to price")
    parser.add_argument("--template", type=Path, help="price this synthesized template instead of synthesizing")
    parser.add_argument("--name", help="environment name shown for --template (default: the file's name)")
    parser.add_argument("--profile", type=Path, help="traffic profile JSON merged over the default profile")
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY.PATH=VALUE")
    parser.add_argument("--prices", type=Path, default=PRICES_FILE, help="dated price file")
    parser.add_argument("--files", type=int, default=1_000, help="files for the batching comparison")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    return parser.parse_args(argv)


def _templates(arguments: argparse.Namespace) -> dict[str, dict[str, Any]]:
    if arguments.template:
        template: dict[str, Any] = json.loads(arguments.template.read_text())
        return {arguments.name or arguments.template.name.split(".")[0]: template}
    from serverless_patterns.cost.synth import synthesize

    return synthesize(None if arguments.env == "all" else [arguments.env])


def main(argv: Sequence[str] | None = None) -> int:
    """Print the estimate(s); 2 on a bad profile or template."""
    arguments = _arguments(argv)
    try:
        profile = load_profile(arguments.profile, settings=arguments.settings)
        prices = Prices.load(arguments.prices)
        templates = _templates(arguments)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    estimates, sections, documents = [], [], []
    for name, template in templates.items():
        inventory = read_inventory(template)
        current = estimate(inventory, profile, prices, environment=name)
        comparison = batching_comparison(inventory, profile, prices, files=arguments.files)
        estimates.append(current)
        sections.append(render_estimate(current, profile))
        if comparison is not None:
            sections.append(render_batching(comparison))
        documents.append({**current.as_dict(), "batching": comparison.as_dict() if comparison else None})
    if len(estimates) > 1:
        sections.append(render_summary(estimates))
    if arguments.json:
        print(json.dumps(documents if len(documents) > 1 else documents[0], indent=2))
    else:
        print("\n\n".join(sections))
    return 0


if __name__ == "__main__":
    sys.exit(main())
