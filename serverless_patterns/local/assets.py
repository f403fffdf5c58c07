"""Cloud assemblies: find the stacks, synthesize a Stage, publish the file assets.

This is what ``cdk deploy`` does before it calls CloudFormation: it reads the assembly's
``manifest.json``, zips every directory asset, uploads it to the bootstrap bucket named in
the stack's asset manifest, and only then creates the stack, whose Lambda functions point
at those S3 objects. ``cdk bootstrap`` is emulated by creating that bucket and the
bootstrap version parameter that the template's ``BootstrapVersion`` parameter reads.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_cdk import Stage

BOOTSTRAP_VERSION = "30"
# Fixed timestamp: the same directory always zips to the same bytes, like the CDK CLI's zips.
_ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class FileAsset:
    """One file or directory asset and where ``cdk deploy`` would publish it."""

    asset_id: str
    source: Path
    packaging: str
    bucket_name: str
    object_key: str

    def content(self) -> bytes:
        """The bytes to upload: a deterministic zip of a directory, or the file itself."""
        if self.packaging == "zip" and self.source.is_dir():
            return zip_directory(self.source)
        return self.source.read_bytes()


@dataclass(frozen=True)
class StackArtifact:
    """A stack of the assembly, ready to be created."""

    artifact_id: str
    stack_name: str
    display_name: str
    template: dict[str, Any]
    directory: Path
    assets: tuple[FileAsset, ...] = ()
    bootstrap_parameter: str | None = None
    construct_paths: dict[str, str] = field(default_factory=dict)


def zip_directory(directory: Path) -> bytes:
    """Zip ``directory``'s files (sorted, fixed timestamps) into memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            if "__pycache__" in path.parts:
                continue
            info = zipfile.ZipInfo(path.relative_to(directory).as_posix(), date_time=_ZIP_TIMESTAMP)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def substitute(value: str, *, account: str, region: str, partition: str = "aws") -> str:
    """Replace the ``${AWS::...}`` placeholders the asset manifest uses."""
    return (
        value.replace("${AWS::AccountId}", account)
        .replace("${AWS::Region}", region)
        .replace("${AWS::Partition}", partition)
    )


def synthesize(stage: Stage) -> Path:
    """The directory of ``stage``'s cloud assembly (synthesized now if it was not yet)."""
    return Path(stage.synth().directory)


def _manifest(directory: Path) -> dict[str, Any]:
    path = directory / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(f"{directory} is not a cloud assembly (no manifest.json)")
    manifest: dict[str, Any] = json.loads(path.read_text())
    return manifest


def select_assembly(directory: Path, env: str | None) -> Path:
    """``directory`` itself when it holds stacks, else its nested assembly for ``env`` (e.g. Dev)."""
    artifacts = _manifest(directory).get("artifacts", {})
    if any(a.get("type") == "aws:cloudformation:stack" for a in artifacts.values()):
        return directory
    nested: dict[str, Path] = {
        name: directory / str(a["properties"]["directoryName"])
        for name, a in artifacts.items()
        if a.get("type") == "cdk:cloud-assembly"
    }
    if env is None and len(nested) == 1:
        return next(iter(nested.values()))
    for name, path in nested.items():
        display = str(artifacts[name].get("displayName", name))
        if env is not None and env.lower() in {display.lower(), name.lower(), name.lower().removeprefix("assembly-")}:
            return path
    raise ValueError(f"{directory}: choose one of the nested assemblies {sorted(nested)} (env={env!r})")


def _construct_paths(directory: Path, metadata_file: str | None, inline: dict[str, Any]) -> dict[str, str]:
    """Logical id -> construct path, from the stack's metadata (file or inline)."""
    entries: dict[str, Any] = dict(inline)
    if metadata_file and (directory / metadata_file).is_file():
        entries.update(json.loads((directory / metadata_file).read_text()))
    paths: dict[str, str] = {}
    for path, items in entries.items():
        for item in items:
            if item.get("type") == "aws:cdk:logicalId" and isinstance(item.get("data"), str):
                paths[item["data"]] = path
    return paths


