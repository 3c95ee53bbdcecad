"""The API's handlers: sales invoices, notes, payments, contacts, accounts, webhooks."""

from __future__ import annotations

import re
import secrets
import time
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import flask

from providers.emulator_kit.oauth import AccessToken
from providers.moneybird import emulator_data as data
from providers.moneybird.emulator.common import (
    PAYMENT_ACTIONS,
    ApiError,
    Json,
    Result,
    TextBody,
    contact_name,
    not_found,
    unprocessable,
)
from providers.moneybird.emulator.pdf import simple_pdf
from providers.moneybird.emulator_data import CENT, iso_date, iso_ts, money


class Resources:
    """Mixin: one ``h_*`` method per route; they return (status, body, headers)."""

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

    def h_administrations(self, token: AccessToken) -> Result:
        adms = [
            self._render_administration(a)
            for a in self._adms.values()
            if a["id"] in token.grant.scope["administration_ids"]
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
        text = TextBody(f'"This resource has been moved temporarily to {url}."')
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
            f"Aan: {contact_name(contact) if contact else '-'}",
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
                raise unprocessable("sales_invoice_ids", "can't be blank", "blank")
            invoices = [self._inv(adm, i) for i in ids]
            for inv in invoices:
                if str(inv["contact_id"]) != str(item["contact_id"]):
                    raise unprocessable("sales_invoice_ids", "belongs to another contact",
                                         "invalid")
                if inv["state"] in ("draft", "paid", "uncollectible"):
                    raise unprocessable("sales_invoice_ids", "can't be reminded", "invalid")
            method = item.get("delivery_method") or "Email"
            if method not in ("Email", "Manual"):
                raise unprocessable("delivery_method", "is not included in the list",
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
            raise unprocessable("note", "can't be blank", "blank")
        todo = note.get("todo", False)
        todo = todo if isinstance(todo, bool) else str(todo).lower() in ("true", "1")
        assignee = note.get("assignee_id")
        if assignee is not None:
            if str(assignee) not in (adm["user_id"], adm["api_user_id"]):
                raise unprocessable("assignee_id", "is invalid", "invalid")
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
            raise not_found("id")
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
            raise unprocessable("payment_date", "can't be blank", "blank")
        try:
            on = date.fromisoformat(str(pay["payment_date"])[:10])
        except ValueError as exc:
            raise unprocessable("payment_date", "is invalid", "invalid") from exc
        if pay.get("price") in (None, ""):
            raise unprocessable("price", "can't be blank", "blank")
        price = self._parse_money(pay["price"])
        if price is None:
            raise unprocessable("price", "is not a number", "not_a_number")
        price_base = price
        if pay.get("price_base") not in (None, ""):
            price_base = self._parse_money(pay["price_base"])
            if price_base is None:
                raise unprocessable("price_base", "is not a number", "not_a_number")
        action = pay.get("manual_payment_action")
        if action is not None and action not in PAYMENT_ACTIONS:
            raise unprocessable(
                "manual_payment_action", "is not included in the list", "inclusion"
            )
        needed = PAYMENT_ACTIONS.get(action) if action else None
        if needed and pay.get(needed) in (None, ""):
            raise unprocessable(needed, "can't be blank", "blank")
        for key in (
            "financial_account_id",
            "financial_mutation_id",
            "ledger_account_id",
            "invoice_id",
        ):
            if pay.get(key) is not None and not re.fullmatch(r"\d+", str(pay[key])):
                raise unprocessable(key, "is invalid", "invalid")
        fa_id = (
            str(pay["financial_account_id"])
            if pay.get("financial_account_id") is not None
            else None
        )
        if fa_id is not None and fa_id not in {f["id"] for f in adm["financial_accounts"]}:
            raise unprocessable("financial_account_id", "is invalid", "invalid")
        if inv["is_draft"]:
            raise unprocessable(
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
            raise not_found("id")
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
        status = self.webhooks.probe(url, b"{}", {"Content-Type": "application/json"})
        ok = status == 200
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
