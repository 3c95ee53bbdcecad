"""Rows as Exact's REST API renders them (OData v2 JSON)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from providers.exact_online.emulator.common import Row
from providers.exact_online.emulator.schema import (
    ACCOUNT_FIELDS,
    ADDRESS_FIELDS,
    CONTACT_FIELDS,
    DIVISION_FIELDS,
)
from providers.exact_online.emulator.sets import EntitySet
from providers.exact_online.emulator_data import cents


class Rendering:
    """Mixin: one ``_r_*`` per entity type."""

    # ------------------------------------------------------------------ rendering

    def _account_of(self, div: Row, account_id: str | None) -> Row:
        return div["accounts"].get(account_id or "", {})

    def _r_account(self, div: Row, a: Row) -> Row:
        row = {k: a.get(k) for k in ACCOUNT_FIELDS if k != "Division"}
        row["Division"] = div["Code"]
        row["Timestamp"] = a["Timestamp"]
        return row

    def _r_contact(self, div: Row, c: Row) -> Row:
        row = {k: c.get(k) for k in CONTACT_FIELDS}
        row.update(
            AccountName=self._account_of(div, c["Account"]).get("Name"), Division=div["Code"]
        )
        row["Timestamp"] = c["Timestamp"]
        return row

    def _r_address(self, div: Row, a: Row) -> Row:
        row = {k: a.get(k) for k in ADDRESS_FIELDS}
        contact = div["contacts"].get(a.get("Contact") or "", {})
        row.update(
            AccountName=self._account_of(div, a["Account"]).get("Name"),
            TypeDescription={
                1: "Bezoekadres",
                2: "Postadres",
                3: "Factuuradres",
                4: "Afleveradres",
            }[a["Type"]],
            ContactName=contact.get("FullName"),
            Division=div["Code"],
            Timestamp=a["Timestamp"],
        )
        return row

    def _r_term(self, div: Row, it: Row) -> Row:
        acc = self._account_of(div, it["Account"])
        contact = div["contacts"].get(acc.get("MainContact") or "", {})
        open_amount = it["Total"] - it["Paid"]
        paid = open_amount <= 0
        sign = Decimal(1) if it["LineType"] == 20 else Decimal(-1)
        return {
            "ID": it["ID"],
            "Account": it["Account"],
            "AccountCode": acc.get("Code"),
            "AccountName": acc.get("Name"),
            "AccountCountry": acc.get("Country"),
            "AccountContact": acc.get("MainContact"),
            "AccountContactName": contact.get("FullName"),
            "AmountDC": cents(sign * max(open_amount, Decimal(0))),
            "AmountFC": cents(sign * max(open_amount, Decimal(0))),
            "TransactionAmountDC": cents(sign * it["Total"]),
            "TransactionAmountFC": cents(sign * it["Total"]),
            "Currency": "EUR",
            "Description": it["Description"],
            "Division": div["Code"],
            "Document": None,
            "DueDate": it["DueDate"],
            "TransactionDueDate": it["DueDate"],
            "EndDate": it["EndDate"],
            "EndToEndID": None,
            "EntryDate": it["EntryDate"],
            "EntryID": it["EntryID"],
            "EntryNumber": it["EntryNumber"],
            "GLAccount": div["gl_accounts"]["debtors" if it["LineType"] == 20 else "creditors"][
                "ID"
            ],
            "InvoiceDate": it["InvoiceDate"],
            "InvoiceNumber": it["InvoiceNumber"],
            "IsFullyPaid": paid,
            "LastPaymentDate": it["LastPaymentDate"],
            "PaymentCondition": it["PaymentCondition"],
            "PaymentConditionDescription": it["PaymentConditionDescription"],
            "PaymentMethod": it["PaymentMethod"],
            "PaymentReference": it["PaymentReference"],
            "Source": 1,
            "Status": 50 if paid else 20,
            "TransactionEntryID": it["EntryID"],
            "TransactionID": it["TransactionID"],
            "TransactionType": 20 if it["LineType"] == 20 else 30,
            "YourRef": it["YourRef"],
            "Created": it["Created"],
            "Modified": it["Modified"],
            "LineType": it["LineType"],
            "ApprovalStatus": 1,
            "Journal": it["Journal"],
            "Timestamp": it["Timestamp"],
            "HID": it["HID"],
        }

    def _r_receivables_list(self, div: Row, it: Row) -> Row:
        acc = self._account_of(div, it["Account"])
        return {
            "HID": it["HID"],
            "AccountId": it["Account"],
            "AccountCode": acc.get("Code"),
            "AccountName": acc.get("Name"),
            "Amount": cents(it["Total"] - it["Paid"]),
            "AmountInTransit": Decimal("0.00"),
            "CurrencyCode": "EUR",
            "Description": it["Description"],
            "DueDate": it["DueDate"],
            "EntryNumber": it["EntryNumber"],
            "InvoiceDate": it["InvoiceDate"],
            "InvoiceNumber": it["InvoiceNumber"],
            "JournalCode": "70",
            "JournalDescription": "Verkoopboek",
            "YourRef": it["YourRef"],
        }

    def _r_deleted(self, div: Row, d: Row) -> Row:
        return dict(d, Division=div["Code"])

    def _r_note(self, div: Row, n: Row) -> Row:
        acc = self._account_of(div, n["Account"])
        contact = div["contacts"].get(n.get("Contact") or "", {})
        return {
            "ID": n["ID"],
            "Account": n["Account"],
            "AccountName": acc.get("Name"),
            "Contact": n.get("Contact"),
            "ContactFullName": contact.get("FullName"),
            "Created": n["Created"],
            "Creator": self.user["UserID"],
            "CreatorFullName": self.user["FullName"],
            "Date": n["Date"],
            "Division": div["Code"],
            "Document": None,
            "Modified": n["Modified"],
            "Modifier": self.user["UserID"],
            "ModifierFullName": self.user["FullName"],
            "Notes": n["Notes"],
            "Opportunity": None,
            "Subject": n["Subject"],
        }

    def _r_line(self, div: Row, ln: Row) -> Row:
        gl = next((g for g in div["gl_accounts"].values() if g["ID"] == ln["GLAccount"]), {})
        return {
            "ID": ln["ID"],
            "EntryID": ln["EntryID"],
            "Account": ln["Account"],
            "AccountName": self._account_of(div, ln["Account"]).get("Name"),
            "AmountDC": ln["AmountFC"],
            "AmountFC": ln["AmountFC"],
            "Date": ln["Date"],
            "Description": ln["Description"],
            "GLAccount": ln["GLAccount"],
            "GLAccountCode": gl.get("Code"),
            "LineNumber": ln["LineNumber"],
            "OurRef": ln["OurRef"],
            "Division": div["Code"],
        }

    def _r_entry(self, div: Row, e: Row, expand: bool = False) -> Row:
        journal = div["journals"][e["JournalCode"]]
        kind = "BankEntryLines" if e["kind"] == "BankEntries" else "CashEntryLines"
        lines_set = self._sets["financialtransaction/" + kind]
        lines: Any = {
            "__deferred": {
                "uri": f"{self._base_url()}/api/v1/{div['Code']}/financialtransaction/{kind}"
                f"?$filter=EntryID%20eq%20guid'{e['EntryID']}'"
            }
        }
        if expand:
            lines = {
                "results": [
                    self._with_meta(div, lines_set, self._r_line(div, ln)) for ln in e["lines"]
                ]
            }
        return {
            "EntryID": e["EntryID"],
            "EntryNumber": e["EntryNumber"],
            "JournalCode": e["JournalCode"],
            "JournalDescription": journal["Description"],
            "Currency": "EUR",
            "Division": div["Code"],
            "FinancialPeriod": e["Date"].month,
            "FinancialYear": e["Date"].year,
            "Status": 20,
            "StatusDescription": "Open",
            "Created": e["Created"],
            "Modified": e["Modified"],
            kind: lines,
        }

    def _r_sales_entry(self, div: Row, it: Row) -> Row:
        acc = self._account_of(div, it["Account"])
        return {
            "EntryID": it["EntryID"],
            "EntryNumber": it["EntryNumber"],
            "Customer": it["Account"],
            "CustomerName": acc.get("Name"),
            "AmountDC": cents(it["Total"]),
            "AmountFC": cents(it["Total"]),
            "Currency": "EUR",
            "Description": it["Description"],
            "DueDate": it["DueDate"],
            "EntryDate": it["EntryDate"],
            "InvoiceNumber": it["InvoiceNumber"],
            "Journal": "70",
            "JournalDescription": "Verkoopboek",
            "PaymentCondition": it["PaymentCondition"],
            "PaymentReference": it["PaymentReference"],
            "Status": 20,
            "YourRef": it["YourRef"],
            "Created": it["Created"],
            "Modified": it["Modified"],
            "Division": div["Code"],
        }

    def _r_sales_invoice(self, div: Row, it: Row) -> Row:
        acc = self._account_of(div, it["Account"])
        return {
            "InvoiceID": it["InvoiceID"],
            "InvoiceNumber": it["InvoiceNumber"],
            "InvoiceTo": it["Account"],
            "InvoiceToName": acc.get("Name"),
            "OrderedBy": it["Account"],
            "OrderedByName": acc.get("Name"),
            "AmountDC": cents(it["Total"]),
            "AmountFC": cents(it["Total"]),
            "Currency": "EUR",
            "Description": it["Notes"],
            "DueDate": it["DueDate"],
            "InvoiceDate": it["InvoiceDate"],
            "Status": 50,
            "Type": 8020,
            "PaymentCondition": it["PaymentCondition"],
            "PaymentReference": it["PaymentReference"],
            "YourRef": it["YourRef"],
            "Remarks": None,
            "Created": it["Created"],
            "Modified": it["Modified"],
            "Division": div["Code"],
        }

    def _r_division(self, div: Row) -> Row:
        row = {k: div.get(k) for k in DIVISION_FIELDS}
        row["Current"] = div["Code"] == self.current_division
        return row

    def _r_journal(self, div: Row, j: Row) -> Row:
        return dict(j, Division=div["Code"])

    def _r_webhook(self, div: Row, w: Row) -> Row:
        return dict(w, Division=div["Code"])

    def _with_meta(self, div: Row, s: EntitySet, row: Row, select: list[str] | None = None) -> Row:
        """A row as the API shows it: ``__metadata`` first, then the selected properties."""
        out: Row = {
            "__metadata": {"uri": self._uri(div["Code"], s.path, row[s.key]), "type": s.type_name}
        }
        for name in select or s.fields:
            out[name] = row.get(name)
        return out
