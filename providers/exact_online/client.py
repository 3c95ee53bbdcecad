"""One Exact Online division through the Ledger contract.

Reads go through the sync endpoints (1,000 rows a page, ``Timestamp gt n``): an unchanged
division costs three calls (payment terms, accounts, deletions); addresses and contacts are
checked hourly, and on demand for accounts that changed. ``__next`` links are followed verbatim
(:mod:`providers.paging`, which stops a next link or a page that comes back).
4xx answers are never retried blindly (Exact blocks an endpoint after ten errors an hour).
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from providers.base import (
    DebtorRecord,
    InvoiceChangesPage,
    InvoiceRecord,
    PaymentSettings,
    Rejected,
    SyncCursor,
    Transient,
    WebhookRegistration,
)
from providers.context import LedgerContext
from providers.exact_online import mapping
from providers.http import write_once
from providers.paging import RepeatGuard, follow_next, odata_page

TERM_FIELDS = ("ID,Account,AccountContact,AmountDC,TransactionAmountDC,Currency,DueDate,"
               "InvoiceDate,InvoiceNumber,IsFullyPaid,LastPaymentDate,Status")
TERM_SELECT = TERM_FIELDS + ",LineType,Timestamp"
ACCOUNT_FIELDS = ("ID,Code,Name,Email,Phone,AddressLine1,AddressLine2,Postcode,City,Country,"
                  "ChamberOfCommerce,VATNumber,MainContact")
ADDRESS_FIELDS = "ID,Account,Type,AddressLine1,AddressLine2,Postcode,City,Country"
CONTACT_FIELDS = "ID,Account,FullName,Email,BusinessEmail,Phone,Mobile,IsMainContact"
DELETED_SELECT = "EntityKey,EntityType,Timestamp"
DELETED_PAYMENT_TERM = 10
OPEN_ITEMS = "/bulk/Cashflow/Receivables"
OPEN_FILTER = "Status eq 20"  # open; 30 and 40 are on their way to collection, 50 matched
DETAILS_EVERY = timedelta(hours=1)
IDS_PER_FILTER = 20
WEBHOOK_TOPICS = ("SalesInvoices", "SalesEntries", "BankEntries", "CashEntries",
                  "GeneralJournalEntries", "Accounts")


def _guid(value: str) -> str:
    if not all(c in "0123456789abcdefABCDEF-" for c in value):
        raise Rejected("not a GUID")  # keeps quotes out of OData filters
    return f"guid'{value}'"


def _any_of(field: str, ids: Iterable[str]) -> str:
    return " or ".join(f"{field} eq {_guid(i)}" for i in ids)


def _chunks(ids: list[str], size: int = IDS_PER_FILTER) -> Iterable[list[str]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


class ExactLedger:
    def __init__(self, context: LedgerContext) -> None:
        self.context = context
        self.tenant_id = context.tenant_id
        self.api = context.api()

    @property
    def api_calls(self) -> int:
        return self.api.calls

    # -- reading --------------------------------------------------------------------------

    def _rows(self, path: str, params: Mapping[str, str] | None
              ) -> tuple[list[dict], str | None]:
        response = self.api.request("GET", path, params=params)
        try:
            payload = response.json()
        except ValueError:
            raise Transient("Exact Online answer is not an OData envelope") from None
        return odata_page(payload)

    def _all(self, path: str, params: dict[str, str]) -> list[dict]:
        """Every page of a read; next links verbatim (they carry the $skiptoken and our
        $select/$filter), stopped if the paging goes round in circles."""
        return [row for rows in follow_next(self._rows, path, params) for row in rows]

    def _since(self, path: str, select: str, since: int) -> tuple[list[dict], int]:
        rows = self._all(path, {"$select": select, "$filter": f"Timestamp gt {since}L"})
        return rows, max([since, *(int(r["Timestamp"]) for r in rows if r.get("Timestamp"))])

    def changed_invoices(self, cursor: SyncCursor) -> Generator[InvoiceChangesPage, None, None]:
        """Open items first, then the change feeds; every page with the cursor after it.

        A first sync goes through phases (reference §5, "Recommended read strategy"):
        ``accounts`` (the debtors from ``sync/CRM/Accounts``, 1,000 a page), ``open`` (the open
        receivables, ``bulk/Cashflow/Receivables?$filter=Status eq 20``, 1,000 a page: the first
        cases can open after these, at open pages + account pages), ``details`` (invoice
        addresses and main contacts joined in) and ``history`` (``sync/Cashflow/PaymentTerms``
        from the start: closes what was paid meanwhile and sets the feed's watermark). After
        that every sync follows the feeds from their watermarks. Closing never needs the whole
        open set: the payment-terms feed carries every settled term, so an open page committed
        in one run and a payment in the next are both seen, whatever run they fall in.
        """
        state = _state(cursor.value)
        if "accounts" not in state and "phase" not in state:
            state["phase"] = "accounts"  # a first sync
        if state.get("phase") == "accounts":
            yield self._initial_accounts(state)
        if state.get("phase") == "open":
            yield from self._open_items(state)
        if state.get("phase") == "details":
            yield self._initial_details(state)
        initial = state.get("phase") == "history"
        yield from self._term_pages(state)
        yield self._feeds(state, initial)

    def _initial_accounts(self, state: dict[str, Any]) -> InvoiceChangesPage:
        """The debtors as their accounts say, so the open items find them; the invoice address
        and the contact person follow in the ``details`` phase, right after the open items."""
        accounts, state["accounts"] = self._since(
            "/sync/CRM/Accounts", ACCOUNT_FIELDS + ",Timestamp", 1)
        state["phase"], state["open_next"] = "open", None
        return InvoiceChangesPage(invoices=[], debtors=[mapping.debtor(a) for a in accounts],
                                  deleted=[], cursor=json.dumps(state))

    def _initial_details(self, state: dict[str, Any]) -> InvoiceChangesPage:
        addresses, state["addresses"] = self._since(
            "/sync/CRM/Addresses", ADDRESS_FIELDS + ",Timestamp", 1)
        contacts, state["contacts"] = self._since(
            "/sync/CRM/Contacts", CONTACT_FIELDS + ",Timestamp", 1)
        accounts, state["accounts"] = self._since(
            "/sync/CRM/Accounts", ACCOUNT_FIELDS + ",Timestamp", 1)
        state["details_checked_at"] = datetime.now(UTC).isoformat()
        state["phase"] = "history"
        return InvoiceChangesPage(invoices=[], debtors=_join(accounts, addresses, contacts),
                                  deleted=[], cursor=json.dumps(state))

    def _open_items(self, state: dict[str, Any]) -> Iterator[InvoiceChangesPage]:
        following: str | None = state.get("open_next")
        params: dict[str, str] | None = None
        if not following:
            following, params = OPEN_ITEMS, {"$select": TERM_FIELDS, "$filter": OPEN_FILTER}
        guard = RepeatGuard()
        while following:
            rows, following = self._rows(following, params)
            params = None
            guard.check(rows, following)
            state["open_next"] = following
            if not following:
                state["phase"] = "details"
                state.pop("open_next", None)
            yield InvoiceChangesPage(invoices=[mapping.invoice(r) for r in rows], debtors=[],
                                     deleted=[], cursor=json.dumps(state))

    def _term_pages(self, state: dict[str, Any]) -> Iterator[InvoiceChangesPage]:
        """The payment-terms feed a page at a time; the watermark moves with each page."""
        since = int(state.get("terms", 1))
        following: str | None = "/sync/Cashflow/PaymentTerms"
        params: dict[str, str] | None = {"$select": TERM_SELECT,
                                         "$filter": f"Timestamp gt {since}L"}
        guard = RepeatGuard()
        while following:
            rows, following = self._rows(following, params)
            params = None
            guard.check(rows, following)
            since = max([since, *(int(r["Timestamp"]) for r in rows if r.get("Timestamp"))])
            state["terms"] = since
            if not following:
                state.pop("phase", None)
            if rows or following:
                yield InvoiceChangesPage(
                    invoices=[mapping.invoice(r) for r in rows if mapping.is_receipt(r)],
                    debtors=[], deleted=[], cursor=json.dumps(state))

    def _feeds(self, state: dict[str, Any], initial: bool) -> InvoiceChangesPage:
        """Accounts, deletions and (hourly) addresses and contacts: the last page of a pass."""
        accounts, state["accounts"] = self._since(
            "/sync/CRM/Accounts", ACCOUNT_FIELDS + ",Timestamp", state.get("accounts", 1))
        removed, state["deleted"] = self._since(
            "/sync/Deleted", DELETED_SELECT, state.get("deleted", 1))
        deleted = [str(r["EntityKey"]) for r in removed
                   if r.get("EntityType") == DELETED_PAYMENT_TERM and not initial]
        now = datetime.now(UTC)
        checked = state.get("details_checked_at")
        addresses: list[dict] = []
        contacts: list[dict] = []
        if checked is None or now - datetime.fromisoformat(checked) >= DETAILS_EVERY:
            addresses, state["addresses"] = self._since(
                "/sync/CRM/Addresses", ADDRESS_FIELDS + ",Timestamp", state.get("addresses", 1))
            contacts, state["contacts"] = self._since(
                "/sync/CRM/Contacts", CONTACT_FIELDS + ",Timestamp", state.get("contacts", 1))
            state["details_checked_at"] = now.isoformat()
        affected = {str(a["ID"]) for a in accounts}
        affected |= {str(x["Account"]) for x in addresses + contacts if x.get("Account")}
        debtors = self._debtors_for(sorted(affected))
        return InvoiceChangesPage(invoices=[], debtors=debtors, deleted=deleted,
                                  cursor=json.dumps(state))

    def _debtors_for(self, account_ids: list[str]) -> list[DebtorRecord]:
        accounts: list[dict] = []
        addresses: list[dict] = []
        contacts: list[dict] = []
        for chunk in _chunks(account_ids):
            accounts += self._all("/bulk/CRM/Accounts", {
                "$select": ACCOUNT_FIELDS, "$filter": _any_of("ID", chunk)})
            addresses += self._all("/bulk/CRM/Addresses", {
                "$select": ADDRESS_FIELDS,
                "$filter": f"({_any_of('Account', chunk)}) and Type eq {mapping.INVOICE_ADDRESS}"})
            contacts += self._all("/bulk/CRM/Contacts", {
                "$select": CONTACT_FIELDS, "$filter": _any_of("Account", chunk)})
        return _join(accounts, addresses, contacts)

    def invoice(self, invoice_id: str) -> InvoiceRecord:
        return mapping.invoice(self._receivable(invoice_id))

    def _receivable(self, invoice_id: str) -> dict[str, Any]:
        rows, _ = self._rows(f"/cashflow/Receivables({_guid(invoice_id)})",
                             {"$select": TERM_FIELDS})
        if not rows:
            raise Rejected("receivable not found", status=404)
        return rows[0]

    # -- writing --------------------------------------------------------------------------

    def add_note(self, invoice_id: str, text: str, key: str, *, maybe_done: bool = False) -> str:
        """A CommunicationNote on the debtor's account whose subject names the invoice."""
        term = self._receivable(invoice_id)
        account = str(term["Account"])
        first_line = text.strip().splitlines()[0] if text.strip() else "Pre-incasso"
        subject = f"[Incasso] factuur {term.get('InvoiceNumber')}: {first_line}"[:180]
        subject = f"{subject} [{key}]"

        def find() -> str | None:
            rows, _ = self._rows("/activities/CommunicationNotes", {
                "$select": "ID",
                "$filter": f"Account eq {_guid(account)} and substringof('{key}', Subject) eq true",
            })
            return str(rows[0]["ID"]) if rows else None

        def write() -> str:
            response = self.api.request(
                "POST", "/activities/CommunicationNotes",
                json={"Account": account, "Subject": subject, "Notes": text})
            return str(response.json()["d"]["ID"])

        return write_once(find, write, maybe_done=maybe_done)

    def register_payment(
        self,
        invoice_id: str,
        amount: Decimal,
        paid_on: date,
        key: str,
        settings: PaymentSettings,
        *,
        maybe_done: bool = False,
    ) -> str:
        """Book a bank entry only when the creditor named journal and G/L account; else a note.

        Without booking settings a "paid" marker is a note: the creditor's own bank feed books
        the money, and a second booking would count it twice.
        """
        journal, account = settings.get("journal_code"), settings.get("gl_account_id")
        if not (journal and account):
            return self.add_note(
                invoice_id, f"Betaling van EUR {amount:.2f} ontvangen op {paid_on:%d-%m-%Y} "
                "(gemeld aan de incassopartner; niet geboekt).", key, maybe_done=maybe_done)
        term = self._receivable(invoice_id)
        number = term.get("InvoiceNumber")
        line = {"Account": str(term["Account"]), "AmountFC": amount.quantize(Decimal("0.01")),
                "GLAccount": account, "OurRef": number,
                "Date": f"{paid_on.isoformat()}T00:00:00",
                "Description": f"Ontvangen via incassopartner [{key}]"}

        def find() -> str | None:
            rows, _ = self._rows("/financialtransaction/BankEntryLines", {
                "$select": "EntryID",
                "$filter": f"substringof('{key}', Description) eq true"})
            return str(rows[0]["EntryID"]) if rows else None

        def write() -> str:
            response = self.api.request("POST", "/financialtransaction/BankEntries", json={
                "JournalCode": journal, "BankEntryLines": [line]})
            return str(response.json()["d"]["EntryID"])

        return write_once(find, write, maybe_done=maybe_done)

    def pause_own_reminders(self, invoice_id: str) -> None:
        """Exact Online offers no API for its own reminders (reference §7.1): nothing to do."""

    def resume_own_reminders(self, invoice_id: str) -> None:
        """See :meth:`pause_own_reminders`."""

    def invoice_pdf(self, invoice_id: str) -> bytes | None:
        """None: Exact Online offers no read-only download of a sales invoice's PDF.

        Our reference (reference/exact-online.md) knows of none; the route we know of,
        ``salesinvoice/PrintedSalesInvoices``, *prints* the invoice: a write that changes the
        invoice's state and can e-mail the debtor itself, which a just-in-time read before a
        reminder must never do. The stamp step sends our own reminder page in the creditor's
        style instead.
        """
        return None

    # -- webhooks -------------------------------------------------------------------------

    def register_webhook(self, url: str) -> WebhookRegistration:
        ids = []
        for topic in WEBHOOK_TOPICS:
            response = self.api.request("POST", "/webhooks/WebhookSubscriptions",
                                        json={"CallbackURL": url, "Topic": topic})
            ids.append(str(response.json()["d"]["ID"]))
        return WebhookRegistration(id=",".join(ids), secret=self.context.webhook_secret)

    def delete_webhook(self, webhook_id: str) -> None:
        for subscription in filter(None, webhook_id.split(",")):
            try:
                self.api.request("DELETE",
                                 f"/webhooks/WebhookSubscriptions({_guid(subscription)})",
                                 idempotent=True)
            except Rejected as exc:
                if exc.status != 404:
                    raise


def _state(value: str | None) -> dict[str, Any]:
    try:
        state = json.loads(value) if value else {}
    except ValueError:
        return {}
    return state if isinstance(state, dict) else {}


def _join(accounts: list[dict], addresses: list[dict], contacts: list[dict]) -> list[DebtorRecord]:
    invoice_address = {str(a["Account"]): a for a in addresses
                       if a.get("Type") == mapping.INVOICE_ADDRESS}
    by_id = {str(c["ID"]): c for c in contacts}
    main = {str(c["Account"]): c for c in contacts if c.get("IsMainContact")}
    debtors = []
    for account in accounts:
        account_id = str(account["ID"])
        contact = by_id.get(str(account.get("MainContact") or "")) or main.get(account_id)
        debtors.append(mapping.debtor(account, invoice_address.get(account_id), contact))
    return debtors
