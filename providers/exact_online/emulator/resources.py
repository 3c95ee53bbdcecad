"""The API's handlers beyond plain GETs: Me, divisions, notes, entries, webhooks."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import time as dtime
from decimal import Decimal
from urllib.parse import urlsplit

import flask

from providers.emulator_kit.oauth import Grant
from providers.exact_online import emulator_data as data
from providers.exact_online.emulator.common import WEBHOOK_TOPICS, ApiError, Row
from providers.exact_online.emulator.odata import ODataFilter
from providers.exact_online.emulator.schema import (
    ACCOUNT_WRITABLE,
    DIVISION_FIELDS,
    LINE_FIELDS,
    ME_FIELDS,
    NOTE_FIELDS,
    WEBHOOK_FIELDS,
)
from providers.exact_online.emulator.sets import EntitySet
from providers.exact_online.emulator_data import cents


class Resources:
    """Mixin: one ``h_*`` method per write or special read."""

    # ------------------------------------------------------------------ handlers

    def current_for(self, grant: Grant) -> int:
        """``Me.CurrentDivision`` as a token sees it. With division scoping, a consent that
        leaves out the division the user last opened in the browser gets one of the consented
        divisions instead (the lowest code here), so ``/{CurrentDivision}/system/Divisions``
        always answers; a division outside the consent is refused with
        ``403 Forbidden - User division is not within division scope`` (exact-online.md §2.4;
        which consented division Exact picks is UNCERTAIN, clients must not rely on it)."""
        inside = sorted(d for d in grant.scope["divisions"] if d in self._divs)
        if self.current_division in inside or not inside:
            return self.current_division
        return inside[0]

    def h_me(self, grant: Grant) -> Row:
        cur = self._divs[self.current_for(grant)]
        now = self.now()
        me = {
            **self.user,
            "CurrentDivision": cur["Code"],
            "AccountingDivision": cur["Code"],
            "DivisionCustomer": cur["Customer"],
            "DivisionCustomerCode": cur["CustomerCode"],
            "DivisionCustomerName": cur["CustomerName"],
            "DivisionCustomerVatNumber": cur["VATNumber"],
            "ServerTime": now,
            "ServerUtcOffset": Decimal("1") if now.month in (11, 12, 1, 2, 3) else Decimal("2"),
        }
        select = flask.request.args.get("$select")
        names = [n.strip() for n in select.split(",")] if select else list(ME_FIELDS)
        for n in names:
            if n not in ME_FIELDS:
                raise ApiError(
                    400, f"Could not find a property named '{n}' on type 'Exact.Web.Api.System.Me'."
                )
        row: Row = {
            "__metadata": {
                "uri": f"{self._base_url()}/api/v1/current/Me(guid'{self.user['UserID']}')",
                "type": "Exact.Web.Api.System.Me",
            }
        }
        row.update({n: me[n] for n in names})
        return {"d": {"results": [row]}}

    def h_divisions(self, div: Row, grant: Grant, all_: bool) -> Row:
        select = flask.request.args.get("$select")
        names = [n.strip() for n in select.split(",")] if select else list(DIVISION_FIELDS)
        type_name = "Exact.Web.Api.Models.System.Division"
        for n in names:
            if n not in DIVISION_FIELDS:
                raise ApiError(400, f"Could not find a property named '{n}' on type '{type_name}'.")
        flt = None
        if flask.request.args.get("$filter"):
            flt = ODataFilter(flask.request.args["$filter"], DIVISION_FIELDS, type_name)
        path = "system/AllDivisions" if all_ else "system/Divisions"
        results = []
        for d in self._divs.values():
            if not all_ and d["Code"] not in grant.scope["divisions"]:
                continue
            row = self._r_division(d)
            if flt is not None and not flt.matches(row):
                continue
            out: Row = {
                "__metadata": {"uri": self._uri(div["Code"], path, d["Code"]), "type": type_name}
            }
            out.update({n: row[n] for n in names})
            results.append(out)
        return {"d": {"results": results}}

    def h_note_create(self, div: Row) -> tuple[int, Row]:
        s = self._sets["activities/CommunicationNotes"]
        body = self._json_body(s.type_name)
        self._unknown_props(body, NOTE_FIELDS, s.type_name)
        account = self._guid(body, "Account")
        contact = self._guid(body, "Contact")
        on = self._date(body, "Date") or self._today()
        if account is None:
            raise ApiError(400, "Mandatory: Account")
        if account not in div["accounts"]:
            raise ApiError(400, "Invalid value: Account")
        if contact is not None and contact not in div["contacts"]:
            raise ApiError(400, "Invalid value: Contact")
        subject = body.get("Subject")
        if not isinstance(subject, str) or not subject.strip():
            raise ApiError(400, "Mandatory: Subject")
        notes = body.get("Notes")
        if notes is not None and not isinstance(notes, str):
            raise self._conversion_error("Notes", "System.String")
        now = self.now()
        rec = {
            "ID": data.guid(self._rng),
            "Account": account,
            "Contact": contact,
            "Subject": subject,
            "Notes": notes,
            "Date": datetime.combine(on, dtime(0), UTC),
            "Created": now,
            "Modified": now,
        }
        div["notes"][rec["ID"]] = rec
        return 201, {"d": self._with_meta(div, s, self._r_note(div, rec))}

    def h_entry_create(self, div: Row, kind: str) -> tuple[int, Row]:
        s = self._sets["financialtransaction/" + kind]
        line_prop = "BankEntryLines" if kind == "BankEntries" else "CashEntryLines"
        body = self._json_body(s.type_name)
        header_fields = [*s.fields, "ClosingBalanceFC", "OpeningBalanceFC", "BankStatementDocument"]
        self._unknown_props(body, header_fields, s.type_name)
        journal = body.get("JournalCode")
        if journal in (None, ""):
            raise ApiError(400, "Mandatory: Journal")
        journal = str(journal)
        wanted = 12 if kind == "BankEntries" else 10
        if journal not in div["journals"] or div["journals"][journal]["Type"] != wanted:
            raise ApiError(400, f"Invalid value: Journal '{journal}'")
        raw_lines = body.get(line_prop)
        if isinstance(raw_lines, dict) and isinstance(raw_lines.get("results"), list):
            raw_lines = raw_lines["results"]
        if not isinstance(raw_lines, list) or not raw_lines:
            raise ApiError(400, f"Mandatory: {line_prop}")
        gl_ids = {g["ID"] for g in div["gl_accounts"].values()}
        line_type = s.type_name + "Line"
        lines = []
        for raw in raw_lines:
            if not isinstance(raw, dict):
                raise self._conversion_error(line_prop, line_type)
            self._unknown_props(raw, [*LINE_FIELDS, "AmountVATFC", "VATCode", "Notes"], line_type)
            gl = self._guid(raw, "GLAccount")
            amount = self._money(raw, "AmountFC")
            account = self._guid(raw, "Account")
            if gl is None:
                raise ApiError(400, "Mandatory: GLAccount")
            if gl not in gl_ids:
                raise ApiError(400, "Invalid value: GLAccount")
            if amount is None:
                raise ApiError(400, "Mandatory: AmountFC")
            if account is not None and account not in div["accounts"]:
                raise ApiError(400, "Invalid value: Account")
            description = raw.get("Description")
            lines.append(
                {
                    "Account": account,
                    "AmountFC": amount,
                    "Date": self._date(raw, "Date") or self._today(),
                    "Description": description if isinstance(description, str) else None,
                    "GLAccount": gl,
                    "OurRef": self._int(raw, "OurRef"),
                }
            )
        entry = self._book_entry(div, kind, journal, lines, "api")
        row = self._r_entry(div, entry, expand=True)
        return 201, {"d": self._with_meta(div, s, row)}

    def h_entry_delete(self, div: Row, s: EntitySet, key: str) -> tuple[int, Row | None]:
        entry = self._single(div, s, key)
        for ln in entry["lines"]:
            if ln["matched_item"] and ln["applied"]:
                it = div["items"].get(ln["matched_item"])
                if it is not None:
                    it["Paid"] = cents(it["Paid"] - ln["applied"])
                    it["EndDate"] = None
                    self._touch(it)
        del div["entries"][entry["EntryID"]]
        self._emit(div, entry["kind"], "Delete", entry["EntryID"])
        return 204, None

    def h_put(self, div: Row, s: EntitySet, key: str) -> tuple[int, Row | None]:
        rec = self._single(div, s, key)
        body = self._json_body(s.type_name)
        self._unknown_props(body, s.fields, s.type_name)
        if s.path == "crm/Accounts":
            changes = {k: v for k, v in body.items() if k in ACCOUNT_WRITABLE}
            if "Blocked" in changes and not isinstance(changes["Blocked"], bool):
                raise self._conversion_error("Blocked", "System.Boolean")
            rec.update(changes)
            self._touch(rec)
            self._emit(div, "Accounts", "Update", rec["ID"])
        else:  # cashflow/Receivables: only these may change ("prepare collections")
            for k in ("Description", "PaymentMethod", "PaymentReference"):
                if k in body:
                    rec[k] = body[k]
            self._touch(rec)
        return 204, None

    def h_webhook_create(self, div: Row) -> tuple[int, Row]:
        """Runs WITHOUT the lock held while it POSTs the validation request."""
        s = self._sets["webhooks/WebhookSubscriptions"]
        body = self._json_body(s.type_name)
        self._unknown_props(body, WEBHOOK_FIELDS, s.type_name)
        url, topic = body.get("CallbackURL"), body.get("Topic")
        if not isinstance(url, str) or not url.strip():
            raise ApiError(400, "Mandatory: CallbackURL")
        if not isinstance(topic, str) or not topic:
            raise ApiError(400, "Mandatory: Topic")
        if topic not in WEBHOOK_TOPICS:
            raise ApiError(400, f"Invalid value: Topic '{topic}'")
        parts = urlsplit(url)
        loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
        if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
            raise ApiError(400, "Invalid: CallbackURL must use https")
        # Exact validates with an empty POST (Content-Length: 0) and needs a 2xx.
        status = self.webhooks.probe(url, b"") or 0
        if not 200 <= status < 300:
            raise ApiError(500, f"Invalid: Post to callback URL endpoint returns {status}")
        with self._lock:
            now = self.now()
            rec = {
                "ID": data.guid(self._rng),
                "CallbackURL": url,
                "ClientID": self.client_id,
                "Created": now,
                "Creator": self.user["UserID"],
                "CreatorFullName": self.user["FullName"],
                "Description": body.get("Description") or topic,
                "Topic": topic,
                "UserID": self.user["UserID"],
            }
            div["webhooks"][rec["ID"]] = rec
            return 201, {"d": self._with_meta(div, s, self._r_webhook(div, rec))}

    def h_webhook_delete(self, div: Row, s: EntitySet, key: str) -> tuple[int, Row | None]:
        rec = self._single(div, s, key)
        del div["webhooks"][rec["ID"]]
        return 204, None
