"""Synthesize environments' templates for the estimate (imports aws_cdk: only the CLI uses it)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent.parent
# Templates carry each resource's construct path, as `cdk synth` writes them.
PATH_METADATA = {"aws:cdk:enable-path-metadata": True}


def cdk_context(root: Path = REPOSITORY_ROOT) -> dict[str, Any]:
    """The feature flags of ``cdk.json`` (none when the package runs outside the repository)."""
    path = root / "cdk.json"
    if not path.is_file():
        return {}
    context: dict[str, Any] = json.loads(path.read_text()).get("context", {})
    return context


def synthesize(environments: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Each environment's service template (all three when ``environments`` is None), by stage name."""
    from aws_cdk import App

    from serverless_patterns.stacks.app import add_environments

    templates: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="cost-synth-") as outdir:
        app = App(context={**cdk_context(), **PATH_METADATA}, outdir=outdir)
        if environments is None:
            stages = add_environments(app)
        else:
            stages = [stage for name in environments for stage in add_environments(app, only=name)]
        assembly = app.synth()
        for stage in stages:
            artifact = assembly.get_nested_assembly(stage.artifact_id).get_stack_artifact(stage.service.artifact_id)
            templates[stage.stage_name] = dict(artifact.template)
    return templates
