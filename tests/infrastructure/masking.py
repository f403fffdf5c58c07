"""Templates made stable for snapshots: asset hashes do not churn them."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_ASSET_HASH = re.compile(r"[0-9a-f]{64}")
# Lambda versions get the code hash in their logical id: FooCurrentVersionABCD1234<32 hex>.
_VERSION_ID = re.compile(r"(CurrentVersion[0-9A-F]{8})[0-9a-f]{32}")


def masked(template: Mapping[str, Any]) -> dict[str, Any]:
    """``template`` with asset hashes and hash-suffixed version ids replaced by placeholders."""
    text = json.dumps(template, sort_keys=True)
    text = _ASSET_HASH.sub("<asset-hash>", text)
    text = _VERSION_ID.sub(r"\1<code-hash>", text)
    result: dict[str, Any] = json.loads(text)
    return result
