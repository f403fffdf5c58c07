"""Every deployed handler imports only what its role uses (deterministic; timings live in ``make bench``).

Each function of the Dev template is imported from its staged asset in a fresh ``python -S``
(as Lambda does: no ``.pth`` files, the asset first on the path), and its ``sys.modules`` is
checked: nothing of the CDK, no other pattern's handlers, no other role's entry module, the
heavier Powertools utilities and pydantic only in the roles that use them (pydantic: the API,
whose models are its OpenAPI contract; the other handlers validate with ``shared.shapes``), and
no pydantic in what the handlers load on demand either. Each entry point then gets the keep-warm
ping, as the first event of a Lambda environment, and must end the collector's init hold
(``shared.cold_init``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import pytest
from aws_cdk import assertions

from serverless_patterns.constructs.function import METADATA_KEY
from serverless_patterns.constructs.lambda_code import LAMBDAS_ROOT, staged_package

PACKAGE_ROOT = "serverless_patterns.lambdas."
SITE_PACKAGES = os.pathsep.join(dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]))
NEVER_LOADED = (
    "aws_cdk",
    "jsii",
    "constructs",
    # ~45 ms (asyncio, every event source's data classes): shared.sqs_batch does SQS partial batches.
    "aws_lambda_powertools.utilities.batch",
)
LOADED_ON_DEMAND = (
    # The HTTP payment adapter and its breaker load when a function is configured to call out.
    PACKAGE_ROOT + "shared.http",
    PACKAGE_ROOT + "shared.circuit_breaker",
)
# What handlers load on demand (the HTTP payment adapter, enrichment's client and breaker): as
# light as the handlers themselves, without pydantic.
ON_DEMAND = (
    PACKAGE_ROOT + "order_workflow.http_gateway",  # with PAYMENT_GATEWAY=http
    PACKAGE_ROOT + "shared.http",
    PACKAGE_ROOT + "shared.circuit_breaker",
)
ONLY_IN_ROLES = {
    "aws_lambda_powertools.event_handler": {"api"},
    # The API loads it with the first request that sends an Idempotency-Key.
    "aws_lambda_powertools.utilities.idempotency": {"process", "charge_payment"},
    # ~80 ms of a cold start: the API's models are its OpenAPI contract; the others are shared.shapes.
    "pydantic": {"api"},
}


class Function(NamedTuple):
    role: str
    module: str
    modules: frozenset[str]
    init_ended: bool


# In a Lambda environment: the modules loaded at import, then whether the keep-warm ping, as the
# first event, restored the collector's thresholds and froze what init built.
ENTRY_CODE = """
import gc, importlib, json, sys
default = gc.get_threshold()
handler = getattr(importlib.import_module(sys.argv[1]), sys.argv[2])
modules = sorted(sys.modules)
held = gc.get_threshold() != default
from serverless_patterns.lambdas.shared.warmup import WARMUP_EVENT
handler(WARMUP_EVENT, None)
print(json.dumps([modules, held and gc.get_threshold() == default and gc.get_freeze_count() > 0]))
"""


def _run(package: str, code: str, *args: str) -> str:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join([str(staged_package(package)), SITE_PACKAGES]),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_REGION": "us-east-1",
        "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
    }
    result = subprocess.run(  # noqa: S603  (the test's own interpreter and code)
        [sys.executable, "-S", "-c", code, *args], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"{args or code} does not run from its asset alone:\n{result.stderr[-2000:]}"
    return result.stdout.splitlines()[-1]


def _package(module: str) -> str:
    return module.removeprefix(PACKAGE_ROOT).split(".")[0]


def _loaded(module: str) -> frozenset[str]:
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    return frozenset(json.loads(_run(_package(module), code)))


def _entry(handler: str) -> tuple[frozenset[str], bool]:
    module, _, function = handler.rpartition(".")
    modules, init_ended = json.loads(_run(_package(module), ENTRY_CODE, module, function))
    return frozenset(modules), bool(init_ended)


@pytest.fixture(scope="module")
def functions(templates: dict[str, assertions.Template]) -> list[Function]:
    """The Dev app's packaged handlers, each imported once in its own interpreter."""
    handlers = sorted(
        (resource["Metadata"][METADATA_KEY]["role"], resource["Properties"]["Handler"])
        for resource in templates["dev"].find_resources("AWS::Lambda::Function").values()
        if resource["Properties"].get("Handler", "").startswith(PACKAGE_ROOT)
        and METADATA_KEY in resource.get("Metadata", {})
    )
    assert len(handlers) >= 13, handlers
    with ThreadPoolExecutor(max_workers=2) as pool:
        entries = list(pool.map(_entry, [handler for _, handler in handlers]))
    return [
        Function(role, handler.rpartition(".")[0], modules, init_ended)
        for (role, handler), (modules, init_ended) in zip(handlers, entries, strict=True)
    ]


