"""A Xero emulator on one loopback port: identity, connections and the accounting API.

The real hosts' paths side by side: ``/identity/connect/authorize`` (login.xero.com),
``/connect/token`` (identity.xero.com), ``/connections`` and ``/api.xro/2.0/…``
(api.xero.com). The state is a seeded, in-memory set of organisations. Everything a real Xero
would punish or a careful client must never do (a dead refresh token used, a call without
``xero-tenant-id``, a 429, an unpaged invoice list) is recorded in ``violations``; the test
fixture fails a test that leaves any behind. The parts live in mixins: :mod:`emulator_auth`
(consent, tokens, connections), :mod:`emulator_api` (accounting endpoints),
:mod:`emulator_hooks` (signed webhooks, intent to receive), :mod:`emulator_views` (pages for
people, the online invoice).
"""

from __future__ import annotations

import time
from collections import deque
from datetime import UTC, datetime
from typing import Any

import flask
import requests

from providers.emulator_kit.base import KitEmulator
from providers.emulator_kit.server import run_cli
from providers.emulator_server import (
    DeliveryQueue,
    drop_connection,
)
from providers.http import dump_json
from providers.xero import emulator_data as data
from providers.xero.emulator_api import ApiMixin
from providers.xero.emulator_auth import AuthMixin
from providers.xero.emulator_errors import ApiError, problem, validation_error
from providers.xero.emulator_hooks import HooksMixin
from providers.xero.emulator_views import ViewsMixin

Row = dict[str, Any]
API_PREFIX = "/api.xro/2.0/"


