"""Moneybird JSON → ledger records. Pure functions, no I/O.

Money arrives as decimal strings ("1210.0") and is parsed with Decimal; ids stay strings.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from providers.base import (
    DebtorKind,
    DebtorRecord,
    InvoiceRecord,
    InvoiceStatus,
    NoteRecord,
    PaymentRecord,
    Rejected,
    Tenant,
)

# Unpaid states: the sync list asks for these, and they map to OPEN.
UNPAID_STATES = ("open", "pending_payment", "late", "reminded")


def money(value: Any) -> Decimal:
    if value is None or value == "":
        return Decimal("0")
    try:
        return Decimal(str(value).replace(",", "."))
    except InvalidOperation:
        raise Rejected("Moneybird sent an amount that is not a number") from None


def day(value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise Rejected("Moneybird sent a date that is not YYYY-MM-DD") from None


def timestamp(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def text(value: Any) -> str | None:
    value = (str(value).strip() if value is not None else "") or None
    return value


def tenant(data: dict[str, Any]) -> Tenant:
    return Tenant(
        id=str(data["id"]),
        name=str(data.get("name") or data["id"]),
        currency=str(data.get("currency") or "EUR"),
        country=text(data.get("country")),
        suspended=bool(data.get("suspended")),
    )


def invoice_status(data: dict[str, Any]) -> InvoiceStatus:
    state = data.get("state")
    if state == "paid":
        credited = any(p.get("credit_invoice_id") for p in data.get("payments") or ())
        return InvoiceStatus.CREDITED if credited else InvoiceStatus.PAID
    if state == "uncollectible":
        return InvoiceStatus.UNCOLLECTIBLE
    if state in ("draft", "scheduled"):
        return InvoiceStatus.DRAFT
    return InvoiceStatus.OPEN


def invoice(data: dict[str, Any]) -> InvoiceRecord:
    try:
        return InvoiceRecord(
            id=str(data["id"]),
            version=str(data.get("version")),
            number=text(data.get("invoice_id")),
            debtor_id=str(data["contact_id"]),
            status=invoice_status(data),
            ledger_state=str(data.get("state")),
            invoice_date=day(data.get("invoice_date")),
            due_date=day(data.get("due_date")),
            currency=str(data.get("currency") or "EUR"),
            total=money(data.get("total_price_incl_tax")),
            open_amount=money(data.get("total_unpaid")),
            paid_on=day(data.get("paid_at")),
            paused=bool(data.get("paused")),
            payment_url=text(data.get("payment_url")),
            notes=tuple(
                NoteRecord(id=str(n["id"]), text=str(n.get("note") or ""),
                           created_at=timestamp(n.get("created_at")))
                for n in data.get("notes") or ()
            ),
            payments=tuple(payment(p) for p in data.get("payments") or ()),
        )
    except KeyError as exc:
        raise Rejected(f"Moneybird invoice lacks field {exc.args[0]!r}") from None


def payment(data: dict[str, Any]) -> PaymentRecord:
    return PaymentRecord(
        id=str(data["id"]),
        amount=money(data.get("price")),
        paid_on=day(data.get("payment_date")) or date.min,
        reference=text(data.get("transaction_identifier")),
        credit_invoice_id=text(data.get("credit_invoice_id")),
    )


def debtor(data: dict[str, Any]) -> DebtorRecord:
    """A contact becomes a debtor: a business when it has a company name, else a consumer."""
    company = text(data.get("company_name"))
    person = " ".join(p for p in (text(data.get("firstname")), text(data.get("lastname"))) if p)
    people = data.get("contact_people") or ()
    first_person = next(
        (" ".join(x for x in (text(p.get("firstname")), text(p.get("lastname"))) if x)
         for p in people),
        None,
    )
    address = ", ".join(a for a in (text(data.get("address1")), text(data.get("address2"))) if a)
    return DebtorRecord(
        id=str(data["id"]),
        version=str(data.get("version")),
        kind=DebtorKind.BUSINESS if company else DebtorKind.CONSUMER,
        name=company or person or str(data.get("customer_id") or data["id"]),
        contact_person=(
            text(data.get("send_invoices_to_attention")) or text(data.get("attention"))
            or (person if company else None) or first_person
        ),
        email=text(data.get("send_invoices_to_email")) or text(data.get("email")),
        phone=text(data.get("phone")),
        address_line=address or None,
        postal_code=text(data.get("zipcode")),
        city=text(data.get("city")),
        country=text(data.get("country")),
        chamber_of_commerce=text(data.get("chamber_of_commerce")),
        customer_number=text(data.get("customer_id")),
    )
