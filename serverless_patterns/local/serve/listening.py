"""A server socket served from a daemon thread: what the API servers and the AWS endpoint share."""

from __future__ import annotations

import socketserver
import threading


class Listening:
    """Serves ``server`` (already bound) in a thread from ``start()`` until ``stop()``."""

    def __init__(self, server: socketserver.BaseServer, name: str) -> None:
        self.server = server
        self._thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)

    @property
    def url(self) -> str:
        """``http://host:port`` of the bound socket."""
        address = self.server.server_address
        assert isinstance(address, tuple), "an internet socket"
        return f"http://{address[0]!s}:{address[1]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop serving (waiting for the loop to end) and close the socket."""
        if self._thread.is_alive():
            self.server.shutdown()
            self._thread.join(timeout=10)
        self.server.server_close()
