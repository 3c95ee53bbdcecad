"""The Xero emulator's accounting endpoints (``/api.xro/2.0/…``).

Invoices (list, one, PDF by ``Accept``), History (read, add), OnlineInvoice, Payments (PUT),
Contacts, Accounts and Organisation, with Xero's paging (``page``/``pageSize``, 100 by
default), ``If-Modified-Since``, ``Statuses``, ``IDs``, a small ``where`` (``A=="b"`` joined by
AND) and ``Idempotency-Key`` (a repeated key answers what the first call answered).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any

import flask

from providers.xero import emulator_data as data
from providers.xero.emulator_errors import ApiError, validation_error
from providers.xero.emulator_pdf import invoice_pdf

Row = dict[str, Any]
Result = tuple[int, Any, dict[str, str]]
PAGE_DEFAULT, PAGE_MAX = 100, 1000
NOTE_LIMIT = 4000
_CLAUSE = re.compile(r'^\s*(\w+)\s*==\s*(?:"([^"]*)"|(true|false))\s*$', re.I)
_GUID = re.compile(r"^[0-9a-fA-F-]{36}$")


def _since(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        at = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        try:
            at = parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            raise validation_error("If-Modified-Since is not a date") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _where(raw: str | None) -> list[tuple[str, Any]]:
    clauses: list[tuple[str, Any]] = []
    for part in re.split(r"\s+AND\s+", raw or "", flags=re.I) if raw else []:
        match = _CLAUSE.match(part)
        if not match:
            raise validation_error("The where clause could not be parsed")
        value: Any = match.group(2) if match.group(2) is not None else \
            match.group(3).lower() == "true"
        clauses.append((match.group(1), value))
    return clauses


class ApiMixin:
    """Accounting endpoints (mixed into :class:`XeroEmulator`)."""

    # -- rendering ------------------------------------------------------------------------

    @staticmethod
    def amount_due(row: Row) -> Decimal:
        return row["Total"] - row["AmountPaid"] - row["AmountCredited"]

    def render_invoice(self: Any, org: Row, row: Row) -> Row:
        offset = org["date_offset"]
        contact = org["contacts"][row["ContactID"]]
        sub = data.cents(row["Total"] / Decimal("1.21"))
        out = {
            "Type": row["Type"], "InvoiceID": row["InvoiceID"],
            "InvoiceNumber": row["InvoiceNumber"], "Reference": row["Reference"],
            "Contact": {"ContactID": contact["ContactID"], "Name": contact["Name"]},
            "Date": data.ms_date(row["Date"], offset),
            "DueDate": data.ms_date(row["DueDate"], offset),
            "Status": row["Status"], "LineAmountTypes": "Exclusive",
            "SubTotal": sub, "TotalTax": row["Total"] - sub, "Total": row["Total"],
            "AmountDue": self.amount_due(row), "AmountPaid": row["AmountPaid"],
            "AmountCredited": row["AmountCredited"], "CurrencyCode": row["CurrencyCode"],
            "CurrencyRate": Decimal("1"), "IsDiscounted": False, "HasAttachments": False,
            "HasErrors": False, "SentToContact": True,
            "UpdatedDateUTC": data.ms_date(row["UpdatedDateUTC"]),
            "Payments": [self.render_payment(org, p, brief=True) for p in row["Payments"]],
            "CreditNotes": [], "Prepayments": [], "Overpayments": [],
        }
        if row.get("FullyPaidOnDate"):
            out["FullyPaidOnDate"] = data.ms_date(row["FullyPaidOnDate"], offset)
        return out

    def render_payment(self: Any, org: Row, p: Row, brief: bool = False) -> Row:
        out = {"PaymentID": p["PaymentID"], "Date": data.ms_date(p["Date"], org["date_offset"]),
               "Amount": p["Amount"], "Reference": p["Reference"], "CurrencyRate": Decimal("1"),
               "HasAccount": True, "HasValidationErrors": False}
        if brief:
            return out
        invoice = org["invoices"][p["InvoiceID"]]
        return {**out, "Status": "AUTHORISED", "PaymentType": "ACCRECPAYMENT",
                "IsReconciled": False, "UpdatedDateUTC": data.ms_date(p["UpdatedDateUTC"]),
                "Account": {"AccountID": p["AccountID"], "Code": p["AccountCode"]},
                "Invoice": {"InvoiceID": invoice["InvoiceID"],
                            "InvoiceNumber": invoice["InvoiceNumber"], "Type": "ACCREC"}}

    @staticmethod
    def render_contact(row: Row) -> Row:
        out = {k: v for k, v in row.items() if v is not None and k != "UpdatedDateUTC"}
        out["UpdatedDateUTC"] = data.ms_date(row["UpdatedDateUTC"])
        return out

    @staticmethod
    def render_history(row: Row) -> Row:
        at: datetime = row["DateUTC"]
        return {"Changes": row.get("Changes", "Note"), "DateUTCString":
                at.strftime("%Y-%m-%dT%H:%M:%S"), "DateUTC": data.ms_date(at),
                "User": row.get("User", "System Generated"), "Details": row["Details"]}

    def envelope(self: Any, name: str, rows: list[Row], paging: Row | None = None) -> Row:
        body: Row = {"Id": str(uuid.uuid4()), "Status": "OK", "ProviderName": "Xero Emulator",
                     "DateTimeUTC": data.ms_date(self.now()).replace("+0000", "")}
        if paging is not None:
            body["pagination"] = paging
        body[name] = rows
        return body

    # -- lists ----------------------------------------------------------------------------

    def _listing(self: Any, rows: list[Row], args: Any, fields: dict[str, str],
                 id_field: str) -> tuple[list[Row], Row | None]:
        since = _since(flask.request.headers.get("If-Modified-Since"))
        if since is not None:
            rows = [r for r in rows if r["UpdatedDateUTC"] >= since]
        for name, value in _where(args.get("where")):
            if name not in fields:
                self._violation("where_field", f"where on {name} is not supported")
                raise validation_error(f"Unsupported where field {name}")
            rows = [r for r in rows if r.get(fields[name]) == value]
        if args.get("IDs"):
            wanted = {i.strip().lower() for i in args["IDs"].split(",")}
            rows = [r for r in rows if r[id_field].lower() in wanted]
        order = (args.get("order") or "UpdatedDateUTC ASC").split()
        key = order[0] if order and order[0] in ("UpdatedDateUTC", "InvoiceNumber", "Name") \
            else "UpdatedDateUTC"
        rows = sorted(rows, key=lambda r: (r.get(key) or "", r[id_field]),
                      reverse=len(order) > 1 and order[1].upper() == "DESC")
        if "page" not in args:
            if not args.get("IDs") and len(rows) > PAGE_DEFAULT:
                self._violation("unpaged_list", f"{flask.request.path} without page")
            return rows, None
        try:
            page = max(1, int(args["page"]))
            size = min(PAGE_MAX, max(1, int(args.get("pageSize", PAGE_DEFAULT))))
        except ValueError:
            raise validation_error("page and pageSize must be numbers") from None
        count = len(rows)
        return rows[(page - 1) * size: page * size], {
            "page": page, "pageSize": size, "pageCount": -(-count // size), "itemCount": count}

    def h_invoices(self: Any, org: Row) -> Result:
        args = flask.request.args
        rows = list(org["invoices"].values())
        if args.get("Statuses"):
            wanted = {s.strip().upper() for s in args["Statuses"].split(",")}
            rows = [r for r in rows if r["Status"] in wanted]
        rows, paging = self._listing(rows, args, {"Type": "Type", "Status": "Status",
                                                  "Reference": "Reference"}, "InvoiceID")
        return 200, self.envelope("Invoices", [self.render_invoice(org, r) for r in rows],
                                  paging), {}

    def h_contacts(self: Any, org: Row) -> Result:
        rows, paging = self._listing(list(org["contacts"].values()), flask.request.args,
                                     {"IsCustomer": "IsCustomer", "Name": "Name"}, "ContactID")
        return 200, self.envelope("Contacts", [self.render_contact(r) for r in rows],
                                  paging), {}

    # -- one invoice ----------------------------------------------------------------------

    def invoice_row(self: Any, org: Row, invoice_id: str) -> Row:
        row = org["invoices"].get(invoice_id.lower()) or org["invoices"].get(invoice_id)
        if row is None:
            raise ApiError(404, b"The resource you're looking for cannot be found",
                           {"Content-Type": "text/plain"})
        return row

    def h_invoice(self: Any, org: Row, invoice_id: str) -> Result:
        row = self.invoice_row(org, invoice_id)
        if "application/pdf" in flask.request.headers.get("Accept", ""):
            contact = org["contacts"][row["ContactID"]]
            pdf = invoice_pdf(f"Factuur {row['InvoiceNumber']}", [org["Name"], contact["Name"],
                              f"Vervaldatum {row['DueDate']:%d-%m-%Y}",
                              f"Totaal {row['CurrencyCode']} {row['Total']}"])
            return 200, pdf, {"Content-Type": "application/pdf"}
        return 200, self.envelope("Invoices", [self.render_invoice(org, row)]), {}

    def h_online_invoice(self: Any, org: Row, invoice_id: str) -> Result:
        row = self.invoice_row(org, invoice_id)
        if row["Type"] != "ACCREC" or row["Status"] not in ("AUTHORISED", "PAID"):
            raise validation_error("Online invoices are only available for approved sales "
                                   "invoices")
        url = f"{self.base_url()}/_emulator/online/{org['tenantId']}/{row['InvoiceID']}"
        return 200, {"OnlineInvoices": [{"OnlineInvoiceUrl": url}]}, {}

    def h_history(self: Any, org: Row, invoice_id: str) -> Result:
        row = self.invoice_row(org, invoice_id)
        notes = org["history"].setdefault(row["InvoiceID"], [])
        if flask.request.method == "GET":
            return 200, {"HistoryRecords": [self.render_history(n) for n in notes]}, {}
        body = self.json_body()
        records = body.get("HistoryRecords") if isinstance(body, dict) else None
        if not isinstance(records, list) or not records:
            raise validation_error("HistoryRecords are required")
        added = []
        for record in records:
            details = record.get("Details") if isinstance(record, dict) else None
            if not isinstance(details, str) or not details.strip():
                raise validation_error("Details are required")
            if len(details) > NOTE_LIMIT:
                raise validation_error("Details must be 4000 characters or less")
        for record in records:
            note = {"Details": record["Details"], "Changes": "Note",
                    "User": "System Generated", "DateUTC": self.now()}
            notes.append(note)
            added.append(note)
        return 200, {"HistoryRecords": [{**self.render_history(n), "ValidationErrors": []}
                                        for n in added]}, {}

    # -- payments -------------------------------------------------------------------------

    def _account(self: Any, org: Row, ref: Any) -> Row:
        if isinstance(ref, dict):
            for account in org["accounts"]:
                if ref.get("AccountID") == account["AccountID"] or \
                        (ref.get("Code") and ref.get("Code") == account["Code"]):
                    if account["Status"] != "ACTIVE":
                        break
                    if account["Type"] == "BANK" or account["EnablePaymentsToAccount"]:
                        return account
                    raise validation_error("Payments cannot be made to this account")
        raise validation_error("Account could not be found")

    def h_payments(self: Any, org: Row) -> Result:
        body = self.json_body()
        items = body.get("Payments") if isinstance(body, dict) else None
        if not isinstance(items, list) or len(items) != 1:
            raise validation_error("One payment per request (emulator)")
        item = items[0]
        invoice_ref = item.get("Invoice") or {}
        row = self.invoice_row(org, str(invoice_ref.get("InvoiceID") or ""))
        account = self._account(org, item.get("Account"))
        try:
            amount = data.cents(Decimal(str(item.get("Amount"))))
            paid_on = date.fromisoformat(str(item.get("Date"))[:10])
        except (InvalidOperation, ValueError):
            raise validation_error("Amount and Date are required") from None
        if row["Type"] != "ACCREC" or row["Status"] != "AUTHORISED":
            raise validation_error("Payment can only be applied to an AUTHORISED invoice")
        if amount <= 0 or amount > self.amount_due(row):
            raise validation_error("Payment amount exceeds the amount outstanding on this "
                                   "document")
        payment = self.add_payment(org, row, amount, paid_on, str(item.get("Reference") or ""),
                                   account)
        return 200, {"Payments": [self.render_payment(org, payment)]}, {}

    def add_payment(self: Any, org: Row, row: Row, amount: Decimal, paid_on: date,
                    reference: str, account: Row) -> Row:
        """Apply a payment (ours through the API, or the debtor's in the views)."""
        now = self.now()
        payment = {"PaymentID": str(uuid.uuid4()), "InvoiceID": row["InvoiceID"],
                   "Amount": amount, "Date": paid_on, "Reference": reference,
                   "AccountID": account["AccountID"], "AccountCode": account["Code"],
                   "UpdatedDateUTC": now}
        row["Payments"].append(payment)
        row["AmountPaid"] += amount
        row["UpdatedDateUTC"] = now
        if self.amount_due(row) <= 0:
            row["Status"], row["FullyPaidOnDate"] = "PAID", paid_on
        org["payments"][payment["PaymentID"]] = payment
        self.emit(org["tenantId"], "INVOICE", "UPDATE", row["InvoiceID"])
        return payment

    # -- dispatch -------------------------------------------------------------------------

    def json_body(self: Any) -> Any:
        body = flask.request.get_json(silent=True)
        if body is None:
            raise validation_error("The request body is not JSON")
        return body

    def _idempotent(self: Any, org: Row, method: str, rest: str, run: Any) -> Result:
        key = flask.request.headers.get("Idempotency-Key")
        if not key:
            return run()
        if len(key) > 128:
            raise validation_error("Idempotency-Key must be 128 characters or less")
        digest = hashlib.sha256(f"{method} {rest} ".encode() + flask.request.get_data()
                                ).hexdigest()
        with self._lock:
            seen = org["idempotency"].get(key)
            if seen is not None:
                return seen[1] if seen[0] == digest else (
                    409, {"Message": "Idempotency-Key reused with another request"}, {})
            result = run()
            if result[0] < 500:
                org["idempotency"][key] = (digest, result)
            return result

    def _handle(self: Any, method: str, rest: str, access: Any, tenant: str) -> Result:
        org = self.orgs[tenant]
        parts = [p for p in rest.split("/") if p]
        head = parts[0].lower() if parts else ""
        with self._lock:
            if head == "invoices":
                write = method in ("PUT", "POST")
                self.require_scope(access, "invoices", write)
                if len(parts) == 1 and method == "GET":
                    return self.h_invoices(org)
                if len(parts) >= 2 and not _GUID.match(parts[1]):
                    raise validation_error("InvoiceID is not a GUID")
                if len(parts) == 2 and method == "GET":
                    return self.h_invoice(org, parts[1])
                if len(parts) == 3 and parts[2].lower() == "history" and method in ("GET", "PUT"):
                    if method == "PUT":
                        return self._idempotent(org, method, rest,
                                                lambda: self.h_history(org, parts[1]))
                    return self.h_history(org, parts[1])
                if len(parts) == 3 and parts[2].lower() == "onlineinvoice" and method == "GET":
                    return self.h_online_invoice(org, parts[1])
            if head == "payments" and len(parts) == 1 and method in ("PUT", "POST"):
                self.require_scope(access, "payments", True)
                return self._idempotent(org, method, rest, lambda: self.h_payments(org))
            if head == "contacts" and len(parts) == 1 and method == "GET":
                self.require_scope(access, "contacts", False)
                return self.h_contacts(org)
            if head == "accounts" and len(parts) == 1 and method == "GET":
                self.require_scope(access, "settings", False)
                return 200, self.envelope("Accounts", [
                    {k: v for k, v in a.items() if v is not None} for a in org["accounts"]]), {}
            if head == "organisation" and len(parts) == 1 and method == "GET":
                self.require_scope(access, "settings", False)
                return 200, self.envelope("Organisations", [{
                    "OrganisationID": org["tenantId"], "Name": org["Name"],
                    "BaseCurrency": org["BaseCurrency"], "CountryCode": org["CountryCode"],
                    "OrganisationStatus": "ACTIVE", "ShortCode": org["ShortCode"]}]), {}
        raise ApiError(404, b"The resource you're looking for cannot be found",
                       {"Content-Type": "text/plain"})
