"""Handler code as small Lambda assets, with no Docker bundling.

Each asset holds ``serverless_patterns/lambdas/<package>`` and the shared
handler helpers under the same import path they have in this repository, so
``serverless_patterns.lambdas.<package>.handler.handler`` works alike in Lambda,
in tests and in the local cloud. Third-party libraries come from the Powertools
layer (or the Lambda runtime, for boto3); nothing is vendored.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

from aws_cdk import Aws, aws_lambda as lambda_
from constructs import Construct

LAMBDAS_ROOT = Path(__file__).resolve().parent.parent / "lambdas"
SHARED_PACKAGE = "shared"

PYTHON_RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
# Powertools for AWS Lambda (Python) v3 public layer; bump the version here only.
POWERTOOLS_LAYER_ACCOUNT = "017000801446"
POWERTOOLS_LAYER_VERSION = 27

IGNORED_FILES = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")


@functools.cache
def _staging_root() -> Path:
    root = Path(tempfile.mkdtemp(prefix="serverless-patterns-assets-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return root


@functools.cache
def staged_package(package: str) -> Path:
    """Stage ``lambdas/<package>`` plus the shared helpers; return the asset root."""
    source = LAMBDAS_ROOT / package
    if not (source / "__init__.py").is_file():
        raise ValueError(f"no handler package named {package!r} under {LAMBDAS_ROOT}")
    root = _staging_root() / package
    lambdas = root / "serverless_patterns" / "lambdas"
    shutil.copytree(source, lambdas / package, ignore=IGNORED_FILES)
    if package != SHARED_PACKAGE:
        shutil.copytree(LAMBDAS_ROOT / SHARED_PACKAGE, lambdas / SHARED_PACKAGE, ignore=IGNORED_FILES)
    shutil.copy2(LAMBDAS_ROOT / "__init__.py", lambdas / "__init__.py")
    # The real package __init__ exposes the CDK constructs; Lambda needs none of it.
    (root / "serverless_patterns" / "__init__.py").write_text('"""Handler code of serverless-patterns."""\n')
    return root


def handler_code(package: str) -> lambda_.Code:
    """A fresh ``Code`` for one of the packaged handler packages (one per stack)."""
    return lambda_.Code.from_asset(str(staged_package(package)))


def handler_path(package: str, module: str = "handler", function: str = "handler") -> str:
    """The Lambda ``Handler`` string of a packaged handler."""
    return f"serverless_patterns.lambdas.{package}.{module}.{function}"


def powertools_layer(scope: Construct, construct_id: str = "PowertoolsLayer") -> lambda_.ILayerVersion:
    """The region's public Powertools v3 layer for our runtime and architecture."""
    runtime = PYTHON_RUNTIME.name.replace(".", "")
    arn = (
        f"arn:{Aws.PARTITION}:lambda:{Aws.REGION}:{POWERTOOLS_LAYER_ACCOUNT}:layer:"
        f"AWSLambdaPowertoolsPythonV3-{runtime}-arm64:{POWERTOOLS_LAYER_VERSION}"
    )
    return lambda_.LayerVersion.from_layer_version_arn(scope, construct_id, arn)
