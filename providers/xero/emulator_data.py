"""Deterministic, seeded demo data for the Xero emulator: organisations, contacts, invoices,
accounts. Plain dicts in Xero's own field names (amounts Decimal, dates date, times datetime);
the API module renders them. The same seed and the same "today" give the same data.

A business contact has a CompanyNumber (KvK) and mostly a TaxNumber (VAT); a consumer has
neither. Most invoices are in euro; a few are in dollars (mirrored, not chased). Some invoices
are bills (ACCPAY), drafts, paid, voided or credited, so a client must filter and map them.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
ZERO = Decimal("0")
Row = dict[str, Any]

ORGANISATIONS = (
    ("Bakkerij Zonneveld B.V.", "NL", "EUR", "+0000"),
    ("Studio Kiwi Amsterdam", "NL", "EUR", "+0100"),  # writes dates as local midnight
    ("Fjord Trading Ltd", "GB", "EUR", "+0000"),
)
FIRST = ("Jan", "Sanne", "Pieter", "Fatima", "Kees", "Lotte", "Mohamed", "Eva", "Bram", "Noor")
LAST = ("de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder")
FIRMS = ("Hoveniersbedrijf", "Installatietechniek", "Bouwbedrijf", "Adviesgroep", "Drukkerij",
         "Transport", "Schilderwerken", "Catering")
CITIES = (("Utrecht", "3511 AB"), ("Amsterdam", "1012 JS"), ("Rotterdam", "3011 AD"),
          ("Zwolle", "8011 CW"), ("Groningen", "9711 LM"))


def guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def cents(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def ms_date(value: date | datetime | None, offset: str = "+0000") -> str | None:
    """``/Date(ms+hhmm)/``. A date is midnight *in the offset* (what an organisation outside
    UTC writes), so the number alone read as UTC can fall on the day before."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        sign = -1 if offset.startswith("-") else 1
        zone = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])))
        value = datetime.combine(value, time(0), zone)
    return f"/Date({int(value.astimezone(UTC).timestamp() * 1000)}{offset})/"


