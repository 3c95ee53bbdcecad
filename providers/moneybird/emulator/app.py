"""The Moneybird emulator: routes, dispatch, rate limit and the Flask app, on the emulator kit."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
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
    run_exchange_hook,
)
from providers.emulator_kit.webhooks import DeliversWebhooks, WebhookSender
from providers.moneybird import emulator_data as data
from providers.moneybird.emulator.common import INVALID_TOKEN_BODY, ApiError, Json, TextBody
from providers.moneybird.emulator.control import ControlSurface
from providers.moneybird.emulator.filters import Filters
from providers.moneybird.emulator.oauth import OAuthServer
from providers.moneybird.emulator.render import Rendering
from providers.moneybird.emulator.resources import Resources
from providers.moneybird.emulator.routes import Routes
from providers.moneybird.emulator.state import LedgerState
from providers.moneybird.emulator.views import Views


class MoneybirdEmulator(
    Routes,
    Resources,
    Filters,
    Rendering,
    LedgerState,
    ControlSurface,
    OAuthServer,
    Views,
    DeliversWebhooks,
    KitEmulator,
):
    """Moneybird API v2 + OAuth over an in-memory, seeded ledger. Thread-safe (one RLock)."""

    server_name = "moneybird-emulator"

    def __init__(
        self,
        *,
        seed: int = 1,
        administrations: int = 3,
        contacts: int = 200,
        invoices: int = 1000,
        client_id: str = "demo-client",
        client_secret: str = "demo-secret",  # noqa: S107 - demo credentials of a fake server
        redirect_uri: str | None = None,
        token_ttl: int | None = None,
        rotate_refresh_tokens: bool = False,
        rate_limit: int | None = 150,
        rate_window: int = 300,
        now: Callable[[], datetime] | None = None,
        public_url: str | None = None,
        storage_url: str | None = None,
    ) -> None:
        self.init_kit(public_url)
        self._now_fn: Callable[[], datetime] = now or (lambda: datetime.now(UTC))
        self.seed = seed
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.token_ttl = token_ttl
        self.rotate_refresh_tokens = rotate_refresh_tokens
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.html_429 = False
        self.deliveries: list[dict[str, Any]] = []
        # Moneybird retries a push until the receiver answers 200 (not any 2xx).
        self.webhooks = WebhookSender(
            "moneybird-webhooks", self._lock, max_retries=10, retry_base_delay=0.2,
            accept=lambda status: status == 200,
        )

        self._ids, adms = data.generate(seed, administrations, contacts, invoices, self._now())
        self._adms: dict[str, dict[str, Any]] = {}
        for adm in adms:
            adm["contacts"] = {c["id"]: c for c in adm["contacts"]}
            adm["invoices"] = {i["id"]: i for i in adm["invoices"]}
            adm["webhooks"] = {}
            self._adms[adm["id"]] = adm
        self.tokens = TokenStore(
            self._now, rotate_refresh=rotate_refresh_tokens, revoke_previous_access=True
        )
        self.codes = CodeStore()
        self._rate = RateLimiter()
        # download_pdf: short-lived file links (token -> (adm, invoice id, expiry)), and every
        # request made to them (to check that no bearer token ever arrives there).
        self.storage_url = storage_url.rstrip("/") if storage_url else None
        self._files: dict[str, tuple[str, str, float]] = {}
        self.storage_requests: list[dict[str, Any]] = []
        self.pdf_override: bytes | None = None  # serve these bytes instead (broken files)
        # send_reminders: every reminder Moneybird "sent", as posted.
        self.reminders: list[dict[str, Any]] = []

        self.app = self._build_app()

    # ------------------------------------------------------------------ API dispatch

    @staticmethod
    def _respond(status: int, body: Json, headers: dict[str, str] | None = None) -> flask.Response:
        if isinstance(body, TextBody):  # download redirects answer text/plain
            resp = flask.Response(str(body).encode(), status=status,
                                  content_type="text/plain; charset=utf-8")
            for k, v in (headers or {}).items():
                resp.headers[k] = v
            return resp
        payload = b"" if status == 204 else json.dumps(body).encode()
        resp = flask.Response(payload, status=status, content_type="application/json")
        for k, v in (headers or {}).items():
            resp.headers[k] = v
        return resp

    def _rate_check(self, key: str) -> flask.Response | None:
        """150 calls per 5 minutes per administration (or per token outside one); the 429
        carries ``Retry-After`` as an epoch timestamp, as Moneybird's does."""
        if self.rate_limit is None:
            return None
        window = Window(self.rate_limit, self.rate_window)
        verdict = self._rate.take(key, self._now_fn().timestamp(), (window,))
        if verdict.exceeded is None:
            return None
        reset = str(verdict.exceeded.reset)
        headers = {
            "RateLimit-Limit": str(self.rate_limit),
            "RateLimit-Remaining": "0",
            "RateLimit-Reset": reset,
            "Retry-After": reset,
        }
        if self.html_429:
            resp = flask.Response(
                "<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n<body>\r\n"
                "<center><h1>429 Too Many Requests</h1></center>\r\n"
                "<hr><center>nginx</center>\r\n"
                "</body>\r\n</html>\r\n",
                status=429,
                content_type="text/html",
            )
            resp.headers.update(headers)
            return resp
        return self._respond(429, "Retry later", headers)

    def _authenticate(self) -> AccessToken | flask.Response:
        tok = self.tokens.access_token(bearer_value(flask.request))
        if tok is None or not tok.usable(self._now()):
            return self._respond(401, INVALID_TOKEN_BODY)
        return tok

    def _api(self, rest: str) -> flask.Response:
        method = flask.request.method
        path = flask.request.path
        record: dict[str, Any] = {
            "method": method,
            "path": path,
            "query": flask.request.query_string.decode(),
            "administration_id": None,
            "status": None,
            "at": self._now(),
        }
        if method == "POST" and path.endswith("/synchronization.json"):
            # Which records a synchronization POST asked for: tests check nothing is fetched twice.
            body = flask.request.get_json(silent=True)
            ids = body.get("ids") if isinstance(body, dict) else None
            record["ids"] = [str(i) for i in ids] if isinstance(ids, list) else []
        resp = self._dispatch(method, path, rest, record)
        record["status"] = resp.status_code
        self.call_log.record(record)
        self.faults.after_processing(method, path, flask.request.environ)
        return resp

    def _dispatch(
        self, method: str, path: str, rest: str, record: dict[str, Any]
    ) -> flask.Response:
        rest = rest.removesuffix(".json")
        matched = None
        allowed = False
        for m, rx, handler, scopes, locked in self._routes():
            mm = rx.fullmatch(rest)
            if mm:
                allowed = True
                if m == method:
                    matched = (handler, scopes, locked, mm.groupdict())
                    break
        params = matched[3] if matched else {}
        adm_id = params.pop("adm", None)
        record["administration_id"] = adm_id
        with self._lock:
            fault = self.faults.take("error", method, path)
            if fault is not None:
                body = fault.body if fault.body is not None else {"error": "Internal server error"}
                if isinstance(body, str | bytes) and not body.startswith(("{", "[", '"', b"{")):
                    return flask.Response(body, status=fault.status, content_type="text/html")
                return self._respond(fault.status, body)
            auth_header = flask.request.headers.get("Authorization", "")
            limited = self._rate_check(adm_id or f"token:{auth_header}")
            if limited is not None:
                return limited
            if matched is None:
                if allowed:
                    return self._respond(405, {"error": "Method not allowed"})
                return self._respond(404, {"error": "Not found", "symbolic": {"path": "not_found"}})
            tok = self._authenticate()
            if isinstance(tok, flask.Response):
                return tok
            handler, scopes, locked, _ = matched
            if scopes is not None and not set(scopes) & set(tok.grant.scope["scopes"]):
                need = (
                    scopes[0] if len(scopes) == 1 else ", ".join(scopes[:-1]) + f" or {scopes[-1]}"
                )
                return self._respond(401, {"error": f"No access to {need}"})
            if adm_id is None:
                try:
                    return self._respond(*handler(tok))
                except ApiError as exc:
                    return self._respond(exc.status, exc.body)
            adm = self._adms.get(adm_id)
            if adm is None or adm_id not in tok.grant.scope["administration_ids"]:
                return self._respond(
                    404,
                    {"error": "record not found", "symbolic": {"administration_id": "not_found"}},
                )
            self._refresh_states(adm)
            if locked:
                try:
                    return self._respond(*handler(adm, **params))
                except ApiError as exc:
                    return self._respond(exc.status, exc.body)
        try:
            return self._respond(*handler(adm, **params))
        except ApiError as exc:
            return self._respond(exc.status, exc.body)


    # ------------------------------------------------------------------ Flask app

    def _build_app(self) -> flask.Flask:
        app = flask.Flask(f"moneybird_emulator_{id(self)}")

        @app.route("/api/v2/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
        def api(rest: str) -> flask.Response:
            return self._api(rest)

        app.add_url_rule(
            "/oauth/authorize", "authorize_get", self.oauth_authorize_get, methods=["GET"]
        )
        app.add_url_rule(
            "/oauth/authorize", "authorize_post", self.oauth_authorize_post, methods=["POST"]
        )
        app.add_url_rule("/oauth/token", "token", self.oauth_token, methods=["POST"])
        app.add_url_rule("/_storage/<token>/download", "storage", self.view_storage)
        app.add_url_rule("/_emulator/", "view_index", self.view_index)
        app.add_url_rule("/_emulator/<adm_id>", "view_adm", self.view_administration)
        app.add_url_rule(
            "/_emulator/<adm_id>/sales_invoices/<invoice_id>", "view_invoice", self.view_invoice
        )
        app.add_url_rule("/<adm_id>/external/<first>/<second>/sales_invoice", "public_invoice",
                         self.view_public_invoice)
        app.add_url_rule("/<adm_id>/external/<first>/<second>/sales_invoice/pay", "public_pay",
                         self.view_public_pay, methods=["POST"])
        app.add_url_rule(
            "/_emulator/<adm_id>/sales_invoices/<invoice_id>/mark_paid",
            "view_mark_paid",
            self.view_mark_paid,
            methods=["POST"],
        )

        @app.after_request
        def after(response: flask.Response) -> flask.Response:
            if flask.request.path.startswith("/api/v2/"):
                if response.mimetype != "text/plain" and (
                        response.status_code != 429 or not self.html_429):
                    response.headers["Content-Type"] = "application/json"
                run_exchange_hook(self, flask.request, response)
            return response

        return app



def run(port: int, seed: int = 1, token: str | None = None, host: str = "127.0.0.1") -> None:
    """CLI entry: serve a seeded emulator until Ctrl-C (``connector emulator moneybird``)."""
    emulator = MoneybirdEmulator(seed=seed)
    run_cli(emulator, host, port, lambda url: [
        f"Moneybird-emulator draait op {url}",
        f"  API:       {url}/api/v2",
        f"  OAuth:     {url}/oauth/authorize  (client_id={emulator.client_id}, "
        f"client_secret={emulator.client_secret})",
        f"  Overzicht: {url}/_emulator/",
        f"  Administraties: {', '.join(emulator.administration_ids())}",
    ], token, "  Persoonlijke API-token geregistreerd (alle administraties, "
              "sales_invoices+settings)")
