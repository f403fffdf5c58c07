"""The machinery fixture stack, synthesized once per session and deployed once per test module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stage

from serverless_patterns.local import LocalCloud
from tests.integration.fixtures.machinery_stack import MachineryStack


@pytest.fixture(scope="session")
def machinery_assembly(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cloud assembly directory of the Machinery stage."""
    app = App(context=cdk_context, outdir=str(tmp_path_factory.mktemp("machinery-cdk-out")))
    stage = Stage(app, "Machinery")
    MachineryStack(stage, "Machinery")
    app.synth()
    return Path(stage.synth().directory)


@pytest.fixture(scope="module")
def cloud(machinery_assembly: Path) -> Iterator[LocalCloud]:
    """The Machinery stack deployed into a fresh local cloud for this module's tests."""
    with LocalCloud.deploy(machinery_assembly) as running:
        yield running
