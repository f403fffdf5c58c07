"""The tables ``make bench`` prints, from the results it writes to ``bench/results.json``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench import strategies


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        first, *rest = cells
        return "  ".join(
            [first.ljust(widths[0]), *(c.rjust(w) for c, w in zip(rest, widths[1:], strict=True))]
        ).rstrip()

    return [line(header), line(["-" * width for width in widths]), *(line(row) for row in rows)]


def _spread(sample: dict[str, Any], scale: float = 1.0, digits: int = 3) -> list[str]:
    return [f"{sample[key] * scale:.{digits}f}" for key in ("median_s", "min_s", "max_s")]


def _verdict(within: bool) -> str:
    return "ok" if within else "OVER"


def cold_start(section: dict[str, Any]) -> list[str]:
    floor = section["floor"]
    lines = [
        f"Cold init per handler: fresh process importing the handler and serving one event, "
        f"against `{floor['code']}` (median of {floor['runs']}, seconds; Python {section.get('python', '?')})",
    ]
    rows = [["floor", *_spread(floor), "1.00", "", "1.00", "", ""]]
    for path, entry in section["handlers"].items():
        rows.append(
            [
                path,
                *_spread(entry),
                f"{entry['ratio']:.2f}",
                _verdict(entry["within_budget"]),
                f"{entry['cpu_ratio']:.2f}",
                f"{entry['import_s'] * 1000:.0f}",
                f"{entry['serve_s'] * 1000:.0f}",
            ]
        )
    header = ["Handler", "median", "min", "max", f"x floor (<= {section['budget_ratio']})", "budget", "CPU x floor"]
    lines += _table([*header, "import ms", "serve ms"], rows)
    for path in section["breaches"]:
        imports = section["handlers"][path].get("imports", {})
        costly = ", ".join(f"{name} {ms:.0f}" for name, ms in imports.get("packages_ms", {}).items())
        lines.append(f"  {path} over budget; import self-time by package (ms, -X importtime): {costly}")
    for name, reference in section.get("references", {}).items():
        lines.append(f"  reference {name}: {reference['ratio']:.2f}x floor ({reference['description']})")
    if section["floor"].get("imports"):
        costly = ", ".join(f"{n} {ms:.0f}" for n, ms in section["floor"]["imports"]["packages_ms"].items())
        lines.append(f"  floor import self-time by package (ms): {costly}")
    return lines


def synth(section: dict[str, Any]) -> list[str]:
    full, empty = section["full"], section["empty"]
    lines = [
        f"Synth: three environments {full['median_s']:.1f} s ({full['min_s']:.1f}-{full['max_s']:.1f}) against an "
        f"empty app {empty['median_s']:.1f} s ({empty['min_s']:.1f}-{empty['max_s']:.1f}), median of {full['runs']}: "
        f"{section['ratio']:.2f}x (target <= {section['budget_ratio']}x): {_verdict(section['within_budget'])}; "
        f"CPU time {section['cpu_ratio']:.2f}x"
    ]
    if "baseline" not in section:  # results written before the baseline was measured
        return lines
    no_gates, baseline, gates = section["no_gates"], section["baseline"], section["gates"]
    resources = section["resources"]
    rows = [
        ["three environments", *_spread(full), f"{full['cpu_s']['median_s']:.1f}", "", ""],
        ["  without compliance gates", *_spread(no_gates), f"{no_gates['cpu_s']['median_s']:.1f}", "", ""],
        [
            f"plain L2 baseline ({resources['baseline']} resources; ours {resources['ours']})",
            *_spread(baseline),
            f"{baseline['cpu_s']['median_s']:.1f}",
            f"{section['baseline_ratio']:.2f}",
            _verdict(section["baseline_within_budget"]),
        ],
        ["empty app", *_spread(empty), f"{empty['cpu_s']['median_s']:.1f}", "", ""],
    ]
    header = [
        "App (seconds)",
        "median",
        "min",
        "max",
        "CPU",
        f"x baseline (<= {section['baseline_budget_ratio']})",
    ]
    return [
        *lines,
        *_table([*header, "budget"], rows),
        f"Compliance gates (cdk-nag packs and ours): {gates['s']:.1f} s of the full synth ({gates['share']:.0%}), "
        f"CPU {gates['cpu_s']:.1f} s; without them against the baseline, CPU time {section['baseline_cpu_ratio']:.2f}x",
    ]


def assets(section: dict[str, Any]) -> list[str]:
    rows = [
        [
            path,
            f"{entry['zipped_bytes'] / 1024:.1f}",
            str(entry["files"]),
            entry["asset"],
            _verdict(entry["within_budget"]),
        ]
        for path, entry in section["functions"].items()
    ]
    return [
        f"Zipped asset per function (budget {section['budget_bytes'] // 1024} KB; Powertools comes from the layer)",
        *_table(["Function", "KB", "files", "asset", "budget"], rows),
    ]


def warm(section: dict[str, Any]) -> list[str]:
    rows = [
        [
            path,
            *_spread(entry["handler"], 1000, 1),
            f"{entry['direct_calls']['median_s'] * 1000:.1f}",
            f"{entry['calls_per_invocation']:g}",
            f"{entry['overhead_ms']:.1f}",
            "-" if entry["ratio"] is None else f"{entry['ratio']:.2f}",
            str(sum(entry.get("replay_errors", {}).values())),
        ]
        for path, entry in section["handlers"].items()
    ]
    errors = sorted(
        f"  {path}: {count} x {kind}"
        for path, entry in section["handlers"].items()
        for kind, count in entry.get("replay_errors", {}).items()
    )
    return [
        "Warm invocation on the local cloud against the same AWS calls made directly, alternating "
        f"(median of {section['runs']}, ms)",
        *_table(["Handler", "median", "min", "max", "direct", "calls", "overhead", "x direct", "replay errors"], rows),
        *(["Replayed calls that failed (timed all the same):", *errors] if errors else []),
    ]


def capacity(section: dict[str, Any]) -> list[str]:
    ceilings = ", ".join(
        f"{pattern} {entry['per_second']:,.0f}/s ({entry['first_limit']})"
        for pattern, entry in section["ceilings"].items()
    )
    rows = [
        [row["pattern"], row["check"], f"{row['model']:g}", f"{row['observed']:g}", "yes" if row["agrees"] else "NO"]
        for row in section["checks"]
    ]
    seconds = ", ".join(f"{pattern} {value:.1f}" for pattern, value in section["wall_seconds"].items())
    return [
        f"Capacity model of Prod: {ceilings}",
        "What the local cloud shows of it under a burst per pattern (no rates: invocations take no virtual time)",
        *_table(["Pattern", "check", "model", "observed", "agrees"], rows),
        f"Wall seconds per burst: {seconds}",
    ]


def render(results: dict[str, Any]) -> str:
    """Every measured section, in the order the spec lists them."""
    machine = results["machine"]
    lines = [
        f"make bench, {results['generated_at']} (Python {machine['python']}, {machine['cpus']} CPUs, "
        f"load {machine['load_before']} -> {machine['load_after']})",
    ]
    sections = (
        ("cold_start", cold_start),
        ("cold_start_strategies", strategies.render),
        ("synth", synth),
        ("assets", assets),
        ("warm", warm),
        ("capacity", capacity),
    )
    for key, render_section in sections:
        if key in results:
            lines += ["", *render_section(results[key])]
    return "\n".join(lines)
