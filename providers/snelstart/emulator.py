"""A SnelStart B2B API v2 emulator: the token endpoint, the subscription-key check and the
endpoints the connector uses, with SnelStart's field names, over seeded in-memory data.

Paths: the API under ``/v2``, the token endpoint at ``/b2b/token``, views at ``/_emulator/``.
Faithful where the spec speaks (bare arrays, ``$top`` ≤ 500, identifier models, 403 for
missing scopes); where it is silent (the token, error bodies, limits) it does what Azure API
Management and the community clients show, and the reference marks those points UNCERTAIN.
"""

from __future__ import annotations

import base64
import json
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import flask

from providers.emulator_kit.base import KitEmulator
from providers.emulator_kit.ratelimit import RateLimiter, Window
from providers.emulator_kit.server import (
    EmulatorServer,
    run_cli,
)
from providers.snelstart import emulator_data as data
from providers.snelstart import emulator_views as views
from providers.snelstart.emulator_data import DEMO_SUBSCRIPTION_KEY
from providers.snelstart.emulator_handlers import ApiError, Handlers


@dataclass
class Token:
    administration_id: str
    key: str
    expires_at: datetime


class SnelStartEmulator(KitEmulator):
    server_name = "snelstart-emulator"

    def __init__(
        self,
        seed: int = 1,
        *,
        administrations: int = 1,
        relations: int = 24,
        invoices: int = 60,
        subscription_key: str = DEMO_SUBSCRIPTION_KEY,
        token_lifetime: int = 3600,
        rate_limit: int | None = None,
        rate_window: float = 60.0,
        now: Callable[[], datetime] | None = None,
        offset_stamps: bool = False,
        payment_moves_modified_on: bool = True,
    ) -> None:
        self._now_fn = now or (lambda: datetime.now(UTC))
        self.init_kit()
        self.lock = self._lock
        self.subscription_key = subscription_key
        self.token_lifetime = token_lifetime
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.offset_stamps = offset_stamps
        self.payment_moves_modified_on = payment_moves_modified_on
        rng = random.Random(seed)
        today = self.today()
        self.admins: dict[str, dict[str, Any]] = {}
        for index in range(administrations):
            adm = data.make_administration(rng, index, today, relations=relations,
                                           invoices=invoices)
            self.admins[adm["id"]] = adm
        self._rng = rng
        self.keys: dict[str, str] = {a["key"]: a["id"] for a in self.admins.values()}
        self.scopes_missing: set[str] = set()  # scopes the keys lack (403 on those calls)
        self._tokens: dict[str, Token] = {}
        self._rate = RateLimiter()
        self.token_requests = 0
        self.handlers = Handlers(self)
        self.app = self._build_app()

    # -- time and rendering ---------------------------------------------------------------

    def now(self) -> datetime:
        return self._now_fn()

    def today(self) -> date:
        return self.now().astimezone(data.AMSTERDAM).date()

    def stamp(self, moment: datetime) -> str:
        return data.offset_stamp(moment) if self.offset_stamps else data.local_stamp(moment)

    def touch(self, record: dict[str, Any]) -> None:
        """A change moves ``modifiedOn`` (never backwards, at least a millisecond)."""
        record["modifiedOn"] = max(self.now(), record["modifiedOn"] + timedelta(milliseconds=1))

    # -- keys and tokens ------------------------------------------------------------------

    def key_for(self, administration_id: str | None = None) -> str:
        adm_id = administration_id or next(iter(self.admins))
        return next(k for k, a in self.keys.items() if a == adm_id)

    def add_client_key(self, key: str, administration_id: str | None = None) -> None:
        """Pre-issue a koppelsleutel that works (``--client-key``)."""
        with self.lock:
            self.keys[key] = administration_id or next(iter(self.admins))

    def revoke_key(self, key: str) -> None:
        """The creditor withdrew the key in SnelStart: it and its tokens stop working."""
        with self.lock:
            self.keys.pop(key, None)
            for token in [t for t, v in self._tokens.items() if v.key == key]:
                del self._tokens[token]

    def expire_tokens(self) -> None:
        with self.lock:
            for token in self._tokens.values():
                token.expires_at = self.now() - timedelta(seconds=1)

    def issue_token(self, key: str) -> tuple[str, int] | None:
        with self.lock:
            self.token_requests += 1
            adm_id = self.keys.get(key)
            if adm_id is None:
                return None
            value = secrets.token_urlsafe(32)
            self._tokens[value] = Token(adm_id, key, self.now()
                                        + timedelta(seconds=self.token_lifetime))
            return value, self.token_lifetime

    def token(self, value: str) -> Token | None:
        with self.lock:
            token = self._tokens.get(value)
            if token is None or self.now() >= token.expires_at or token.key not in self.keys:
                return None
            return token

    # -- faults, rate limit, calls --------------------------------------------------------

    def inject_error(self, method: str, path_contains: str, status: int = 500,
                     times: int = 1, body: Any = None, message: str = "Injected fault") -> None:
        """Answer matching requests with ``status`` without processing them; the body is API
        Management's ``{statusCode, message}`` unless ``body`` is given."""
        self.faults.error(method, path_contains, status, times,
                          body if body is not None else {"statusCode": status,
                                                         "message": message})

    def rate_refusal(self, bucket: str) -> int | None:
        """Seconds to wait when ``bucket`` has used its calls for the window, else None."""
        if self.rate_limit is None:
            return None
        now = self.now().timestamp()
        with self.lock:
            verdict = self._rate.take(bucket, now,
                                      (Window(self.rate_limit, int(self.rate_window)),))
        if verdict.exceeded is None:
            return None
        return max(1, int(verdict.exceeded.reset - now + 0.999))

    def count_calls(self, method: str | None = None, path_contains: str | None = None) -> int:
        return self.call_log.count(method, path_contains)

    def reset_calls(self) -> None:
        self.call_log.clear()

    # -- the ledger, for tests and views --------------------------------------------------

    def adm(self, administration_id: str | None = None) -> dict[str, Any]:
        adm_id = administration_id or next(iter(self.admins))
        try:
            return self.admins[adm_id]
        except KeyError:
            raise ApiError(404, "administratie niet gevonden") from None

    def invoice_ids(self, administration_id: str | None = None, *, open_only: bool = False
                    ) -> list[str]:
        with self.lock:
            return [i for i, inv in self.adm(administration_id)["invoices"].items()
                    if not open_only or inv["openstaandSaldo"] > 0]

    def raw_invoice(self, invoice_id: str, administration_id: str | None = None
                    ) -> dict[str, Any]:
        return self.adm(administration_id)["invoices"][invoice_id]

    def documents(self, administration_id: str | None = None, *, booking: str | None = None
                  ) -> list[dict[str, Any]]:
        with self.lock:
            return [d for d in self.adm(administration_id)["documents"].values()
                    if booking is None or d["verkoopBoekingId"] == booking]

    def bank_bookings(self, administration_id: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.adm(administration_id)["bank_bookings"].values())

    def settle(self, invoice_id: str, amount: Decimal | None = None,
               administration_id: str | None = None) -> dict[str, Any]:
        """Money received in SnelStart (the creditor's own bank import): the balance drops."""
        with self.lock:
            inv = self.raw_invoice(invoice_id, administration_id)
            paid = inv["openstaandSaldo"] if amount is None else Decimal(amount)
            inv["openstaandSaldo"] = max(inv["openstaandSaldo"] - paid, Decimal("0"))
            if self.payment_moves_modified_on:
                self.touch(inv)
            return inv

    def credit(self, invoice_id: str, administration_id: str | None = None) -> dict[str, Any]:
        """A credit note for the whole invoice: a negative invoice, both balances settled."""
        with self.lock:
            adm = self.adm(administration_id)
            inv = adm["invoices"][invoice_id]
            note = self.create_invoice(inv["relatie"], -inv["factuurBedrag"],
                                       administration_id=adm["id"])
            note["openstaandSaldo"] = Decimal("0")
            inv["openstaandSaldo"] = Decimal("0")
            self.touch(inv)
            return note

    def delete_invoice(self, invoice_id: str, administration_id: str | None = None) -> None:
        with self.lock:
            self.adm(administration_id)["invoices"].pop(invoice_id)

    def create_invoice(self, relation_id: str, amount: Decimal, *, overdue_days: int = 20,
                       administration_id: str | None = None) -> dict[str, Any]:
        with self.lock:
            adm = self.adm(administration_id)
            relation = adm["relations"][relation_id]
            term = int(relation.get("krediettermijn") or 30)
            inv = data.make_invoice(self._rng, adm["next_number"], relation, self.today(),
                                    self.now(), age_days=term + overdue_days, paid=False)
            adm["next_number"] += 1
            inv["factuurBedrag"] = inv["openstaandSaldo"] = Decimal(amount)
            adm["invoices"][inv["id"]] = inv
            return inv

    def update_relation(self, relation_id: str, administration_id: str | None = None,
                        **fields: Any) -> dict[str, Any]:
        with self.lock:
            relation = self.adm(administration_id)["relations"][relation_id]
            relation.update(fields)
            self.touch(relation)
            return relation

    def customer_ids(self, administration_id: str | None = None) -> list[str]:
        with self.lock:
            return [r["id"] for r in self.adm(administration_id)["relations"].values()
                    if "Klant" in r["relatiesoort"]]

    # -- HTTP -----------------------------------------------------------------------------

    def close(self) -> None:
        return None

    @staticmethod
    def respond(status: int, body: Any, headers: dict[str, str] | None = None
                ) -> flask.Response:
        payload = b"" if body is None else json.dumps(body, default=_json_default).encode()
        response = flask.Response(payload, status=status, content_type="application/json")
        response.headers.update(headers or {})
        return response

    def _api(self, rest: str) -> flask.Response:
        request = flask.request
        method, path = request.method, request.path
        response = self._guarded(method, rest)
        self.call_log.record({"method": method, "path": path, "status": response.status_code,
                              "query": request.query_string.decode(), "at": self.now()})
        self.faults.after_processing(method, path, request.environ)
        return response

    def _guarded(self, method: str, rest: str) -> flask.Response:
        """Azure API Management's checks first (subscription key, rate), then the token."""
        request = flask.request
        offered = (request.headers.get("Ocp-Apim-Subscription-Key")
                   or request.args.get("subscription-key"))
        if offered != self.subscription_key:
            return self.respond(401, {"statusCode": 401, "message": (
                "Access denied due to missing subscription key. Make sure to include "
                "subscription key when making requests to an API." if not offered else
                "Access denied due to invalid subscription key. Make sure to provide a valid "
                "key for an active subscription.")})
        header = request.headers.get("Authorization", "")
        token = self.token(header[7:].strip()) if header[:7].lower() == "bearer " else None
        if token is None:
            return self.respond(401, {"statusCode": 401,
                                      "message": "Unauthorized. Access token is missing or "
                                                 "invalid."})
        wait = self.rate_refusal(token.administration_id)
        if wait is not None:
            return self.respond(429, {"statusCode": 429, "message":
                                      f"Rate limit is exceeded. Try again in {wait} seconds."},
                                {"Retry-After": str(wait)})
        fault = self.faults.take("error", method, request.path)
        if fault is not None:
            return self.respond(fault.status, fault.body)
        try:
            with self.lock:
                status, body = self.handlers.dispatch(method, rest, token.administration_id)
        except ApiError as exc:
            return self.respond(exc.status, [{"errorCode": f"E{exc.status}",
                                              "message": exc.message}])
        return self.respond(status, body)

    def _token_endpoint(self) -> flask.Response:
        form = flask.request.form
        if form.get("grant_type") != "clientkey" or not form.get("clientkey"):
            return self.respond(400, {"error": "unsupported_grant_type"})
        issued = self.issue_token(form["clientkey"].strip())
        if issued is None:
            return self.respond(400, {"error": "invalid_grant"})
        value, lifetime = issued
        return self.respond(200, {"access_token": value, "token_type": "bearer",
                                  "expires_in": lifetime})

    def _build_app(self) -> flask.Flask:
        app = flask.Flask(f"snelstart_emulator_{id(self)}")
        app.add_url_rule("/v2/<path:rest>", "api", self._api,
                         methods=["GET", "POST", "PUT", "DELETE"])
        app.add_url_rule("/b2b/token", "token", self._token_endpoint, methods=["POST"])
        views.register(app, self)

        self.hook_exchanges(app, lambda path: path.startswith("/v2/") or path == "/b2b/token")
        return app


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(type(value).__name__)


def run(port: int, seed: int = 1, subscription_key: str | None = None,
        client_key: str | None = None, host: str = "127.0.0.1") -> None:
    """CLI entry (``connector emulator snelstart``): serve until Ctrl-C."""
    emulator = SnelStartEmulator(seed=seed,
                                 subscription_key=subscription_key or DEMO_SUBSCRIPTION_KEY)
    if client_key:
        emulator.add_client_key(client_key)
    run_cli(emulator, host, port, lambda url: [
        f"SnelStart-emulator draait op {url}",
        f"  API:            {url}/v2",
        f"  Token:          {url}/b2b/token",
        f"  Overzicht:      {url}/_emulator/",
        f"  Administratie:  {emulator.adm()['name']}",
        f"  Koppelsleutel:  {emulator.key_for()}",
        *([f"  Ook geldig:     {client_key}"] if client_key else []),
    ])


__all__ = ["DEMO_SUBSCRIPTION_KEY", "EmulatorServer", "SnelStartEmulator", "run"]
