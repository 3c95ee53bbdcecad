"""Serving an emulator on loopback: a threaded werkzeug server in a daemon thread.

Shared by the platform emulators (and the Twilio one): each has a Flask ``app`` and a
``close()`` that stops its own background threads (webhook delivery, callbacks).
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from werkzeug.serving import make_server


class Servable(Protocol):
    app: Any

    def close(self) -> None: ...


class EmulatorServer:
    """A running loopback HTTP server for an emulator."""

    def __init__(self, emulator: Servable, host: str, port: int, name: str = "emulator") -> None:
        self.emulator = emulator
        self._server = make_server(host, port, emulator.app, threaded=True)
        self.port: int = self._server.server_port
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"{name}-{self.port}", daemon=True
        )
        self._thread.start()

    def shutdown(self) -> None:
        """Stop serving and stop the emulator's own background threads."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self.emulator.close()
