"""An external HTTP service on 127.0.0.1 for handler tests: a test takes it down, brings it back, holds a call.

The service's behaviour is a ``route`` (method, path, query, headers, JSON body -> status, JSON
answer). ``down`` makes every request answer that status instead, without reaching the route;
``hold_next`` keeps the next answer back until ``release`` is set (``received`` tells the test the
request arrived), so a test can look at a call in flight or let the client's read timeout expire.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

# How long a held answer waits for the test before going out anyway (never reached when tests pass).
HOLD_LIMIT_SECONDS = 10


@dataclass(frozen=True)
class Call:
    """One request as the service saw it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


Route = Callable[[Call], tuple[int, Any]]


class LocalService:
    """A threaded HTTP/1.1 server (keep-alive, like real services) whose health a test switches."""

    def __init__(self, route: Route) -> None:
        self.route = route
        self.down: int | None = None
        self.hold_next = False
        self.received = threading.Event()
        self.release = threading.Event()
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LocalService:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def answer(self, call: Call) -> tuple[int, Any]:
        with self._lock:
            self.calls.append(call)
            hold, self.hold_next = self.hold_next, False
            status, body = (self.down, {"error": "unavailable"}) if self.down is not None else self.route(call)
        if hold:
            self.received.set()
            self.release.wait(HOLD_LIMIT_SECONDS)
        return status, body


def _handler(service: LocalService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            call = Call(
                method=self.command,
                path=parts.path,
                query=dict(parse_qsl(parts.query)),
                # Header names are case-insensitive: one spelling (``Idempotency-Key``) whatever the client sent.
                headers={_canonical(name): value for name, value in self.headers.items()},
                body=json.loads(raw) if raw else None,
            )
            status, answer = service.answer(call)
            payload = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its read timeout), as a real service sees it

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests assert on ``calls``."""

    return Handler


def _canonical(header: str) -> str:
    return "-".join(part.capitalize() for part in header.split("-"))
