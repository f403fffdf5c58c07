"""``local`` (deploy and drive every pattern's scenario) and ``serve`` (the local dev server)."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from serverless_patterns.cli.app_source import AppSource, parse_context
from serverless_patterns.cli.common import USAGE_ERROR, CliError, Progress, require

DEFAULT_API_PORT = 8080
DEFAULT_AWS_PORT = 4566


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port between 0 and 65535, got {port}")
    return port


def add_commands(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Register ``local`` and ``serve``."""
    local = commands.add_parser(
        "local", parents=parents, help="deploy the app into the embedded emulated cloud and drive its patterns"
    )
    local.add_argument("--verbose", action="store_true", help="print every invocation's log")
    _permission_arguments(local)
    local.add_argument(
        "--acknowledged-grants",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="a JSON list of grants your scenarios need not use ({path, action, resource, reason}), besides "
        "the patterns' own; repeatable",
    )
    local.set_defaults(run=run_local)

    serve = commands.add_parser(
        "serve", parents=parents, help="the local dev server: the app's API and the emulated AWS on 127.0.0.1"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=DEFAULT_API_PORT, help="the REST API's port (0: any free port)")
    serve.add_argument(
        "--aws-port", type=_port, default=DEFAULT_AWS_PORT, help="the emulated AWS endpoint's port (0: any free port)"
    )
    serve.add_argument("--verbose", action="store_true", help="print every invocation's full log")
    serve.add_argument(
        "--no-reload", dest="reload", action="store_false", help="do not pick up handler files edited on disk"
    )
    _permission_arguments(serve)
    serve.set_defaults(run=run_serve)


def _permission_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-permissions",
        dest="enforce_permissions",
        action="store_false",
        help="do not check calls against the deployed IAM, resource and key policies (checked by default)",
    )


def _acknowledgements(files: list[Path]) -> list[Any]:
    """The patterns' acknowledged grants and the user's, each file checked (one line if unreadable)."""
    from serverless_patterns.local.permissions import load_acknowledgements
    from serverless_patterns.scenarios import ACKNOWLEDGED_GRANTS

    found = list(load_acknowledgements(ACKNOWLEDGED_GRANTS))
    for path in files:
        try:
            found.extend(load_acknowledgements(path))
        except (OSError, ValueError, TypeError) as error:
            raise CliError(
                f"--acknowledged-grants {path}: expected a JSON list of {{path, action, resource, reason}} ({error})",
                USAGE_ERROR,
            ) from None
    return found


def _needs_local_extra(command: str) -> None:
    for module in ("moto", "time_machine", "boto3"):
        require(module, extra="local", purpose=f"serverless-patterns {command}")


def run_local(args: argparse.Namespace) -> int:
    """Deploy, drive every registered scenario whose pattern is deployed, print the report."""
    _needs_local_extra("local")
    from serverless_patterns.local.cloud import LocalCloud
    from serverless_patterns.local.report import passed, render, with_permission_check
    from serverless_patterns.scenarios import discover, run_scenario

    progress = Progress("local")
    acknowledged = _acknowledgements(args.acknowledged_grants)
    source = AppSource(args.app, parse_context(args.context), env=args.env)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="local-cloud-cdk-out-") as outdir:
        assembly = source.assembly(Path(outdir), progress)
        progress("starting the emulated cloud")
        deployment = LocalCloud.deploy(
            assembly, progress=progress, echo_logs=args.verbose, enforce_permissions=args.enforce_permissions
        )
        with _deployed(deployment) as cloud:
            scenarios = discover()
            present = [s for s in scenarios if cloud.has_construct(s.pattern)]
            absent = [s.pattern for s in scenarios if s not in present]
            progress(f"{len(cloud.resources)} resources deployed; {len(present)} scenario(s) to run")
            results = []
            for item in present:
                progress(f"running: {item.name}")
                before = len(cloud.denials)
                result = with_permission_check(cloud, run_scenario(cloud, item), before)
                progress(
                    f"  {'PASS' if result.passed else 'FAIL'} ({len(result.checks)} checks, {result.seconds:.2f}s)"
                )
                results.append(result)
            names = ", ".join(stack.display_name for stack in cloud.stacks)
            title = f"Local cloud: {names} in {time.perf_counter() - started:.1f}s"
            print("\n" + render(cloud, results, title=title, absent=absent, acknowledged=acknowledged), flush=True)
            return 0 if passed(cloud, results) else 1


def _deployed(cloud: Any) -> Any:
    """``cloud`` as a context manager whose deployment errors (a template it cannot read) are one line."""
    from contextlib import contextmanager

    @contextmanager
    def entered() -> Any:
        try:
            cloud.start()
        except (FileNotFoundError, ValueError) as error:
            raise CliError(f"cannot deploy the app locally: {error}", USAGE_ERROR) from None
        try:
            yield cloud
        finally:
            cloud.close()

    return entered()


def run_serve(args: argparse.Namespace) -> int:
    """Deploy the app and serve it until Ctrl-C."""
    _needs_local_extra("serve")
    require("werkzeug", extra="local", purpose="serverless-patterns serve")
    from serverless_patterns.local.cloud import LocalCloud
    from serverless_patterns.local.serve import DevServer, ServeOptions

    progress = Progress("serve")
    source = AppSource(args.app, parse_context(args.context), env=args.env)
    with tempfile.TemporaryDirectory(prefix="serverless-patterns-serve-") as outdir:
        assembly = source.assembly(Path(outdir), progress)
        progress("starting the emulated cloud")
        deployment = LocalCloud.deploy(
            assembly, progress=progress, echo_logs=args.verbose, enforce_permissions=args.enforce_permissions
        )
        with _deployed(deployment) as cloud:
            options = ServeOptions(
                host=args.host,
                api_port=args.port,
                aws_port=args.aws_port,
                verbose=args.verbose,
                reload=args.reload,
                source_roots=(source.cwd,),
            )
            server = DevServer(cloud, options, progress=progress)
            try:
                server.start()
            except OSError as error:
                raise CliError(f"cannot listen: {error}") from None
            try:
                server.wait()
            except KeyboardInterrupt:
                progress("stopping (Ctrl-C)")
            finally:
                server.stop()
    progress("stopped")
    return 0
