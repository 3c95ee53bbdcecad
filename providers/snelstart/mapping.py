"""SnelStart JSON → ledger records. Pure functions, no I/O.

Field names are SnelStart's (B2B API v2): ``verkoopfacturen`` carry the open amount
(``openstaandSaldo``, filled only when read) and due date (``vervalDatum``); ``relaties`` carry
the reminder type (``aanmaningsoort``) and a dedicated reminder e-mail address
(``aanmaningEmailVersturen``). Money is JSON numbers, parsed through ``str`` into Decimal.
"""

from __future__ import annotations

from datetime import date
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
from providers.snelstart.odata import Stamp

CONSUMER_REMINDERS = "Consument"
BUSINESS_REMINDERS = "Onderneming"


def money(value: Any) -> Decimal:
    if value is None or value == "":
        return Decimal("0")
    if isinstance(value, bool):
        raise Rejected("SnelStart sent an amount that is not a number")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise Rejected("SnelStart sent an amount that is not a number") from None


def day(value: Any) -> date | None:
    """SnelStart sends dates as date-times (``2026-10-01T00:00:00``); the date part counts."""
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise Rejected("SnelStart sent a date that is not a date") from None


def text(value: Any) -> str | None:
    return (str(value).strip() if value is not None else "") or None


def ref_id(value: Any) -> str | None:
    """The ``id`` of an identifier model (``{"id": …, "uri": …}``)."""
    return text(value.get("id")) if isinstance(value, dict) else None


def tenant(info: dict[str, Any]) -> Tenant:
    """The administration a koppelsleutel opens, from ``GET /companyInfo``."""
    admin_id = text(info.get("administratieIdentifier"))
    if admin_id is None:
        raise Rejected("SnelStart company info lacks the administration id")
    name = text(info.get("administratieNaam")) or text(info.get("bedrijfsnaam")) or admin_id
    return Tenant(id=admin_id, name=name, currency="EUR", country="NL")


def invoice_version(data: dict[str, Any]) -> str:
    """``modifiedOn`` and the open amount: the open amount is computed when read and may
    change with a bank booking that leaves ``modifiedOn`` alone (UNCERTAIN), so both count."""
    return f"{data.get('modifiedOn')}|{money(data.get('openstaandSaldo'))}"


def invoice_status(data: dict[str, Any]) -> tuple[InvoiceStatus, str]:
    """Open while something is owed. A credit note (negative total) is never chased. Whether a
    zero balance came from a payment or from a credit note is not in the data: paid."""
    total = money(data.get("factuurBedrag"))
    open_amount = money(data.get("openstaandSaldo"))
    if total < 0:
        return InvoiceStatus.CREDITED, "creditfactuur"
    if open_amount > 0:
        return InvoiceStatus.OPEN, "openstaand"
    return InvoiceStatus.PAID, "voldaan"


def is_open(data: dict[str, Any]) -> bool:
    return invoice_status(data)[0] is InvoiceStatus.OPEN


def invoice(data: dict[str, Any]) -> InvoiceRecord:
    invoice_id = text(data.get("id"))
    debtor_id = ref_id(data.get("relatie"))
    if invoice_id is None or debtor_id is None:
        raise Rejected("SnelStart invoice lacks its id or relation")
    status, state = invoice_status(data)
    open_amount = money(data.get("openstaandSaldo"))
    return InvoiceRecord(
        id=invoice_id,
        version=invoice_version(data),
        number=text(data.get("factuurnummer")),
        debtor_id=debtor_id,
        status=status,
        ledger_state=state,
        invoice_date=day(data.get("factuurDatum")),
        due_date=day(data.get("vervalDatum")),
        currency="EUR",
        total=money(data.get("factuurBedrag")),
        open_amount=max(open_amount, Decimal("0")),
    )


def sales_booking_id(data: dict[str, Any]) -> str | None:
    """The sales booking (``verkoopBoeking``) documents and payments attach to."""
    return ref_id(data.get("verkoopBoeking"))


def debtor_kind(data: dict[str, Any]) -> DebtorKind:
    """The relation's own reminder type decides; without it a KvK or VAT number means a
    business. Nothing to go on means a consumer: the stricter rules (WIK) then apply."""
    reminders = data.get("aanmaningsoort")
    if reminders == CONSUMER_REMINDERS:
        return DebtorKind.CONSUMER
    if reminders == BUSINESS_REMINDERS:
        return DebtorKind.BUSINESS
    if text(data.get("kvkNummer")) or text(data.get("btwNummer")):
        return DebtorKind.BUSINESS
    return DebtorKind.CONSUMER


def _mail(data: dict[str, Any], field: str) -> str | None:
    settings = data.get(field)
    return text(settings.get("email")) if isinstance(settings, dict) else None


def debtor(data: dict[str, Any]) -> DebtorRecord:
    relation_id = text(data.get("id"))
    if relation_id is None:
        raise Rejected("SnelStart relation lacks its id")
    address = _address(data)
    code = data.get("relatiecode")
    return DebtorRecord(
        id=relation_id,
        version=str(data.get("modifiedOn")),
        kind=debtor_kind(data),
        name=text(data.get("naam")) or (str(code) if code is not None else relation_id),
        contact_person=text(address.get("contactpersoon")),
        # The reminder address wins, then the invoice address, then the general one.
        email=(_mail(data, "aanmaningEmailVersturen") or _mail(data, "factuurEmailVersturen")
               or text(data.get("email"))),
        phone=text(data.get("mobieleTelefoon")) or text(data.get("telefoon")),
        address_line=text(address.get("straat")),
        postal_code=text(address.get("postcode")),
        city=text(address.get("plaats")),
        # ``land`` is only an id into /landen; the connector treats an unknown country as NL.
        country=None,
        chamber_of_commerce=text(data.get("kvkNummer")),
        customer_number=str(code) if code is not None else None,
    )


def _address(data: dict[str, Any]) -> dict[str, Any]:
    """Letters go to the correspondence address when it has a street, else the business one."""
    for field in ("correspondentieAdres", "vestigingsAdres"):
        address = data.get(field)
        if isinstance(address, dict) and text(address.get("straat")):
            return address
    return {}


def is_customer(data: dict[str, Any]) -> bool:
    kinds = data.get("relatiesoort")
    return not isinstance(kinds, list) or not kinds or "Klant" in kinds


def stamp(data: dict[str, Any]) -> Stamp | None:
    return Stamp.parse(data.get("modifiedOn"))
