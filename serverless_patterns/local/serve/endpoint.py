"""The emulated AWS on a local endpoint: moto's server, serving the local cloud's own backends.

moto's in-process mock (``mock_aws``, which the local cloud runs in) and its server share the
same backends, so the AWS CLI and boto3 with ``--endpoint-url http://127.0.0.1:<port>`` see and
change what the app's functions see: an object uploaded here fires the bucket's notification,
a message sent here is consumed by the queue's event source, an execution started here runs.
Any access key is accepted (``testing``); the account is the local cloud's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _QuietHandler(MotoRequestHandler):
    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        """No access log: the invocations the requests cause have their own lines."""


class AwsEndpoint:
    """moto's server on ``host:port`` in a thread; ``before`` runs before each request."""

    def __init__(self, host: str, port: int, before: Callable[[], None], *, verbose: bool = False) -> None:
        application: WsgiApp = DomainDispatcherApplication(create_backend_app)

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            before()
            return application(environ, start_response)

        handler = MotoRequestHandler if verbose else _QuietHandler
        self._server: BaseWSGIServer = make_server(host, port, app, threaded=True, request_handler=handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="aws-endpoint", daemon=True)

    @property
    def url(self) -> str:
        """The endpoint URL for ``--endpoint-url``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=10)
        self._server.server_close()
