"""Handler code as small Lambda assets, with no Docker bundling.

Each asset holds ``serverless_patterns/lambdas/<package>`` and the shared
handler helpers it uses (the modules of ``shared`` its code names, and theirs;
``HandlerCode`` assets, which hold your code too, get all of them) under the same
import path they have in this repository, so
``serverless_patterns.lambdas.<package>.handler.handler`` works alike in Lambda,
in tests and in the local cloud. Third-party libraries come from the Powertools
layer (or the Lambda runtime, for boto3); nothing is vendored.
"""

from __future__ import annotations

import atexit
import functools
import re
import shutil
import tempfile
from collections.abc import Callable
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
# How handler code names a shared module: ``shared.<name>`` (imports, lazy exports' strings) or
# ``from ...shared import <names>``.
_SHARED_DOTTED = re.compile(r"serverless_patterns\.lambdas\.shared\.(\w+)")
_SHARED_FROM = re.compile(r"from serverless_patterns\.lambdas\.shared import \(?([\w\s,]+?)\)?\s*$", re.MULTILINE)


@functools.cache
def _staging_root() -> Path:
    root = Path(tempfile.mkdtemp(prefix="serverless-patterns-assets-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return root


def shared_modules_used(package: str) -> frozenset[str]:
    """The modules of ``lambdas/shared`` that ``lambdas/<package>`` (or ``lambdas/__init__``) names, directly or not."""
    shared = LAMBDAS_ROOT / SHARED_PACKAGE
    used: set[str] = set()
    pending = [LAMBDAS_ROOT / "__init__.py", *(LAMBDAS_ROOT / package).rglob("*.py")]
    while pending:
        text = pending.pop().read_text(encoding="utf-8")
        named = set(_SHARED_DOTTED.findall(text))
        for names in _SHARED_FROM.findall(text):
            named.update(name.split()[0] for name in names.split(",") if name.strip())
        for name in sorted(named - used):
            if (shared / f"{name}.py").is_file():
                used.add(name)
                pending.append(shared / f"{name}.py")
    return frozenset(used)


@functools.cache
def staged_package(package: str, *, all_shared: bool = False) -> Path:
    """Stage ``lambdas/<package>`` plus the shared helpers it uses; return the asset root.

    :param all_shared: stage every shared helper (for assets that also hold code of yours).
    """
    source = LAMBDAS_ROOT / package
    if not (source / "__init__.py").is_file():
        raise ValueError(f"no handler package named {package!r} under {LAMBDAS_ROOT}")
    root = _staging_root() / (f"{package}-all-shared" if all_shared else package)
    lambdas = root / "serverless_patterns" / "lambdas"
    shutil.copytree(source, lambdas / package, ignore=IGNORED_FILES)
    if package != SHARED_PACKAGE:
        used = None if all_shared else {f"{name}.py" for name in shared_modules_used(package)} | {"__init__.py"}
        ignored = IGNORED_FILES if used is None else _keep_only(used)
        shutil.copytree(LAMBDAS_ROOT / SHARED_PACKAGE, lambdas / SHARED_PACKAGE, ignore=ignored)
    shutil.copy2(LAMBDAS_ROOT / "__init__.py", lambdas / "__init__.py")
    # The real package __init__ exposes the CDK constructs; Lambda needs none of it.
    (root / "serverless_patterns" / "__init__.py").write_text('"""Handler code of serverless-patterns."""\n')
    return root


def _keep_only(files: set[str]) -> Callable[[str, list[str]], set[str]]:
    def ignore(directory: str, names: list[str]) -> set[str]:
        return {name for name in names if name not in files}

    return ignore


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
