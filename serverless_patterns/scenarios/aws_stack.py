"""What AwsTarget joins: the stage as synthesized from this checkout, and a deployed resource of it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_cdk import Stage


@dataclass(frozen=True)
class SynthesizedStack:
    """One stack of a locally synthesized cloud assembly: what the stage deploys, and where in the construct tree.

    ``construct_paths`` maps each logical id to its construct path (``/Dev/Service/Api/...``):
    the join key between a scenario's ``resource("Api/Handler/LiveAlias")`` and the deployed
    stack's physical ids.
    """

    stack_name: str
    template: dict[str, Any]
    construct_paths: dict[str, str]

    @classmethod
    def from_assembly(cls, directory: Path, stack_name: str | None = None) -> SynthesizedStack:
        """Read the stack (``stack_name`` or display name; the only one when not given) of an assembly directory."""
        manifest: dict[str, Any] = json.loads((directory / "manifest.json").read_text())
        stacks = [
            (artifact_id, artifact)
            for artifact_id, artifact in manifest.get("artifacts", {}).items()
            if artifact.get("type") == "aws:cloudformation:stack"
            and stack_name
            in (None, artifact.get("properties", {}).get("stackName", artifact_id), artifact.get("displayName"))
        ]
        if len(stacks) != 1:
            names = [artifact_id for artifact_id, _ in stacks]
            raise LookupError(f"{directory}: expected one stack named {stack_name!r}, found {names or 'none'}")
        artifact_id, artifact = stacks[0]
        properties = artifact.get("properties", {})
        template: dict[str, Any] = json.loads((directory / properties["templateFile"]).read_text())
        paths: dict[str, str] = {}
        for logical_id, resource in template.get("Resources", {}).items():
            cdk_path = (resource.get("Metadata") or {}).get("aws:cdk:path")
            if isinstance(cdk_path, str):
                paths[logical_id] = "/" + cdk_path.strip("/")
        entries: dict[str, Any] = dict(artifact.get("metadata") or {})
        metadata_file = artifact.get("additionalMetadataFile")
        if metadata_file and (directory / metadata_file).is_file():
            entries.update(json.loads((directory / metadata_file).read_text()))
        for path, items in entries.items():
            for item in items:
                if item.get("type") == "aws:cdk:logicalId" and isinstance(item.get("data"), str):
                    paths.setdefault(item["data"], "/" + path.strip("/"))
        return cls(str(properties.get("stackName", artifact_id)), template, paths)

    @classmethod
    def from_stage(cls, stage: Stage, stack_name: str | None = None) -> SynthesizedStack:
        """Synthesize ``stage`` (offline; the CDK app's own compliance gates run) and read its stack."""
        return cls.from_assembly(Path(stage.synth().directory), stack_name)

    @property
    def resources(self) -> dict[str, Any]:
        """The template's resources by logical id."""
        resources: dict[str, Any] = self.template.get("Resources", {})
        return resources


@dataclass(frozen=True)
class StackResource:
    """A deployed resource: physical id and status from CloudFormation, the rest from the synthesized template.

    ``properties`` are as synthesized: intrinsic functions (Ref, Fn::GetAtt) are not resolved.
    """

    stack_name: str
    logical_id: str
    resource_type: str
    path: str
    physical_id: str
    status: str
    properties: dict[str, Any] = field(default_factory=dict)
