"""The Exact Online emulator: dispatch, rate limits, the error block and the Flask app."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import flask

from providers.emulator_kit.base import KitEmulator
from providers.emulator_kit.oauth import (
    AccessToken,
    CodeStore,
    TokenStore,
    bearer_value,
)
from providers.emulator_kit.ratelimit import RateLimiter, Window
from providers.emulator_kit.server import (
    run_cli,
)
from providers.emulator_kit.webhooks import DeliversWebhooks, WebhookSender
from providers.exact_online import emulator_data as data
from providers.exact_online.emulator.common import (
    ERROR_BUDGET,
    ERROR_STATUSES,
    ApiError,
    Json,
    Row,
    dumps,
    error_body,
    not_found_segment,
)
from providers.exact_online.emulator.control import ControlSurface
from providers.exact_online.emulator.oauth import OAuthServer, access_value, refresh_value
from providers.exact_online.emulator.query import Queries
from providers.exact_online.emulator.render import Rendering
from providers.exact_online.emulator.resources import Resources
from providers.exact_online.emulator.sets import EntitySets
from providers.exact_online.emulator.state import LedgerState
from providers.exact_online.emulator.views import Views


class ExactEmulator(
    Resources,
    Queries,
    EntitySets,
    Rendering,
    LedgerState,
    ControlSurface,
    OAuthServer,
    Views,
    DeliversWebhooks,
    KitEmulator,
):
    """Exact Online REST v1 + OAuth2 over an in-memory, seeded ledger. Thread-safe (one RLock)."""

    server_name = "exact-emulator"

    def __init__(
        self,
        *,
        seed: int = 1,
        divisions: int = 2,
        accounts: int = 300,
        open_items: int = 600,
        client_id: str = "exact-demo-client",
        client_secret: str = "exact-demo-secret",  # noqa: S107 - demo credentials of a fake server
        webhook_secret: str = "exact-demo-webhook-secret",  # noqa: S107
        redirect_uri: str | None = None,
        clock_speed: float = 1.0,
        now: Callable[[], datetime] | None = None,
        minutely_limit: int = 60,
        daily_limit: int = 5000,
        page_size_default: int = 60,
        public_url: str | None = None,
    ) -> None:
        self.init_kit(public_url)
        self._now_fn = now
        self.clock_speed = float(clock_speed)
        self._real_start = datetime.now(UTC)
        self._emu_start = now().astimezone(UTC) if now else self._real_start
        self.seed = seed
        self.client_id = client_id
        self.client_secret = client_secret
        self.webhook_secret = webhook_secret
        self.redirect_uri = redirect_uri
        self.minutely_limit = minutely_limit
        self.daily_limit = daily_limit
        self.page_size_default = page_size_default
        self.bulk_page_size = 1000
        self.token_daily_limit = 200
        self.errors: list[dict[str, Any]] = []
        self.violations: list[dict[str, Any]] = []
        self.token_events: list[dict[str, Any]] = []
        self.deliveries: list[dict[str, Any]] = []
        self.webhooks = WebhookSender(
            "exact-webhooks", self._lock, max_retries=5, retry_base_delay=0.2
        )

        self._ts = data.Clock(100_000_000 + (seed % 1000) * 1_000_000)
        self._rng = random.Random(f"exact-{seed}-runtime")
        self.user, divs = data.generate(seed, divisions, accounts, open_items, self.now(), self._ts)
        self._divs: dict[int, Row] = {}
        for d in divs:
            d.update(notes={}, entries={}, deleted=[], webhooks={}, entry_number=0)
            d["entry_number"] = (self.now().year % 100) * 1_000_000 + 200_000
            self._divs[d["Code"]] = d
        self.current_division = divs[-1]["Code"]  # NOT the big one: clients must not rely on it
        self.tokens = TokenStore(
            self.now, rotate_refresh=True, access_value=access_value, refresh_value=refresh_value
        )
        self.codes = CodeStore()
        self._quota = RateLimiter()
        self._token_calls: dict[date, int] = {}
        self._error_log: dict[tuple[int | None, str], list[datetime]] = {}
        self._blocked: dict[tuple[int | None, str], datetime] = {}
        self._sets = self._build_sets()

        self.app = self._build_app()

    # ------------------------------------------------------------------ dispatch

    @staticmethod
    def _respond(status: int, body: Json, headers: dict[str, str] | None = None) -> flask.Response:
        if status == 204 or body is None:
            payload = ""
        elif isinstance(body, str | bytes):
            payload = body
        else:
            payload = dumps(body)
        resp = flask.Response(
            payload, status=status, content_type="application/json; charset=utf-8"
        )
        for k, v in (headers or {}).items():
            resp.headers[k] = v
        return resp

    def _rate(self, code: int) -> tuple[dict[str, str], flask.Response | None]:
        """Count one call against the division's daily and minutely quota (epoch-ms resets)."""
        daily_window = Window(self.daily_limit, 86_400, aligned=True)
        minute_window = Window(self.minutely_limit, 60, aligned=True)
        verdict = self._quota.take(code, self.now().timestamp(), (daily_window, minute_window))
        day, minute = verdict.states
        daily = {
            "X-RateLimit-Limit": str(self.daily_limit),
            "X-RateLimit-Remaining": str(day.remaining),
            "X-RateLimit-Reset": str(day.reset * 1000),
        }
        minutely = {
            "X-RateLimit-Minutely-Limit": str(self.minutely_limit),
            "X-RateLimit-Minutely-Remaining": str(minute.remaining),
            "X-RateLimit-Minutely-Reset": str(minute.reset * 1000),
        }
        # 429 body: the reference gives none; PQ#528 shows Exact's 429 carries no error JSON.
        if verdict.exceeded is day:
            return daily, self._respond(429, "", daily)
        if verdict.exceeded is minute:
            return minutely, self._respond(429, "", minutely)
        return {**daily, **minutely}, None

    def _authenticate(self) -> AccessToken:
        tok = self.tokens.access_token(bearer_value(flask.request))
        if tok is None or tok.revoked or tok.grant.revoked:
            raise ApiError(401, "Unauthorized", {"WWW-Authenticate": "Bearer"})
        if tok.expires_at is not None and self.now() >= tok.expires_at:
            self._violation("expired_access_token", "API call with an access token past its 600 s")
            raise ApiError(
                401, "Unauthorized", {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            )
        return tok

    def _api(self, rest: str) -> flask.Response:
        method, path = flask.request.method, flask.request.path
        record: dict[str, Any] = {
            "method": method,
            "path": path,
            "query": flask.request.query_string.decode(),
            "division": None,
            "status": None,
            "at": self.now(),
        }
        endpoint_holder: dict[str, Any] = {"endpoint": rest, "message": None}
        resp = self._dispatch(method, path, rest, record, endpoint_holder)
        record["status"] = resp.status_code
        with self._lock:
            self.call_log.record(record)
            if 400 <= resp.status_code < 500:
                self._record_error(record, endpoint_holder)
        self.faults.after_processing(method, path, flask.request.environ)
        return resp

    def _record_error(self, record: dict[str, Any], holder: dict[str, Any]) -> None:
        key = (record["division"], holder["endpoint"])
        self.errors.append(dict(record, endpoint=holder["endpoint"], message=holder["message"]))
        if record["status"] not in ERROR_STATUSES:
            return
        now = self.now()
        log = [t for t in self._error_log.get(key, []) if t > now - timedelta(hours=1)]
        log.append(now)
        self._error_log[key] = log
        if len(log) >= ERROR_BUDGET and key not in self._blocked:
            self._blocked[key] = now + timedelta(hours=1)
            self._violation(
                "endpoint_blocked",
                f"{ERROR_BUDGET} errors within an hour on {holder['endpoint']} "
                f"(division {record['division']}): blocked for 1 hour",
            )

    def _dispatch(
        self, method: str, path: str, rest: str, record: dict[str, Any], holder: dict[str, Any]
    ) -> flask.Response:
        headers: dict[str, str] = {}
        try:
            with self._lock:
                first, _, sub = rest.partition("/")
                division: int | None = None
                if rest == "current/Me":
                    holder["endpoint"] = "current/Me"
                elif first.isdigit() and int(first) > 0:
                    division = int(first)
                    record["division"] = division
                    key_m = re.fullmatch(r"([^(]*)(?:\((.*)\))?(/[A-Za-z]+)?", sub)
                    holder["endpoint"] = key_m.group(1) if key_m else sub
                else:
                    self._violation("no_division", f"{method} {path} names no division")
                    raise not_found_segment(first)
                tok = self._authenticate()
                if division is not None and (
                    division not in tok.grant.scope["divisions"] or division not in self._divs
                ):
                    raise ApiError(403, "Forbidden - User division is not within division scope")
                bucket = division if division is not None else self.current_for(tok.grant)
                block_key = (division, holder["endpoint"])
                if block_key in self._blocked:
                    if self.now() < self._blocked[block_key]:
                        raise ApiError(
                            403,
                            "Forbidden - This endpoint is blocked for one hour because of too "
                            "many errors",
                        )
                    del self._blocked[block_key]
                headers, limited = self._rate(bucket)
                if limited is not None:
                    return limited
                fault = self.faults.take("error", method, path)
                if fault is not None:
                    body = fault.body if fault.body is not None else error_body("Internal error")
                    return self._respond(fault.status, body, headers)
                if division is None:
                    if method != "GET":
                        raise ApiError(
                            405, f"The requested resource does not support http method '{method}'."
                        )
                    return self._respond(200, self.h_me(tok.grant), headers)
                div = self._divs[division]
                m = re.fullmatch(r"([A-Za-z]+(?:/[A-Za-z]+)+?)(?:\((.*)\))?", sub)
                if not m:
                    raise not_found_segment(sub.split("/")[-1] if sub else str(division))
                set_path, key = m.group(1), m.group(2)
                if set_path in ("system/Divisions", "system/AllDivisions"):
                    if method != "GET":
                        raise ApiError(
                            405, f"The requested resource does not support http method '{method}'."
                        )
                    body = self.h_divisions(div, tok.grant, set_path.endswith("AllDivisions"))
                    return self._respond(200, body, headers)
                s = self._sets.get(set_path)
                if s is None:
                    raise not_found_segment(set_path.split("/")[-1])
                if (
                    method not in s.methods
                    or (method in ("PUT", "DELETE") and key is None)
                    or (method == "POST" and key is not None)
                ):
                    raise ApiError(
                        405, f"The requested resource does not support http method '{method}'."
                    )
                if method == "GET":
                    if key is not None:
                        rec = self._single(div, s, key)
                        row = self._with_meta(div, s, s.render(div, rec), self._select(s))
                        return self._respond(200, {"d": {"results": [row]}}, headers)
                    return self._respond(200, self._query(div, s), headers)
                if method == "PUT":
                    return self._respond(*self.h_put(div, s, key or ""), headers)
                if method == "DELETE":
                    if s.path.startswith("webhooks/"):
                        return self._respond(*self.h_webhook_delete(div, s, key or ""), headers)
                    return self._respond(*self.h_entry_delete(div, s, key or ""), headers)
                if s.path == "activities/CommunicationNotes":
                    return self._respond(*self.h_note_create(div), headers)
                if s.path.startswith("financialtransaction/"):
                    return self._respond(*self.h_entry_create(div, s.path.split("/")[1]), headers)
            # webhooks/WebhookSubscriptions POST: validation call happens outside the lock.
            return self._respond(*self.h_webhook_create(div), headers)
        except ApiError as exc:
            holder["message"] = exc.message
            return self._respond(exc.status, error_body(exc.message), {**headers, **exc.headers})


    # ------------------------------------------------------------------ Flask app

    def _build_app(self) -> flask.Flask:
        app = flask.Flask(f"exact_emulator_{id(self)}")

        @app.route("/api/v1/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
        def api(rest: str) -> flask.Response:
            return self._api(rest)

        app.add_url_rule("/api/oauth2/auth", "auth_get", self.oauth_authorize_get, methods=["GET"])
        app.add_url_rule(
            "/api/oauth2/auth", "auth_post", self.oauth_authorize_post, methods=["POST"]
        )
        app.add_url_rule("/api/oauth2/token", "token", self.oauth_token, methods=["POST"])
        app.add_url_rule("/_emulator/", "view_index", self.view_index)
        app.add_url_rule("/_emulator/<int:code>", "view_division", self.view_division)
        app.add_url_rule(
            "/_emulator/<int:code>/accounts/<account_id>", "view_account", self.view_account
        )
        app.add_url_rule(
            "/_emulator/<int:code>/items/<item_id>/pay", "view_pay", self.view_pay, methods=["POST"]
        )

        self.hook_exchanges(app, lambda path: path.startswith("/api/"))
        return app


def run(port: int, seed: int = 1, token: str | None = None, host: str = "127.0.0.1") -> None:
    """CLI entry: serve a seeded emulator until Ctrl-C (``connector emulator exact-online``)."""
    emulator = ExactEmulator(seed=seed)
    run_cli(emulator, host, port, lambda url: [
        f"Exact Online-emulator draait op {url}",
        f"  API:       {url}/api/v1/{{divisie}}/...  (en {url}/api/v1/current/Me)",
        f"  OAuth:     {url}/api/oauth2/auth  (client_id={emulator.client_id}, "
        f"client_secret={emulator.client_secret})",
        f"  Webhook-secret: {emulator.webhook_secret}",
        f"  Overzicht: {url}/_emulator/",
        f"  Divisies:  {', '.join(str(c) for c in emulator.division_codes())}",
    ], token, "  Vaste access token geregistreerd (alle divisies, verloopt niet)")
