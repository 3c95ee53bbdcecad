"""An in-memory emulator of Moneybird's REST API v2 and OAuth (Doorkeeper) for tests and demos.

It follows Moneybird's OpenAPI document (tests/contract/moneybird-openapi.json) for paths, field
names, formats, status codes and error bodies, and reproduces the documented pitfalls (default
``period:this_year``, silently ignored filter keys, 150 requests / 5 minutes with epoch
``Retry-After``, max 100 ids per synchronization call, 401 for a missing scope, ...), so a client
that works against the emulator has a fair chance of working against the real host.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import html
import json
import re
import secrets
import threading
import time
import uuid
from calendar import monthrange
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import flask
import requests

from providers.emulator_server import (
    LOST_ANSWER,
    DeliveryQueue,
    EmulatorServer,
    drop_connection,
    fault_kind,
    html_page,
    redirect_with,
)
from providers.moneybird import emulator_data as data
from providers.moneybird.emulator_data import CENT, iso_date, iso_ts, money

Json = Any
Result = tuple[int, Json, dict[str, str]]

STATES = (
    "draft",
    "open",
    "scheduled",
    "pending_payment",
    "late",
    "reminded",
    "paid",
    "uncollectible",
)
NAMED_PERIODS = tuple(
    f"{rel}_{unit}"
    for unit in ("week", "month", "quarter", "year")
    for rel in ("this", "prev", "next")
)
CONTACT_SCOPES = ("estimates", "sales_invoices", "documents", "bank", "settings")
ALL_SCOPES = ("sales_invoices", "documents", "estimates", "bank", "time_entries", "settings")
PAYMENT_ACTIONS = {
    "private_payment": "financial_account_id",
    "payment_without_proof": None,
    "cash_payment": "financial_account_id",
    "rounding_error": None,
    "bank_transfer": "financial_mutation_id",
    "balance_settlement": "ledger_account_id",
    "invoices_settlement": "invoice_id",
}
OOB_REDIRECT = "urn:ietf:wg:oauth:2.0:oob"
# Doorkeeper's standard error descriptions (Moneybird's OAuth server is Doorkeeper).
OAUTH_ERRORS = {
    "invalid_grant": "The provided authorization grant is invalid, expired, revoked, does not "
    "match the redirection URI used in the authorization request, or was issued to another client.",
    "invalid_client": "Client authentication failed due to unknown client, no client "
    "authentication included, or unsupported authentication method.",
    "invalid_request": "The request is missing a required parameter, includes an unsupported "
    "parameter value, or is otherwise malformed.",
    "unsupported_grant_type": "The authorization grant type is not supported by the authorization "
    "server.",
    "access_denied": "The resource owner or authorization server denied the request.",
    "unsupported_response_type": "The authorization server does not support this response type.",
}
# Observed on the real API (picqer/moneybird-php-client#188); the spec has no example for it.
INVALID_TOKEN_BODY = {"error": "token is invalid", "symbolic": {"request": "invalid_grant"}}


class _Text(str):
    """A handler result sent as text/plain instead of JSON (the download_pdf redirect)."""


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252", "replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def simple_pdf(lines: Iterable[str]) -> bytes:
    """A one-page A4 PDF with the lines in Helvetica: enough for a test invoice, no libraries."""
    ops = [b"BT", b"/F1 11 Tf", b"15 TL", b"56 780 Td"]
    for line in lines:
        ops.append(_pdf_string(line) + b" Tj T*")
    ops.append(b"ET")
    stream = b"\n".join(ops)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595.28 841.89] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


class ApiError(Exception):
    """Raised inside handlers to answer with a Moneybird-shaped error body."""

    def __init__(self, status: int, body: Json) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def _not_found(key: str = "id") -> ApiError:
    return ApiError(404, {"error": "record not found", "symbolic": {key: "not_found"}})


def _unprocessable(field_name: str, message: str, code: str) -> ApiError:
    return ApiError(
        422, {"error": {field_name: [message]}, "details": {field_name: [{"error": code}]}}
    )


def _filter_error(message: str) -> ApiError:
    return ApiError(400, {"error": message, "symbolic": {"filter": "invalid"}})


@dataclass
class _Fault:
    method: str
    path_contains: str
    times: int
    seconds: float = 0.0
    status: int = 500
    body: Json = None


@dataclass
class _Job:
    delivery: dict[str, Any]
    webhook: dict[str, Any]
    body: bytes
    due: float = 0.0


@dataclass
class _Grant:
    """An OAuth authorization (what the refresh token stands for)."""

    refresh_token: str
    client_id: str | None
    administration_ids: frozenset[str]
    scopes: tuple[str, ...]
    revoked: bool = False
    access_tokens: list[str] = field(default_factory=list)


@dataclass
class _Token:
    access_token: str
    grant: _Grant
    created_at: datetime
    expires_at: datetime | None
    revoked: bool = False


class MoneybirdEmulator:
    """Moneybird API v2 + OAuth over an in-memory, seeded ledger. Thread-safe (one RLock)."""

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
        self._lock = threading.RLock()
        self._now_fn: Callable[[], datetime] = now or (lambda: datetime.now(UTC))
        self.seed = seed
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.token_ttl = token_ttl
        self.rotate_refresh_tokens = rotate_refresh_tokens
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.public_url = public_url.rstrip("/") if public_url else None
        self.html_429 = False
        self.exchange_hook: Callable[[flask.Request, flask.Response], Any] | None = None
        self.hook_errors: list[str] = []
        self.calls: list[dict[str, Any]] = []
        self.deliveries: list[dict[str, Any]] = []
        self.retry_base_delay = 0.2
        self.max_retries = 10
        self.server: EmulatorServer | None = None

        self._ids, adms = data.generate(seed, administrations, contacts, invoices, self._now())
        self._adms: dict[str, dict[str, Any]] = {}
        for adm in adms:
            adm["contacts"] = {c["id"]: c for c in adm["contacts"]}
            adm["invoices"] = {i["id"]: i for i in adm["invoices"]}
            adm["webhooks"] = {}
            self._adms[adm["id"]] = adm
        self._tokens: dict[str, _Token] = {}
        self._grants: dict[str, _Grant] = {}
        self._codes: dict[str, dict[str, Any]] = {}
        self._rate: dict[str, list[float]] = {}
        self._faults: list[_Fault] = []
        # download_pdf: short-lived file links (token -> (adm, invoice id, expiry)), and every
        # request made to them (to check that no bearer token ever arrives there).
        self.storage_url = storage_url.rstrip("/") if storage_url else None
        self._files: dict[str, tuple[str, str, float]] = {}
        self.storage_requests: list[dict[str, Any]] = []
        self.pdf_override: bytes | None = None  # serve these bytes instead (broken files)
        # send_reminders: every reminder Moneybird "sent", as posted.
        self.reminders: list[dict[str, Any]] = []

        self._deliveries = DeliveryQueue(self._attempt, "moneybird-webhooks")
        self._http = requests.Session()

        self.app = self._build_app()

    # ------------------------------------------------------------------ time & ids

    def _now(self) -> datetime:
        return data.to_ms(self._now_fn().astimezone(UTC))

    def _today(self) -> date:
        return data.today_in_amsterdam(self._now())

    def _bump(self, rec: dict[str, Any]) -> None:
        now = self._now()
        rec["version"] = max(int(now.timestamp()), int(rec["version"]) + 1)
        rec["updated_at"] = now

    # ------------------------------------------------------------------ rendering

    @staticmethod
    def _adm_int(adm: dict[str, Any]) -> int:
        # The spec's examples show administration_id inside bodies as a bare integer (123).
        return int(adm["id"])

    def _base_url(self) -> str:
        if self.public_url:
            return self.public_url
        if flask.has_request_context():
            return flask.request.host_url.rstrip("/")
        return "http://127.0.0.1"

    def _render_note(self, adm: dict[str, Any], n: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": n["id"],
            "administration_id": self._adm_int(adm),
            "entity_id": n["entity_id"],
            "entity_type": n["entity_type"],
            "user_id": n["user_id"],
            "assignee_id": n["assignee_id"],
            "todo": n["todo"],
            "note": n["note"],
            "completed_at": iso_ts(n["completed_at"]),
            "completed_by_id": n["completed_by_id"],
            "todo_type": n["todo_type"],
            "data": n["data"],
            "created_at": iso_ts(n["created_at"]),
            "updated_at": iso_ts(n["updated_at"]),
        }

    def _render_event(self, adm: dict[str, Any], e: dict[str, Any]) -> dict[str, Any]:
        return {
            "administration_id": self._adm_int(adm),
            "user_id": e["user_id"],
            "action": e["action"],
            "link_entity_id": e["link_entity_id"],
            "link_entity_type": e["link_entity_type"],
            "data": e["data"],
            "created_at": iso_ts(e["created_at"]),
            "updated_at": iso_ts(e["updated_at"]),
        }

    def _render_contact(
        self, adm: dict[str, Any], c: dict[str, Any], full: bool = True
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in c.items():
            if key.startswith("_"):
                continue
            if key == "administration_id":
                value = self._adm_int(adm)
            elif key in ("created_at", "updated_at", "tax_number_validated_at"):
                value = iso_ts(value)
            elif key == "sepa_mandate_date":
                value = iso_date(value)
            elif key == "contact_people":
                value = [
                    dict(
                        p,
                        administration_id=self._adm_int(adm),
                        created_at=iso_ts(p["created_at"]),
                        updated_at=iso_ts(p["updated_at"]),
                    )
                    for p in value
                ]
            elif key == "notes":
                value = [self._render_note(adm, n) for n in value]
            out[key] = value
        # contact_response requires https://moneybird.<tld>/<id>/sales_invoices/<64 hex>/all
        out["sales_invoices_url"] = (
            f"https://moneybird.dev/{adm['id']}/sales_invoices/{c['_hash']}/all"
        )
        order = list(out)
        order.insert(order.index("version") + 1, order.pop(order.index("sales_invoices_url")))
        out = {k: out[k] for k in order}
        if full:
            out["events"] = [self._render_event(adm, e) for e in c.get("_events", [])]
        return out

    def _render_payment(self, adm: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": p["id"],
            "administration_id": self._adm_int(adm),
            "invoice_type": p["invoice_type"],
            "invoice_id": p["invoice_id"],
            "financial_account_id": p["financial_account_id"],
            "user_id": p["user_id"],
            "payment_transaction_id": p["payment_transaction_id"],
            "transaction_identifier": p["transaction_identifier"],
            "price": money(p["price"]),
            "price_base": money(p["price_base"]),
            "payment_date": iso_date(p["payment_date"]),
            "credit_invoice_id": p["credit_invoice_id"],
            "financial_mutation_id": p["financial_mutation_id"],
            "ledger_account_id": p["ledger_account_id"],
            "linked_payment_id": p["linked_payment_id"],
            "manual_payment_action": p["manual_payment_action"],
            "created_at": iso_ts(p["created_at"]),
            "updated_at": iso_ts(p["updated_at"]),
        }

    def _render_invoice(self, adm: dict[str, Any], inv: dict[str, Any]) -> dict[str, Any]:
        t = data.invoice_totals(inv)
        contact = adm["contacts"].get(inv["contact_id"])
        base = self._base_url()
        public = (
            f"{base}/{adm['id']}/external/{inv['_hash'][:32]}/{inv['_hash'][32:]}/sales_invoice"
        )
        details = []
        for d in inv["details"]:
            details.append(
                {
                    "id": d["id"],
                    "administration_id": self._adm_int(adm),
                    "tax_rate_id": d["tax_rate_id"],
                    "ledger_account_id": d["ledger_account_id"],
                    "project_id": None,
                    "product_id": None,
                    "amount": f"{data.money(d['amount_decimal']).removesuffix('.0')} x",
                    "amount_decimal": money(d["amount_decimal"]),
                    "description": d["description"],
                    "price": money(d["price"]),
                    "period": d["period"],
                    "row_order": d["row_order"],
                    "total_price_excl_tax_with_discount": money(d["_total_excl"]),
                    "total_price_excl_tax_with_discount_base": money(d["_total_excl"]),
                    "tax_report_reference": ["NL/1a" if d["tax_rate"] == 21 else "NL/1b"]
                    if d["tax_rate"]
                    else [],
                    "mandatory_tax_text": None,
                    "created_at": iso_ts(d["created_at"]),
                    "updated_at": iso_ts(d["updated_at"]),
                }
            )
        return {
            "id": inv["id"],
            "administration_id": self._adm_int(adm),
            "contact_id": inv["contact_id"],
            "contact": self._render_contact(adm, contact, full=False) if contact else None,
            "contact_person_id": inv["contact_person_id"],
            "contact_person": None,
            "invoice_id": inv["invoice_id"],
            "recurring_sales_invoice_id": inv["recurring_sales_invoice_id"],
            "subscription_id": inv["subscription_id"],
            "workflow_id": inv["workflow_id"],
            "document_style_id": inv["document_style_id"],
            "identity_id": inv["identity_id"],
            "draft_id": inv["draft_id"],
            "state": inv["state"],
            "invoice_date": iso_date(inv["invoice_date"]),
            "due_date": iso_date(inv["due_date"]),
            "payment_conditions": inv["payment_conditions"],
            "payment_reference": inv["payment_reference"],
            "short_payment_reference": inv["short_payment_reference"],
            "reference": inv["reference"],
            "language": inv["language"],
            "currency": inv["currency"],
            "discount": money(inv["discount"]),
            "original_sales_invoice_id": inv["original_sales_invoice_id"],
            "paused": inv["paused"],
            "paid_at": iso_date(inv["paid_at"]),
            "sent_at": iso_date(inv["sent_at"]),
            "created_at": iso_ts(inv["created_at"]),
            "updated_at": iso_ts(inv["updated_at"]),
            "public_view_code": inv["public_view_code"],
            "public_view_code_expires_at": iso_ts(inv["public_view_code_expires_at"]),
            "version": inv["version"],
            "details": details,
            "payments": [self._render_payment(adm, p) for p in inv["payments"]],
            "total_paid": money(t["paid"]),
            "total_unpaid": money(t["unpaid"]),
            "total_unpaid_base": money(t["unpaid"]),
            "prices_are_incl_tax": inv["prices_are_incl_tax"],
            "total_price_excl_tax": money(t["excl"]),
            "total_price_excl_tax_base": money(t["excl"]),
            "total_price_incl_tax": money(t["incl"]),
            "total_price_incl_tax_base": money(t["incl"]),
            "total_discount": "0.0",
            "marked_dubious_on": iso_date(inv["marked_dubious_on"]),
            "marked_uncollectible_on": iso_date(inv["marked_uncollectible_on"]),
            "reminder_count": inv["reminder_count"],
            "next_reminder": iso_date(inv["next_reminder"]),
            "original_estimate_id": inv["original_estimate_id"],
            "url": public,
            "payment_url": public,
            "custom_fields": inv["custom_fields"],
            "notes": [self._render_note(adm, n) for n in inv["notes"]],
            "attachments": [],
            "events": [self._render_event(adm, e) for e in inv["events"]],
            "tax_totals": [
                {
                    "tax_rate_id": rate_id,
                    "taxable_amount": money(v[0]),
                    "taxable_amount_base": money(v[0]),
                    "tax_amount": money(v[1]),
                    "tax_amount_base": money(v[1]),
                }
                for rate_id, v in t["tax_totals"].items()
            ],
            "time_entries": [],
        }

    def _render_webhook(
        self, adm: dict[str, Any], w: dict[str, Any], secret: bool = False
    ) -> dict[str, Any]:
        out = {
            "id": w["id"],
            "administration_id": self._adm_int(adm),
            "url": w["url"],
            "enabled_events": list(w["enabled_events"]),
            "last_http_status": w["last_http_status"],
            "last_http_body": w["last_http_body"],
            "token": w["token"],
        }
        if secret:  # the signing secret is only ever shown in the create response
            out["secret"] = w["secret"]
        out["deactivated_at"] = iso_ts(w["deactivated_at"])
        return out

    def _render_administration(self, adm: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": adm["id"],
            "name": adm["name"],
            "language": adm["language"],
            "currency": adm["currency"],
            "country": adm["country"],
            "time_zone": adm["time_zone"],
            "access": adm["access"],
            "suspended": adm["suspended"],
            "period_locked_until": iso_date(adm["period_locked_until"]),
            "period_start_date": iso_date(date(self._today().year, 1, 1)),
        }

    def _render_financial_account(self, adm: dict[str, Any], fa: dict[str, Any]) -> dict[str, Any]:
        return dict(
            fa,
            administration_id=self._adm_int(adm),
            created_at=iso_ts(fa["created_at"]),
            updated_at=iso_ts(fa["updated_at"]),
        )

    # ------------------------------------------------------------------ ledger mechanics

    def _adm(self, adm_id: str) -> dict[str, Any]:
        adm = self._adms.get(str(adm_id))
        if adm is None:
            raise KeyError(f"unknown administration {adm_id}")
        return adm

    def _inv(self, adm: dict[str, Any], invoice_id: str, key: str = "id") -> dict[str, Any]:
        inv = adm["invoices"].get(str(invoice_id))
        if inv is None:
            raise _not_found(key)
        return inv

    def _refresh_states(self, adm: dict[str, Any]) -> None:
        """Time moves: open invoices become late (and back if a test moves time backwards)."""
        today = self._today()
        for inv in adm["invoices"].values():
            if inv["state"] in ("open", "late", "reminded"):
                if today <= inv["due_date"]:
                    new = "open"
                else:
                    new = "reminded" if (inv["reminder_count"] or 0) > 0 else "late"
                if new != inv["state"]:
                    self._changed(adm, inv, [])

    def _changed(self, adm: dict[str, Any], inv: dict[str, Any], actions: list[str]) -> None:
        """Record a change: bump version, derive state, append audit events and fire webhooks."""
        old = inv["state"]
        new = data.derive_state(inv, self._today())
        self._bump(inv)
        actions = list(actions)
        if new != old:
            inv["state"] = new
            if new == "paid":
                inv["paid_at"] = max(
                    (p["payment_date"] for p in inv["payments"]), default=self._today()
                )
            elif old == "paid":
                inv["paid_at"] = None
            actions.append(f"sales_invoice_state_changed_to_{new}")
        now = self._now()
        rendered = None
        for action in actions:
            inv["events"].append(data.new_event(adm, action, now, user_id=adm["api_user_id"]))
        for action in actions:
            rendered = rendered or self._render_invoice(adm, inv)
            self._emit(adm, action, "SalesInvoice", inv["id"], rendered, inv["state"])

    def _add_payment(
        self, adm: dict[str, Any], inv: dict[str, Any], price: Decimal, on: date, **kw: Any
    ) -> dict[str, Any]:
        now = self._now()
        p = data.new_payment(self._ids, adm, inv, price, on, now, user_id=adm["api_user_id"], **kw)
        inv["payments"].append(p)
        inv["events"].append(
            data.new_event(adm, "payment_registered", now, adm["api_user_id"], p["id"], "Payment")
        )
        self._emit(
            adm, "payment_registered", "Payment", p["id"], self._render_payment(adm, p), None
        )
        self._changed(adm, inv, [])
        return p

    def _delete_payment(self, adm: dict[str, Any], inv: dict[str, Any], payment_id: str) -> None:
        p = next((p for p in inv["payments"] if p["id"] == str(payment_id)), None)
        if p is None:
            raise _not_found("id")
        inv["payments"].remove(p)
        inv["events"].append(
            data.new_event(
                adm, "payment_destroyed", self._now(), adm["api_user_id"], p["id"], "Payment"
            )
        )
        self._emit(adm, "payment_destroyed", "Payment", p["id"], self._render_payment(adm, p), None)
        self._changed(adm, inv, [])

    def _emit(
        self,
        adm: dict[str, Any],
        action: str,
        entity_type: str,
        entity_id: str,
        entity: Json,
        state: str | None,
    ) -> None:
        """Queue a push to every active webhook of the administration subscribed to ``action``."""
        for wh in adm["webhooks"].values():
            if wh["deactivated_at"] is not None or not self._subscribed(
                wh["enabled_events"], action
            ):
                continue
            payload = {
                "administration_id": adm["id"],
                "webhook_id": wh["id"],
                "webhook_token": wh["token"],
                "entity_type": entity_type,
                "entity_id": entity_id,
                "state": state,
                "action": action,
                "entity": entity,
            }
            delivery = {
                "url": wh["url"],
                "action": action,
                "status": None,
                "idempotency_key": str(uuid.uuid4()),
                "attempts": 0,
                "webhook_id": wh["id"],
                "entity_type": entity_type,
                "entity_id": entity_id,
                "administration_id": adm["id"],
            }
            self.deliveries.append(delivery)
            self._deliveries.put(_Job(delivery, wh, json.dumps(payload).encode(), time.monotonic()))

    @staticmethod
    def _subscribed(enabled: list[str], action: str) -> bool:
        if not enabled:  # legacy webhooks: only sales invoice state changes
            return action.startswith("sales_invoice_state_changed")
        return any(action == e or action.startswith(e + "_") for e in enabled)

    # ------------------------------------------------------------------ webhook delivery

    def _sign(self, secret: str, body: bytes) -> str:
        t = int(self._now_fn().timestamp())
        mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        return f"t={t},v1={mac}"

    def _attempt(self, job: _Job) -> None:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Moneybird-Webhooks (emulator)",
            "Idempotency-Key": job.delivery["idempotency_key"],
            "Moneybird-Signature": self._sign(job.webhook["secret"], job.body),
        }
        try:
            resp = self._http.post(job.delivery["url"], data=job.body, headers=headers, timeout=5)
            status: int | None = resp.status_code
            text: str | None = resp.text[:1000]
        except requests.RequestException as exc:
            status, text = None, f"{type(exc).__name__}"
        with self._lock:
            job.delivery["attempts"] += 1
            job.delivery["status"] = status
            job.webhook["last_http_status"] = status
            job.webhook["last_http_body"] = text
        if status != 200 and job.delivery["attempts"] <= self.max_retries:
            job.due = time.monotonic() + self.retry_base_delay * job.delivery["attempts"]
            self._deliveries.put(job)

    def wait_for_deliveries(self, timeout: float = 5.0) -> bool:
        """Block until every queued webhook push (incl. retries) is done; False on timeout."""
        return self._deliveries.wait_idle(timeout)

    def close(self) -> None:
        """Stop the delivery thread (pending pushes are dropped)."""
        self._deliveries.close()
        self._http.close()

    # ------------------------------------------------------------------ tokens

    def _new_grant(
        self, client_id: str | None, adm_ids: Iterable[str], scopes: Iterable[str]
    ) -> _Grant:
        grant = _Grant(secrets.token_urlsafe(32), client_id, frozenset(adm_ids), tuple(scopes))
        self._grants[grant.refresh_token] = grant
        return grant

    def _new_access(
        self, grant: _Grant, expires_in: int | None, value: str | None = None
    ) -> _Token:
        now = self._now()
        tok = _Token(
            value or secrets.token_urlsafe(32),
            grant,
            now,
            now + timedelta(seconds=expires_in) if expires_in is not None else None,
        )
        self._tokens[tok.access_token] = tok
        grant.access_tokens.append(tok.access_token)
        return tok

    def issue_token(
        self,
        administration_ids: Iterable[str] | None = None,
        scopes: Iterable[str] = ("sales_invoices", "settings"),
        expires_in: int | None = None,
    ) -> tuple[str, str]:
        """Pre-issue (access, refresh) like a personal API token; default: all administrations."""
        with self._lock:
            adm_ids = (
                [str(a) for a in administration_ids] if administration_ids else list(self._adms)
            )
            grant = self._new_grant(None, adm_ids, scopes)
            tok = self._new_access(grant, expires_in)
            return tok.access_token, grant.refresh_token

    def register_token(
        self, token: str, scopes: Iterable[str] = ("sales_invoices", "settings")
    ) -> None:
        """Accept ``token`` verbatim as a non-expiring bearer token for all administrations."""
        with self._lock:
            grant = self._new_grant(None, list(self._adms), scopes)
            self._new_access(grant, None, value=token)

    def revoke_tokens(self) -> None:
        """Every access and refresh token stops working (user revoked the app)."""
        with self._lock:
            for tok in self._tokens.values():
                tok.revoked = True
            for grant in self._grants.values():
                grant.revoked = True

    def expire_access_tokens(self) -> None:
        """Every access token is expired now; refresh tokens keep working."""
        with self._lock:
            past = self._now() - timedelta(seconds=1)
            for tok in self._tokens.values():
                tok.expires_at = past

    def _token_response(self, tok: _Token) -> dict[str, Any]:
        body: dict[str, Any] = {
            "access_token": tok.access_token,
            "token_type": "Bearer",
            "refresh_token": tok.grant.refresh_token,
            "scope": " ".join(tok.grant.scopes),
            "created_at": int(tok.created_at.timestamp()),
        }
        if tok.expires_at is not None:
            body["expires_in"] = int((tok.expires_at - tok.created_at).total_seconds())
        return body

    # ------------------------------------------------------------------ control surface

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> EmulatorServer:
        """Serve on a loopback port in a daemon thread; sets ``public_url`` if not given."""
        server = EmulatorServer(self, host, port, "moneybird-emulator")
        if self.public_url is None:
            self.public_url = server.url
        self.server = server
        return server

    def administration_ids(self) -> list[str]:
        """Ids of all seeded administrations, first one is the big one."""
        with self._lock:
            return list(self._adms)

    def invoice(self, adm: str, invoice_id: str) -> dict[str, Any]:
        """One invoice exactly as ``GET /sales_invoices/{id}`` returns it."""
        with self._lock:
            a = self._adm(adm)
            self._refresh_states(a)
            return self._render_invoice(a, self._inv(a, invoice_id))

    def invoices(self, adm: str) -> list[dict[str, Any]]:
        """All invoices of an administration (API JSON), any period."""
        with self._lock:
            a = self._adm(adm)
            self._refresh_states(a)
            return [self._render_invoice(a, i) for i in a["invoices"].values()]

    def contacts(self, adm: str) -> list[dict[str, Any]]:
        """All contacts of an administration (API JSON)."""
        with self._lock:
            a = self._adm(adm)
            return [self._render_contact(a, c) for c in a["contacts"].values()]

    def notes(self, adm: str, invoice_id: str) -> list[dict[str, Any]]:
        """Notes on an invoice (API JSON)."""
        return self.invoice(adm, invoice_id)["notes"]

    def payments(self, adm: str, invoice_id: str) -> list[dict[str, Any]]:
        """Payments on an invoice (API JSON)."""
        return self.invoice(adm, invoice_id)["payments"]

    def add_payment(
        self, adm: str, invoice_id: str, amount: Decimal, on: date | None = None
    ) -> dict[str, Any]:
        """Register a payment as if the creditor booked it in Moneybird (fires webhooks)."""
        with self._lock:
            a = self._adm(adm)
            inv = self._inv(a, invoice_id)
            fa = a["financial_accounts"][0]["id"]
            p = self._add_payment(
                a, inv, Decimal(amount), on or self._today(), financial_account_id=fa
            )
            return self._render_payment(a, p)

    def mark_paid(self, adm: str, invoice_id: str, on: date | None = None) -> dict[str, Any]:
        """Pay the full open amount; returns the invoice."""
        with self._lock:
            a = self._adm(adm)
            inv = self._inv(a, invoice_id)
            unpaid = data.invoice_totals(inv)["unpaid"]
            if unpaid != 0:
                self.add_payment(adm, invoice_id, unpaid, on)
            return self._render_invoice(a, inv)

    def credit(self, adm: str, invoice_id: str) -> dict[str, Any]:
        """Full credit invoice; the original gets paid through a payment with credit_invoice_id."""
        with self._lock:
            a = self._adm(adm)
            inv = self._inv(a, invoice_id)
            now, today = self._now(), self._today()
            lines = [
                dict(d, id=self._ids.next(), price=-d["price"], created_at=now, updated_at=now)
                for d in inv["details"]
            ]
            rng = data.random.Random(f"credit-{invoice_id}")
            credit = data.new_invoice(
                rng,
                self._ids,
                a,
                inv["contact_id"],
                today,
                today,
                now,
                lines,
                prices_are_incl_tax=inv["prices_are_incl_tax"],
                reference=f"Creditnota {inv['invoice_id'] or inv['id']}",
            )
            credit["original_sales_invoice_id"] = inv["id"]
            data.number_invoices([credit], a["number_counters"])
            a["invoices"][credit["id"]] = credit
            unpaid = data.invoice_totals(inv)["unpaid"]
            credit["state"] = "open"
            self._changed(
                a, credit, ["sales_invoice_created", "credit_invoice_created_from_original"]
            )
            if unpaid != 0:
                p1 = self._add_payment(a, inv, unpaid, today, credit_invoice_id=credit["id"])
                p2 = self._add_payment(a, credit, -unpaid, today, credit_invoice_id=credit["id"])
                p1["linked_payment_id"], p2["linked_payment_id"] = p2["id"], p1["id"]
            return self._render_invoice(a, credit)

    def mark_uncollectible(self, adm: str, invoice_id: str) -> dict[str, Any]:
        """Write the invoice off (state uncollectible)."""
        with self._lock:
            a = self._adm(adm)
            inv = self._inv(a, invoice_id)
            inv["uncollectible"] = True
            inv["marked_uncollectible_on"] = self._today()
            self._changed(a, inv, ["sales_invoice_marked_as_uncollectible"])
            return self._render_invoice(a, inv)

    def delete_invoice(self, adm: str, invoice_id: str) -> None:
        """Remove the invoice (fires sales_invoice_destroyed with the last known entity)."""
        with self._lock:
            a = self._adm(adm)
            inv = self._inv(a, invoice_id)
            rendered = self._render_invoice(a, inv)
            del a["invoices"][inv["id"]]
            self._emit(
                a, "sales_invoice_destroyed", "SalesInvoice", inv["id"], rendered, inv["state"]
            )

    def update_contact(self, adm: str, contact_id: str, **fields: Any) -> dict[str, Any]:
        """Change contact fields (bumps its version, fires contact_changed)."""
        with self._lock:
            a = self._adm(adm)
            c = a["contacts"].get(str(contact_id))
            if c is None:
                raise KeyError(f"unknown contact {contact_id}")
            for key, value in fields.items():
                if key not in c or key.startswith("_") or key in ("id", "administration_id"):
                    raise KeyError(f"unknown contact field {key}")
                c[key] = value
            self._bump(c)
            c.setdefault("_events", []).append(
                data.new_event(a, "contact_changed", self._now(), a["api_user_id"])
            )
            rendered = self._render_contact(a, c)
            self._emit(a, "contact_changed", "Contact", c["id"], rendered, None)
            return rendered

    def create_invoice(
        self,
        adm: str,
        contact_id: str | None = None,
        amount: Decimal = Decimal("121.00"),
        due_date: date | None = None,
        *,
        invoice_date: date | None = None,
        description: str = "Dienstverlening",
        tax_rate: Decimal = Decimal("21"),
        reference: str | None = None,
        reminder_count: int = 0,
        draft: bool = False,
    ) -> dict[str, Any]:
        """A new sent invoice of ``amount`` incl. VAT (state derived from ``due_date``)."""
        with self._lock:
            a = self._adm(adm)
            today, now = self._today(), self._now()
            contact_id = str(contact_id) if contact_id else next(iter(a["contacts"]))
            if contact_id not in a["contacts"]:
                raise KeyError(f"unknown contact {contact_id}")
            inv_date = invoice_date or today
            due = due_date or inv_date + timedelta(days=14)
            rate = Decimal(tax_rate)
            line = {
                "id": self._ids.next(),
                "tax_rate_id": a["tax_rates"].get(str(rate.normalize()), a["tax_rates"]["21"]),
                "ledger_account_id": a["revenue_ledger_account_id"],
                "description": description,
                "amount_decimal": Decimal("1"),
                "price": Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP),
                "tax_rate": rate,
                "period": None,
                "row_order": 1,
                "created_at": now,
                "updated_at": now,
            }
            rng = data.random.Random(f"create-{line['id']}")
            inv = data.new_invoice(
                rng,
                self._ids,
                a,
                contact_id,
                None if draft else inv_date,
                due,
                now,
                [line],
                prices_are_incl_tax=True,
                reference=reference,
            )
            inv["reminder_count"] = reminder_count
            inv["version"] = 0
            if not draft:
                data.number_invoices([inv], a["number_counters"])
            a["invoices"][inv["id"]] = inv
            self._changed(a, inv, ["sales_invoice_created"])
            return self._render_invoice(a, inv)

    def inject_delay(self, method: str, path_contains: str, seconds: float, times: int = 1) -> None:
        """Process matching requests normally, then hold the response back ``seconds``."""
        with self._lock:
            self._faults.append(
                _Fault(method.upper(), path_contains, times, seconds=seconds, status=0)
            )

    def inject_lost_answer(self, method: str, path_contains: str, times: int = 1) -> None:
        """Process matching requests normally, then drop the connection: the answer is lost
        (a timeout or a cut line), whatever timeout the client uses."""
        with self._lock:
            self._faults.append(
                _Fault(method.upper(), path_contains, times, status=LOST_ANSWER)
            )

    def inject_error(
        self, method: str, path_contains: str, status: int = 500, times: int = 1, body: Json = None
    ) -> None:
        """Answer matching requests with ``status`` WITHOUT processing them."""
        with self._lock:
            self._faults.append(
                _Fault(method.upper(), path_contains, times, status=status, body=body)
            )

    def count_calls(
        self,
        administration_id: str | None = None,
        method: str | None = None,
        path_contains: str | None = None,
    ) -> int:
        """How many /api/v2 requests matched (for rate-budget assertions)."""
        with self._lock:
            return sum(
                1
                for c in self.calls
                if (administration_id is None or c["administration_id"] == str(administration_id))
                and (method is None or c["method"] == method.upper())
                and (path_contains is None or path_contains in c["path"])
            )

    def reset_calls(self) -> None:
        """Forget recorded calls."""
        with self._lock:
            self.calls.clear()

    # ------------------------------------------------------------------ filters

    def _period(self, value: str) -> tuple[date, date]:
        today = self._today()
        if value in NAMED_PERIODS:
            rel, unit = value.split("_")
            shift = {"this": 0, "prev": -1, "next": 1}[rel]
            if unit == "week":
                start = today - timedelta(days=today.weekday()) + timedelta(weeks=shift)
                return start, start + timedelta(days=6)
            if unit == "year":
                return date(today.year + shift, 1, 1), date(today.year + shift, 12, 31)
            months = 1 if unit == "month" else 3
            first_month = today.month if unit == "month" else (today.month - 1) // 3 * 3 + 1
            index = today.year * 12 + first_month - 1 + shift * months
            y, m = divmod(index, 12)
            end_index = index + months - 1
            ey, em = divmod(end_index, 12)
            return date(y, m + 1, 1), date(ey, em + 1, monthrange(ey, em + 1)[1])
        m = re.fullmatch(r"(\d{6}|\d{8})?\.\.(\d{6}|\d{8})?", value)
        if not m:
            raise _filter_error("Period is not included in the list")
        if not m.group(1) or not m.group(2):
            raise ApiError(400, {"error": "Period must have both a start and end date"})
        try:
            s, e = m.group(1), m.group(2)
            start = date(int(s[:4]), int(s[4:6]), int(s[6:]) if len(s) == 8 else 1)
            ey, em = int(e[:4]), int(e[4:6])
            end = date(ey, em, int(e[6:]) if len(e) == 8 else monthrange(ey, em)[1])
        except ValueError as exc:
            raise _filter_error("Period is not included in the list") from exc
        return start, end

    @staticmethod
    def _parse_time(value: str, label: str) -> datetime:
        text = value.strip().replace(" UTC", "+00:00")
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError as exc:
            raise _filter_error(f"{label} is not a valid time") from exc
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)

    @staticmethod
    def _parse_filter(raw: str | None) -> dict[str, list[str]]:
        terms: dict[str, list[str]] = {}
        for term in (raw or "").split(","):
            if ":" not in term:
                continue
            key, value = term.split(":", 1)
            terms[key.strip()] = [v for v in value.split("|")]
        return terms

    def _filter_invoices(self, adm: dict[str, Any], raw: str | None) -> list[dict[str, Any]]:
        # Schema default is "period:this_year"; an absent period always means this year (the
        # classic pitfall), except that state:draft alone lists drafts irrespective of date.
        terms = self._parse_filter(raw if raw is not None else "period:this_year")
        states = terms.get("state", ["all"])
        for s in states:
            if s not in (*STATES, "all"):
                raise _filter_error("Status is not included in the list")
        state_set = None if "all" in states else set(states)
        period_value = terms.get("period", [None])[0]
        if period_value is None and state_set == {"draft"}:
            period = None
        else:
            period = self._period(period_value or "this_year")
        contact_ids = terms.get("contact_id")
        if contact_ids and not all(v.isdigit() for v in contact_ids):
            raise _filter_error("Contact is not valid")
        references = terms.get("reference")
        created_after = (
            self._parse_time(terms["created_after"][0], "Created after")
            if "created_after" in terms
            else None
        )
        updated_after = (
            self._parse_time(terms["updated_after"][0], "Updated after")
            if "updated_after" in terms
            else None
        )
        workflow_ids = terms.get("workflow_id")
        recurring = terms.get("recurring_sales_invoice_id")
        today = self._today()
        out = []
        for inv in adm["invoices"].values():
            if state_set is not None and inv["state"] not in state_set:
                continue
            if period is not None:
                day = inv["invoice_date"] or today
                if not (period[0] <= day <= period[1]):
                    continue
            if contact_ids is not None and inv["contact_id"] not in contact_ids:
                continue
            if references is not None and inv["reference"] not in references:
                continue
            if workflow_ids is not None and inv["workflow_id"] not in workflow_ids:
                continue
            if recurring is not None and inv["recurring_sales_invoice_id"] not in recurring:
                continue
            if created_after is not None and not inv["created_at"] > created_after:
                continue
            if updated_after is not None and not inv["updated_at"] > updated_after:
                continue
            out.append(inv)
        return out

    def _filter_contacts(self, adm: dict[str, Any], raw: str | None) -> list[dict[str, Any]]:
        terms = self._parse_filter(raw)
        created_after = (
            self._parse_time(terms["created_after"][0], "Created after")
            if "created_after" in terms
            else None
        )
        updated_after = (
            self._parse_time(terms["updated_after"][0], "Updated after")
            if "updated_after" in terms
            else None
        )
        kind = terms.get("contact_type", ["all"])[0]
        out = []
        for c in adm["contacts"].values():
            if created_after is not None and not c["created_at"] > created_after:
                continue
            if updated_after is not None and not c["updated_at"] > updated_after:
                continue
            if kind == "company" and not c["company_name"]:
                continue
            if kind == "private_individual" and c["company_name"]:
                continue
            out.append(c)
        return out

    # ------------------------------------------------------------------ API handlers

    def _page_params(self) -> tuple[int, int]:
        args = flask.request.args
        page_raw, per_raw = args.get("page", "1"), args.get("per_page", "25")
        if not per_raw.isdigit() or not 1 <= int(per_raw) <= 100:
            raise ApiError(400, {"error": "per_page does not have a valid value"})
        if not page_raw.isdigit() or not 1 <= int(page_raw) <= 2**31:
            raise ApiError(400, {"error": "page does not have a valid value"})
        return int(page_raw), int(per_raw)

    def _link_header(self, page: int, per_page: int, total: int) -> dict[str, str]:
        parts = urlsplit(flask.request.url)
        base = self._base_url() + flask.request.path
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "page"]

        def url(n: int) -> str:
            qs = urlencode([*query, ("page", str(n))], quote_via=quote, safe=":|,")
            return f"{base}?{qs}"

        links = []
        if page > 1:
            links.append(f'<{url(page - 1)}>; rel="prev"')
        if page * per_page < total:
            links.append(f'<{url(page + 1)}>; rel="next"')
        return {"Link": ", ".join(links)} if links else {}

    def h_administrations(self, token: _Token) -> Result:
        adms = [
            self._render_administration(a)
            for a in self._adms.values()
            if a["id"] in token.grant.administration_ids
        ]
        return 200, adms, {}

    def h_invoices_list(self, adm: dict[str, Any]) -> Result:
        page, per_page = self._page_params()
        items = self._filter_invoices(adm, flask.request.args.get("filter"))
        items.sort(key=lambda i: (i["invoice_date"] or self._today(), i["id"]), reverse=True)
        chunk = items[(page - 1) * per_page : page * per_page]
        return (
            200,
            [self._render_invoice(adm, i) for i in chunk],
            self._link_header(page, per_page, len(items)),
        )

    def h_invoices_sync_list(self, adm: dict[str, Any]) -> Result:
        items = self._filter_invoices(adm, flask.request.args.get("filter"))
        items.sort(key=lambda i: int(i["id"]))
        return 200, [{"id": i["id"], "version": i["version"]} for i in items], {}

    @staticmethod
    def _json_body() -> Json:
        body = flask.request.get_json(silent=True)
        if body is None and flask.request.get_data():
            raise ApiError(400, {"error": "Invalid JSON", "symbolic": {"body": "invalid"}})
        return body

    def _sync_ids(self) -> list[str]:
        body = self._json_body()
        ids = body.get("ids") if isinstance(body, dict) else None
        if not isinstance(ids, list):
            raise ApiError(400, {"error": "Ids is required", "symbolic": {"ids": "required"}})
        return [str(i) for i in ids[:100]]

    def h_invoices_sync_fetch(self, adm: dict[str, Any]) -> Result:
        ids = self._sync_ids()
        found = [adm["invoices"][i] for i in dict.fromkeys(ids) if i in adm["invoices"]]
        return 200, [self._render_invoice(adm, i) for i in found], {}

    def h_invoice_get(self, adm: dict[str, Any], id: str) -> Result:
        return 200, self._render_invoice(adm, self._inv(adm, id)), {}

    def h_download_pdf(self, adm: dict[str, Any], id: str) -> Result:
        """302 to a storage URL valid for 30 seconds (spec: "The link is valid for 30 seconds")."""
        inv = self._inv(adm, id)
        token = secrets.token_hex(32)
        self._files[token] = (adm["id"], inv["id"], time.monotonic() + 30)
        url = f"{self.storage_url or self._base_url()}/_storage/{token}/download"
        text = _Text(f'"This resource has been moved temporarily to {url}."')
        return 302, text, {"Location": url}

    def view_storage(self, token: str) -> flask.Response:
        """The storage host: serves the PDF behind a download_pdf link, no bearer needed."""
        with self._lock:
            self.storage_requests.append({
                "authorization": flask.request.headers.get("Authorization"),
                "at": self._now()})
            entry = self._files.get(token)
            if entry is None or time.monotonic() > entry[2]:
                return flask.Response("expired", status=403, content_type="text/plain")
            adm = self._adms[entry[0]]
            inv = adm["invoices"][entry[1]]
            pdf = self.pdf_override if self.pdf_override is not None else \
                self._invoice_pdf(adm, inv)
        return flask.Response(pdf, status=200, content_type="application/pdf")

    def _invoice_pdf(self, adm: dict[str, Any], inv: dict[str, Any]) -> bytes:
        t = data.invoice_totals(inv)
        contact = adm["contacts"].get(inv["contact_id"])
        lines = [
            f"FACTUUR {inv['invoice_id'] or ''}",
            str(adm.get("name") or ""),
            "",
            f"Aan: {_contact_name(contact) if contact else '-'}",
            f"Factuurnummer: {inv['invoice_id'] or ''}",
            f"Factuurdatum: {iso_date(inv['invoice_date']) or '-'}",
            f"Vervaldatum: {iso_date(inv['due_date']) or '-'}",
            "",
            *(f"{d['description']}: EUR {money(d['_total_excl'])}" for d in inv["details"]),
            "",
            f"Totaal incl. btw: EUR {money(t['incl'])}",
            f"Openstaand: EUR {money(t['unpaid'])}",
            f"Betalingskenmerk: {inv['payment_reference'] or ''}",
        ]
        return simple_pdf(lines)

    def h_send_reminders(self, adm: dict[str, Any]) -> Result:
        """Moneybird sends its own reminder (by e-mail, or marks it sent for "Manual")."""
        body = self._json_body()
        items = body.get("sales_invoice_reminders") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise ApiError(400, {"error": "Sales invoice reminders is required",
                                 "symbolic": {"sales_invoice_reminders": "required"}})
        checked = []
        for item in items:
            if not isinstance(item, dict):
                raise ApiError(400, {"error": "Invalid reminder",
                                     "symbolic": {"sales_invoice_reminders": "invalid"}})
            for key in ("contact_id", "workflow_id", "document_style_id", "identity_id"):
                if not item.get(key):
                    raise ApiError(400, {"error": f"{key} is required",
                                         "symbolic": {key: "required"}})
            ids = [str(i) for i in item.get("sales_invoice_ids") or []]
            if not ids:
                raise _unprocessable("sales_invoice_ids", "can't be blank", "blank")
            invoices = [self._inv(adm, i) for i in ids]
            for inv in invoices:
                if str(inv["contact_id"]) != str(item["contact_id"]):
                    raise _unprocessable("sales_invoice_ids", "belongs to another contact",
                                         "invalid")
                if inv["state"] in ("draft", "paid", "uncollectible"):
                    raise _unprocessable("sales_invoice_ids", "can't be reminded", "invalid")
            method = item.get("delivery_method") or "Email"
            if method not in ("Email", "Manual"):
                raise _unprocessable("delivery_method", "is not included in the list",
                                     "inclusion")
            checked.append((item, invoices, method))
        for item, invoices, method in checked:
            self.reminders.append({
                "administration_id": adm["id"], "contact_id": str(item["contact_id"]),
                "sales_invoice_ids": [inv["id"] for inv in invoices],
                "reminder_text": item.get("reminder_text"), "delivery_method": method,
                "at": self._now()})
            action = ("sales_invoice_send_reminder_email" if method == "Email"
                      else "sales_invoice_send_reminder_manually")
            for inv in invoices:
                inv["reminder_count"] = int(inv.get("reminder_count") or 0) + 1
                self._changed(adm, inv, [action])
        return 200, 200, {}

    def h_pause(self, adm: dict[str, Any], id: str, paused: bool = True) -> Result:
        inv = self._inv(adm, id)
        if inv["paused"] != paused:
            inv["paused"] = paused
            self._changed(
                adm, inv, ["sales_invoice_paused" if paused else "sales_invoice_unpaused"]
            )
        return 201, self._render_invoice(adm, inv), {}

    def h_resume(self, adm: dict[str, Any], id: str) -> Result:
        return self.h_pause(adm, id, paused=False)

    def h_note_create(self, adm: dict[str, Any], sales_invoice_id: str) -> Result:
        inv = self._inv(adm, sales_invoice_id, "sales_invoice_id")
        body = self._json_body()
        note = body.get("note") if isinstance(body, dict) else None
        if not isinstance(note, dict):
            raise ApiError(400, {"error": "Note is required", "symbolic": {"note": "required"}})
        text = note.get("note")
        if not isinstance(text, str) or not text.strip():
            raise _unprocessable("note", "can't be blank", "blank")
        todo = note.get("todo", False)
        todo = todo if isinstance(todo, bool) else str(todo).lower() in ("true", "1")
        assignee = note.get("assignee_id")
        if assignee is not None:
            if str(assignee) not in (adm["user_id"], adm["api_user_id"]):
                raise _unprocessable("assignee_id", "is invalid", "invalid")
            todo = True
        now = self._now()
        rec = {
            "id": self._ids.next(),
            "entity_id": inv["id"],
            "entity_type": "SalesInvoice",
            "user_id": adm["api_user_id"],
            "assignee_id": str(assignee) if assignee is not None else None,
            "todo": todo,
            "note": text,
            "completed_at": None,
            "completed_by_id": None,
            "todo_type": None,
            "data": None,
            "created_at": now,
            "updated_at": now,
        }
        inv["notes"].append(rec)
        rendered = self._render_note(adm, rec)
        action = "todo_created" if todo else "note_created"
        self._emit(adm, action, "Note", rec["id"], rendered, None)
        self._changed(adm, inv, [])
        return 201, rendered, {}

    def h_note_delete(self, adm: dict[str, Any], sales_invoice_id: str, id: str) -> Result:
        inv = self._inv(adm, sales_invoice_id, "sales_invoice_id")
        rec = next((n for n in inv["notes"] if n["id"] == str(id)), None)
        if rec is None:
            raise _not_found("id")
        inv["notes"].remove(rec)
        self._emit(adm, "note_destroyed", "Note", rec["id"], self._render_note(adm, rec), None)
        self._changed(adm, inv, [])
        return 204, None, {}

    @staticmethod
    def _parse_money(value: Any) -> Decimal | None:
        if isinstance(value, bool) or value is None:
            return None
        if isinstance(value, int | float):
            value = repr(value)
        if not isinstance(value, str) or not re.fullmatch(r"-?[0-9]+[,.]?[0-9]*", value.strip()):
            return None
        try:
            amount = Decimal(value.strip().replace(",", "."))
        except InvalidOperation:
            return None
        if not -1_000_000_000 <= amount <= 1_000_000_000:
            return None
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)

    def h_payment_create(self, adm: dict[str, Any], sales_invoice_id: str) -> Result:
        inv = self._inv(adm, sales_invoice_id, "sales_invoice_id")
        body = self._json_body()
        pay = body.get("payment") if isinstance(body, dict) else None
        if not isinstance(pay, dict):
            raise ApiError(
                400, {"error": "Payment is required", "symbolic": {"payment": "required"}}
            )
        if pay.get("payment_date") in (None, ""):
            raise _unprocessable("payment_date", "can't be blank", "blank")
        try:
            on = date.fromisoformat(str(pay["payment_date"])[:10])
        except ValueError as exc:
            raise _unprocessable("payment_date", "is invalid", "invalid") from exc
        if pay.get("price") in (None, ""):
            raise _unprocessable("price", "can't be blank", "blank")
        price = self._parse_money(pay["price"])
        if price is None:
            raise _unprocessable("price", "is not a number", "not_a_number")
        price_base = price
        if pay.get("price_base") not in (None, ""):
            price_base = self._parse_money(pay["price_base"])
            if price_base is None:
                raise _unprocessable("price_base", "is not a number", "not_a_number")
        action = pay.get("manual_payment_action")
        if action is not None and action not in PAYMENT_ACTIONS:
            raise _unprocessable(
                "manual_payment_action", "is not included in the list", "inclusion"
            )
        needed = PAYMENT_ACTIONS.get(action) if action else None
        if needed and pay.get(needed) in (None, ""):
            raise _unprocessable(needed, "can't be blank", "blank")
        for key in (
            "financial_account_id",
            "financial_mutation_id",
            "ledger_account_id",
            "invoice_id",
        ):
            if pay.get(key) is not None and not re.fullmatch(r"\d+", str(pay[key])):
                raise _unprocessable(key, "is invalid", "invalid")
        fa_id = (
            str(pay["financial_account_id"])
            if pay.get("financial_account_id") is not None
            else None
        )
        if fa_id is not None and fa_id not in {f["id"] for f in adm["financial_accounts"]}:
            raise _unprocessable("financial_account_id", "is invalid", "invalid")
        if inv["is_draft"]:
            raise _unprocessable(
                "base", "Payments cannot be registered on draft invoices", "invalid"
            )
        p = self._add_payment(
            adm,
            inv,
            price,
            on,
            price_base=price_base,
            financial_account_id=fa_id,
            manual_payment_action=action,
            transaction_identifier=pay.get("transaction_identifier"),
            ledger_account_id=str(pay["ledger_account_id"])
            if pay.get("ledger_account_id")
            else None,
            financial_mutation_id=(
                str(pay["financial_mutation_id"]) if pay.get("financial_mutation_id") else None
            ),
        )
        return 201, self._render_payment(adm, p), {}

    def h_payment_delete(self, adm: dict[str, Any], sales_invoice_id: str, id: str) -> Result:
        inv = self._inv(adm, sales_invoice_id, "sales_invoice_id")
        self._delete_payment(adm, inv, id)
        return 204, None, {}

    def h_contacts_sync_list(self, adm: dict[str, Any]) -> Result:
        items = sorted(
            self._filter_contacts(adm, flask.request.args.get("filter")), key=lambda c: int(c["id"])
        )
        return 200, [{"id": c["id"], "version": c["version"]} for c in items], {}

    def h_contacts_sync_fetch(self, adm: dict[str, Any]) -> Result:
        ids = self._sync_ids()
        found = [adm["contacts"][i] for i in dict.fromkeys(ids) if i in adm["contacts"]]
        return 200, [self._render_contact(adm, c) for c in found], {}

    def h_contact_get(self, adm: dict[str, Any], id: str) -> Result:
        c = adm["contacts"].get(str(id))
        if c is None:
            raise _not_found("id")
        return 200, self._render_contact(adm, c), {}

    def h_financial_accounts(self, adm: dict[str, Any]) -> Result:
        return 200, [self._render_financial_account(adm, f) for f in adm["financial_accounts"]], {}

    def h_ledger_accounts(self, adm: dict[str, Any]) -> Result:
        """A small chart of accounts, with the ids the emulator books against (revenue,
        suspense) and the real field names of ``ledger_account_response``."""
        created = iso_ts(adm["created_at"])
        rows = [
            (adm["revenue_ledger_account_id"], "Omzet", "revenue", "8000"),
            (adm["suspense_ledger_account_id"], "Kruisposten", "current_assets", "1900"),
        ]
        return 200, [{
            "id": id_, "administration_id": self._adm_int(adm), "name": name,
            "account_type": kind, "account_id": code, "parent_id": None, "active": True,
            "created_at": created, "updated_at": created,
            "allowed_document_types": ["financial_mutation", "general_journal_document"],
            "financial_account_id": None,
        } for id_, name, kind, code in rows], {}

    def h_webhooks_list(self, adm: dict[str, Any]) -> Result:
        return 200, [self._render_webhook(adm, w) for w in adm["webhooks"].values()], {}

    def h_webhook_create(self, adm: dict[str, Any]) -> Result:
        """Runs WITHOUT the lock held while it calls the URL (the receiver may call us back)."""
        body = self._json_body()
        if not isinstance(body, dict):
            body = {}
        if "events" in body:
            raise ApiError(
                400,
                {
                    "error": "'events' has been removed from webhooks, use 'enabled_events'",
                    "symbolic": {"events": "removed"},
                },
            )
        url = body.get("url")
        if not isinstance(url, str) or not url.strip():
            raise ApiError(400, {"error": "Url is required", "symbolic": {"url": "required"}})
        events = body.get("enabled_events", [])
        if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
            raise ApiError(
                400,
                {"error": "Enabled events is invalid", "symbolic": {"enabled_events": "invalid"}},
            )
        try:
            check = self._http.post(
                url, data=b"{}", headers={"Content-Type": "application/json"}, timeout=5
            )
            ok = check.status_code == 200
        except requests.RequestException:
            ok = False
        if not ok:
            raise ApiError(
                400,
                {
                    "error": "Url did not respond with HTTP status 200",
                    "symbolic": {"url": "invalid"},
                },
            )
        with self._lock:
            wh = {
                "id": self._ids.next(),
                "url": url,
                "enabled_events": list(dict.fromkeys(events)),
                "last_http_status": None,
                "last_http_body": None,
                "token": "".join(
                    secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
                    for _ in range(24)
                ),
                "secret": secrets.token_hex(32),
                "deactivated_at": None,
            }
            adm["webhooks"][wh["id"]] = wh
            return 201, self._render_webhook(adm, wh, secret=True), {}

    def _webhook(self, adm: dict[str, Any], id: str) -> dict[str, Any]:
        wh = adm["webhooks"].get(str(id))
        if wh is None:
            raise ApiError(404, {"error": "Record not found for model name: Webhook"})
        return wh

    def h_webhook_delete(self, adm: dict[str, Any], id: str) -> Result:
        del adm["webhooks"][self._webhook(adm, id)["id"]]
        return 204, None, {}

    def h_webhook_activate(self, adm: dict[str, Any], id: str) -> Result:
        wh = self._webhook(adm, id)
        wh["deactivated_at"] = None
        return 200, self._render_webhook(adm, wh), {}

    def h_webhook_deactivate(self, adm: dict[str, Any], id: str) -> Result:
        wh = self._webhook(adm, id)
        wh["deactivated_at"] = wh["deactivated_at"] or self._now()
        return 200, self._render_webhook(adm, wh), {}

    # ------------------------------------------------------------------ API dispatch

    def _routes(
        self,
    ) -> list[tuple[str, re.Pattern[str], Callable[..., Result], tuple[str, ...] | None, bool]]:
        """(method, path regex, handler, scopes (any of; None = any valid token), needs lock)."""
        si = ("sales_invoices",)
        st = ("settings",)
        table = [
            ("GET", r"administrations", self.h_administrations, None, True),
            ("GET", r"(?P<adm>[^/]+)/sales_invoices", self.h_invoices_list, si, True),
            (
                "GET",
                r"(?P<adm>[^/]+)/sales_invoices/synchronization",
                self.h_invoices_sync_list,
                si,
                True,
            ),
            (
                "POST",
                r"(?P<adm>[^/]+)/sales_invoices/synchronization",
                self.h_invoices_sync_fetch,
                si,
                True,
            ),
            ("GET", r"(?P<adm>[^/]+)/sales_invoices/(?P<id>[^/]+)", self.h_invoice_get, si, True),
            (
                "GET",
                r"(?P<adm>[^/]+)/sales_invoices/(?P<id>[^/]+)/download_pdf",
                self.h_download_pdf,
                si,
                True,
            ),
            (
                "POST",
                r"(?P<adm>[^/]+)/sales_invoices/send_reminders",
                self.h_send_reminders,
                si,
                True,
            ),
            ("POST", r"(?P<adm>[^/]+)/sales_invoices/(?P<id>[^/]+)/pause", self.h_pause, si, True),
            (
                "POST",
                r"(?P<adm>[^/]+)/sales_invoices/(?P<id>[^/]+)/resume",
                self.h_resume,
                si,
                True,
            ),
            (
                "POST",
                r"(?P<adm>[^/]+)/sales_invoices/(?P<sales_invoice_id>[^/]+)/notes",
                self.h_note_create,
                si,
                True,
            ),
            (
                "DELETE",
                r"(?P<adm>[^/]+)/sales_invoices/(?P<sales_invoice_id>[^/]+)/notes/(?P<id>[^/]+)",
                self.h_note_delete,
                si,
                True,
            ),
            (
                "POST",
                r"(?P<adm>[^/]+)/sales_invoices/(?P<sales_invoice_id>[^/]+)/payments",
                self.h_payment_create,
                si,
                True,
            ),
            (
                "DELETE",
                r"(?P<adm>[^/]+)/sales_invoices/(?P<sales_invoice_id>[^/]+)/payments/(?P<id>[^/]+)",
                self.h_payment_delete,
                si,
                True,
            ),
            (
                "GET",
                r"(?P<adm>[^/]+)/contacts/synchronization",
                self.h_contacts_sync_list,
                CONTACT_SCOPES,
                True,
            ),
            (
                "POST",
                r"(?P<adm>[^/]+)/contacts/synchronization",
                self.h_contacts_sync_fetch,
                CONTACT_SCOPES,
                True,
            ),
            (
                "GET",
                r"(?P<adm>[^/]+)/contacts/(?P<id>[^/]+)",
                self.h_contact_get,
                CONTACT_SCOPES,
                True,
            ),
            ("GET", r"(?P<adm>[^/]+)/financial_accounts", self.h_financial_accounts, st, True),
            ("GET", r"(?P<adm>[^/]+)/ledger_accounts", self.h_ledger_accounts, st, True),
            ("GET", r"(?P<adm>[^/]+)/webhooks", self.h_webhooks_list, st, True),
            ("POST", r"(?P<adm>[^/]+)/webhooks", self.h_webhook_create, st, False),
            ("DELETE", r"(?P<adm>[^/]+)/webhooks/(?P<id>[^/]+)", self.h_webhook_delete, st, True),
            (
                "PATCH",
                r"(?P<adm>[^/]+)/webhooks/(?P<id>[^/]+)/activate",
                self.h_webhook_activate,
                st,
                True,
            ),
            (
                "PATCH",
                r"(?P<adm>[^/]+)/webhooks/(?P<id>[^/]+)/deactivate",
                self.h_webhook_deactivate,
                st,
                True,
            ),
        ]
        return [(m, re.compile(p), h, s, lk) for m, p, h, s, lk in table]

    @staticmethod
    def _respond(status: int, body: Json, headers: dict[str, str] | None = None) -> flask.Response:
        if isinstance(body, _Text):  # download redirects answer text/plain
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

    def _take_fault(self, kind: str, method: str, path: str) -> _Fault | None:
        for f in self._faults:
            if (
                fault_kind(f.status) == kind
                and f.method == method
                and f.path_contains in path
                and f.times > 0
            ):
                f.times -= 1
                if f.times <= 0:
                    self._faults.remove(f)
                return f
        return None

    def _rate_check(self, key: str) -> flask.Response | None:
        if self.rate_limit is None:
            return None
        now = self._now_fn().timestamp()
        window = self._rate.get(key)
        if window is None or now >= window[0] + self.rate_window:
            window = [now, 0]
            self._rate[key] = window
        reset = int(window[0] + self.rate_window)
        if window[1] >= self.rate_limit:
            headers = {
                "RateLimit-Limit": str(self.rate_limit),
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(reset),
                "Retry-After": str(reset),
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
        window[1] += 1
        return None

    def _authenticate(self) -> _Token | flask.Response:
        header = flask.request.headers.get("Authorization", "")
        value = header[7:].strip() if header[:7].lower() == "bearer " else ""
        tok = self._tokens.get(value) if value else None
        if (
            tok is None
            or tok.revoked
            or tok.grant.revoked
            or (tok.expires_at is not None and self._now() >= tok.expires_at)
        ):
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
        with self._lock:
            self.calls.append(record)
        delay = None
        with self._lock:
            delay = self._take_fault("delay", method, path)
            lost = self._take_fault("lost", method, path)
        if delay is not None:
            time.sleep(delay.seconds)
        if lost is not None:
            drop_connection(flask.request.environ)
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
            fault = self._take_fault("error", method, path)
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
            if scopes is not None and not set(scopes) & set(tok.grant.scopes):
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
            if adm is None or adm_id not in tok.grant.administration_ids:
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

    # ------------------------------------------------------------------ OAuth

    def _oauth_error_page(self, message: str) -> flask.Response:
        page = html_page(
            "Fout bij autoriseren",
            f"<h1>Er ging iets mis</h1><p>{html.escape(message)}</p>"
            "<p>Controleer de instellingen van de applicatie (client_id en redirect_uri).</p>",
        )
        return flask.Response(page, status=400, content_type="text/html; charset=utf-8")

    def _check_client_redirect(self, client_id: str | None, redirect_uri: str | None) -> str | None:
        if client_id != self.client_id:
            return "Onbekende applicatie (client_id)."
        if not redirect_uri:
            return "De redirect_uri ontbreekt."
        if self.redirect_uri is not None and redirect_uri != self.redirect_uri:
            return "De redirect_uri komt niet overeen met de geregistreerde redirect URI."
        return None

    def oauth_authorize_get(self) -> flask.Response:
        """The consent page (Dutch) with one checkbox per administration."""
        args = flask.request.args
        problem = self._check_client_redirect(args.get("client_id"), args.get("redirect_uri"))
        if problem:
            return self._oauth_error_page(problem)
        redirect_uri = args["redirect_uri"]
        if args.get("response_type") != "code":
            return redirect_with(
                redirect_uri,
                {
                    "error": "unsupported_response_type",
                    "error_description": OAUTH_ERRORS["unsupported_response_type"],
                    "state": args.get("state"),
                },
            )
        scopes = (args.get("scope") or "sales_invoices").split()
        unknown = [s for s in scopes if s not in ALL_SCOPES]
        if unknown:
            return redirect_with(
                redirect_uri,
                {
                    "error": "invalid_scope",
                    "error_description": "The requested scope is invalid, unknown, or malformed.",
                    "state": args.get("state"),
                },
            )
        with self._lock:
            adms = [(a["id"], a["name"]) for a in self._adms.values()]
        hidden = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(v)}">'
            for k, v in (
                ("client_id", args["client_id"]),
                ("redirect_uri", redirect_uri),
                ("response_type", "code"),
                ("scope", " ".join(scopes)),
                ("state", args.get("state", "")),
            )
        )
        boxes = "".join(
            f'<li><label><input type="checkbox" name="administration_ids" value="{a_id}" checked> '
            f"{html.escape(name)}</label></li>"
            for a_id, name in adms
        )
        scope_list = "".join(f"<li><code>{html.escape(s)}</code></li>" for s in scopes)
        body = (
            "<h1>Toegang verlenen</h1><p>De applicatie "
            f"<strong>{html.escape(args['client_id'])}</strong> "
            "vraagt toegang tot je Moneybird-administratie(s).</p>"
            f"<p>Gevraagde rechten:</p><ul>{scope_list}</ul>"
            f'<form method="post" action="/oauth/authorize">{hidden}'
            f"<p>Administraties:</p><ul>{boxes}</ul>"
            '<button type="submit" name="decision" value="approve">Toestaan</button> '
            '<button type="submit" name="decision" value="deny">Weigeren</button></form>'
        )
        return flask.Response(
            html_page("Moneybird – toegang verlenen", body), content_type="text/html; charset=utf-8"
        )

    def oauth_authorize_post(self) -> flask.Response:
        """Approve/deny the consent form: redirect back with a code or access_denied."""
        form = flask.request.form
        problem = self._check_client_redirect(form.get("client_id"), form.get("redirect_uri"))
        if problem:
            return self._oauth_error_page(problem)
        redirect_uri = form["redirect_uri"]
        state = form.get("state") or None
        adm_ids = [a for a in form.getlist("administration_ids") if a in self._adms]
        if form.get("decision") != "approve" or not adm_ids:
            return redirect_with(
                redirect_uri,
                {
                    "error": "access_denied",
                    "error_description": OAUTH_ERRORS["access_denied"],
                    "state": state,
                },
            )
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._codes[code] = {
                "client_id": form["client_id"],
                "redirect_uri": redirect_uri,
                "scopes": tuple((form.get("scope") or "sales_invoices").split()),
                "administration_ids": adm_ids,
                "expires_at": self._now() + timedelta(minutes=10),
                "used": False,
            }
        if redirect_uri == OOB_REDIRECT:
            return flask.Response(
                html_page("Autorisatiecode", f"<h1>Autorisatiecode</h1><p><code>{code}</code></p>"),
                content_type="text/html; charset=utf-8",
            )
        return redirect_with(redirect_uri, {"code": code, "state": state})

    @staticmethod
    def _oauth_json(
        status: int, error: str | None = None, body: dict[str, Any] | None = None
    ) -> flask.Response:
        payload = (
            body
            if body is not None
            else {"error": error, "error_description": OAUTH_ERRORS[error or ""]}
        )
        resp = flask.Response(json.dumps(payload), status=status, content_type="application/json")
        resp.headers["Cache-Control"] = "no-store"
        resp.headers["Pragma"] = "no-cache"
        if status == 401:
            resp.headers["WWW-Authenticate"] = 'Bearer realm="Doorkeeper", error="invalid_client"'
        return resp

    def oauth_token(self) -> flask.Response:
        """Doorkeeper-style token endpoint: authorization_code and refresh_token grants."""
        form = flask.request.form
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        auth = flask.request.headers.get("Authorization", "")
        if auth[:6].lower() == "basic ":
            try:
                decoded = base64.b64decode(auth[6:].strip()).decode()
                client_id, _, client_secret = decoded.partition(":")
            except ValueError:
                client_id = client_secret = None
        if client_id != self.client_id or not hmac.compare_digest(
            (client_secret or "").encode(), self.client_secret.encode()
        ):
            return self._oauth_json(401, "invalid_client")
        grant_type = form.get("grant_type")
        with self._lock:
            if grant_type == "authorization_code":
                code = self._codes.get(form.get("code") or "")
                if (
                    code is None
                    or code["used"]
                    or code["client_id"] != client_id
                    or code["redirect_uri"] != form.get("redirect_uri")
                    or self._now() >= code["expires_at"]
                ):
                    if code is not None:
                        code["used"] = True
                    return self._oauth_json(400, "invalid_grant")
                code["used"] = True
                grant = self._new_grant(client_id, code["administration_ids"], code["scopes"])
                tok = self._new_access(grant, self.token_ttl)
                return self._oauth_json(200, body=self._token_response(tok))
            if grant_type == "refresh_token":
                grant = self._grants.get(form.get("refresh_token") or "")
                if grant is None or grant.revoked or grant.client_id not in (None, client_id):
                    return self._oauth_json(400, "invalid_grant")
                for old in grant.access_tokens:  # Doorkeeper revokes the previous access token
                    if old in self._tokens:
                        self._tokens[old].revoked = True
                if self.rotate_refresh_tokens:
                    grant.revoked = True
                    del self._grants[grant.refresh_token]
                    grant = self._new_grant(client_id, grant.administration_ids, grant.scopes)
                tok = self._new_access(grant, self.token_ttl)
                return self._oauth_json(200, body=self._token_response(tok))
            if not grant_type:
                return self._oauth_json(400, "invalid_request")
            return self._oauth_json(400, "unsupported_grant_type")

    # ------------------------------------------------------------------ HTML view for people

    def view_index(self) -> str:
        """List administrations."""
        with self._lock:
            rows = "".join(
                f'<li><a href="/_emulator/{a["id"]}">{html.escape(a["name"])}</a> '
                f"({len(a['invoices'])} facturen, {len(a['contacts'])} contacten) – "
                f"id <code>{a['id']}</code></li>"
                for a in self._adms.values()
            )
        body = (
            "<h1>Moneybird-emulator</h1>"
            f"<p>Client id: <code>{html.escape(self.client_id)}</code></p>"
            f"<ul>{rows}</ul>"
        )
        return html_page("Moneybird-emulator", body)

    def view_administration(self, adm_id: str) -> flask.Response | str:
        """List invoices of one administration."""
        with self._lock:
            adm = self._adms.get(adm_id)
            if adm is None:
                flask.abort(404)
            self._refresh_states(adm)
            invs = sorted(
                adm["invoices"].values(),
                key=lambda i: (i["invoice_date"] or self._today(), i["id"]),
                reverse=True,
            )
            rows = []
            for inv in invs:
                c = adm["contacts"].get(inv["contact_id"], {})
                t = data.invoice_totals(inv)
                rows.append(
                    f"<tr><td><a href='/_emulator/{adm_id}/sales_invoices/{inv['id']}'>"
                    f"{html.escape(inv['invoice_id'] or 'concept')}</a></td>"
                    f"<td>{html.escape(_contact_name(c))}</td>"
                    f"<td>{iso_date(inv['invoice_date']) or ''}</td>"
                    f"<td>{iso_date(inv['due_date'])}</td>"
                    f"<td>{_STATE_NL.get(inv['state'], inv['state'])}</td>"
                    f"<td style='text-align:right'>€ {money(t['unpaid'])}</td></tr>"
                )
        body = (
            f"<p><a href='/_emulator/'>← administraties</a></p><h1>{html.escape(adm['name'])}</h1>"
            "<table><tr><th>Factuur</th><th>Contact</th><th>Datum</th><th>Vervaldatum</th><th>Status</th>"
            f"<th>Openstaand</th></tr>{''.join(rows)}</table>"
        )
        return html_page(adm["name"], body)

    def view_invoice(self, adm_id: str, invoice_id: str) -> flask.Response | str:
        """One invoice with notes, payments and webhook deliveries."""
        with self._lock:
            adm = self._adms.get(adm_id)
            if adm is None or invoice_id not in adm["invoices"]:
                flask.abort(404)
            self._refresh_states(adm)
            inv = self._render_invoice(adm, adm["invoices"][invoice_id])
            deliveries = [
                d
                for d in self.deliveries
                if d["entity_id"] == invoice_id
                or (d["entity_type"] in ("Payment", "Note") and d["administration_id"] == adm_id)
            ]
        e = html.escape
        notes = (
            "".join(f"<li>{e(n['created_at'])}: {e(n['note'] or '')}</li>" for n in inv["notes"])
            or "<li>geen</li>"
        )
        pays = (
            "".join(
                f"<li>{e(p['payment_date'])}: € {e(p['price'])}"
                f"{' (creditnota)' if p['credit_invoice_id'] else ''}</li>"
                for p in inv["payments"]
            )
            or "<li>geen</li>"
        )
        hooks = (
            "".join(
                f"<li>{e(d['action'])} → {e(d['url'])}: status {d['status']} "
                f"na {d['attempts']} poging(en)</li>"
                for d in deliveries[-20:]
            )
            or "<li>geen</li>"
        )
        button = ""
        if inv["state"] not in ("paid", "draft"):
            button = (
                "<form method='post' "
                f"action='/_emulator/{adm_id}/sales_invoices/{invoice_id}/mark_paid'>"
                "<button type='submit'>Markeer als betaald</button></form>"
            )
        body = (
            f"<p><a href='/_emulator/{adm_id}'>← facturen</a></p>"
            f"<h1>Factuur {e(inv['invoice_id'] or 'concept')}</h1>"
            f"<p>Contact: {e(_contact_name(inv['contact'] or {}))}<br>"
            f"Factuurdatum: {inv['invoice_date'] or '–'}, vervaldatum: {inv['due_date']}<br>"
            f"Status: <strong>{_STATE_NL.get(inv['state'], inv['state'])}</strong>"
            f"{' (gepauzeerd)' if inv['paused'] else ''}<br>"
            f"Totaal: € {inv['total_price_incl_tax']}, betaald: € {inv['total_paid']}, "
            f"openstaand: € {inv['total_unpaid']}<br>Versie: {inv['version']}</p>{button}"
            f"<h2>Notities</h2><ul>{notes}</ul><h2>Betalingen</h2><ul>{pays}</ul>"
            f"<h2>Webhook-afleveringen</h2><ul>{hooks}</ul>"
        )
        return html_page(f"Factuur {inv['invoice_id'] or 'concept'}", body)

    def view_mark_paid(self, adm_id: str, invoice_id: str) -> flask.Response:
        """Demo button: pay the open amount, then go back to the invoice."""
        try:
            self.mark_paid(adm_id, invoice_id)
        except (KeyError, ApiError):
            flask.abort(404)
        return flask.redirect(f"/_emulator/{adm_id}/sales_invoices/{invoice_id}", code=303)

    def _by_public_hash(self, adm_id: str, first: str, second: str
                        ) -> tuple[dict[str, Any], dict[str, Any]]:
        adm = self._adms.get(adm_id)
        if adm is not None:
            for inv in adm["invoices"].values():
                if inv["_hash"] == first + second and inv["state"] != "draft":
                    return adm, inv
        flask.abort(404)

    def view_public_invoice(self, adm_id: str, first: str, second: str) -> str:
        """The invoice's own online page (``url``/``payment_url``), with a "pay now" button
        standing in for Moneybird's payment providers: paying marks it paid (webhooks go out)."""
        with self._lock:
            adm, inv = self._by_public_hash(adm_id, first, second)
            self._refresh_states(adm)
            t = data.invoice_totals(inv)
            state = inv["state"]
            number = inv["invoice_id"] or "concept"
        e = html.escape
        if state == "paid":
            action = "<p role='status'><strong>Deze factuur is betaald.</strong> Dank u wel.</p>"
        else:
            action = (f"<form method='post' action='{e(flask.request.path)}/pay'>"
                      f"<button type='submit'>Nu betalen: € {money(t['unpaid'])}</button></form>")
        body = (f"<h1>Factuur {e(number)}</h1><p>{e(adm['name'])}</p>"
                f"<p>Openstaand: € {money(t['unpaid'])}</p>{action}")
        return html_page(f"Factuur {number}", body)

    def view_public_pay(self, adm_id: str, first: str, second: str) -> flask.Response:
        with self._lock:
            _adm, inv = self._by_public_hash(adm_id, first, second)
            invoice_id = inv["id"]
        with contextlib.suppress(ApiError):  # already paid: the page says so
            self.mark_paid(adm_id, invoice_id)
        return flask.redirect(flask.request.path.rsplit("/", 1)[0], code=303)

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
                hook = self.exchange_hook
                if hook is not None:
                    try:
                        hook(flask.request, response)
                    except Exception as exc:  # a broken checker must never break the API
                        with self._lock:
                            self.hook_errors.append(f"{type(exc).__name__}: {exc}")
            return response

        return app


