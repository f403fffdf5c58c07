"""``python -m bench.readme``: rewrite README's "Latest run" block from ``bench/results.json``.

Only the text between the two markers is replaced; the prose around it (what each figure means,
how to read it) is kept by hand. ``make bench`` runs this after the measurements.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import report, strategies

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
RESULTS = Path(__file__).with_name("results.json")
START = "<!-- bench:start (written by `python -m bench.readme` from bench/results.json) -->"
END = "<!-- bench:end -->"


def _ratio(value: float, budget: float) -> str:
    return f"{value:.2f}" if value <= budget else f"**{value:.2f}**"


def _handlers(results: dict[str, Any]) -> list[str]:
    cold, warm = results["cold_start"], results.get("warm", {}).get("handlers", {})
    budget = cold["budget_ratio"]
    lines = [
        f"| Handler | cold init x floor (budget {budget}) | import ms | first event ms | warm overhead x direct |",
        "| --- | --- | --- | --- | --- |",
    ]
    for path, entry in cold["handlers"].items():
        warm_ratio = warm.get(path, {}).get("ratio")
        lines.append(
            f"| {path} | {_ratio(entry['ratio'], budget)} | {entry['import_s'] * 1000:.0f} | "
            f"{entry['serve_s'] * 1000:.0f} | {'-' if warm_ratio is None else f'{warm_ratio:.2f}'} |"
        )
    floor = cold["floor"]
    code = "; ".join(floor["code"].strip().splitlines())
    lines += [
        "",
        f"Floor (`{code}`): {floor['median_s']:.3f} s, median of {floor['runs']}, handlers and floor on "
        f"Python {cold.get('python', '?')}. Bold: over budget.",
    ]
    for name, reference in cold.get("references", {}).items():
        lines.append(f"Reference `{name}` ({reference['description']}): {reference['ratio']:.2f}x the floor.")
    return lines


def _assets(section: dict[str, Any]) -> str:
    sizes = [entry["zipped_bytes"] / 1024 for entry in section["functions"].values()]
    within = all(entry["within_budget"] for entry in section["functions"].values())
    verdict = "all within" if within else "NOT all within"
    budget_kb = section["budget_bytes"] // 1024
    return f"Assets: {min(sizes):.1f}-{max(sizes):.1f} KB zipped per function, {verdict} {budget_kb} KB."


def block(results: dict[str, Any]) -> str:
    """The generated text, markers included."""
    machine = results["machine"]
    lines = [
        START,
        f"Latest run ({results['generated_at']}, Python {machine['python']}, {machine['cpus']} CPUs, "
        f"load {machine['load_before']} before; full tables in `bench/results.json`):",
        "",
    ]
    if "cold_start" in results:
        lines += [*_handlers(results), ""]
    if "synth" in results:
        lines += ["```text", *report.synth(results["synth"]), "```", ""]  # a fixed-width table
    if "assets" in results:
        lines += [_assets(results["assets"]), ""]
    if "cold_start_strategies" in results:
        lines += [*strategies.render(results["cold_start_strategies"]), ""]
    return "\n".join([*lines, END])


def rewrite(readme: str, results: dict[str, Any]) -> str:
    """``readme`` with its block replaced; a README without exactly one pair of markers is refused."""
    if readme.count(START) != 1 or readme.count(END) != 1 or readme.index(START) > readme.index(END):
        raise ValueError(f"README must hold exactly one {START!r} ... {END!r} block")
    before, rest = readme.split(START)
    _, after = rest.split(END)
    return before + block(results) + after


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.readme", description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--readme", type=Path, default=README)
    arguments = parser.parse_args(argv)
    try:
        results = json.loads(arguments.results.read_text())
        arguments.readme.write_text(rewrite(arguments.readme.read_text(), results))
    except (OSError, ValueError, KeyError, TypeError) as error:  # unreadable, not JSON, or not results
        print(f"bench.readme: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    print(f"rewrote the bench block of {arguments.readme} from {arguments.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
