"""The state and wiring every kit emulator has: one lock, the call log, the faults, the
server it runs on and the contract tests' exchange hook.

Written once so that a platform's constructor only sets what is its own (data, limits,
credentials) and its Flask app only adds its own routes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import flask

from providers.emulator_kit.calls import CallLog
from providers.emulator_kit.faults import FaultInjection, Faults
from providers.emulator_kit.server import Serves, run_exchange_hook


class KitEmulator(FaultInjection, Serves):
    """Mixin: call ``init_kit(public_url)`` first in ``__init__`` (the lock is needed by what
    follows); ``hook_exchanges(app, applies)`` when building the app."""

    _lock: threading.RLock
    call_log: CallLog
    calls: list[dict[str, Any]]
    hook_errors: list[str]
    # (request, response) after every API exchange: the contract tests check them.
    exchange_hook: Callable[[flask.Request, flask.Response], Any] | None

    def init_kit(self, public_url: str | None = None) -> None:
        self._lock = threading.RLock()
        self.public_url = public_url.rstrip("/") if public_url else None
        self.server = None
        self.exchange_hook = None
        self.hook_errors = []
        self.call_log = CallLog()
        self.calls = self.call_log.records
        self.faults = Faults()

    def hook_exchanges(self, app: flask.Flask, applies: Callable[[str], bool]) -> None:
        """After every request whose path ``applies``, hand the exchange to the hook."""

        @app.after_request
        def after(response: flask.Response) -> flask.Response:
            if applies(flask.request.path):
                run_exchange_hook(self, flask.request, response)
            return response
