"""Xero JSON → ledger records. Pure functions.

Dates come as MS-JSON (``/Date(1546128000000+0000)/``): the number is milliseconds since the
epoch in UTC and the optional offset names the zone the value was written in (the .NET
convention; Xero sends ``+0000`` mostly, other offsets on some organisations, pyxero #122). A
calendar date (``Date``, ``DueDate``) is therefore the day of the instant *in that offset*.
Money is read from the JSON as ``Decimal`` (the client parses with ``parse_float=Decimal``).

Consumer or business: Xero has no flag. A contact with a company number (KvK) or a tax number
(VAT) is a business; one with neither is a consumer (reference next-ledgers §1.4, UNCERTAIN).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from babel import Locale

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

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-])?(\d{2})?(\d{2})?\)/$")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")
SALES = "ACCREC"
# Currencies our legal flow (Dutch pre-incasso, WIK amounts in euro) can chase.
CHASED_CURRENCIES = frozenset({"EUR"})
STATE_LENGTH = 30  # what the mirror keeps of a ledger state
# Xero's addresses carry a free-text country ("Netherlands", "NL", "Nederland"); we keep ISO codes.
_COUNTRIES = {name.lower(): code for lang in ("en", "nl")
              for code, name in Locale(lang).territories.items() if len(code) == 2}
STATE_WORDS = {"DRAFT": "concept", "SUBMITTED": "ter goedkeuring", "AUTHORISED": "open",
               "PAID": "betaald", "VOIDED": "vervallen (voided)", "DELETED": "verwijderd"}


def _zone(sign: str | None, hours: str | None, minutes: str | None) -> timezone:
    if not sign:
        return UTC
    delta = timedelta(hours=int(hours or 0), minutes=int(minutes or 0))
    return timezone(-delta if sign == "-" else delta)


def ms_date(value: Any) -> tuple[datetime, timezone] | None:
    """An MS-JSON date as (aware UTC instant, the zone it was written in); ISO text accepted."""
    if value in (None, ""):
        return None
    text_value = str(value).strip()
    match = _MS_DATE.match(text_value)
    if match:
        instant = datetime.fromtimestamp(int(match.group(1)) / 1000, UTC)
        return instant, _zone(match.group(2), match.group(3), match.group(4))
    try:  # UpdatedDateUTCString, DateString: ISO without a zone means UTC
        parsed = datetime.fromisoformat(text_value.replace("Z", "+00:00"))
    except ValueError:
        raise Rejected("Xero sent a date that is neither /Date(ms)/ nor ISO 8601") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC), parsed.tzinfo if isinstance(parsed.tzinfo, timezone) else UTC


def moment(value: Any) -> datetime | None:
    """A timestamp (``UpdatedDateUTC``, ``DateUTC``) as aware UTC."""
    found = ms_date(value)
    return found[0] if found else None


def day(value: Any) -> date | None:
    """A calendar date (``Date``, ``DueDate``): the day of the instant in its own offset."""
    found = ms_date(value)
    if not found:
        return None
    instant, zone = found
    return instant.astimezone(zone).date()


def ms_json(at: datetime) -> str:
    """An aware datetime as Xero writes it: ``/Date(ms+0000)/``."""
    return f"/Date({int(at.astimezone(UTC).timestamp() * 1000)}+0000)/"


def money(value: Any) -> Decimal:
    if value in (None, ""):
        return Decimal("0")
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise Rejected("Xero sent an amount that is not a number") from None


def text(value: Any, limit: int | None = None) -> str | None:
    """Stripped text or None, cut to ``limit`` characters (the mirror's column)."""
    found = (str(value).strip() or None) if value is not None else None
    return found[:limit].rstrip() if found and limit else found


def country_code(value: Any) -> str | None:
    """An ISO 3166 code from Xero's free-text country, or None when it is not one we know."""
    found = text(value)
    if not found:
        return None
    if len(found) == 2 and found.isalpha():
        return found.upper()
    return _COUNTRIES.get(found.lower())


def tenant(connection: dict[str, Any], organisation: dict[str, Any] | None = None) -> Tenant:
    """A /connections row (and, where read, its /Organisation) as a tenant."""
    organisation = organisation or {}
    return Tenant(
        id=str(connection["tenantId"]),
        name=text(connection.get("tenantName")) or text(organisation.get("Name"))
        or str(connection["tenantId"]),
        currency=text(organisation.get("BaseCurrency")) or "EUR",
        country=text(organisation.get("CountryCode")),
        suspended=organisation.get("OrganisationStatus") not in (None, "ACTIVE"),
    )


def chased(currency: str) -> bool:
    """Whether our collection flow may chase an invoice in ``currency`` (see CHASED_CURRENCIES)."""
    return currency.upper() in CHASED_CURRENCIES


def status_of(row: dict[str, Any]) -> InvoiceStatus:
    """Xero's Status and amounts as our status; a fully credited invoice is CREDITED."""
    status = str(row.get("Status") or "")
    due, paid, credited = (money(row.get("AmountDue")), money(row.get("AmountPaid")),
                           money(row.get("AmountCredited")))
    if status in ("DRAFT", "SUBMITTED"):
        return InvoiceStatus.DRAFT
    if status in ("DELETED", "VOIDED"):
        return InvoiceStatus.DELETED
    if status == "AUTHORISED" and due > 0:
        return InvoiceStatus.OPEN
    if status in ("AUTHORISED", "PAID"):
        return InvoiceStatus.CREDITED if credited > 0 and paid == 0 else InvoiceStatus.PAID
    raise Rejected(f"Xero sent an unknown invoice status {status[:20]!r}")


def ledger_state(row: dict[str, Any], status: InvoiceStatus) -> str:
    """Xero's state in words as the creditor reads it; a currency we do not chase says so."""
    words = STATE_WORDS.get(str(row.get("Status")), "onbekend")
    if status == InvoiceStatus.CREDITED:
        words = "gecrediteerd (creditnota)"
    currency = str(row.get("CurrencyCode") or "EUR")
    if status == InvoiceStatus.OPEN and not chased(currency):
        words = f"{currency[:3]}: niet geïncasseerd"  # the reason on the case (≤ 30 characters)
    return words[:STATE_LENGTH]


def payments(row: dict[str, Any]) -> tuple[PaymentRecord, ...]:
    out = []
    for p in row.get("Payments") or []:
        paid_on = day(p.get("Date"))
        if paid_on is None or not p.get("PaymentID"):
            continue
        out.append(PaymentRecord(id=str(p["PaymentID"]), amount=money(p.get("Amount")),
                                 paid_on=paid_on, reference=text(p.get("Reference"))))
    for c in row.get("CreditNotes") or []:
        if c.get("CreditNoteID"):
            out.append(PaymentRecord(
                id=str(c["CreditNoteID"]), amount=money(c.get("AppliedAmount") or c.get("Total")),
                paid_on=day(c.get("Date")) or date.min, credit_invoice_id=str(c["CreditNoteID"])))
    return tuple(out)


def invoice(row: dict[str, Any], payment_url: str | None = None) -> InvoiceRecord:
    """One ACCREC invoice. ``version`` is its UpdatedDateUTC (changes with every edit)."""
    try:
        status = status_of(row)
        currency = str(row.get("CurrencyCode") or "EUR")
        updated = moment(row.get("UpdatedDateUTC"))
        number = text(row.get("InvoiceNumber"), 64)
        return InvoiceRecord(
            id=str(row["InvoiceID"]),
            version=updated.isoformat() if updated else "",
            number=number,
            debtor_id=str(row["Contact"]["ContactID"]),
            status=status,
            ledger_state=ledger_state(row, status),
            invoice_date=day(row.get("Date")),
            due_date=day(row.get("DueDate")),
            currency=currency,
            total=money(row.get("Total")),
            open_amount=money(row.get("AmountDue")) if status == InvoiceStatus.OPEN
            else Decimal("0"),
            paid_on=day(row.get("FullyPaidOnDate")) if status == InvoiceStatus.PAID else None,
            payment_url=payment_url if status == InvoiceStatus.OPEN else None,
            payments=payments(row),
        )
    except (KeyError, TypeError) as exc:
        raise Rejected(f"Xero invoice lacks field {exc.args[0]!r}") from None


def _address(contact: dict[str, Any]) -> dict[str, Any]:
    addresses = [a for a in contact.get("Addresses") or [] if any(
        a.get(k) for k in ("AddressLine1", "City", "PostalCode"))]
    postal = [a for a in addresses if a.get("AddressType") == "POBOX"]
    return (postal or addresses or [{}])[0]


def _phone(contact: dict[str, Any]) -> str | None:
    phones = {p.get("PhoneType"): p for p in contact.get("Phones") or []}
    for kind in ("MOBILE", "DEFAULT", "DDI", "OFFICE"):
        p = phones.get(kind)
        if p and text(p.get("PhoneNumber")):
            parts = [text(p.get(k)) for k in ("PhoneCountryCode", "PhoneAreaCode", "PhoneNumber")]
            country = f"+{parts[0].lstrip('+')}" if parts[0] else None
            return " ".join(x for x in (country, parts[1], parts[2]) if x)
    return None


def debtor(contact: dict[str, Any]) -> DebtorRecord:
    """A contact as a debtor: business when it has a company or tax number."""
    try:
        business = bool(text(contact.get("CompanyNumber")) or text(contact.get("TaxNumber")))
        address = _address(contact)
        person = " ".join(x for x in (text(contact.get("FirstName")),
                                      text(contact.get("LastName"))) if x) or None
        line = ", ".join(x for x in (text(address.get(f"AddressLine{i}")) for i in (1, 2, 3, 4))
                         if x)
        updated = moment(contact.get("UpdatedDateUTC"))
        return DebtorRecord(
            id=str(contact["ContactID"]),
            version=updated.isoformat() if updated else "",
            kind=DebtorKind.BUSINESS if business else DebtorKind.CONSUMER,
            name=text(contact.get("Name"), 200) or text(person, 200)
            or str(contact["ContactID"]),
            contact_person=text(person, 200) if business else None,
            email=text(contact.get("EmailAddress"), 254),
            phone=text(_phone(contact), 40),
            address_line=text(line, 200),
            postal_code=text(address.get("PostalCode"), 20),
            city=text(address.get("City"), 100),
            country=country_code(address.get("Country")),
            chamber_of_commerce=text(contact.get("CompanyNumber"), 20),
            customer_number=text(contact.get("ContactNumber"), 64) or text(
                contact.get("AccountNumber"), 64),
        )
    except KeyError as exc:
        raise Rejected(f"Xero contact lacks field {exc.args[0]!r}") from None


def history_note(row: dict[str, Any], index: int) -> NoteRecord:
    return NoteRecord(id=str(row.get("HistoryID") or index), text=str(row.get("Details") or ""),
                      created_at=moment(row.get("DateUTC")))
