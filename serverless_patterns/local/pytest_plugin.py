"""The pytest plugin: your app deployed into the local cloud, as a fixture.

Installed with the package (entry point ``pytest11``), it only adds options, a marker and
fixtures: nothing happens, and nothing heavy is imported, until a test asks for ``local_cloud``.

Which app (the first that is set)::

    # conftest.py: a Stage or Stack object, a cloud assembly directory or an app command
    @pytest.fixture(scope="session")
    def local_cloud_app():
        app = App(context=...)
        return MyStack(app, "Orders")

    # or pyproject.toml / pytest.ini
    [tool.pytest.ini_options]
    local_cloud_app = "python3 app.py"       # or a cloud assembly directory, e.g. "cdk.out"
    local_cloud_env = "dev"                  # the stage, when the app has several
    local_cloud_context = ["env=dev"]        # context (-c) for the app command
    local_cloud_scope = "module"             # session | module (default) | function

    # or nothing: cdk.json's "app" in pytest's rootdir, as `cdk synth` would run it
    # (--local-cloud-app on the command line overrides the ini value)

The app is synthesized once per session; it is deployed once per module by default (the
cloud is closed after the module's last test), once per session, or afresh for every test
(``local_cloud_scope = "function"``); a test marked ``@pytest.mark.local_cloud(fresh=True)``
gets a cloud of its own in any case (the shared one is closed first, and deployed again for
the next test that shares it). One cloud runs at a time: while it does, every boto3 client
of the process talks to it and the wall clock is its virtual clock.

Fixtures::

    def test_upload(local_cloud):                       # the deployed LocalCloud
        local_cloud.put_object(local_cloud.outputs["UploadBucket"], "in/a.csv", b"...")
        local_cloud.drain()                             # deliver everything pending
        assert messages(local_cloud, local_cloud.outputs["DlqArn"]) == []

``local_cloud_outputs`` is the stack outputs, ``local_cloud_assembly`` the synthesized cloud
assembly directory. ``serverless_patterns.local.helpers`` reads queues, buckets and executions.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from serverless_patterns.local.cloud import LocalCloud

SCOPES = ("session", "module", "function")
DEFAULT_SCOPE = "module"
MARKER = "local_cloud"
_MANAGER = pytest.StashKey["CloudManager"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("local-cloud", "serverless-patterns local cloud")
    group.addoption("--local-cloud-app", help="the app to deploy: a cloud assembly directory or an app command")
    parser.addini("local_cloud_app", "the app to deploy: a cloud assembly directory or an app command")
    parser.addini("local_cloud_env", "the stage to deploy when the app has several")
    parser.addini("local_cloud_context", "context for the app command, key=value per line", type="linelist")
    parser.addini("local_cloud_scope", f"how long a deployed cloud lives: {', '.join(SCOPES)}", default=DEFAULT_SCOPE)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}(fresh=False): fresh=True deploys a cloud for this test alone")
    scope = str(config.getini("local_cloud_scope") or DEFAULT_SCOPE)
    if scope not in SCOPES:
        raise pytest.UsageError(f"local_cloud_scope must be one of {', '.join(SCOPES)}, not {scope!r}")


class CloudManager:
    """Deploys the app on demand, keeps at most one cloud running, closes it when its scope ends."""

    def __init__(self, scope: str) -> None:
        self.scope = scope
        self.cloud: LocalCloud | None = None
        self.key: str | None = None

    def get(self, key: str, assembly: Path) -> LocalCloud:
        """The running cloud for ``key``, deploying it (and closing another) as needed."""
        if self.cloud is not None and self.key == key:
            return self.cloud
        self.close()
        from serverless_patterns.local.cloud import LocalCloud

        cloud = LocalCloud.deploy(assembly)
        cloud.start()
        self.cloud, self.key = cloud, key
        return cloud

    def close(self, key: str | None = None) -> None:
        """Close the running cloud (only if it is ``key``'s, when given)."""
        if self.cloud is not None and (key is None or self.key == key):
            cloud, self.cloud, self.key = self.cloud, None, None
            cloud.close()


def _manager(config: pytest.Config) -> CloudManager:
    manager = config.stash.get(_MANAGER, None)
    if manager is None:
        manager = CloudManager(str(config.getini("local_cloud_scope") or DEFAULT_SCOPE))
        config.stash[_MANAGER] = manager
    return manager


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    manager = item.config.stash.get(_MANAGER, None)
    if manager is None or manager.cloud is None:
        return
    if manager.key == item.nodeid:  # a fresh cloud, or scope "function"
        manager.close()
    elif manager.scope == "module" and (nextitem is None or _module_key(nextitem) != _module_key(item)):
        manager.close(_module_key(item))


def pytest_unconfigure(config: pytest.Config) -> None:
    manager = config.stash.get(_MANAGER, None)
    if manager is not None:
        manager.close()


def _module_key(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


@pytest.fixture(scope="session")
def local_cloud_app(pytestconfig: pytest.Config) -> Any:
    """What to deploy: override it to return a Stage or Stack; by default the ini/command-line app or cdk.json."""
    from serverless_patterns.cli.app_source import AppSource, parse_context

    app = pytestconfig.getoption("local_cloud_app") or pytestconfig.getini("local_cloud_app") or None
    return AppSource(
        app=str(app) if app else None,
        context=parse_context(pytestconfig.getini("local_cloud_context") or []),
        env=str(pytestconfig.getini("local_cloud_env") or "") or None,
        cwd=Path(pytestconfig.rootpath),
    )


@pytest.fixture(scope="session")
def local_cloud_assembly(local_cloud_app: Any) -> Iterator[Path]:
    """The app's cloud assembly directory, synthesized once per session."""
    from serverless_patterns.cli.app_source import AppSource
    from serverless_patterns.cli.common import CliError

    with tempfile.TemporaryDirectory(prefix="local-cloud-assembly-") as outdir:
        if isinstance(local_cloud_app, AppSource):
            try:
                yield local_cloud_app.assembly(Path(outdir), lambda message: None)
            except CliError as error:
                raise pytest.UsageError(f"local cloud app: {error}") from None
        elif isinstance(local_cloud_app, str | Path):
            yield AppSource(app=str(local_cloud_app), cwd=Path.cwd()).assembly(Path(outdir), lambda message: None)
        else:
            yield _synthesize(local_cloud_app)


def _synthesize(construct: Any) -> Path:
    """The cloud assembly of a Stage, or of the Stage (or App) that holds a Stack."""
    from aws_cdk import Stack, Stage

    stage = Stage.of(construct) if isinstance(construct, Stack) else construct
    if not isinstance(stage, Stage):
        raise pytest.UsageError(f"local_cloud_app returned {construct!r}: expected a Stage, Stack, path or command")
    return Path(stage.synth().directory)


@pytest.fixture
def local_cloud(request: pytest.FixtureRequest, local_cloud_assembly: Path) -> LocalCloud:
    """The app deployed into the local cloud (shared per module by default; see the module docstring)."""
    manager = _manager(request.config)
    marker = request.node.get_closest_marker(MARKER)
    fresh = bool(marker and marker.kwargs.get("fresh")) or manager.scope == "function"
    if fresh:
        key = request.node.nodeid
    elif manager.scope == "module":
        key = _module_key(request.node)
    else:
        key = "session"
    return manager.get(key, local_cloud_assembly)


@pytest.fixture
def local_cloud_outputs(local_cloud: LocalCloud) -> dict[str, str]:
    """The deployed stacks' outputs (every stack's, merged)."""
    return local_cloud.outputs