def _under(modules: frozenset[str], prefix: str) -> list[str]:
    return sorted(name for name in modules if name == prefix or name.startswith(prefix + "."))


def test_every_entry_point_ends_the_collectors_init_hold_on_its_first_event(functions: list[Function]) -> None:
    assert [function.role for function in functions if not function.init_ended] == []


def test_no_handler_loads_the_cdk_or_powertools_batch(functions: list[Function]) -> None:
    for function in functions:
        for prefix in NEVER_LOADED:
            assert not _under(function.modules, prefix), (function.role, prefix)


def test_no_handler_loads_the_http_adapter_or_the_breaker_before_it_needs_them(functions: list[Function]) -> None:
    for function in functions:
        assert not [name for name in LOADED_ON_DEMAND if name in function.modules], function.role


def test_a_handler_loads_no_other_pattern_and_no_other_roles_entry_module(functions: list[Function]) -> None:
    entry_modules = {function.module for function in functions}
    for function in functions:
        own_package = PACKAGE_ROOT + function.module.removeprefix(PACKAGE_ROOT).split(".")[0]
        ours = _under(function.modules, PACKAGE_ROOT.rstrip("."))
        foreign = [
            name
            for name in ours
            if name.startswith(PACKAGE_ROOT) and not name.startswith((own_package, PACKAGE_ROOT + "shared"))
        ]
        assert not foreign, (function.role, foreign)
        assert function.modules & entry_modules == {function.module}, function.role


@pytest.mark.parametrize("utility", sorted(ONLY_IN_ROLES))
def test_powertools_utilities_load_only_in_the_roles_that_use_them(functions: list[Function], utility: str) -> None:
    loading = {function.role for function in functions if _under(function.modules, utility)}
    assert loading <= ONLY_IN_ROLES[utility], f"{utility} loads in {sorted(loading - ONLY_IN_ROLES[utility])}"
    assert loading, f"no handler loads {utility}: the rule names a utility nobody uses any more"


@pytest.mark.parametrize("module", ON_DEMAND)
def test_what_handlers_load_on_demand_never_loads_pydantic(module: str) -> None:
    assert not _under(_loaded(module), "pydantic"), f"pydantic loads with {module}"


def test_an_asset_holds_the_shared_helpers_its_handlers_use_and_a_handler_code_asset_all() -> None:
    def shared_files(root: Path) -> set[str]:
        return {path.name for path in (root / "serverless_patterns" / "lambdas" / "shared").glob("*.py")}

    everything = {path.name for path in (LAMBDAS_ROOT / "shared").glob("*.py")}
    api = shared_files(staged_package("api_backend"))
    assert {"observability.py", "settings.py", "warmup.py", "__init__.py"} <= api
    assert not api & {"shapes.py", "sqs_batch.py", "http.py", "circuit_breaker.py"}
    assert {"shapes.py", "shape_checks.py", "sqs_batch.py"} <= shared_files(staged_package("fan_out"))
    assert {"http.py", "circuit_breaker.py"} <= shared_files(staged_package("order_workflow"))
    assert shared_files(staged_package("api_backend", all_shared=True)) == everything
