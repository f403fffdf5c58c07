"""Your own handler code for a pattern's function role, packaged the pattern's way.

A pattern owns the plumbing of each of its functions (parsing, idempotency, partial batches,
counting, metrics, alarms); for the roles that take your logic, you write a small package whose
handler module builds the Lambda handler from your function with the pattern's runtime API, e.g.
for ``FanOut``'s worker::

    # my_jobs/worker.py
    from serverless_patterns.lambdas.fan_out.custom import build_worker_handler

    def score(items, first_item, parallelism):   # your logic: a chunk's items -> its result
        return {"scored": len(items)}

    handler = build_worker_handler(score)

and hands it to the pattern::

    FanOut(self, "Scoring", handlers={"worker": HandlerCode.from_package("my_jobs", "my_jobs.worker.handler")})

``from_package`` stages one asset: your package beside the pattern's own runtime package
(``serverless_patterns.lambdas.<pattern>`` and the shared helpers), copied, never bundled: no
Docker, no pip. Third-party libraries come from a Lambda layer or from ``from_asset`` with your
own bundling.
"""

from __future__ import annotations

import ast
import atexit
import functools
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from aws_cdk import aws_lambda as lambda_

from serverless_patterns.constructs.lambda_code import IGNORED_FILES, staged_package

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Names the Lambda runtime sets itself: a function may not define them.
RESERVED_ENVIRONMENT = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
        "AWS_LAMBDA_RUNTIME_API",
    }
)


@dataclass(frozen=True)
class HandlerCode:
    """The code of one function role: where it is, which handler Lambda calls, its own variables.

    Build it with :meth:`from_package` (your package staged beside the pattern's runtime) or
    :meth:`from_asset` (an asset you bundle yourself, which then must contain everything it imports).

    :param handler: the ``package.module.function`` Lambda calls.
    :param package_dir: your package's directory (``from_package``).
    :param asset: your own asset (``from_asset``).
    :param environment: variables your code reads, added to the pattern's own (which they may not
        override).
    """

    handler: str
    package_dir: Path | None = None
    asset: lambda_.Code | None = None
    environment: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_package(
        cls, package_dir: str | Path, handler: str, *, environment: Mapping[str, str] | None = None
    ) -> HandlerCode:
        """Your package at ``package_dir``, whose ``handler`` (``package.module.function``) Lambda calls.

        Checked now, not at the first invocation: ``package_dir`` must be a Python package (with an
        ``__init__.py``) whose name is the handler's first segment, the handler's module must exist
        in it, and define the function (or assign it) at its top level.

        :param package_dir: the package's directory, e.g. ``Path(__file__).parent / "my_jobs"``.
        :param handler: e.g. ``"my_jobs.worker.handler"``.
        :param environment: variables your code reads (e.g. the name of a table of yours).
        """
        source = Path(package_dir).resolve()
        if not (source / "__init__.py").is_file():
            raise ValueError(f"HandlerCode.from_package: {source} is not a Python package (no __init__.py)")
        if source.name == "serverless_patterns":
            raise ValueError("HandlerCode.from_package: name your package something other than serverless_patterns")
        segments = _handler_segments(handler)
        if segments[0] != source.name:
            raise ValueError(
                f"HandlerCode.from_package: handler {handler!r} must start with the package's name {source.name!r}"
            )
        _check_handler_defined(source, segments)
        return cls(handler=handler, package_dir=source, environment=_checked_environment(environment))

    @classmethod
    def from_asset(
        cls, code: lambda_.Code, handler: str, *, environment: Mapping[str, str] | None = None
    ) -> HandlerCode:
        """An asset you build yourself (e.g. ``lambda_.Code.from_asset(dir, bundling=...)``).

        The pattern's runtime is not added: the asset must contain ``serverless_patterns.lambdas``
        itself if your handler uses the pattern's runtime API.
        """
        if not isinstance(code, lambda_.Code):
            raise TypeError(f"HandlerCode.from_asset: code must be an aws_lambda.Code, got {type(code).__name__}")
        _handler_segments(handler)
        return cls(handler=handler, asset=code, environment=_checked_environment(environment))

    def bind(self, runtime_package: str) -> lambda_.Code:
        """The Lambda ``Code`` for a function of the pattern whose runtime is ``lambdas/<runtime_package>``."""
        if self.asset is not None:
            return self.asset
        assert self.package_dir is not None  # from_package or from_asset built it
        return lambda_.Code.from_asset(str(_staged_with_runtime(runtime_package, self.package_dir)))


def merged_environment(owner: str, own: Mapping[str, str], code: HandlerCode | None) -> dict[str, str]:
    """The pattern's variables plus the user's, refusing a user variable that would replace one of the pattern's."""
    if code is None:
        return dict(own)
    clashes = sorted(set(own) & set(code.environment))
    if clashes:
        raise ValueError(f"{owner}: the handler's environment may not set {clashes}: the pattern sets them itself")
    return {**own, **code.environment}


def _handler_segments(handler: str) -> list[str]:
    if not isinstance(handler, str):
        raise TypeError(
            f"HandlerCode: handler must be a str such as 'my_pkg.module.handler', got {type(handler).__name__}"
        )
    segments = handler.split(".")
    if len(segments) < 3 or not all(_IDENTIFIER.fullmatch(segment) for segment in segments):
        raise ValueError(f"HandlerCode: handler {handler!r} must look like 'package.module.function'")
    return segments


def _check_handler_defined(package: Path, segments: list[str]) -> None:
    *modules, function = segments
    module_path = package.parent.joinpath(*modules)
    source = module_path.with_suffix(".py") if module_path.with_suffix(".py").is_file() else module_path / "__init__.py"
    if not source.is_file():
        raise ValueError(f"HandlerCode.from_package: no module {'.'.join(modules)!r} ({source} does not exist)")
    tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    if function not in _top_level_names(tree):
        raise ValueError(
            f"HandlerCode.from_package: {source.name} defines no top-level {function!r} "
            f"(e.g. '{function} = build_..._handler(your_function)')"
        )


def _top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.ImportFrom | ast.Import):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def _checked_environment(environment: Mapping[str, str] | None) -> dict[str, str]:
    result = dict(environment or {})
    for name, value in result.items():
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ValueError(f"HandlerCode: environment variable name {name!r} is not valid")
        if name in RESERVED_ENVIRONMENT or name.startswith("AWS_LAMBDA_"):
            raise ValueError(f"HandlerCode: environment variable {name!r} is reserved by the Lambda runtime")
        if not isinstance(value, str):
            raise TypeError(f"HandlerCode: environment variable {name!r} must be a str, got {type(value).__name__}")
    return result


@functools.cache
def _staged_with_runtime(runtime_package: str, package_dir: Path) -> Path:
    """One directory: the pattern's runtime package (with the shared helpers) and the user's package."""
    root = Path(tempfile.mkdtemp(prefix=f"{runtime_package}-with-{package_dir.name}-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    shutil.copytree(staged_package(runtime_package, all_shared=True), root, dirs_exist_ok=True)
    shutil.copytree(package_dir, root / package_dir.name, ignore=IGNORED_FILES)
    return root
