"""The entity sets: schema, row source, render, paging kind, mandatory filters."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from providers.exact_online.emulator.common import DELETED_RETENTION, I64, Row
from providers.exact_online.emulator.schema import (
    ACCOUNT_FIELDS,
    ACCOUNT_FILTERS,
    ADDRESS_FIELDS,
    ADDRESS_FILTERS,
    BANK_ENTRY_FIELDS,
    CASH_ENTRY_FIELDS,
    CONTACT_FIELDS,
    CONTACT_FILTERS,
    DELETED_FIELDS,
    GL_FIELDS,
    JOURNAL_FIELDS,
    LINE_FIELDS,
    NOTE_FIELDS,
    PAYMENT_TERM_FIELDS,
    RECEIVABLE_BULK_FILTERS,
    RECEIVABLE_FIELDS,
    RECEIVABLES_LIST_FIELDS,
    SALES_ENTRY_FIELDS,
    SALES_INVOICE_FIELDS,
    WEBHOOK_FIELDS,
)


@dataclass
class EntitySet:
    """One OData entity set: schema, where its rows come from, how it pages and filters."""

    path: str
    type_name: str
    fields: dict[str, str]
    key: str
    source: Callable[[Row], Iterable[Row]]
    render: Callable[[Row, Row], Row]
    kind: str = "normal"  # normal | bulk | sync | read
    mandatory: tuple[str, ...] = ()
    whitelist: tuple[str, ...] | None = None
    select_required: bool = True
    methods: tuple[str, ...] = ("GET",)
    order: str = "key"  # key | Timestamp


_Set = EntitySet  # short, for the table below


class EntitySets:
    """Mixin: builds the emulator's ``_sets`` table."""

    # ------------------------------------------------------------------ entity sets

    def _build_sets(self) -> dict[str, EntitySet]:
        def items(kind: str) -> Callable[[Row], Iterable[Row]]:
            def source(div: Row) -> Iterable[Row]:
                for it in div["items"].values():
                    if kind == "terms" or (
                        it["LineType"] == 20 and (kind == "receivables" or it["Paid"] < it["Total"])
                    ):
                        yield it

            return source

        def entries(kind: str) -> Callable[[Row], Iterable[Row]]:
            return lambda div: (e for e in div["entries"].values() if e["kind"] == kind)

        def lines(kind: str) -> Callable[[Row], Iterable[Row]]:
            return lambda div: (
                ln for e in div["entries"].values() if e["kind"] == kind for ln in e["lines"]
            )

        def deleted(div: Row) -> Iterable[Row]:
            cutoff = self.now() - DELETED_RETENTION
            return (d for d in div["deleted"] if d["DeletedDate"] >= cutoff)

        m = "Exact.Web.Api.Models."
        acc, con, adr, term = self._r_account, self._r_contact, self._r_address, self._r_term
        ts_only = ("Timestamp",)

        def accounts(d: Row) -> Iterable[Row]:
            return d["accounts"].values()

        def contacts(d: Row) -> Iterable[Row]:
            return d["contacts"].values()

        def addresses(d: Row) -> Iterable[Row]:
            return d["addresses"].values()

        def sync(path: str, type_: str, fields: dict[str, str], src: Any, render: Any) -> EntitySet:
            fields = {**fields, "Timestamp": I64}
            return _Set(
                path,
                m + type_,
                fields,
                "ID",
                src,
                render,
                "sync",
                ts_only,
                ts_only,
                order="Timestamp",
            )

        # fmt: off
        sets = [
            _Set("crm/Accounts", m + "Account", ACCOUNT_FIELDS, "ID", accounts, acc,
                 mandatory=ACCOUNT_FILTERS, methods=("GET", "PUT")),
            _Set("bulk/CRM/Accounts", m + "Bulk.CRM.Account", ACCOUNT_FIELDS, "ID", accounts, acc,
                 "bulk", ACCOUNT_FILTERS, ACCOUNT_FILTERS),
            sync("sync/CRM/Accounts", "Sync.CRM.Account", ACCOUNT_FIELDS, accounts, acc),
            _Set("crm/Contacts", m + "Contact", CONTACT_FIELDS, "ID", contacts, con,
                 mandatory=CONTACT_FILTERS),
            _Set("bulk/CRM/Contacts", m + "Bulk.CRM.Contact", CONTACT_FIELDS, "ID", contacts, con,
                 "bulk", CONTACT_FILTERS, CONTACT_FILTERS),
            sync("sync/CRM/Contacts", "Sync.CRM.Contact", CONTACT_FIELDS, contacts, con),
            _Set("crm/Addresses", m + "Address", ADDRESS_FIELDS, "ID", addresses, adr,
                 mandatory=ADDRESS_FILTERS),
            _Set("bulk/CRM/Addresses", m + "Bulk.CRM.Address", ADDRESS_FIELDS, "ID", addresses,
                 adr, "bulk", ADDRESS_FILTERS, ADDRESS_FILTERS),
            sync("sync/CRM/Addresses", "Sync.CRM.Address", ADDRESS_FIELDS, addresses, adr),
            _Set("cashflow/Receivables", m + "Cashflow.Receivable", RECEIVABLE_FIELDS, "ID",
                 items("receivables"), term, mandatory=RECEIVABLE_BULK_FILTERS,
                 methods=("GET", "PUT")),
            _Set("bulk/Cashflow/Receivables", m + "Bulk.Cashflow.Receivable", RECEIVABLE_FIELDS,
                 "ID", items("receivables"), term, "bulk", RECEIVABLE_BULK_FILTERS,
                 RECEIVABLE_BULK_FILTERS),
            sync("sync/Cashflow/PaymentTerms", "Sync.Cashflow.PaymentTerm", PAYMENT_TERM_FIELDS,
                 items("terms"), term),
            _Set("read/financial/ReceivablesList", m + "Financial.ReceivablesListItem",
                 RECEIVABLES_LIST_FIELDS, "HID", items("open"), self._r_receivables_list, "read",
                 select_required=False),
            sync("sync/Deleted", "Sync.Deleted", DELETED_FIELDS, deleted, self._r_deleted),
            _Set("activities/CommunicationNotes", m + "Activities.CommunicationNote", NOTE_FIELDS,
                 "ID", lambda d: d["notes"].values(), self._r_note, methods=("GET", "POST")),
            _Set("financialtransaction/BankEntries", m + "FinancialTransaction.BankEntry",
                 BANK_ENTRY_FIELDS, "EntryID", entries("BankEntries"), self._r_entry,
                 methods=("GET", "POST", "DELETE")),
            _Set("financialtransaction/CashEntries", m + "FinancialTransaction.CashEntry",
                 CASH_ENTRY_FIELDS, "EntryID", entries("CashEntries"), self._r_entry,
                 methods=("GET", "POST", "DELETE")),
            _Set("financialtransaction/BankEntryLines", m + "FinancialTransaction.BankEntryLine",
                 LINE_FIELDS, "ID", lines("BankEntries"), self._r_line),
            _Set("financialtransaction/CashEntryLines", m + "FinancialTransaction.CashEntryLine",
                 LINE_FIELDS, "ID", lines("CashEntries"), self._r_line),
            _Set("salesentry/SalesEntries", m + "SalesEntry.SalesEntry", SALES_ENTRY_FIELDS,
                 "EntryID", items("receivables"), self._r_sales_entry),
            _Set("salesinvoice/SalesInvoices", m + "SalesInvoice.SalesInvoice",
                 SALES_INVOICE_FIELDS, "InvoiceID", items("receivables"), self._r_sales_invoice),
            _Set("financial/GLAccounts", m + "Financial.GLAccount", GL_FIELDS, "ID",
                 lambda d: d["gl_accounts"].values(), lambda d, g: dict(g, Division=d["Code"])),
            _Set("financial/Journals", m + "Financial.Journal", JOURNAL_FIELDS, "ID",
                 lambda d: d["journals"].values(), self._r_journal),
            _Set("webhooks/WebhookSubscriptions", m + "Webhooks.WebhookSubscription",
                 WEBHOOK_FIELDS, "ID", lambda d: d["webhooks"].values(), self._r_webhook,
                 select_required=False, methods=("GET", "POST", "DELETE")),
        ]
        # fmt: on
        return {s.path: s for s in sets}
