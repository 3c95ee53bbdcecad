"""One Xero organisation through the Ledger contract.

Sync (paged, resumable; every page carries the cursor that resumes after it):

1. ``contacts``: ``GET /Contacts`` ordered by ``UpdatedDateUTC``, ``If-Modified-Since`` the last
   high-water mark, 100 a page.
2. ``invoices``: ``GET /Invoices?where=Type=="ACCREC"`` the same way. The first pass asks only
   ``Statuses=AUTHORISED`` (open invoices; years of paid ones are not worth the calls) and sets
   the mark to when it began; later passes ask AUTHORISED, PAID, VOIDED and DELETED, so what was
   paid, credited or voided meanwhile closes its case.
3. ``links``: open, due invoices get their online-invoice link (the payment link in our
   letters; a call each), after every page that can open a case, 20 a page: ``GET
   /Invoices?IDs=…`` re-reads them and each is handed out again with its link. Invoices not
   yet due wait in the cursor (``later``) until they are.

Paging is by the high-water mark, not by page number: each page asks again from the newest
``UpdatedDateUTC`` seen (less a second of overlap; duplicates are harmless), so an invoice
edited during the pass moves to the end instead of shifting one past us. Only when a whole page
shares one second does the page number step on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Generator, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from providers.base import (
    InvoiceChangesPage,
    InvoiceRecord,
    InvoiceStatus,
    LedgerError,
    PaymentSettings,
    Rejected,
    SyncCursor,
    TokenSource,
    Transient,
    WebhookRegistration,
)
from providers.http import utcnow, write_once
from providers.xero import mapping
from providers.xero.api import XeroApi


class XeroHost(Protocol):
    """What a ledger needs of its provider (:class:`providers.xero.provider.XeroProvider`)."""

    webhook_key: str
    today: Callable[[], date]

    def api(self, tenant_id: str, tokens: TokenSource) -> XeroApi: ...

    def connection_id(self, tenant_id: str, tokens: TokenSource) -> str | None: ...

    def delete_connection(self, connection_id: str, tokens: TokenSource) -> None: ...

PAGE_SIZE = 100
OVERLAP = timedelta(seconds=1)  # If-Modified-Since is re-asked a second early
FIRST_PASS_MARGIN = timedelta(minutes=5)  # clock skew between us and Xero
OPEN_STATUSES = "AUTHORISED"
ALL_STATUSES = "AUTHORISED,PAID,VOIDED,DELETED"
SALES_ONLY = 'Type=="ACCREC"'
LINKS_PER_PAGE = 20  # invoices re-read by IDs (URLs break near 52 GUIDs, Xero-Java #328)
NOTE_LIMIT = 4000  # History Details (UNCERTAIN: xero-mcp-server #133)
KEY_LIMIT = 128  # Idempotency-Key
CHOICE_FIELD = "payment_account_id"


def _since_header(at: datetime) -> str:
    """If-Modified-Since as the spec types it (ISO 8601 date-time, UTC), whole seconds."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def idempotency_key(key: str) -> str:
    """Our write key as Xero's Idempotency-Key (at most 128 characters)."""
    return key if len(key) <= KEY_LIMIT else hashlib.sha256(key.encode()).hexdigest()


def marker(key: str) -> str:
    """What a note or payment reference carries so a lost answer can be looked up."""
    return f"[ref {key}]"