def to_ms(value: datetime) -> datetime:
    return value.replace(microsecond=(value.microsecond // 1000) * 1000)


def _contact(rng: random.Random, org: Row, n: int, at: datetime) -> Row:
    business = rng.random() < 0.55
    city, postcode = rng.choice(CITIES)
    first, last = rng.choice(FIRST), rng.choice(LAST)
    name = f"{rng.choice(FIRMS)} {last.split()[-1]} B.V." if business else f"{first} {last}"
    return {
        "ContactID": guid(rng),
        "ContactNumber": f"K{n:05d}",
        "ContactStatus": "ACTIVE",
        "Name": name,
        "FirstName": first,
        "LastName": last,
        "EmailAddress": f"debiteur{n}@example.invalid",
        "CompanyNumber": f"{rng.randrange(10_000_000, 99_999_999)}" if business else None,
        "TaxNumber": f"NL{rng.randrange(10**8, 10**9)}B01" if business and rng.random() < .8
        else None,
        "Addresses": [{"AddressType": "POBOX", "AddressLine1": f"Dorpsstraat {n}",
                       "City": city, "PostalCode": postcode,
                       "Country": "Netherlands" if n % 2 else "NL"},  # free text in Xero
                      {"AddressType": "STREET"}],
        "Phones": [{"PhoneType": "MOBILE", "PhoneNumber": f"6{rng.randrange(10**7, 10**8)}",
                    "PhoneCountryCode": "31"}],
        "IsCustomer": True,
        "IsSupplier": False,
        "UpdatedDateUTC": to_ms(at),
    }


def _invoice(rng: random.Random, org: Row, contact: Row, n: int, today: date,
             at: datetime) -> Row:
    total = cents(Decimal(rng.randrange(5_000, 250_000)) / 100)
    days_overdue = rng.choice((-20, -5, 3, 10, 25, 40, 75, 120))
    due = today - timedelta(days=days_overdue)
    kind = rng.random()
    status, paid, credited = "AUTHORISED", ZERO, ZERO
    if kind < 0.12:
        status, paid = "PAID", total
    elif kind < 0.16:
        status = "VOIDED"
    elif kind < 0.20:
        status = "DRAFT"
    elif kind < 0.24:
        paid = cents(total / 3)
    elif kind < 0.26:
        status, credited = "PAID", total
    currency = "USD" if rng.random() < 0.05 else org["BaseCurrency"]
    return {
        "Type": "ACCPAY" if rng.random() < 0.06 else "ACCREC",
        "InvoiceID": guid(rng),
        "InvoiceNumber": f"INV-{n:05d}",
        "Reference": f"Order {rng.randrange(1000, 9999)}",
        "ContactID": contact["ContactID"],
        "Date": due - timedelta(days=30),
        "DueDate": due,
        "Status": status,
        "CurrencyCode": currency,
        "Total": total,
        "AmountPaid": paid,
        "AmountCredited": credited,
        "UpdatedDateUTC": to_ms(at),
        "FullyPaidOnDate": due + timedelta(days=2) if status == "PAID" else None,
        "Payments": [],
        "CreditNotes": [],
    }


def accounts(rng: random.Random) -> list[Row]:
    rows = [("090", "Zakelijke rekening", "BANK", False), ("091", "Spaarrekening", "BANK", False),
            ("200", "Omzet", "REVENUE", False), ("610", "Debiteuren", "CURRENT", False),
            ("880", "Kruisposten incasso", "CURRLIAB", True),
            ("999", "Oude bank (gearchiveerd)", "BANK", False)]
    out = []
    for code, name, kind, payments in rows:
        out.append({"AccountID": guid(rng), "Code": code, "Name": name, "Type": kind,
                    "Status": "ARCHIVED" if code == "999" else "ACTIVE",
                    "EnablePaymentsToAccount": payments, "Class": "ASSET",
                    "BankAccountNumber": "NL91ABNA0417164300" if kind == "BANK" else None,
                    "CurrencyCode": "EUR"})
    return out


def generate(seed: int, organisations: int, contacts: int, invoices: int,
             now: datetime) -> list[Row]:
    """``organisations`` organisations; the first gets ``contacts``/``invoices``, the others a
    tenth of them (at least a few)."""
    rng = random.Random(f"xero-{seed}")
    today = now.date()
    orgs = []
    for index in range(organisations):
        name, country, currency, offset = ORGANISATIONS[index % len(ORGANISATIONS)]
        org: Row = {"tenantId": guid(rng), "Name": name if index < len(ORGANISATIONS)
                    else f"{name} {index}", "CountryCode": country, "BaseCurrency": currency,
                    "date_offset": offset, "ShortCode": f"!{rng.randrange(10**4, 10**5)}",
                    "contacts": {}, "invoices": {}, "history": {}, "payments": {},
                    "accounts": accounts(rng), "idempotency": {}}
        share = 1 if index == 0 else 10
        count_c, count_i = max(3, contacts // share), max(6, invoices // share)
        base = now - timedelta(days=60)
        people = []
        for n in range(count_c):
            at = base + timedelta(seconds=rng.randrange(0, 50 * 86_400), milliseconds=n)
            contact = _contact(rng, org, n + 1, at)
            org["contacts"][contact["ContactID"]] = contact
            people.append(contact)
        for n in range(count_i):
            at = base + timedelta(seconds=rng.randrange(0, 55 * 86_400), milliseconds=n)
            row = _invoice(rng, org, rng.choice(people), n + 1, today, at)
            org["invoices"][row["InvoiceID"]] = row
            org["history"][row["InvoiceID"]] = [{"Details": "INV created", "Changes": "Created",
                                                 "User": "Sanne Demo", "DateUTC": to_ms(at)}]
        orgs.append(org)
    return orgs
