"""Exact Online JSON → ledger records. Pure functions.

Dates arrive as ``/Date(ms)/``; due and invoice dates are read as calendar days in
Europe/Amsterdam, which is right whether Exact encodes UTC midnight or local midnight.
Consumer or business: Exact has no flag. An account with a KvK number (ChamberOfCommerce) or a
VAT number is a business; one with neither is a consumer.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from providers.base import (
    DebtorKind,
    DebtorRecord,
    InvoiceRecord,
    InvoiceStatus,
    Rejected,
    Tenant,
)
from providers.zones import AMSTERDAM

_ODATA_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
RECEIPT = 20  # PaymentTerms.LineType: 20 receipt (receivable), 30 payment (payable)
MATCHED = 50  # Receivable.Status 50: matched (paid)
# Receivable.Status in words, as the creditor reads it on our pages (never a bare code).
RECEIVABLE_STATES = {20: "open", 30: "geselecteerd voor incasso", 40: "verwerkt",
                     50: "afgeletterd"}
INVOICE_ADDRESS = 3


def moment(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    match = _ODATA_DATE.match(str(value))
    if not match:
        raise Rejected("Exact Online sent a date that is not /Date(ms)/")
    return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC)


def day(value: Any) -> date | None:
    at = moment(value)
    return at.astimezone(AMSTERDAM).date() if at else None


def money(value: Any) -> Decimal:
    if value in (None, ""):
        return Decimal("0")
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise Rejected("Exact Online sent an amount that is not a number") from None


def text(value: Any) -> str | None:
    return (str(value).strip() or None) if value is not None else None


def tenant(row: dict[str, Any]) -> Tenant:
    return Tenant(id=str(row["Code"]), name=str(row.get("Description") or row["Code"]),
                  currency=str(row.get("Currency") or "EUR"), country=text(row.get("Country")),
                  suspended=row.get("Status") not in (None, 1))


def is_receipt(row: dict[str, Any]) -> bool:
    return row.get("LineType", RECEIPT) == RECEIPT


def receivable_state(code: object) -> str:
    """Exact's receivable status in words; an unknown code still says what it is."""
    try:
        return RECEIVABLE_STATES.get(int(code), f"onbekende status {code}")  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "onbekend"


def invoice(row: dict[str, Any]) -> InvoiceRecord:
    """One payment term (a receivable) as an invoice: the unit Exact tracks as open or paid."""
    try:
        open_amount = money(row.get("AmountDC"))
        paid = bool(row.get("IsFullyPaid")) or row.get("Status") == MATCHED or open_amount == 0
        number = row.get("InvoiceNumber")
        return InvoiceRecord(
            id=str(row["ID"]),
            version=str(row.get("Timestamp") or ""),
            number=str(number) if number is not None else None,
            debtor_id=str(row["Account"]),
            status=InvoiceStatus.PAID if paid else InvoiceStatus.OPEN,
            ledger_state=receivable_state(row.get("Status")),
            invoice_date=day(row.get("InvoiceDate")),
            due_date=day(row.get("DueDate")),
            currency=str(row.get("Currency") or "EUR"),
            total=money(row.get("TransactionAmountDC")),
            open_amount=Decimal("0") if paid else open_amount,
            paid_on=day(row.get("LastPaymentDate")) if paid else None,
        )
    except KeyError as exc:
        raise Rejected(f"Exact Online receivable lacks field {exc.args[0]!r}") from None


def debtor(
    account: dict[str, Any],
    address: dict[str, Any] | None = None,
    contact: dict[str, Any] | None = None,
) -> DebtorRecord:
    """An account, its invoice address (type 3) and its main contact, as one debtor."""
    business = bool(text(account.get("ChamberOfCommerce")) or text(account.get("VATNumber")))
    place = address or account
    contact = contact or {}
    line = ", ".join(x for x in (text(place.get("AddressLine1")), text(place.get("AddressLine2")))
                     if x)
    return DebtorRecord(
        id=str(account["ID"]),
        version=str(account.get("Timestamp") or ""),
        kind=DebtorKind.BUSINESS if business else DebtorKind.CONSUMER,
        name=text(account.get("Name")) or str(account["ID"]),
        contact_person=text(contact.get("FullName")),
        email=text(account.get("Email")) or text(contact.get("Email"))
        or text(contact.get("BusinessEmail")),
        phone=text(contact.get("Mobile")) or text(account.get("Phone"))
        or text(contact.get("Phone")),
        address_line=line or None,
        postal_code=text(place.get("Postcode")),
        city=text(place.get("City")),
        country=text(place.get("Country")),
        chamber_of_commerce=text(account.get("ChamberOfCommerce")),
        customer_number=text(account.get("Code")),
    )
