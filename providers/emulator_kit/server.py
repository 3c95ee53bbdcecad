"""Serving an emulator on loopback: a threaded werkzeug server in a daemon thread.

Shared by the platform emulators (and the Twilio one): each has a Flask ``app`` and a
``close()`` that stops its own background threads (webhook delivery, callbacks).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from werkzeug.serving import make_server


def drop_connection(environ: dict[str, Any]) -> None:
    """Close the client's connection before any answer is written: the request was processed,
    the answer is lost (what a timeout or a cut line does), whatever the client's timeout."""
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):  # already gone: lost all the same
            sock.shutdown(socket.SHUT_RDWR)


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
        # A short poll interval: shutdown() waits up to one interval (0.5 s by default),
        # which a test suite starting hundreds of emulators pays every time.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"{name}-{self.port}", daemon=True,
        )
        self._thread.start()

    def shutdown(self) -> None:
        """Stop serving and stop the emulator's own background threads."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self.emulator.close()


class Serves:
    """Mixin: ``serve()`` on a loopback port; the first server's URL becomes ``public_url``
    (links the emulator writes into its answers point at itself)."""

    server_name = "emulator"
    app: Any
    public_url: str | None
    server: EmulatorServer | None

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> EmulatorServer:
        """Serve on a loopback port in a daemon thread; sets ``public_url`` if not given."""
        server = EmulatorServer(self, host, port, self.server_name)  # type: ignore[arg-type]
        if self.public_url is None:
            self.public_url = server.url
        self.server = server
        return server


def run_exchange_hook(owner: Any, request: Any, response: Any) -> None:
    """Hand one API exchange to ``owner.exchange_hook`` (the contract checker of the tests);
    a broken checker is recorded in ``owner.hook_errors`` and never breaks the API."""
    hook = owner.exchange_hook
    if hook is None:
        return
    try:
        hook(request, response)
    except Exception as exc:
        with owner._lock:
            owner.hook_errors.append(f"{type(exc).__name__}: {exc}")


def serve_until_interrupted(server: EmulatorServer, lines: Iterable[str]) -> None:
    """The CLI entry's loop: print where the emulator is, serve until Ctrl-C, shut down."""
    print("\n".join(lines), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()


def run_cli(emulator: Any, host: str, port: int, banner: Callable[[str], Iterable[str]],
            token: str | None = None, token_line: str = "") -> None:
    """A CLI entry (``connector emulator <slug>``): register the fixed access ``token`` if one
    is given (and add ``token_line`` to the banner), serve, print ``banner(url)``, wait for
    Ctrl-C."""
    if token:
        emulator.register_token(token)
    server = emulator.serve(host=host, port=port)
    serve_until_interrupted(server, [*banner(server.url), *([token_line] if token else [])])
