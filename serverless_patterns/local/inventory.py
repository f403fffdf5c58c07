"""What a deployment made: stack outputs, every template resource and its outcome, lookups by construct path."""

from __future__ import annotations

from collections import Counter

from serverless_patterns.local.assets import StackArtifact
from serverless_patterns.local.cloudformation import FAILED, SKIPPED, DeploymentState, ResourceRecord


class Inventory:
    """The deployed app as the local cloud records it (``LocalCloud`` is one)."""

    state: DeploymentState
    stacks: list[StackArtifact]
    stack_outputs: dict[str, dict[str, str]]

    @property
    def outputs(self) -> dict[str, str]:
        """Every stack's outputs, merged (later stacks win on a name clash)."""
        merged: dict[str, str] = {}
        for outputs in self.stack_outputs.values():
            merged.update(outputs)
        return merged

    @property
    def resources(self) -> list[ResourceRecord]:
        """Every template resource and what became of it."""
        return list(self.state.records)

    @property
    def skipped(self) -> list[ResourceRecord]:
        """Resources of types the local cloud does not support."""
        return [r for r in self.state.records if r.outcome == SKIPPED]

    @property
    def failed(self) -> list[ResourceRecord]:
        """Resources whose creation raised."""
        return [r for r in self.state.records if r.outcome == FAILED]

    def resource_counts(self) -> Counter[tuple[str, str]]:
        """How many resources of each (type, outcome)."""
        return Counter((r.resource_type, r.outcome) for r in self.state.records)

    def resource(self, path: str, resource_type: str | None = None) -> ResourceRecord:
        """The resource at construct ``path`` (e.g. ``"Api/Handler/LiveAlias"``) or with that logical id.

        ``path`` is matched against the end of the construct path; an L2 construct's path
        finds its ``Resource`` child.
        """
        wanted = path.strip("/")
        found = [
            r
            for r in self.state.records
            if (
                r.logical_id == wanted
                or ("/" + r.path.strip("/")).endswith("/" + wanted)
                or ("/" + r.path.strip("/")).endswith("/" + wanted + "/Resource")
            )
            and resource_type in (None, r.resource_type)
        ]
        if len(found) != 1:
            raise LookupError(
                f"{len(found)} resources match {path!r}" + (f" of type {resource_type}" if resource_type else "")
            )
        return found[0]

    def find(self, resource_type: str, *, under: str = "") -> list[ResourceRecord]:
        """Resources of ``resource_type`` whose construct path contains the segment(s) ``under``."""
        needle = "/" + under.strip("/") + "/" if under else ""
        return [r for r in self.state.records if r.resource_type == resource_type and needle in r.path + "/"]

    def has_construct(self, construct_id: str) -> bool:
        """True when a construct with this id (e.g. ``"ApiBackend"``) is part of a deployed stack."""
        return any(f"/{construct_id}/" in r.path for r in self.state.records)
