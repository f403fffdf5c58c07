"""The one small protocol through which a pattern shows itself to operations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from aws_cdk import aws_cloudwatch as cloudwatch


@runtime_checkable
class Observable(Protocol):
    """Something with alarms to route and a dashboard row to draw."""

    @property
    def alarms(self) -> Sequence[cloudwatch.Alarm]:
        """Every alarm the pattern owns; the dashboard wires its actions."""
        ...

    def dashboard_widgets(self) -> Sequence[cloudwatch.IWidget]:
        """The widgets of the pattern's dashboard row, left to right."""
        ...
