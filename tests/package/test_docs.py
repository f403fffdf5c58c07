"""The documentation site builds strictly, and the code it shows runs.

The guide's snippets are real files (``docs/snippets``) that the pages include, so what a reader
copies is what these tests synthesize; README's smallest use is extracted from README itself.
"""

from __future__ import annotations

import io
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, assertions

ROOT = Path(__file__).resolve().parents[2]
SNIPPETS = ROOT / "docs" / "snippets"


def test_the_site_builds_with_no_warning(tmp_path: Path) -> None:
    completed = subprocess.run(  # noqa: S603 - our own venv's mkdocs
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert (tmp_path / "site" / "reference" / "patterns" / "index.html").is_file()


def _readme_block(heading: str) -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split(f"### {heading}\n", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, f"no python block under {heading!r}"
    return match.group(1)


def test_readme_smallest_use_synthesizes(tmp_path: Path) -> None:
    code = _readme_block("The smallest use")
    assert code.count("App()") == 1
    # The jsii runtime is already running, so CDK_OUTDIR would not reach it: name the outdir instead.
    code = code.replace("App()", f"App(outdir={str(tmp_path)!r})")
    exec(compile(code, "README.md", "exec"), {})  # noqa: S102 - README's own code
    assert list(tmp_path.glob("*.template.json"))


@pytest.fixture(scope="module")
def vocabulary_app(tmp_path_factory: pytest.TempPathFactory) -> dict[str, assertions.Template]:
    module = runpy.run_path(str(SNIPPETS / "vocabulary_app.py"))
    app = App(outdir=str(tmp_path_factory.mktemp("vocabulary-app")))
    patterns, operations = module["build"](app)
    app.synth()  # the compliance gates the snippet adds run here
    return {
        "patterns": assertions.Template.from_stack(patterns),
        "operations": assertions.Template.from_stack(operations),
    }


def test_the_vocabulary_guides_app_synthesizes_as_the_guide_says(
    vocabulary_app: dict[str, assertions.Template],
) -> None:
    template = vocabulary_app["patterns"]
    functions = template.find_resources("AWS::Lambda::Function")
    by_role = {
        (f["Metadata"]["ServerlessPatterns"]["instance"], f["Metadata"]["ServerlessPatterns"]["role"]): f["Properties"]
        for f in functions.values()
        if "Metadata" in f
    }
    process = by_role[("Labels/LabelFiles", "process")]
    assert process["Handler"] == "label_checks.handler.handler"
    assert process["Environment"]["Variables"]["LABEL_SET"] == "2026"
    assert process["Environment"]["Variables"]["RESULTS_BUCKET"] == "acme-data-lake"
    assert (process["MemorySize"], process["Timeout"]) == (512, 30)
    assert by_role[("Labels/Nightly", "worker")]["EphemeralStorage"] == {"Size": 1024}
    services = {
        instance: props["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
        for (instance, _), props in by_role.items()
    }
    assert (services["Labels/Nightly"], services["Labels/AdHoc"]) == ("nightly", "ad-hoc")
    vocabulary_app["operations"].resource_count_is("AWS::CloudWatch::Dashboard", 1)


def test_the_guides_processor_counts_lines_and_parks_empty_files() -> None:
    sys.path.insert(0, str(SNIPPETS))
    try:
        from label_checks.handler import count_labels

        from serverless_patterns.lambdas.event_pipeline.custom import InvalidContentError
    finally:
        sys.path.remove(str(SNIPPETS))
    message: Any = None  # the processor does not read the message
    assert count_labels(message, io.BytesIO(b"a\nb\n")) == {"labels": 2}
    with pytest.raises(InvalidContentError, match="no lines"):
        count_labels(message, io.BytesIO(b""))
