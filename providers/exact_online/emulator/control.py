"""The control surface tests and demos drive the ledger with (not part of Exact's API)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from providers.exact_online import emulator_data as data
from providers.exact_online.emulator.common import Row
from providers.exact_online.emulator.schema import ACCOUNT_FIELDS
from providers.exact_online.emulator_data import cents


class ControlSurface:
    """Mixin: look at and change the ledger as the creditor would in Exact."""

    def division_codes(self) -> list[int]:
        """Codes of all seeded divisions; the first one is the big one."""
        with self._lock:
            return list(self._divs)

    def divisions(self) -> list[Row]:
        """All divisions as ``system/Divisions`` rows (python-typed)."""
        with self._lock:
            return [self._r_division(d) for d in self._divs.values()]

    def open_items(self, division: int) -> list[Row]:
        """Open receivables as ``cashflow/Receivables`` rows (+``HID``), Decimal amounts."""
        with self._lock:
            div = self._div(division)
            return [
                self._r_term(div, it)
                for it in div["items"].values()
                if it["LineType"] == 20 and it["Paid"] < it["Total"]
            ]

    def item(self, division: int, ref: Any) -> Row:
        """One receivable (open or settled) by ID, EntryID, InvoiceID, InvoiceNumber or HID."""
        with self._lock:
            div = self._div(division)
            return self._r_term(div, self._find_item(div, ref))

    def accounts(self, division: int) -> list[Row]:
        """All accounts (debtors and a few suppliers) as ``crm/Accounts`` rows."""
        with self._lock:
            div = self._div(division)
            return [self._r_account(div, a) for a in div["accounts"].values()]

    def contacts(self, division: int) -> list[Row]:
        """All contacts as ``crm/Contacts`` rows."""
        with self._lock:
            div = self._div(division)
            return [self._r_contact(div, c) for c in div["contacts"].values()]

    def addresses(self, division: int) -> list[Row]:
        """All addresses as ``crm/Addresses`` rows."""
        with self._lock:
            div = self._div(division)
            return [self._r_address(div, a) for a in div["addresses"].values()]

    def notes(self, division: int, account_id: str | None = None) -> list[Row]:
        """CommunicationNotes written (by anyone), optionally for one account, oldest first."""
        with self._lock:
            div = self._div(division)
            return [
                self._r_note(div, n)
                for n in div["notes"].values()
                if account_id is None or n["Account"] == str(account_id).lower()
            ]

    def payments(self, division: int) -> list[Row]:
        """Every bank/cash entry line booked, plus kind, source, matched_item and applied."""
        with self._lock:
            div = self._div(division)
            out = []
            for e in div["entries"].values():
                for ln in e["lines"]:
                    row = self._r_line(div, ln)
                    row.update(
                        kind=e["kind"],
                        JournalCode=e["JournalCode"],
                        EntryNumber=e["EntryNumber"],
                        source=e["source"],
                        matched_item=ln["matched_item"],
                        applied=ln["applied"],
                    )
                    out.append(row)
            return out

    def pay_item(
        self, division: int, entry_or_invoice_id: Any, amount: Decimal | None = None
    ) -> Row:
        """The debtor paid the creditor (bank feed): books a BankEntry matched to the item."""
        with self._lock:
            div = self._div(division)
            it = self._find_item(div, entry_or_invoice_id)
            amt = cents(Decimal(amount)) if amount is not None else it["Total"] - it["Paid"]
            line = {
                "Account": it["Account"],
                "AmountFC": amt,
                "Date": self._today(),
                "Description": f"Betaling factuur {it['InvoiceNumber']}",
                "GLAccount": div["gl_accounts"]["debtors"]["ID"],
                "OurRef": it["InvoiceNumber"],
            }
            self._book_entry(div, "BankEntries", "20", [line], "bank_feed")
            return self._r_term(div, it)

    def delete_item(self, division: int, entry_or_invoice_id: Any) -> None:
        """The creditor deleted the sales entry: gone from every list, logged in sync/Deleted."""
        with self._lock:
            div = self._div(division)
            it = self._find_item(div, entry_or_invoice_id)
            del div["items"][it["ID"]]
            self._log_deleted(div, "PaymentTerms", it["ID"])
            self._log_deleted(div, "TransactionLines", it["TransactionID"])
            self._log_deleted(div, "SalesInvoices", it["InvoiceID"])
            self._emit(div, "SalesEntries", "Delete", it["EntryID"])
            self._emit(div, "SalesInvoices", "Delete", it["InvoiceID"])

    def update_account(self, division: int, account_id: str, **fields: Any) -> Row:
        """Change account fields (bumps Timestamp/Modified, fires Accounts/Update)."""
        with self._lock:
            div = self._div(division)
            acc = div["accounts"].get(str(account_id).lower())
            if acc is None:
                raise KeyError(f"unknown account {account_id}")
            for key in fields:
                if key not in ACCOUNT_FIELDS or key in ("ID", "Division", "Created", "Modified"):
                    raise KeyError(f"unknown or read-only account field {key}")
            acc.update(fields)
            self._touch(acc)
            self._emit(div, "Accounts", "Update", acc["ID"])
            return self._r_account(div, acc)

    def delete_account(self, division: int, account_id: str) -> None:
        """Remove an account without items (logged in sync/Deleted, fires Accounts/Delete)."""
        with self._lock:
            div = self._div(division)
            acc = div["accounts"].pop(str(account_id).lower())
            self._log_deleted(div, "Accounts", acc["ID"])
            self._emit(div, "Accounts", "Delete", acc["ID"])

    def create_item(
        self,
        division: int,
        account_id: str | None = None,
        amount: Decimal = Decimal("121.00"),
        due_date: date | None = None,
        *,
        invoice_date: date | None = None,
        description: str | None = None,
        your_ref: str | None = None,
    ) -> Row:
        """Book a new sales invoice/entry (fires SalesEntries and SalesInvoices Create)."""
        with self._lock:
            div = self._div(division)
            debtors = [a for a in div["accounts"].values() if a["IsSales"]]
            acc = div["accounts"][str(account_id).lower()] if account_id else debtors[0]
            today = self._today()
            div["number"] += 1
            hid = max(it["HID"] for it in div["items"].values()) + 1 if div["items"] else 1
            it = data.make_item(
                self._rng, acc, div["number"], hid, today, self.now(), self._ts,
                due_in=((due_date or today + timedelta(days=14)) - today).days,
                amount=cents(Decimal(amount)),
            )  # fmt: skip
            if invoice_date is not None:
                it["InvoiceDate"] = it["EntryDate"] = invoice_date
            it["Created"] = it["Modified"] = self.now()
            if description:
                it["Description"] = description
            it["YourRef"] = your_ref
            div["items"][it["ID"]] = it
            self._emit(div, "SalesEntries", "Create", it["EntryID"])
            self._emit(div, "SalesInvoices", "Create", it["InvoiceID"])
            return self._r_term(div, it)

    def add_settled_history(self, division: int, count: int) -> None:
        """Add ``count`` fully paid sales terms: years of history a big division carries in
        ``sync/Cashflow/PaymentTerms`` but never in its open items."""
        with self._lock:
            div = self._div(division)
            debtors = [a for a in div["accounts"].values() if a["IsSales"]]
            today = self._today()
            hid = max((it["HID"] for it in div["items"].values()), default=0)
            for _ in range(count):
                div["number"] += 1
                hid += 1
                it = data.make_item(self._rng, self._rng.choice(debtors), div["number"], hid,
                                    today, self.now(), self._ts)
                paid_on = min(today, it["DueDate"])
                it.update(Paid=it["Total"], LastPaymentDate=paid_on, EndDate=paid_on)
                div["items"][it["ID"]] = it

    def set_current_division(self, code: int) -> None:
        """The user opened another company in the browser (``Me.CurrentDivision`` changes)."""
        with self._lock:
            self.current_division = self._div(code)["Code"]


    def count_calls(
        self,
        division: int | str | None = None,
        method: str | None = None,
        path_contains: str | None = None,
    ) -> int:
        """How many /api/v1 requests matched (for rate-budget assertions)."""
        return self.call_log.count(
            method, path_contains, division=None if division is None else int(division)
        )

    def reset_calls(self) -> None:
        """Forget recorded calls and errors."""
        self.call_log.clear()
        with self._lock:
            self.errors.clear()