_STATE_NL = {
    "draft": "concept",
    "open": "openstaand",
    "scheduled": "ingepland",
    "pending_payment": "betaling in behandeling",
    "late": "te laat",
    "reminded": "herinnerd",
    "paid": "betaald",
    "uncollectible": "oninbaar",
}


def _contact_name(c: dict[str, Any]) -> str:
    return (
        c.get("company_name")
        or " ".join(x for x in (c.get("firstname"), c.get("lastname")) if x)
        or "–"
    )



def run(port: int, seed: int = 1, token: str | None = None, host: str = "127.0.0.1") -> None:
    """CLI entry: serve a seeded emulator until Ctrl-C (``connector emulator moneybird``)."""
    emulator = MoneybirdEmulator(seed=seed)
    if token:
        emulator.register_token(token)
    server = emulator.serve(host=host, port=port)
    lines = [
        f"Moneybird-emulator draait op {server.url}",
        f"  API:       {server.url}/api/v2",
        f"  OAuth:     {server.url}/oauth/authorize  (client_id={emulator.client_id}, "
        f"client_secret={emulator.client_secret})",
        f"  Overzicht: {server.url}/_emulator/",
        f"  Administraties: {', '.join(emulator.administration_ids())}",
    ]
    if token:
        lines.append(
            "  Persoonlijke API-token geregistreerd (alle administraties, sales_invoices+settings)"
        )
    print("\n".join(lines), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()


__all__ = ["EmulatorServer", "MoneybirdEmulator", "run"]