class XeroEmulator(AuthMixin, ApiMixin, HooksMixin, ViewsMixin, KitEmulator):
    """Xero over an in-memory, seeded state. Thread-safe (one RLock)."""

    server_name = "xero-emulator"

    def __init__(
        self,
        *,
        seed: int = 1,
        organisations: int = 2,
        contacts: int = 40,
        invoices: int = 120,
        client_id: str = "xero-demo-client",
        client_secret: str = "xero-demo-secret",  # noqa: S107 - a fake server's demo value
        webhook_key: str = "xero-demo-webhook-key",
        redirect_uri: str | None = None,
        clock_speed: float = 1.0,
        minute_limit: int = 60,
        day_limit: int = 5_000,
        concurrent_limit: int = 5,
        app_minute_limit: int = 10_000,
        public_url: str | None = None,
        webhook_path: str | None = None,
    ) -> None:
        """The app's webhook URL is set with :meth:`subscribe` (as in Xero's developer
        portal); ``webhook_path``: the demo's, beside the redirect URI of the first consent."""
        self.init_kit(public_url)
        self.clock_speed = float(clock_speed)
        self._real_start = datetime.now(UTC)
        self.seed = seed
        self.client_id, self.client_secret = client_id, client_secret
        self.webhook_key = webhook_key
        self.redirect_uri = redirect_uri
        self.minute_limit, self.day_limit = minute_limit, day_limit
        self.concurrent_limit, self.app_minute_limit = concurrent_limit, app_minute_limit
        self.violations: list[Row] = []
        self.token_events: list[Row] = []
        self._windows: dict[str, deque[float]] = {}
        self._days: dict[str, deque[float]] = {}
        self._app_window: deque[float] = deque()
        self._inflight: dict[str, int] = {}
        self.orgs: dict[str, Row] = {o["tenantId"]: o for o in data.generate(
            seed, organisations, contacts, invoices, self.now())}
        self._init_auth()
        self._init_hooks(webhook_path)
        self._deliveries = DeliveryQueue(self._attempt, "xero-webhooks")
        self._http = requests.Session()
        self.app = self._build_app()

    # -- time and records -----------------------------------------------------------------

    def now(self) -> datetime:
        """The emulator's clock (aware UTC, ms): real time × ``clock_speed``."""
        real = datetime.now(UTC)
        at = self._real_start + (real - self._real_start) * self.clock_speed
        return data.to_ms(at)

    def _seconds(self) -> float:
        return self.now().timestamp()

    def _violation(self, kind: str, detail: str) -> None:
        with self._lock:
            self.violations.append({"at": self.now(), "kind": kind, "detail": detail})

    def take_violations(self) -> list[Row]:
        """Return and clear the violations (for tests that provoke them on purpose)."""
        with self._lock:
            out, self.violations = list(self.violations), []
            return out

    def count_calls(self, method: str | None = None, path_contains: str = "") -> int:
        return self.call_log.count(method, path_contains)

    def reset_calls(self) -> None:
        self.call_log.clear()

    # -- fault injection ------------------------------------------------------------------

    # The kit's faults, with one difference: a delay holds the call while it is in flight
    # (before it is handled), so it counts against Xero's "5 calls at once".

    def faults_left(self) -> int:
        """Injected faults not yet triggered (a test checks its fault was hit)."""
        return sum(f.times for f in self.faults.pending())

    # -- rate limits ----------------------------------------------------------------------

    def _limit_headers(self, tenant: str) -> dict[str, str]:
        minute = self._windows.get(tenant, deque())
        day = self._days.get(tenant, deque())
        return {"X-MinLimit-Remaining": str(max(0, self.minute_limit - len(minute))),
                "X-DayLimit-Remaining": str(max(0, self.day_limit - len(day))),
                "X-AppMinLimit-Remaining": str(max(0, self.app_minute_limit
                                                   - len(self._app_window)))}

    def _take_call(self, tenant: str) -> None:
        """Count one call; raise a 429 with Retry-After and X-Rate-Limit-Problem if over."""
        now = self._seconds()
        with self._lock:
            minute = self._windows.setdefault(tenant, deque())
            day = self._days.setdefault(tenant, deque())
            for window, span in ((minute, 60), (day, 86_400), (self._app_window, 60)):
                while window and window[0] + span <= now:
                    window.popleft()
            over = None
            if self._inflight.get(tenant, 0) >= self.concurrent_limit:
                over, wait = "concurrent", 1.0
            elif len(day) >= self.day_limit:
                over, wait = "day", day[0] + 86_400 - now
            elif len(minute) >= self.minute_limit:
                over, wait = "minute", minute[0] + 60 - now
            elif len(self._app_window) >= self.app_minute_limit:
                over, wait = "appminute", self._app_window[0] + 60 - now
            if over:
                self._violation("rate_limited", f"429 ({over}) for tenant {tenant[:8]}")
                retry = max(1, int(wait / self.clock_speed + 0.999))
                raise ApiError(429, None, {**self._limit_headers(tenant),
                                           "Retry-After": str(retry),
                                           "X-Rate-Limit-Problem": over})
            minute.append(now)
            day.append(now)
            self._app_window.append(now)
            self._inflight[tenant] = self._inflight.get(tenant, 0) + 1

    def use_calls(self, tenant: str, count: int) -> None:
        """Another app of the organisation spends ``count`` calls of this minute and day."""
        now = self._seconds()
        with self._lock:
            self._windows.setdefault(tenant, deque()).extend([now] * count)
            self._days.setdefault(tenant, deque()).extend([now] * count)

    def _release_call(self, tenant: str) -> None:
        with self._lock:
            self._inflight[tenant] = max(0, self._inflight.get(tenant, 1) - 1)

    # -- dispatch -------------------------------------------------------------------------

    @staticmethod
    def respond(status: int, body: Any = None, headers: dict[str, str] | None = None,
                content_type: str = "application/json; charset=utf-8") -> flask.Response:
        if isinstance(body, bytes):
            payload: Any = body
        elif body is None or status == 204:
            payload = ""
        else:
            payload = dump_json(body)
        response = flask.Response(payload, status=status, content_type=content_type)
        for name, value in (headers or {}).items():
            response.headers[name] = value
        return response

    def _api(self, rest: str) -> flask.Response:
        method, path = flask.request.method, flask.request.path
        record: Row = {"method": method, "path": path, "at": self.now(),
                       "query": flask.request.query_string.decode(),
                       "tenant": flask.request.headers.get("xero-tenant-id")}
        response = self._guarded(method, path, rest)
        record["status"] = response.status_code
        self.call_log.record(record)
        lost = self.faults.take("lost", method, path)
        if lost is not None:
            drop_connection(flask.request.environ)
        return response

    def _guarded(self, method: str, path: str, rest: str) -> flask.Response:
        tenant = ""
        taken = False
        try:
            grant = self._authenticate()
            tenant = self._tenant_for(grant, path)
            self._take_call(tenant or "connections")
            taken = True
            delay = self.faults.take("delay", method, path)
            if delay is not None:  # held while in flight: it counts against "5 at once"
                time.sleep(delay.seconds)
            headers = self._limit_headers(tenant) if tenant else {}
            error = self.faults.take("error", method, path)
            if error is not None:
                body = error.body if error.body is not None else {"Message": "injected fault"}
                return self.respond(error.status, body, headers)
            status, body, extra = self._handle(method, rest, grant, tenant)
            content_type = extra.pop("Content-Type", "application/json; charset=utf-8")
            return self.respond(status, body, {**headers, **extra}, content_type)
        except ApiError as exc:
            return self.respond(exc.status, exc.body, exc.headers)
        finally:
            if taken:
                self._release_call(tenant or "connections")

    # -- the app --------------------------------------------------------------------------

    def base_url(self) -> str:
        return self.public_url or flask.request.host_url.rstrip("/")

    def close(self) -> None:
        self._deliveries.close()

    def _build_app(self) -> flask.Flask:
        app = flask.Flask(f"xero_emulator_{id(self)}")
        app.add_url_rule(f"{API_PREFIX}<path:rest>", "api", self._api,
                         methods=["GET", "POST", "PUT", "DELETE"])
        app.add_url_rule("/connections", "connections", self.h_connections, methods=["GET"])
        app.add_url_rule("/connections/<connection_id>", "connection_delete",
                         self.h_connection_delete, methods=["DELETE"])
        app.add_url_rule("/identity/connect/authorize", "authorize", self.oauth_authorize_get)
        app.add_url_rule("/identity/connect/authorize", "authorize_post", self.oauth_authorize_post,
                         methods=["POST"])
        app.add_url_rule("/connect/token", "token", self.token, methods=["POST"])
        self._add_views(app)

        self.hook_exchanges(app, lambda path: path.startswith((API_PREFIX, "/connections")))
        return app


def run(port: int, seed: int = 1, token: str | None = None, host: str = "127.0.0.1") -> None:
    """CLI entry: serve a seeded emulator until Ctrl-C (``connector emulator xero``)."""
    emulator = XeroEmulator(seed=seed)
    run_cli(emulator, host, port, lambda url: [
        f"Xero-emulator draait op {url}",
        f"  API:       {url}/api.xro/2.0/...  (header xero-tenant-id)",
        f"  OAuth:     {url}/identity/connect/authorize, {url}/connect/token "
        f"(client_id={emulator.client_id}, client_secret={emulator.client_secret})",
        f"  Webhook-sleutel: {emulator.webhook_key}",
        f"  Overzicht: {url}/_emulator/",
        "  Organisaties: " + ", ".join(f"{o['Name']} ({t})" for t, o in emulator.orgs.items()),
    ], token, "  Vaste access token geregistreerd (alle organisaties, verloopt niet)")


__all__ = ["ApiError", "XeroEmulator", "problem", "run", "validation_error"]
