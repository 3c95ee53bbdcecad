"""One SnelStart administration through the Ledger contract.

Reads poll the ``modifiedOn`` feeds (:mod:`providers.snelstart.feed`). Writes are documents on
the invoice's sales booking and, where the creditor chose a bank journal, a bank booking that
settles it. SnelStart has no idempotency keys: every write carries our key (in a file name or a
description) and, after a lost answer, is looked up before it is made again.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Generator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from providers.base import (
    InvoiceChangesPage,
    InvoiceRecord,
    InvoiceStatus,
    LedgerDocument,
    PaymentSettings,
    ReconnectRequired,
    Rejected,
    SyncCursor,
    Transient,
    WebhookRegistration,
)
from providers.context import LedgerContext
from providers.http import write_once
from providers.snelstart import documents, mapping
from providers.snelstart.feed import PAGE, SWEEP_EVERY, Feed
from providers.snelstart.odata import Stamp, modified_since

BOOKINGS_LOOKBACK = timedelta(days=14)  # a retry after a lost answer comes within days
MAX_DESCRIPTION = 250  # omschrijving on a bank booking
BANK_JOURNAL = "bank_journal_id"  # the payment setting (PaymentField) naming the journal


class SnelStartLedger:
    def __init__(self, context: LedgerContext, *, now: Callable[[], datetime],
                 sweep_every: timedelta = SWEEP_EVERY) -> None:
        """``context`` frozen by the provider (it never reads its provider); ``now`` is the
        clock document records and the sweep go by."""
        self.tenant_id = context.tenant_id
        self.api = context.api()
        self.now = now
        self.feed = Feed(self._list_page, self._relation, now=now, sweep_every=sweep_every)

    @property
    def api_calls(self) -> int:
        return self.api.calls

    # -- calls ----------------------------------------------------------------------------

    def _json(self, method: str, path: str, scope: str, **kwargs: Any) -> Any:
        """One call; a 403 means the koppelsleutel lacks a permission (SnelStart answers 403
        "when the token lacks the scopes"), which the creditor fixes by connecting again."""
        try:
            response = self.api.request(method, path, **kwargs)
        except Rejected as exc:
            if exc.status == 403:
                raise ReconnectRequired("SnelStart key lacks a permission",
                                        missing_scope=scope) from None
            raise
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise Transient(f"{method} answer is not JSON") from None

    def _list_page(self, path: str, filter_: str | None, skip: int) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"$top": PAGE, "$skip": skip}
        if filter_:
            params["$filter"] = filter_
        scope = "relaties:read" if path == "/relaties" else "orders:read"
        rows = self._json("GET", path, scope, params=params)
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise Transient(f"SnelStart {path} answer is not a list")
        return rows

    def _relation(self, relation_id: str) -> dict[str, Any] | None:
        try:
            raw = self._json("GET", f"/relaties/{relation_id}", "relaties:read")
        except Rejected as exc:
            if exc.status == 404:
                return None
            raise
        return raw if isinstance(raw, dict) else None

    # -- reads ----------------------------------------------------------------------------

    def changed_invoices(self, cursor: SyncCursor) -> Generator[InvoiceChangesPage, None, None]:
        return self.feed.changes(cursor)

    def _invoice_json(self, invoice_id: str) -> dict[str, Any] | None:
        try:
            raw = self._json("GET", f"/verkoopfacturen/{invoice_id}", "orders:read")
        except Rejected as exc:
            if exc.status == 404:
                return None
            raise
        if not isinstance(raw, dict):
            raise Transient("SnelStart invoice answer is not an object")
        return raw

    def invoice(self, invoice_id: str) -> InvoiceRecord:
        raw = self._invoice_json(invoice_id)
        if raw is None:  # deleted in SnelStart: never chased again
            return InvoiceRecord(
                id=invoice_id, version="deleted", number=None, debtor_id="",
                status=InvoiceStatus.DELETED, ledger_state="verwijderd", invoice_date=None,
                due_date=None, currency="EUR", total=Decimal("0"), open_amount=Decimal("0"))
        return mapping.invoice(raw)

    def invoice_pdf(self, invoice_id: str) -> bytes | None:
        return None  # no PDF download for sales invoices in the API (capability invoice_pdf)

    # -- writes ---------------------------------------------------------------------------

    def _booking(self, invoice_id: str) -> tuple[str, str | None]:
        raw = self._invoice_json(invoice_id)
        booking = mapping.sales_booking_id(raw) if raw else None
        if raw is None or booking is None:
            raise Rejected("SnelStart invoice has no sales booking to attach to", status=404)
        return booking, mapping.text(raw.get("factuurnummer"))

    def attach_record(self, invoice_id: str, title: str, text: str, key: str, *,
                      maybe_done: bool = False) -> str:
        """A one-page PDF record on the invoice's sales booking, exactly once per ``key``."""
        return self._attach(invoice_id, key, "Pre-incasso", maybe_done, lambda number:
                            documents.record_pdf(title, text, key, number, self.now()))

    def _attach(self, invoice_id: str, key: str, label: str, maybe_done: bool,
                make_pdf: Callable[[str | None], bytes]) -> str:
        """``make_pdf(invoice number)`` attached to the sales booking as ``<label> <key>.pdf``,
        once: after a lost answer the booking's documents are listed and one whose file name
        carries ``key`` is taken for it (whatever it holds, the key is ours)."""
        booking, number = self._booking(invoice_id)
        documents_path = "/documenten/Verkoopboekingen"

        def find() -> str | None:
            rows = self._json("GET", f"{documents_path}/{booking}", "documenten:read")
            for row in rows if isinstance(rows, list) else ():
                if isinstance(row, dict) and documents.carries_key(row.get("fileName"), key):
                    return str(row.get("id"))
            return None

        def write() -> str:
            pdf = make_pdf(number)
            body = {"content": base64.b64encode(pdf).decode("ascii"),
                    "parentIdentifier": booking, "fileName": documents.file_name(key, label),
                    "readOnly": True}
            made = self._json("POST", documents_path, "documenten:write", json=body)
            if not isinstance(made, dict) or not made.get("id"):
                raise Transient("SnelStart document answer lacks an id", ambiguous=True)
            return str(made["id"])

        return write_once(find, write, maybe_done=maybe_done)

    def add_note(self, invoice_id: str, text: str, key: str, *, maybe_done: bool = False) -> str:
        return self.attach_record(invoice_id, "Pre-incasso", text, key, maybe_done=maybe_done)

    def add_note_with_document(self, invoice_id: str, text: str, key: str,
                               document: LedgerDocument, *, maybe_done: bool = False) -> str:
        """The step's own PDF (the Profitletter as printed) on the sales booking, as it is,
        named ``<step> <key>.pdf``; it says more than the note, which SnelStart has no place
        for. A PDF larger than SnelStart takes goes as the note's one-page record instead."""
        if not document.content or len(document.content) > documents.MAX_BYTES:
            return self.add_note(invoice_id, text, key, maybe_done=maybe_done)
        return self._attach(invoice_id, key, document.label, maybe_done,
                            lambda _number: document.content)

    def register_payment(self, invoice_id: str, amount: Decimal, paid_on: date, key: str,
                         settings: PaymentSettings, *, maybe_done: bool = False) -> str:
        """A bank booking settling the sales booking when a bank journal is set; otherwise the
        payment is only recorded as a document (nothing is booked on a guess)."""
        journal = settings.get(BANK_JOURNAL)
        if not journal:
            text = f"Betaling van EUR {amount:.2f} ontvangen op {paid_on:%d-%m-%Y}."
            return self.attach_record(invoice_id, "Betaling ontvangen", text, key,
                                      maybe_done=maybe_done)
        booking, number = self._booking(invoice_id)
        description = f"Betaling {number or ''} pre-incasso {key}".replace("  ", " ")
        body = {
            "datum": f"{paid_on.isoformat()}T00:00:00",
            "dagboek": {"id": journal},
            "omschrijving": description[:MAX_DESCRIPTION],
            "bedragOntvangen": amount,
            "bedragUitgegeven": Decimal("0"),
            # Money received settles the sales booking: credit on its line (sign UNCERTAIN,
            # as every community client books it; see docs/ledgers/snelstart.md).
            "verkoopboekingBoekingsRegels": [{"boekingId": {"id": booking},
                                              "omschrijving": (number or key)[:MAX_DESCRIPTION],
                                              "credit": amount, "debet": Decimal("0")}],
        }
        since = Stamp(self.now() - BOOKINGS_LOOKBACK)

        def find() -> str | None:
            skip = 0
            while True:
                rows = self._json("GET", "/bankboekingen", "bankieren:read",
                                  params={"$top": PAGE, "$skip": skip,
                                          "$filter": modified_since(since)})
                rows = rows if isinstance(rows, list) else []
                for row in rows:
                    if isinstance(row, dict) and key in str(row.get("omschrijving") or ""):
                        return str(row.get("id"))
                if len(rows) < PAGE:
                    return None
                skip += len(rows)

        def write() -> str:
            made = self._json("POST", "/bankboekingen", "bankieren:write", json=body)
            if not isinstance(made, dict) or not made.get("id"):
                raise Transient("SnelStart bank booking answer lacks an id", ambiguous=True)
            return str(made["id"])

        return write_once(find, write, maybe_done=maybe_done)

    def payment_setting_choices(self, field: str) -> list[tuple[str, str]]:
        """Active bank journals (``soort`` Bank) for the ``bank_journal_id`` payment setting."""
        if field != BANK_JOURNAL:
            return []
        rows = self._json("GET", "/dagboeken", "boekhouden:read")
        if not isinstance(rows, list):
            raise Transient("SnelStart journal list is not a list")
        return [(str(r["id"]), " ".join(filter(None, (mapping.text(r.get("nummer")),
                                                      mapping.text(r.get("omschrijving"))))))
                for r in rows
                if isinstance(r, dict) and r.get("id") and r.get("soort") == "Bank"
                and not r.get("nonactief")]

    # -- what SnelStart cannot do (capabilities say so) -----------------------------------

    def pause_own_reminders(self, invoice_id: str) -> None:
        """Nothing to do: the API has no handle on SnelStart's own reminders (capability
        ``pause_own_reminders`` is False; the settings page asks the creditor to stop them)."""

    def resume_own_reminders(self, invoice_id: str) -> None:
        """See :meth:`pause_own_reminders`."""

    def register_webhook(self, url: str) -> WebhookRegistration:
        raise Rejected("SnelStart has no webhooks; the sync polls")

    def delete_webhook(self, webhook_id: str) -> None:
        return None
