"""The emulated AWS on a local endpoint: moto's server, serving the local cloud's own backends.

moto's in-process mock (``mock_aws``, which the local cloud runs in) and its server share the
same backends, so the AWS CLI and boto3 with ``--endpoint-url http://127.0.0.1:<port>`` see and
change what the app's functions see: an object uploaded here fires the bucket's notification,
a message sent here is consumed by the queue's event source, an execution started here runs.
Any access key is accepted (``testing``); the account is the local cloud's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from serverless_patterns.local.serve.listening import Listening

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _QuietHandler(MotoRequestHandler):
    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        """No access log: the invocations the requests cause have their own lines."""


class AwsEndpoint(Listening):
    """moto's server on ``host:port`` in a thread; ``before`` runs before each request."""

    def __init__(self, host: str, port: int, before: Callable[[], None], *, verbose: bool = False) -> None:
        application: WsgiApp = DomainDispatcherApplication(create_backend_app)

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            before()
            return application(environ, start_response)

        handler = MotoRequestHandler if verbose else _QuietHandler
        server: BaseWSGIServer = make_server(host, port, app, threaded=True, request_handler=handler)
        super().__init__(server, "aws-endpoint")
