"""README's bench block is written from the results, and only between its markers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench import readme


def _results() -> dict[str, Any]:
    sample = {"median_s": 0.5, "min_s": 0.4, "max_s": 0.6, "runs": 5}
    return {
        "generated_at": "2026-12-06 02:00 UTC",
        "machine": {"python": "3.11.7", "cpus": 2, "load_before": "0.01 0.1 0.2"},
        "cold_start": {
            "budget_ratio": 1.5,
            "python": "3.13.0",
            "floor": {**sample, "code": "import boto3"},
            "references": {"powertools_rest": {**sample, "ratio": 1.55, "description": "the resolver alone"}},
            "handlers": {
                "Api/Handler": {"ratio": 1.42, "import_s": 0.31, "serve_s": 0.12},
                "FanOut/Worker": {"ratio": 1.61, "import_s": 0.4, "serve_s": 0.2},
            },
        },
        "warm": {"handlers": {"Api/Handler": {"ratio": 1.2}, "FanOut/Worker": {"ratio": None}}},
        "assets": {"budget_bytes": 65536, "functions": {"Api/Handler": {"zipped_bytes": 32768, "within_budget": True}}},
        "cold_start_strategies": {"Dev": {"Api/api": "none"}, "Prod": {"Api/api": "provisioned"}},
    }


def test_the_block_is_replaced_and_the_prose_around_it_kept() -> None:
    text = f"# Title\nprose before\n{readme.START}\nold table\n{readme.END}\nprose after\n"
    rewritten = readme.rewrite(text, _results())
    assert rewritten.startswith("# Title\nprose before\n" + readme.START)
    assert rewritten.endswith(readme.END + "\nprose after\n")
    assert "old table" not in rewritten
    assert "| Api/Handler | 1.42 | 310 | 120 | 1.20 |" in rewritten
    assert "| FanOut/Worker | **1.61** | 400 | 200 | - |" in rewritten  # over budget: bold
    assert "| Api/api | none | provisioned |" in rewritten
    assert "Reference `powertools_rest` (the resolver alone): 1.55x the floor." in rewritten
    assert "median of 5, handlers and floor on Python 3.13.0." in rewritten
    assert "32.0-32.0 KB zipped per function, all within 64 KB" in rewritten
    assert readme.rewrite(rewritten, _results()) == rewritten  # idempotent


@pytest.mark.parametrize(
    "text", ["no markers", f"{readme.START}\n{readme.START}\n{readme.END}", f"{readme.END}\n{readme.START}"]
)
def test_a_readme_without_one_ordered_pair_of_markers_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        readme.rewrite(text, _results())


@pytest.mark.parametrize(
    ("results", "error"),
    [(None, "FileNotFoundError"), ("not json", "JSONDecodeError"), ("{}", "KeyError"), ("[1, 2]", "TypeError")],
)
def test_the_command_reports_unusable_results_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], results: str | None, error: str
) -> None:
    target, source = tmp_path / "README.md", tmp_path / "results.json"
    target.write_text(f"{readme.START}\n{readme.END}\n")
    if results is not None:
        source.write_text(results)
    assert readme.main(["--results", str(source), "--readme", str(target)]) == 2
    assert error in capsys.readouterr().err
    assert target.read_text() == f"{readme.START}\n{readme.END}\n"
