"""Run by the python of a venv the wheel was installed into, from outside the repository.

Prints one JSON object describing what the installed package looks like from the inside; the
tests assert on it. Stdlib and the package only: this file is not imported by pytest.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import sys
from pathlib import Path
from typing import Any

HANDLER_PACKAGES = ("api_backend", "event_pipeline", "fan_out", "order_workflow")


def probe(*, with_cdk: bool) -> dict[str, Any]:
    """Where the package was imported from, what it ships, and (``with_cdk``) what it exports and stages."""
    import serverless_patterns

    package_dir = Path(serverless_patterns.__file__).parent
    facts: dict[str, Any] = {
        "file": serverless_patterns.__file__,
        "version": serverless_patterns.__version__,
        "metadata_version": importlib.metadata.version("serverless-patterns"),
        "py_typed": (package_dir / "py.typed").is_file(),
        "handler_modules": sorted(
            str(path.relative_to(package_dir)) for path in (package_dir / "lambdas").rglob("*.py")
        ),
        "cdk_after_package_import": "aws_cdk" in sys.modules,
    }
    if not with_cdk:
        return facts
    # Handler code imports its own modules; none of them may drag in the CDK.
    importlib.import_module("serverless_patterns.lambdas.shared.observability")
    importlib.import_module("serverless_patterns.lambdas.event_pipeline.processing")
    facts["cdk_after_handler_imports"] = "aws_cdk" in sys.modules

    from constructs import Construct

    exports = {name: getattr(serverless_patterns, name) for name in serverless_patterns.__all__}
    facts["exports"] = sorted(exports)
    facts["constructs"] = sorted(
        name for name, value in exports.items() if isinstance(value, type) and issubclass(value, Construct)
    )

    from serverless_patterns.constructs import lambda_code

    facts["lambdas_root"] = str(lambda_code.LAMBDAS_ROOT)
    staged = {package: lambda_code.staged_package(package) for package in HANDLER_PACKAGES}
    facts["staged_files"] = {
        package: sorted(str(path.relative_to(root)) for path in root.rglob("*.py")) for package, root in staged.items()
    }
    return facts


if __name__ == "__main__":
    print(json.dumps(probe(with_cdk="--without-cdk" not in sys.argv)))
