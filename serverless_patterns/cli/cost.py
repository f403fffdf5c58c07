"""``serverless-patterns cost``: the monthly estimate of any app built from the constructs.

The app's templates come from ``--template`` (one synthesized template), or from the app
(``--app`` or ``cdk.json``, as every subcommand finds it): each stack of the chosen stage, or
of every stage with ``--env all``. The traffic profile is the default one, your file merged
over it (``--profile``), and single values (``--set api.requests_per_day=2e6``).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from serverless_patterns.cli.app_source import AppSource, parse_context
from serverless_patterns.cli.common import USAGE_ERROR, CliError, Progress
from serverless_patterns.cost.prices import PRICES_FILE


def add_command(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Register ``cost``."""
    cost = commands.add_parser("cost", parents=parents, help="monthly cost estimate of the app's stacks")
    cost.add_argument("--template", type=Path, help="price this synthesized template instead of the app")
    cost.add_argument("--name", help="the name shown for --template (default: the file's name)")
    cost.add_argument("--profile", type=Path, help="traffic profile JSON merged over the default profile")
    cost.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY.PATH=VALUE")
    cost.add_argument("--prices", type=Path, default=PRICES_FILE, help="dated price file")
    cost.add_argument("--files", type=int, default=1_000, help="files for the batching comparison")
    cost.add_argument("--json", action="store_true", help="print JSON instead of tables")
    cost.set_defaults(run=run)


Templates = dict[str, tuple[dict[str, Any], dict[str, str]]]
_HIDDEN = ("Resource", "Default")


def stack_templates(directory: Path, env: str | None) -> Templates:
    """Each stack's template and construct paths (below the stack) of the assembly, by a readable name."""
    from serverless_patterns.local.assets import read_stacks, select_assembly

    if env is None or env.lower() != "all":
        directories = [select_assembly(directory, env)]
    else:
        manifest = json.loads((directory / "manifest.json").read_text())
        directories = [
            directory / str(artifact["properties"]["directoryName"])
            for artifact in manifest.get("artifacts", {}).values()
            if artifact.get("type") == "cdk:cloud-assembly"
        ] or [directory]
    templates: Templates = {}
    for assembly in directories:
        stacks = read_stacks(assembly, account="123456789012", region="us-east-1")
        for stack in stacks:
            stage, _, _ = stack.display_name.partition("/")
            name = stage if len(stacks) == 1 and "/" in stack.display_name else stack.display_name
            templates[name] = (stack.template, _paths_below(stack.display_name, stack.construct_paths))
    return templates


def _paths_below(stack: str, paths: dict[str, str]) -> dict[str, str]:
    """``/Dev/Service/Api/Handler/Resource`` -> ``Api/Handler``: construct paths as the estimate names them."""
    below = {}
    for logical_id, path in paths.items():
        parts = path.strip("/").removeprefix(stack.strip("/")).strip("/").split("/")
        while parts and parts[-1] in _HIDDEN:
            parts.pop()
        if parts:
            below[logical_id] = "/".join(parts)
    return below


def _templates(args: argparse.Namespace, progress: Progress) -> Templates:
    if args.template:
        try:
            template: dict[str, Any] = json.loads(args.template.read_text())
        except (OSError, ValueError) as error:
            raise CliError(f"--template {args.template}: {error}", USAGE_ERROR) from None
        return {args.name or args.template.name.split(".")[0]: (template, {})}
    env = None if args.env and args.env.lower() == "all" else args.env
    source = AppSource(args.app, parse_context(args.context), env=env)
    with tempfile.TemporaryDirectory(prefix="serverless-patterns-cost-") as outdir:
        setting = source.app_setting()
        directory = Path(setting) if Path(setting).is_dir() else source.synthesize(Path(outdir), progress)
        try:
            return stack_templates(directory, args.env)
        except (FileNotFoundError, ValueError) as error:
            raise CliError(str(error), USAGE_ERROR) from None


def run(args: argparse.Namespace) -> int:
    """Print the estimate(s) of every template."""
    from serverless_patterns.cost.estimate import batching_comparisons, estimate
    from serverless_patterns.cost.prices import Prices
    from serverless_patterns.cost.profile import load_profile
    from serverless_patterns.cost.report import render_batching, render_estimate, render_summary
    from serverless_patterns.cost.template import read_inventory

    try:
        profile = load_profile(args.profile, settings=args.settings)
        prices = Prices.load(args.prices)
    except (ValueError, OSError) as error:
        raise CliError(str(error), USAGE_ERROR) from None
    templates = _templates(args, Progress("cost"))
    estimates, sections, documents = [], [], []
    for name, (template, paths) in templates.items():
        inventory = read_inventory(template, paths=paths or None)
        try:
            current = estimate(inventory, profile, prices, environment=name)
        except (ValueError, LookupError) as error:
            raise CliError(f"{name}: {error}", USAGE_ERROR) from None
        comparisons = batching_comparisons(inventory, profile, prices, files=args.files)
        estimates.append(current)
        sections.append(render_estimate(current, profile))
        sections += [render_batching(comparison) for comparison in comparisons]
        documents.append(
            {
                **current.as_dict(),
                "batching": comparisons[0].as_dict() if comparisons else None,
                "batching_all": [comparison.as_dict() for comparison in comparisons],
            }
        )
    if len(estimates) > 1:
        sections.append(render_summary(estimates))
    if args.json:
        print(json.dumps(documents if len(documents) > 1 else documents[0], indent=2))
    else:
        print("\n\n".join(sections))
    return 0
