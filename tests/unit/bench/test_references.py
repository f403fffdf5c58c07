"""The reference handler serves its POST, and a wrong answer fails the run instead of being timed."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from bench import references
from bench.measure import run_once

BASE = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def test_the_powertools_rest_reference_serves_its_post(tmp_path: Path) -> None:
    command = references.commands(BASE, str(tmp_path), ())["powertools_rest"]
    wall, _ = run_once(command)  # its check raises unless the handler answered 201
    assert wall > 0


def test_a_reference_that_does_not_serve_fails_the_run(tmp_path: Path) -> None:
    command = references.commands(BASE, str(tmp_path), ())["powertools_rest"]
    elsewhere = {**references.POWERTOOLS_REST_EVENT, "path": "/nowhere"}
    broken = replace(command, argv=[*command.argv[:-1], json.dumps(elsewhere)])
    with pytest.raises(RuntimeError, match="answered '404', not 201"):
        run_once(broken)
