"""The cold-start strategy of every function in every environment, as the synthesized templates record it."""

from __future__ import annotations

from pathlib import Path

from bench.synth_and_assets import ENVIRONMENTS
from serverless_patterns.local.assets import read_stacks, select_assembly
from serverless_patterns.roles import METADATA_KEY


def cold_start_strategies(assembly: Path) -> dict[str, dict[str, str]]:
    """Environment -> function (``Pattern/role`` or its instance path) -> strategy (``Metadata.ServerlessPatterns``).

    The strategies: ``provisioned``, ``snapstart``, ``keep_warm``, ``none`` (``ServerlessFunction.cold_start``).
    """
    found: dict[str, dict[str, str]] = {}
    for environment in ENVIRONMENTS:
        strategies: dict[str, str] = {}
        for stack in read_stacks(select_assembly(assembly, environment), account="111111111111", region="us-east-1"):
            for resource in stack.template.get("Resources", {}).values():
                recorded = resource.get("Metadata", {}).get(METADATA_KEY)
                if resource.get("Type") == "AWS::Lambda::Function" and isinstance(recorded, dict):
                    instance = str(recorded["instance"]).split("/", 2)[-1]  # below Stage/Stack
                    strategies[f"{instance}/{recorded['role']}"] = str(recorded.get("cold_start", "none"))
        found[environment] = dict(sorted(strategies.items()))
    return found


def render(strategies: dict[str, dict[str, str]]) -> list[str]:
    """One row per function, one column per environment."""
    functions = sorted({name for per_environment in strategies.values() for name in per_environment})
    lines = ["Cold-start strategy per function and environment", "", "| Function | " + " | ".join(strategies) + " |"]
    lines.append("| --- |" + " --- |" * len(strategies))
    for name in functions:
        cells = [strategies[environment].get(name, "-") for environment in strategies]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines
