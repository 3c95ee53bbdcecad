"""Serving an emulator on loopback: a threaded werkzeug server in a daemon thread.

Shared by the platform emulators (and the Twilio one): each has a Flask ``app`` and a
``close()`` that stops its own background threads (webhook delivery, callbacks).
"""

from __future__ import annotations

import contextlib
import html
import socket
import threading
import time
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from werkzeug.serving import make_server

LOST_ANSWER = -1  # a fault's status for "processed, then the connection dropped: no answer"


def fault_kind(status: int) -> str:
    """What an injected fault does: hold the answer back, lose it, or answer an error."""
    return "delay" if status == 0 else "lost" if status == LOST_ANSWER else "error"


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


class DeliveryQueue:
    """Webhook pushes with retries, delivered by one background thread in due-time order.

    A job is any object with a ``due`` attribute (``time.monotonic()`` seconds); ``attempt``
    delivers it and, to retry, calls :meth:`put` again with a later ``due``.
    """

    def __init__(self, attempt: Any, name: str) -> None:
        self._attempt = attempt
        self._name = name
        self._cond = threading.Condition()
        self._jobs: list[Any] = []
        self._inflight = 0
        self._closed = False
        self._worker: threading.Thread | None = None

    def put(self, job: Any) -> None:
        with self._cond:
            if self._worker is None:
                self._worker = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._worker.start()
            self._jobs.append(job)
            self._cond.notify_all()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._closed:
                        return
                    ready = [j for j in self._jobs if j.due <= time.monotonic()]
                    if ready:
                        job = min(ready, key=lambda j: j.due)
                        self._jobs.remove(job)
                        self._inflight += 1
                        break
                    wait = min((j.due for j in self._jobs), default=None)
                    self._cond.wait(None if wait is None else max(0.01, wait - time.monotonic()))
            try:
                self._attempt(job)
            finally:
                with self._cond:
                    self._inflight -= 1
                    self._cond.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing is queued or in flight (retries included); False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._jobs and self._inflight == 0, timeout)

    def close(self) -> None:
        """Stop the thread; pending pushes are dropped."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()


def html_page(title: str, body: str) -> str:
    """A plain page for the emulators' consent screens and their views for people."""
    return (
        "<!doctype html><html lang='nl'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "table{border-collapse:collapse}"
        "td,th{padding:.2em .6em;border-bottom:1px solid #ddd}</style>"
        f"</head><body>{body}</body></html>"
    )


def redirect_with(redirect_uri: str, params: dict[str, str | None]) -> Any:
    """An OAuth redirect: ``params`` (None left out) added to the client's redirect URI."""
    import flask

    parts = urlsplit(redirect_uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, v) for k, v in params.items() if v is not None]
    target = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))
    return flask.redirect(target, code=302)
