"""A payment gateway on 127.0.0.1 whose health a test switches: down, up, slow, rejecting."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# How long a held request waits for the test before answering anyway (never reached when tests pass).
HOLD_LIMIT_SECONDS = 10


class FakeGateway:
    """Charges orders idempotently when up; answers ``status`` otherwise.

    ``hold_next`` parks the next request until ``release`` is set (``received``
    tells the test it arrived): a call in flight that the test can look at.
    """

    def __init__(self) -> None:
        self.status = 503
        self.hold_next = False
        self.received = threading.Event()
        self.release = threading.Event()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.charges: dict[str, int] = {}
        self.response_padding = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeGateway:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def answer(self, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)
            hold, self.hold_next = self.hold_next, False
        if hold:
            self.received.set()
            self.release.wait(HOLD_LIMIT_SECONDS)
        with self._lock:
            if self.status != 200:
                return self.status, {"error": "unavailable" if self.status >= 500 else "rejected"}
            order_id = str(body.get("order_id"))
            first = order_id not in self.charges
            self.charges[order_id] = 1  # idempotent: a repeated order id is not charged again
            return 200, {"charge_id": f"ch-{order_id}", "new": first, "padding": "x" * self.response_padding}


def _handler(gateway: FakeGateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real gateways: the client pools connections

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            status, answer = gateway.answer(body, dict(self.headers.items()))
            payload = json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its read timeout): what a real server sees too

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test asserts on what the gateway recorded."""

    return Handler
