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
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import flask

from providers.emulator_server import LOST_ANSWER, EmulatorServer, drop_connection, fault_kind
from providers.snelstart import emulator_data as data
from providers.snelstart import emulator_views as views
from providers.snelstart.emulator_handlers import ApiError, Handlers
from providers.snelstart.plugin import DEMO_SUBSCRIPTION_KEY


@dataclass
class Fault:
    method: str
    path_contains: str
    times: int
    status: int = 500
    seconds: float = 0.0
    message: str = "Injected fault"


@dataclass
class Token:
    administration_id: str
    key: str
    expires_at: datetime


class SnelStartEmulator:
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
        self.lock = threading.RLock()
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
        self._faults: list[Fault] = []
        self._rate: dict[str, list[float]] = {}
        self.calls: list[dict[str, Any]] = []
        self.token_requests = 0
        # (request, response) after every API or token exchange: the contract tests check them.
        self.exchange_hook: Callable[[flask.Request, flask.Response], None] | None = None
        self.hook_errors: list[str] = []
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
                     times: int = 1, message: str = "Injected fault") -> None:
        """Answer matching requests with ``status`` (and API Management's body with
        ``message``) without processing them."""
        with self.lock:
            self._faults.append(Fault(method.upper(), path_contains, times, status,
                                      message=message))

    def inject_lost_answer(self, method: str, path_contains: str, times: int = 1) -> None:
        """Process matching requests, then drop the connection: the answer is lost."""
        with self.lock:
            self._faults.append(Fault(method.upper(), path_contains, times, LOST_ANSWER))

    def inject_delay(self, method: str, path_contains: str, seconds: float,
                     times: int = 1) -> None:
        with self.lock:
            self._faults.append(Fault(method.upper(), path_contains, times, 0, seconds))

    def take_fault(self, kind: str, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self._faults:
                if (fault_kind(fault.status) == kind and fault.method == method
                        and fault.path_contains in path and fault.times > 0):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def rate_refusal(self, bucket: str) -> int | None:
        """Seconds to wait when ``bucket`` has used its calls for the window, else None."""
        if self.rate_limit is None:
            return None
        now = self.now().timestamp()
        with self.lock:
            calls = [t for t in self._rate.get(bucket, []) if t > now - self.rate_window]
            self._rate[bucket] = calls
            if len(calls) >= self.rate_limit:
                return max(1, int(calls[0] + self.rate_window - now + 0.999))
            calls.append(now)
        return None

    def count_calls(self, method: str | None = None, path_contains: str | None = None) -> int:
        with self.lock:
            return sum(1 for c in self.calls
                       if (method is None or c["method"] == method.upper())
                       and (path_contains is None or path_contains in c["path"]))

    def reset_calls(self) -> None:
        with self.lock:
            self.calls.clear()

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

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> EmulatorServer:
        return EmulatorServer(self, host, port, name="snelstart-emulator")

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
        with self.lock:
            self.calls.append({"method": method, "path": path, "status": response.status_code,
                               "query": request.query_string.decode(), "at": self.now()})
        delay = self.take_fault("delay", method, path)
        lost = self.take_fault("lost", method, path)
        if delay is not None:
            time.sleep(delay.seconds)
        if lost is not None:
            drop_connection(request.environ)
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
        fault = self.take_fault("error", method, request.path)
        if fault is not None:
            return self.respond(fault.status, {"statusCode": fault.status,
                                               "message": fault.message})
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

        @app.after_request
        def after(response: flask.Response) -> flask.Response:
            path = flask.request.path
            hook = self.exchange_hook
            if hook is not None and (path.startswith("/v2/") or path == "/b2b/token"):
                try:
                    hook(flask.request, response)
                except Exception as exc:  # a broken checker must never break the API
                    with self.lock:
                        self.hook_errors.append(f"{type(exc).__name__}: {exc}")
            return response

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
    server = emulator.serve(host=host, port=port)
    adm = emulator.adm()
    print("\n".join([
        f"SnelStart-emulator draait op {server.url}",
        f"  API:            {server.url}/v2",
        f"  Token:          {server.url}/b2b/token",
        f"  Overzicht:      {server.url}/_emulator/",
        f"  Administratie:  {adm['name']}",
        f"  Koppelsleutel:  {emulator.key_for()}",
        *([f"  Ook geldig:     {client_key}"] if client_key else []),
    ]), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()


__all__ = ["DEMO_SUBSCRIPTION_KEY", "EmulatorServer", "SnelStartEmulator", "run"]
