"""The cold-start children's site-packages holds what a Lambda sandbox has, and nothing of the development install."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.cold_start import lambda_site_packages


def test_the_site_holds_the_runtime_sdk_and_the_powertools_layer_only(tmp_path: Path) -> None:
    site = Path(lambda_site_packages(tmp_path / "site-packages"))
    names = {path.name for path in site.iterdir()}

    assert {"boto3", "botocore", "s3transfer", "aws_lambda_powertools", "pydantic", "pydantic_core"} <= names
    assert not names & {"aws_cdk", "moto", "pytest", "serverless_patterns", "jsii"}
    assert not [name for name in names if name.endswith(".pth")]
    imported = subprocess.run(
        [sys.executable, "-S", "-c", "import boto3, pydantic, aws_lambda_powertools.metrics; import aws_cdk"],
        env={"PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert "No module named 'aws_cdk'" in imported.stderr
