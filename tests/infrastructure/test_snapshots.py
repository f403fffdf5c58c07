"""Each environment's template, snapshotted with asset hashes masked.

After an intended change: ``make snapshot-update``, then review the diff.
"""

from __future__ import annotations

import pytest
from aws_cdk import assertions
from syrupy.assertion import SnapshotAssertion

from tests.infrastructure.masking import masked


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_template_matches_snapshot(
    env: str, templates: dict[str, assertions.Template], snapshot: SnapshotAssertion
) -> None:
    assert masked(templates[env].to_json()) == snapshot