class XeroLedger:
    def __init__(self, provider: XeroHost, tenant_id: str, tokens: TokenSource) -> None:
        self.provider = provider
        self.tenant_id = tenant_id
        self.api = provider.api(tenant_id, tokens)
        self.today: Callable[[], date] = provider.today

    @property
    def api_calls(self) -> int:
        return self.api.calls

    # -- reading --------------------------------------------------------------------------

    def _list(self, path: str, envelope: str, params: dict[str, Any],
              since: str | None) -> tuple[list[dict], int | None]:
        """The rows of one answer and Xero's ``pagination.itemCount`` (None where absent)."""
        headers = {}
        if since:
            headers["If-Modified-Since"] = _since_header(datetime.fromisoformat(since) - OVERLAP)
        payload = self.api.body("GET", path, params=params, headers=headers)
        rows = payload.get(envelope) if isinstance(payload, dict) else None
        if not isinstance(rows, list):
            raise Transient(f"Xero answer lacks {envelope}")
        paging = payload.get("pagination") if isinstance(payload, dict) else None
        count = paging.get("itemCount") if isinstance(paging, dict) else None
        return rows, count if isinstance(count, int) else None

    def _pages(self, state: dict[str, Any], phase: str, path: str, envelope: str,
               params: dict[str, Any]) -> Iterator[tuple[list[dict], int | None]]:
        """Rows a page at a time, keyset by UpdatedDateUTC; ``state[phase]`` is the mark.

        With each page: how many rows the whole pass brings, as far as Xero says (the rows
        handed out before plus what is left from this page on), for the progress on pages.
        """
        while True:
            since, page = state.get(phase), int(state.get(f"{phase}_page", 1))
            rows, left = self._list(path, envelope, {
                **params, "page": page, "pageSize": PAGE_SIZE,
                "order": "UpdatedDateUTC ASC"}, since)
            marks = [m for m in (mapping.moment(r.get("UpdatedDateUTC")) for r in rows) if m]
            # rows of the second of overlap were handed out with the page before
            again = sum(1 for m in marks if since and m <= datetime.fromisoformat(since))
            seen = int(state.get(f"{phase}_seen", 0))
            total = (seen + left - again - (page - 1) * PAGE_SIZE) if left is not None else None
            state[f"{phase}_seen"] = seen + len(rows) - again
            newest = max(marks).isoformat() if marks else None
            full = len(rows) >= PAGE_SIZE
            if full and newest and _later(newest, since):
                state[phase], state[f"{phase}_page"] = newest, 1
            elif full:
                state[f"{phase}_page"] = page + 1  # a whole page within one second
            else:
                state.pop(f"{phase}_page", None)
                state.pop(f"{phase}_seen", None)
                if newest and _later(newest, since):
                    state[phase] = newest
                state["phase"] = None
            yield rows, total
            if not full:
                return

    def changed_invoices(self, cursor: SyncCursor) -> Generator[InvoiceChangesPage, None, None]:
        state = _state(cursor.value)
        if not state.get("phase"):
            state["phase"] = "contacts"
            if "invoices" not in state:  # a first sync: open invoices only, from now on
                state["first_pass_from"] = (utcnow() - FIRST_PASS_MARGIN).isoformat()
        if state["phase"] == "contacts":
            for rows, _ in self._pages(state, "contacts", "/Contacts", "Contacts", {}):
                if state["phase"] is None:
                    state["phase"] = "invoices"
                yield InvoiceChangesPage(invoices=[], debtors=[mapping.debtor(r) for r in rows],
                                         deleted=[], cursor=json.dumps(state))
        if state["phase"] == "invoices":
            first = "first_pass_from" in state
            statuses = OPEN_STATUSES if first else ALL_STATUSES
            for rows, total in self._pages(state, "invoices", "/Invoices", "Invoices",
                                           {"where": SALES_ONLY, "Statuses": statuses}):
                records = [self._track(mapping.invoice(r), state) for r in rows
                           if r.get("Type", mapping.SALES) == mapping.SALES]
                if state["phase"] is None:
                    if first:
                        state["invoices"] = state.pop("first_pass_from")
                    state["phase"] = "links"
                yield InvoiceChangesPage(invoices=records, debtors=[], deleted=[],
                                         cursor=json.dumps(state), expected_total=total)
        if state["phase"] == "links":
            yield from self._links(state)

    def _track(self, record: InvoiceRecord, state: dict[str, Any]) -> InvoiceRecord:
        """Note which open invoices need their online-invoice link: due ones now (``links``),
        the others once due (``later``); closed ones need none."""
        links: list[str] = state.setdefault("links", [])
        later: dict[str, str] = state.setdefault("later", {})
        later.pop(record.id, None)
        if record.id in links:
            links.remove(record.id)
        if record.status == InvoiceStatus.OPEN:
            if record.due_date is not None and record.due_date > self.today():
                later[record.id] = record.due_date.isoformat()
            else:
                links.append(record.id)
        return record

    def _links(self, state: dict[str, Any]) -> Iterator[InvoiceChangesPage]:
        """The online-invoice links, a call each, after every page that can open a case: the
        invoices are read again (IDS_PER_CALL a call) and handed out with their link."""
        today = self.today().isoformat()
        later: dict[str, str] = state.setdefault("later", {})
        links: list[str] = state.setdefault("links", [])
        for invoice_id in sorted(i for i, due in later.items() if due <= today):
            del later[invoice_id]
            links.append(invoice_id)
        while links:
            batch = links[:LINKS_PER_PAGE]
            rows, _ = self._list("/Invoices", "Invoices", {"IDs": ",".join(batch)}, None)
            found = {str(r.get("InvoiceID")) for r in rows}
            records: list[InvoiceRecord] = []
            stopped: LedgerError | None = None
            for row in rows:
                record = mapping.invoice(row)
                if record.status == InvoiceStatus.OPEN:
                    try:
                        record = mapping.invoice(row, self.online_invoice_url(record.id))
                    except LedgerError as exc:  # keep the links fetched so far
                        stopped = exc
                        break
                records.append(record)
            done = {r.id for r in records} | (set(batch) - found if stopped is None else set())
            links[:] = [i for i in links if i not in done]
            if not links:
                state["phase"] = None
            if records or stopped is None:
                yield InvoiceChangesPage(invoices=records, debtors=[], deleted=[],
                                         cursor=json.dumps(state))
            if stopped is not None:
                raise stopped
        if state["phase"] is not None:
            state["phase"] = None
            yield InvoiceChangesPage(invoices=[], debtors=[], deleted=[],
                                     cursor=json.dumps(state))

    def _invoice_row(self, invoice_id: str) -> dict[str, Any]:
        rows = self.api.body("GET", f"/Invoices/{_guid(invoice_id)}").get("Invoices") or []
        if not rows:
            raise Rejected("invoice not found", status=404)
        return rows[0]

    def invoice(self, invoice_id: str) -> InvoiceRecord:
        """A fresh read (the just-in-time check); the online link is left to the sync."""
        return mapping.invoice(self._invoice_row(invoice_id))

    def online_invoice_url(self, invoice_id: str) -> str | None:
        try:
            body = self.api.body("GET", f"/Invoices/{_guid(invoice_id)}/OnlineInvoice")
        except Rejected:
            return None  # not for drafts and some states: no link, the letter goes without
        rows = body.get("OnlineInvoices") or []
        url = str(rows[0].get("OnlineInvoiceUrl") or "") if rows else ""
        return url if url.startswith(("https://", "http://")) else None

    def notes(self, invoice_id: str) -> list[dict[str, Any]]:
        body = self.api.body("GET", f"/Invoices/{_guid(invoice_id)}/History")
        return list(body.get("HistoryRecords") or [])

    # -- writing --------------------------------------------------------------------------

    def add_note(self, invoice_id: str, text: str, key: str, *, maybe_done: bool = False) -> str:
        """A History note (plain text, ≤ 4,000 characters) carrying ``key``, written once."""
        tag = marker(key)
        details = _plain(text)[: NOTE_LIMIT - len(tag) - 1].rstrip() + " " + tag
        path = f"/Invoices/{_guid(invoice_id)}/History"

        def find() -> str | None:
            for index, row in enumerate(self.notes(invoice_id)):
                if tag in str(row.get("Details") or ""):
                    return _note_id(invoice_id, row, index)
            return None

        def write() -> str:
            body = self.api.body("PUT", path, json={"HistoryRecords": [{"Details": details}]},
                                 headers={"Idempotency-Key": idempotency_key(key)})
            rows = body.get("HistoryRecords") or [{}]
            return _note_id(invoice_id, rows[0], 0)

        return write_once(find, write, maybe_done=maybe_done)

    def register_payment(
        self, invoice_id: str, amount: Decimal, paid_on: date, key: str,
        settings: PaymentSettings, *, maybe_done: bool = False,
    ) -> str:
        """A payment on the chosen bank account (Idempotency-Key); without one only a note.

        Without an account the creditor's own bank feed books the money, and a second booking
        would count it twice.
        """
        account = settings.get(CHOICE_FIELD)
        if not account:
            return self.add_note(
                invoice_id, f"Betaling van {amount:.2f} ontvangen op {paid_on:%d-%m-%Y} "
                "(gemeld aan de incassopartner; niet geboekt).", key, maybe_done=maybe_done)
        reference = f"Incasso {marker(key)}"[:255]

        def find() -> str | None:
            row = self._invoice_row(invoice_id)
            for payment in row.get("Payments") or []:
                if marker(key) in str(payment.get("Reference") or ""):
                    return str(payment.get("PaymentID"))
            return None

        def write() -> str:
            body = self.api.body("PUT", "/Payments", headers={
                "Idempotency-Key": idempotency_key(key)}, json={"Payments": [{
                    "Invoice": {"InvoiceID": invoice_id},
                    "Account": {"AccountID": account},
                    "Date": paid_on.isoformat(),
                    "Amount": amount.quantize(Decimal("0.01")),
                    "Reference": reference}]})
            rows = body.get("Payments") or []
            if not rows or not rows[0].get("PaymentID"):
                raise Rejected("Xero did not return the payment")
            return str(rows[0]["PaymentID"])

        return write_once(find, write, maybe_done=maybe_done)

    def pause_own_reminders(self, invoice_id: str) -> None:
        """Xero's invoice reminders are an organisation setting with no API: nothing to do."""

    def resume_own_reminders(self, invoice_id: str) -> None:
        """See :meth:`pause_own_reminders`."""

    def invoice_pdf(self, invoice_id: str) -> bytes | None:
        response = self.api.call("GET", f"/Invoices/{_guid(invoice_id)}",
                                 headers={"Accept": "application/pdf"})
        if not response.content.startswith(b"%PDF"):
            raise Transient("Xero did not answer with a PDF")
        return response.content

    def payment_setting_choices(self, field: str) -> list[tuple[str, str]]:
        """Bank accounts and accounts that take payments, for ``payment_account_id``."""
        if field != CHOICE_FIELD:
            return []
        rows = self.api.body("GET", "/Accounts").get("Accounts") or []
        choices = []
        for row in rows:
            if row.get("Status", "ACTIVE") != "ACTIVE" or not row.get("AccountID"):
                continue
            if row.get("Type") == "BANK" or row.get("EnablePaymentsToAccount"):
                label = " ".join(x for x in (mapping.text(row.get("Code")),
                                             mapping.text(row.get("Name"))) if x)
                choices.append((str(row["AccountID"]), label or str(row["AccountID"])))
        return sorted(choices, key=lambda c: c[1].lower())

    # -- webhooks and the connection ------------------------------------------------------

    def register_webhook(self, url: str) -> WebhookRegistration:
        """Xero's webhooks belong to the app (one URL, ``/webhooks/xero``, set in the developer
        portal), not to a tenant: nothing to register, and no secret of its own (the app's key
        checks every delivery). The registration names this organisation's *connection*, so
        that the connector's disconnect (which deletes the webhook) deletes the connection."""
        connection = self.provider.connection_id(self.tenant_id, self.api.tokens)
        if connection is None:
            raise Rejected("organisation is not connected", status=404)
        return WebhookRegistration(id=connection, secret="")

    def delete_webhook(self, webhook_id: str) -> None:
        """Disconnect: ``DELETE /connections/{id}`` (404: already gone)."""
        self.provider.delete_connection(webhook_id, self.api.tokens)


def _guid(value: str) -> str:
    if not value or not all(c in "0123456789abcdefABCDEF-" for c in value):
        raise Rejected("not a GUID")  # keeps odd characters out of paths
    return value


def _plain(text: str) -> str:
    """Plain text: Xero shows History as typed (HTML is not rendered, xero-node #724)."""
    return text.replace("\r\n", "\n").strip()


def _note_id(invoice_id: str, row: dict[str, Any], index: int) -> str:
    at = mapping.moment(row.get("DateUTC"))
    return f"{invoice_id}:{int(at.timestamp() * 1000)}" if at else f"{invoice_id}:{index}"


def _state(value: str | None) -> dict[str, Any]:
    try:
        state = json.loads(value) if value else {}
    except ValueError:
        return {}
    return state if isinstance(state, dict) else {}


def _later(a: str, b: str | None) -> bool:
    """Whether ISO moment ``a`` is after ``b`` (None: the beginning of time)."""
    return b is None or datetime.fromisoformat(a) > datetime.fromisoformat(b)
