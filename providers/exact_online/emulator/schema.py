"""The entity types' fields and OData types (data tables)."""

from __future__ import annotations

from providers.exact_online.emulator.common import DBL, I16, I32, I64, NAV, B, G, S, T


def _schema(spec: str) -> dict[str, str]:
    out = {}
    for part in spec.split():
        name, _, kind = part.partition(":")
        out[name] = {
            "G": G, "S": S, "I16": I16, "I": I32, "L": I64, "D": DBL, "B": B, "T": T, "N": NAV,
        }[kind or "S"]  # fmt: skip
    return out


ACCOUNT_FIELDS = _schema(
    "ID:G Code Name Email Phone Website AddressLine1 AddressLine2 Postcode City Country "
    "CountryName ChamberOfCommerce VATNumber MainContact:G Status IsSales:B IsSupplier:B Blocked:B "
    "PaymentConditionSales PaymentConditionSalesDescription Language Remarks Created:T Modified:T "
    "Division:I"
)
CONTACT_FIELDS = _schema(
    "ID:G Account:G AccountName FirstName MiddleName LastName FullName Initials Email "
    "BusinessEmail Phone BusinessPhone Mobile BusinessMobile JobTitleDescription IsMainContact:B "
    "Language Notes Created:T Modified:T Division:I"
)
ADDRESS_FIELDS = _schema(
    "ID:G Account:G AccountName Type:I16 TypeDescription Main:B AddressLine1 AddressLine2 "
    "Postcode City Country Contact:G ContactName Phone Created:T Modified:T Division:I"
)
RECEIVABLE_FIELDS = _schema(
    "ID:G Account:G AccountCode AccountName AccountCountry AccountContact:G AccountContactName "
    "AmountDC:D AmountFC:D TransactionAmountDC:D TransactionAmountFC:D Currency Description "
    "Division:I Document:G DueDate:T TransactionDueDate:T EndDate:T EndToEndID EntryDate:T "
    "EntryID:G EntryNumber:I GLAccount:G InvoiceDate:T InvoiceNumber:I IsFullyPaid:B "
    "LastPaymentDate:T PaymentCondition PaymentConditionDescription PaymentMethod "
    "PaymentReference Source:I Status:I16 TransactionEntryID:G TransactionID:G "
    "TransactionType:I YourRef Created:T Modified:T"
)
PAYMENT_TERM_FIELDS = {
    **RECEIVABLE_FIELDS,
    **_schema("LineType:I16 ApprovalStatus:I16 Journal Timestamp:L"),
}
RECEIVABLES_LIST_FIELDS = _schema(
    "HID:L AccountId:G AccountCode AccountName Amount:D AmountInTransit:D CurrencyCode "
    "Description DueDate:T EntryNumber:I InvoiceDate:T InvoiceNumber:I JournalCode "
    "JournalDescription YourRef"
)
DELETED_FIELDS = _schema(
    "ID:G Timestamp:L DeletedBy:G DeletedDate:T Division:I EntityKey:G EntityType:I"
)
NOTE_FIELDS = _schema(
    "ID:G Account:G AccountName Contact:G ContactFullName Created:T Creator:G CreatorFullName "
    "Date:T Division:I Document:G Modified:T Modifier:G ModifierFullName Notes Opportunity:G "
    "Subject"
)
ENTRY_FIELDS = _schema(
    "EntryID:G EntryNumber:I JournalCode JournalDescription Currency Division:I "
    "FinancialPeriod:I16 "
    "FinancialYear:I16 Status:I16 StatusDescription Created:T Modified:T"
)
BANK_ENTRY_FIELDS = {**ENTRY_FIELDS, "BankEntryLines": NAV}
CASH_ENTRY_FIELDS = {**ENTRY_FIELDS, "CashEntryLines": NAV}
LINE_FIELDS = _schema(
    "ID:G EntryID:G Account:G AccountName AmountDC:D AmountFC:D Date:T Description GLAccount:G "
    "GLAccountCode LineNumber:I OurRef:I Division:I"
)
SALES_ENTRY_FIELDS = _schema(
    "EntryID:G EntryNumber:I Customer:G CustomerName AmountDC:D AmountFC:D Currency Description "
    "DueDate:T EntryDate:T InvoiceNumber:I Journal JournalDescription PaymentCondition "
    "PaymentReference Status:I16 YourRef Created:T Modified:T Division:I"
)
SALES_INVOICE_FIELDS = _schema(
    "InvoiceID:G InvoiceNumber:I InvoiceTo:G InvoiceToName OrderedBy:G OrderedByName AmountDC:D "
    "AmountFC:D Currency Description DueDate:T InvoiceDate:T Status:I16 Type:I PaymentCondition "
    "PaymentReference YourRef Remarks Created:T Modified:T Division:I"
)
GL_FIELDS = _schema("ID:G Code Description Division:I")
JOURNAL_FIELDS = _schema("ID:G Code Description Type:I GLAccount:G Division:I")
DIVISION_FIELDS = _schema(
    "Code:I Hid:L Description Customer:G CustomerCode CustomerName Country Currency Current:B "
    "Status:I16 VATNumber ChamberOfCommerceNumber StartDate:T Created:T Modified:T "
    "DivisionMoveDate:T"
)
ME_FIELDS = _schema(
    "UserID:G UserName FullName FirstName LastName Email LanguageCode Language Legislation:L "
    "CurrentDivision:I AccountingDivision:I DivisionCustomer:G DivisionCustomerCode "
    "DivisionCustomerName DivisionCustomerVatNumber ServerTime:T ServerUtcOffset:D"
)
WEBHOOK_FIELDS = _schema(
    "ID:G CallbackURL ClientID Created:T Creator:G CreatorFullName Description Division:I Topic "
    "UserID:G"
)
# Bulk whitelist for bulk/Cashflow/Receivables (reference §5.1, PI).
RECEIVABLE_BULK_FILTERS = (
    "Account", "Document", "EndDate", "EndToEndID", "EntryDate", "EntryID", "GLAccount", "ID",
    "InvoiceDate", "InvoiceNumber", "Source", "Status", "TransactionID", "TransactionType",
)  # fmt: skip
# crm/Accounts list from PQ#591; the Contacts/Addresses lists are our choice (undocumented).
ACCOUNT_FILTERS = (
    "Blocked", "ChamberOfCommerce", "City", "Code", "Created", "Email", "ID", "IsSales",
    "Modified", "Name", "Status", "VATNumber",
)  # fmt: skip
CONTACT_FILTERS = ("Account", "Created", "Email", "FirstName", "ID", "LastName", "Modified")
ADDRESS_FILTERS = ("Account", "Created", "ID", "Modified", "Type")
ACCOUNT_WRITABLE = {
    "Name", "Email", "Phone", "Website", "AddressLine1", "AddressLine2", "Postcode", "City",
    "Country", "ChamberOfCommerce", "VATNumber", "Blocked", "Remarks", "Language",
    "PaymentConditionSales", "Status",
}  # fmt: skip
