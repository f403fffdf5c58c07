"""The local dev server: the app deployed into the local cloud stays up and answers on 127.0.0.1.

``serverless-patterns serve`` (``make serve``) deploys the app as ``LocalCloud`` does, then:

``gateway``
    each REST API answers at ``http://127.0.0.1:<port>/<stage>/...`` with API Gateway's
    behaviour in front of the function (stages, auth as configured, CORS, gateway responses);
``endpoint``
    the emulated AWS answers at ``http://127.0.0.1:<aws port>``: the AWS CLI and boto3 with
    ``--endpoint-url`` upload objects, send messages, start executions, read tables;
``realtime``
    virtual time runs in step with real time in a background loop, which delivers what falls
    due: event sources, async invocations and their retries, schedules, Step Functions;
``reload``
    a handler file edited on disk is picked up on the next invocation;
``logs``
    one line per invocation (request id, function and its pattern role, duration, cold/warm);
    ``--verbose`` prints every invocation's full log too.

Ctrl-C stops the servers and the loop, then discards the cloud.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from serverless_patterns.local.apigateway import ApiGateway, load_apis
from serverless_patterns.local.serve.endpoint import AwsEndpoint
from serverless_patterns.local.serve.gateway import ApiServer, HttpApi, gateway_responses
from serverless_patterns.local.serve.logs import InvocationLog, function_labels
from serverless_patterns.local.serve.realtime import RealTimeLoop
from serverless_patterns.local.serve.reload import HandlerReloader
from serverless_patterns.roles import recognize

if TYPE_CHECKING:
    from serverless_patterns.local.cloud import LocalCloud

__all__ = ["DevServer", "ServeOptions"]


@dataclass(frozen=True)
class ServeOptions:
    """Where to listen and what to do: ports (0: any free port), reload, full logs."""

    host: str = "127.0.0.1"
    api_port: int = 8080
    aws_port: int = 4566
    verbose: bool = False
    reload: bool = True
    source_roots: Sequence[Path] = field(default_factory=tuple)


class DevServer:
    """A running ``LocalCloud`` served over HTTP, with time and event sources running in the background."""

    def __init__(self, cloud: LocalCloud, options: ServeOptions, *, progress: Callable[[str], None]) -> None:
        self.cloud = cloud
        self.options = options
        self.progress = progress
        self.log = InvocationLog(self._labels())
        self.reloader: HandlerReloader | None = None
        self.apis: list[ApiServer] = []
        self.endpoint: AwsEndpoint | None = None
        self.loop: RealTimeLoop | None = None
        self._stopped = threading.Event()

    def _labels(self) -> dict[str, str]:
        templates = {stack.stack_name: stack.template.get("Resources", {}) for stack in self.cloud.stacks}
        names = {
            record.physical_id: f"{record.stack_name}/{record.logical_id}"
            for record in self.cloud.resources
            if record.resource_type == "AWS::Lambda::Function" and record.physical_id
        }

        def describe(key: str) -> str | None:
            stack, _, logical_id = key.partition("/")
            role = recognize(templates.get(stack, {}).get(logical_id, {}))
            return role.describe() if role else None

        return function_labels(names, describe)

    def _before_request(self) -> None:
        if self.reloader is not None:
            self.reloader.check()

    def start(self) -> None:
        """Listen, start the background loop, print where everything is."""
        cloud, options = self.cloud, self.options
        cloud.runtime.listeners.append(self.log)
        if options.reload:
            self.reloader = HandlerReloader(
                functions=[
                    (record.physical_id, str(code.get("S3Bucket")), str(code.get("S3Key")))
                    for record in cloud.resources
                    if record.resource_type == "AWS::Lambda::Function"
                    and isinstance(code := record.properties.get("Code"), dict)
                ],
                assets=[asset for stack in cloud.stacks for asset in stack.assets],
                roots=options.source_roots,
                client=cloud.client,
                progress=self.progress,
                label=self.log.label,
            )
        gateway = ApiGateway(load_apis(cloud.state, cloud.client), cloud.runtime, cloud.account_id, cloud.region)
        try:
            for index, api in enumerate(gateway.apis):
                port = options.api_port + index if options.api_port else 0
                http_api = HttpApi(gateway, api, gateway_responses(cloud.state, api.api_id))
                self.apis.append(ApiServer(http_api, options.host, port, self._before_request))
            self.endpoint = AwsEndpoint(options.host, options.aws_port, self._before_request, verbose=options.verbose)
        except OSError:
            self._close_servers()
            raise
        for server in self.apis:
            server.start()
        self.endpoint.start()
        self.loop = RealTimeLoop(cloud.clock, cloud.advance, before=self._before_request, on_error=self._loop_error)
        self.loop.start()
        self._announce()

    def _announce(self) -> None:
        assert self.endpoint is not None
        for name, value in sorted(self.cloud.outputs.items()):
            self.progress(f"output {name} = {value}")
        for server in self.apis:
            stages = ", ".join(f"{server.url}/{stage}/" for stage in server.api.api.stages)
            self.progress(f"API {server.api.api.name}: {stages}")
        self.progress(
            f"AWS endpoint: {self.endpoint.url}  (aws --endpoint-url {self.endpoint.url} ..., "
            f"with AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION={self.cloud.region})"
        )
        if self.reloader is not None:
            self.progress(f"reloading handlers on change ({self.reloader.watched_files} source files watched)")
        self.progress("virtual time runs with real time; event sources, retries and schedules run in the background")
        self.progress("ready: Ctrl-C stops")

    def _loop_error(self, error: BaseException) -> None:
        self.progress(f"background loop: {type(error).__name__}: {error}")

    def wait(self) -> None:
        """Block until ``stop()`` or a signal (SIGINT/SIGTERM raise KeyboardInterrupt here)."""

        def interrupt(signum: int, frame: FrameType | None) -> None:
            raise KeyboardInterrupt

        if threading.current_thread() is threading.main_thread():
            # SIGINT too: a process started in the background of a shell inherits it ignored.
            signal.signal(signal.SIGINT, interrupt)
            signal.signal(signal.SIGTERM, interrupt)
        while not self._stopped.wait(0.5):
            pass

    def _close_servers(self) -> None:
        for server in self.apis:
            server.stop()
        if self.endpoint is not None:
            self.endpoint.stop()

    def stop(self) -> None:
        """Stop listening and the background loop (the cloud itself is closed by its owner)."""
        self._stopped.set()
        if self.loop is not None:
            self.loop.stop()
        self._close_servers()
        if self.log in self.cloud.runtime.listeners:
            self.cloud.runtime.listeners.remove(self.log)
        sys.stdout.flush()