def _file_assets(directory: Path, manifest_file: Path, *, account: str, region: str) -> list[FileAsset]:
    manifest = json.loads(manifest_file.read_text())
    assets = []
    for asset_id, spec in manifest.get("files", {}).items():
        source = (directory / spec["source"]["path"]).resolve()
        for destination in spec.get("destinations", {}).values():
            assets.append(
                FileAsset(
                    asset_id=asset_id,
                    source=source,
                    packaging=spec["source"].get("packaging", "file"),
                    bucket_name=substitute(destination["bucketName"], account=account, region=region),
                    object_key=substitute(destination["objectKey"], account=account, region=region),
                )
            )
    return assets


def read_stacks(directory: Path, *, account: str, region: str) -> list[StackArtifact]:
    """The stacks of one assembly in deployment order (dependencies first)."""
    artifacts: dict[str, Any] = _manifest(directory).get("artifacts", {})
    stacks: dict[str, StackArtifact] = {}
    dependencies: dict[str, list[str]] = {}
    for artifact_id, artifact in artifacts.items():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        props = artifact.get("properties", {})
        assets: list[FileAsset] = []
        for dependency in artifact.get("dependencies", []):
            dep = artifacts.get(dependency, {})
            if dep.get("type") == "cdk:asset-manifest":
                assets += _file_assets(directory, directory / dep["properties"]["file"], account=account, region=region)
        stacks[artifact_id] = StackArtifact(
            artifact_id=artifact_id,
            stack_name=props.get("stackName", artifact_id),
            display_name=artifact.get("displayName", artifact_id),
            template=json.loads((directory / props["templateFile"]).read_text()),
            directory=directory,
            assets=tuple(assets),
            bootstrap_parameter=props.get("bootstrapStackVersionSsmParameter"),
            construct_paths=_construct_paths(
                directory, artifact.get("additionalMetadataFile"), artifact.get("metadata", {})
            ),
        )
        dependencies[artifact_id] = [d for d in artifact.get("dependencies", []) if d in artifacts]

    ordered: list[StackArtifact] = []

    def visit(artifact_id: str, seen: frozenset[str]) -> None:
        if artifact_id in seen:
            raise ValueError(f"circular stack dependency at {artifact_id}")
        for dependency in dependencies.get(artifact_id, []):
            if dependency in stacks:
                visit(dependency, seen | {artifact_id})
        if stacks[artifact_id] not in ordered:
            ordered.append(stacks[artifact_id])

    for artifact_id in stacks:
        visit(artifact_id, frozenset())
    return ordered


def default_environment() -> dict[str, str]:
    """Fake credentials and a region, unless the caller set a region already: nothing leaves the process."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1",
    }


def bootstrap(
    client: Callable[[str], Any], stacks: list[StackArtifact], region: str, progress: Callable[[str], None]
) -> None:
    """What ``cdk bootstrap`` and the asset publishing of ``cdk deploy`` leave behind."""
    s3, ssm = client("s3"), client("ssm")
    for parameter in {a.bootstrap_parameter for a in stacks if a.bootstrap_parameter}:
        ssm.put_parameter(Name=parameter, Value=BOOTSTRAP_VERSION, Type="String", Overwrite=True)
    assets = {(a.bucket_name, a.object_key): a for artifact in stacks for a in artifact.assets}
    buckets = {bucket for bucket, _ in assets}
    for bucket in sorted(buckets):
        kwargs: dict[str, Any] = {"Bucket": bucket}
        if region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**kwargs)
    progress(f"publishing {len(assets)} asset(s) to {', '.join(sorted(buckets)) or 'no bucket'}")
    for (bucket, key), asset in sorted(assets.items()):
        s3.put_object(Bucket=bucket, Key=key, Body=asset.content())
