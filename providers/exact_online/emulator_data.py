"""Deterministic, seeded Dutch demo data for the Exact Online emulator.

Plain data plus pure helpers (OData JSON dates, padded account codes). The same seed and the same
"today" always give the same divisions, accounts and receivables, so tests and demos reproduce.

Consumer vs business (Exact has no "is person" flag on ``crm/Accounts``): the emulated rule is
that a business has a ``ChamberOfCommerce`` (KvK) number and usually a ``VATNumber`` and a name
with a legal form; a consumer has neither, its ``Name`` is the person's name and equals the
``FullName`` of its main contact, and that contact has a private ``Mobile``/``Email`` rather than
business ones.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
ZERO = Decimal("0")

# --------------------------------------------------------------------------- helpers


def odata_date(value: date | datetime | None) -> str | None:
    """``/Date(ms)/`` as Exact writes it; a date is midnight UTC of that day."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(0), UTC)
    return f"/Date({int(value.astimezone(UTC).timestamp() * 1000)})/"


def day_start(value: date) -> datetime:
    """A date as the aware-UTC midnight the API encodes it as."""
    return datetime.combine(value, time(0), UTC)


def to_ms(value: datetime) -> datetime:
    """Truncate to milliseconds so stored times equal what ``/Date(ms)/`` can carry."""
    return value.replace(microsecond=(value.microsecond // 1000) * 1000)


def padded_code(n: int) -> str:
    """``crm/Accounts.Code``: an 18-character, right-aligned string with leading spaces."""
    return f"{n:>18}"


def guid(rng: random.Random) -> str:
    """A lowercase version-4 GUID string from ``rng`` (deterministic per seed)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def cents(value: Decimal) -> Decimal:
    """Round money to cents (half up, like a bookkeeping package)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------- vocabulary

FIRST_NAMES = [
    "Jan", "Piet", "Kees", "Anna", "Sanne", "Lotte", "Daan", "Sem", "Lucas", "Emma", "Julia",
    "Tess", "Bram", "Ruben", "Fleur", "Noa", "Sophie", "Thijs", "Jeroen", "Marieke", "Willem",
    "Henk", "Ingrid", "Femke", "Joost", "Maaike", "Bas", "Eva", "Lieke", "Martijn", "Iris", "Koen",
]  # fmt: skip
LAST_NAMES = [
    ("", "Jansen"), ("de", "Vries"), ("van den", "Berg"), ("", "Bakker"), ("van", "Dijk"),
    ("", "Visser"), ("", "Smit"), ("", "Meijer"), ("de", "Boer"), ("", "Mulder"), ("de", "Groot"),
    ("", "Bos"), ("", "Vos"), ("", "Peters"), ("", "Hendriks"), ("van", "Leeuwen"), ("", "Dekker"),
    ("", "Brouwer"), ("de", "Wit"), ("", "Dijkstra"), ("", "Smits"), ("de", "Graaf"),
    ("van der", "Meer"), ("van der", "Linden"), ("", "Kok"), ("", "Jacobs"), ("de", "Haan"),
]  # fmt: skip
BUSINESS_KINDS = [
    "Bakkerij", "Installatiebedrijf", "Schildersbedrijf", "Hoveniersbedrijf", "Autobedrijf",
    "Fietsenmakerij", "Adviesbureau", "Loodgietersbedrijf", "Kapsalon", "Restaurant", "Bouwbedrijf",
    "Transportbedrijf", "Drukkerij", "Slagerij", "Bloemenhandel", "Timmerbedrijf", "Kinderopvang",
]  # fmt: skip
BUSINESS_NAMES = [
    "De Korenschoof", "Het Anker", "De Molen", "Zonneveld", "De Eik", "Noorderlicht", "Het Gouden",
    "Waterkant", "De Linde", "Polderzicht", "Duinzicht", "De Hoeve", "Rivierenland", "De Vaart",
]  # fmt: skip
LEGAL_FORMS = ["B.V.", "B.V.", "B.V.", "V.O.F.", "", "Holding B.V."]
STREETS = [
    "Dorpsstraat", "Kerkstraat", "Hoofdstraat", "Molenweg", "Stationsweg", "Schoolstraat",
    "Julianastraat", "Beatrixlaan", "Wilhelminastraat", "Nieuwstraat", "Markt", "Havenstraat",
    "Industrieweg", "Kastanjelaan", "Eikenlaan", "Oudegracht", "Zuiderdiep", "Langestraat",
]  # fmt: skip
CITIES = [
    ("Amsterdam", 10), ("Rotterdam", 30), ("Den Haag", 25), ("Utrecht", 35), ("Eindhoven", 56),
    ("Groningen", 97), ("Tilburg", 50), ("Almere", 13), ("Breda", 48), ("Nijmegen", 65),
    ("Haarlem", 20), ("Arnhem", 68), ("Zwolle", 80), ("Leiden", 23), ("Maastricht", 62),
    ("Amersfoort", 38), ("Apeldoorn", 73), ("Leeuwarden", 89), ("Deventer", 74), ("Delft", 26),
]  # fmt: skip
MAIL_DOMAINS = ["ziggo.example", "kpnmail.example", "hetnet.example", "mail.example"]
DESCRIPTIONS = [
    "Onderhoud cv-ketel", "Levering brood en banket", "Advieswerkzaamheden", "Schilderwerk",
    "Hovenierswerkzaamheden", "Consultancy", "Reparatie en onderdelen", "Cateringverzorging",
    "Webdesign en hosting", "Installatie zonnepanelen", "Vervoerskosten", "Drukwerk folders",
]  # fmt: skip
DIVISION_NAMES = [
    "Incasso Demo B.V.",
    "Van Dijk Installatietechniek B.V.",
    "Hoveniersbedrijf De Groot",
    "Fietsenwinkel Jansen V.O.F.",
    "Drukkerij Mulder B.V.",
]
PAYMENT_CONDITIONS = [("14", "14 dagen"), ("30", "30 dagen"), ("30", "30 dagen"), ("8", "8 dagen")]


def _slug(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def _postcode(rng: random.Random, prefix: int) -> str:
    letters = "ABCDEFGHJKLMNPRSTVWXZ"
    return f"{prefix * 100 + rng.randint(0, 99):04d} {rng.choice(letters)}{rng.choice(letters)}"


def mobile(rng: random.Random) -> str:
    """A Dutch mobile number, in one of the ways people type them into Exact."""
    digits = f"{rng.randint(10_000_000, 99_999_999)}"
    style = rng.randrange(3)
    if style == 0:
        return f"06-{digits}"
    if style == 1:
        return f"+31 6 {digits[:4]} {digits[4:]}"
    return f"06 {digits[:2]} {digits[2:4]} {digits[4:6]} {digits[6:]}"


def landline(rng: random.Random, prefix: int) -> str:
    """A Dutch landline number (area code from the postcode region, loosely)."""
    area = f"0{prefix % 90 + 10}"
    return f"{area}-{rng.randint(1_000_000, 9_999_999)}"


# --------------------------------------------------------------------------- generation


class Clock:
    """Strictly increasing row versions (``Timestamp``), shared by all divisions."""

    def __init__(self, start: int) -> None:
        self.value = start

    def next(self) -> int:
        """The next row version (callers hold the emulator lock)."""
        self.value += 1
        return self.value


def make_account(
    rng: random.Random, n: int, code: int, when: datetime, ts: Clock, consumer: bool
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """One debtor account with its main contact and addresses (visit + invoice)."""
    city, prefix = rng.choice(CITIES)
    first = rng.choice(FIRST_NAMES)
    middle, last = rng.choice(LAST_NAMES)
    full = " ".join(x for x in (first, middle, last) if x)
    account_id, contact_id = guid(rng), guid(rng)
    street = f"{rng.choice(STREETS)} {rng.randint(1, 220)}{rng.choice(['', '', '', 'a', 'b'])}"
    postcode = _postcode(rng, prefix)
    if consumer:
        name = full
        email = f"{_slug(first)}.{_slug(middle + last)}{n}@{rng.choice(MAIL_DOMAINS)}"
        kvk = vat = website = None
        phone = mobile(rng)
    else:
        form = rng.choice(LEGAL_FORMS)
        base = f"{rng.choice(BUSINESS_KINDS)} {rng.choice(BUSINESS_NAMES)}"
        if rng.random() < 0.3:
            base = f"{base} {last}"
        name = f"{base} {form}".strip()
        domain = f"{_slug(base)}{n}.example"
        email = f"{rng.choice(['administratie', 'info', 'facturen', 'boekhouding'])}@{domain}"
        kvk = f"{rng.randint(10_000_000, 99_999_999)}"
        vat = f"NL{rng.randint(0, 999_999_999):09d}B{rng.randint(1, 3):02d}" if form else None
        website = f"https://www.{domain}"
        phone = landline(rng, prefix)
    cond, cond_desc = rng.choice(PAYMENT_CONDITIONS)
    created = when - timedelta(days=rng.randint(400, 2500), seconds=rng.randint(0, 86_399))
    account = {
        "ID": account_id,
        "Code": padded_code(code),
        "Name": name,
        "Email": email,
        "Phone": phone,
        "Website": website,
        "AddressLine1": street,
        "AddressLine2": None,
        "Postcode": postcode,
        "City": city,
        "Country": "NL",
        "CountryName": "Nederland",
        "ChamberOfCommerce": kvk,
        "VATNumber": vat,
        "MainContact": contact_id,
        "Status": "C",
        "IsSales": True,
        "IsSupplier": False,
        "Blocked": False,
        "PaymentConditionSales": cond,
        "PaymentConditionSalesDescription": cond_desc,
        "Language": "NL",
        "Remarks": None,
        "Created": to_ms(created),
        "Modified": to_ms(created + timedelta(days=rng.randint(0, 300))),
        "Timestamp": ts.next(),
    }
    job = None if consumer else rng.choice(["Financieel medewerker", "Eigenaar", "Office manager"])
    contact = {
        "ID": contact_id,
        "Account": account_id,
        "FirstName": first,
        "MiddleName": middle or None,
        "LastName": last,
        "FullName": full,
        "Initials": f"{first[0]}.",
        "Email": email if consumer else None,
        "BusinessEmail": None if consumer else f"{_slug(first)}@{email.split('@')[1]}",
        "Phone": None if consumer else phone,
        "BusinessPhone": None if consumer else phone,
        "Mobile": phone if consumer else None,
        "BusinessMobile": None if consumer else mobile(rng),
        "JobTitleDescription": job,
        "IsMainContact": True,
        "Language": "NL",
        "Notes": None,
        "Created": account["Created"],
        "Modified": account["Modified"],
        "Timestamp": ts.next(),
    }
    addresses = [
        {
            "ID": guid(rng),
            "Account": account_id,
            "Type": 1,
            "Main": True,
            "AddressLine1": street,
            "AddressLine2": None,
            "Postcode": postcode,
            "City": city,
            "Country": "NL",
            "Contact": contact_id,
            "Phone": phone,
            "Created": account["Created"],
            "Modified": account["Modified"],
            "Timestamp": ts.next(),
        }
    ]
    invoice = dict(addresses[0], ID=guid(rng), Type=3, Timestamp=ts.next())
    if not consumer and rng.random() < 0.35:  # businesses often want invoices at a PO box
        invoice.update(
            AddressLine1=f"Postbus {rng.randint(10, 9999)}", Postcode=_postcode(rng, prefix)
        )
    addresses.append(invoice)
    return account, contact, addresses


def _due_offset(rng: random.Random) -> int:
    """Days past due (negative = not yet due): mostly recent arrears, a tail of old debt."""
    r = rng.random()
    if r < 0.10:
        return -rng.randint(1, 30)
    if r < 0.78:
        return rng.randint(1, 180)
    if r < 0.95:
        return rng.randint(181, 730)
    return rng.randint(731, 1600)


def _amount(rng: random.Random) -> Decimal:
    tier = rng.random()
    if tier < 0.45:
        raw = rng.uniform(25, 400)
    elif tier < 0.85:
        raw = rng.uniform(400, 2500)
    else:
        raw = rng.uniform(2500, 18000)
    return cents(Decimal(str(round(raw, 2))))


def make_item(
    rng: random.Random,
    account: dict[str, Any],
    number: int,
    hid: int,
    today: date,
    now: datetime,
    ts: Clock,
    *,
    due_in: int | None = None,
    amount: Decimal | None = None,
    line_type: int = 20,
) -> dict[str, Any]:
    """One sales entry with its single payment term (the receivable)."""
    days = int(account["PaymentConditionSales"])
    due = today - timedelta(days=_due_offset(rng)) if due_in is None else today + timedelta(due_in)
    inv_date = due - timedelta(days=days)
    total = amount if amount is not None else _amount(rng)
    created = to_ms(
        min(now, datetime.combine(inv_date, time(9), UTC)) + timedelta(minutes=hid % 600)
    )
    return {
        "ID": guid(rng),
        "EntryID": guid(rng),
        "InvoiceID": guid(rng),
        "TransactionID": guid(rng),
        "HID": hid,
        "InvoiceNumber": number,
        "EntryNumber": number,
        "Account": account["ID"],
        "InvoiceDate": inv_date,
        "EntryDate": inv_date,
        "DueDate": due,
        "Total": total,
        "Paid": ZERO,
        "Description": f"Factuur {number}",
        "Notes": rng.choice(DESCRIPTIONS),
        "YourRef": f"PO-{rng.randint(1000, 99999)}" if rng.random() < 0.3 else None,
        "PaymentCondition": account["PaymentConditionSales"],
        "PaymentConditionDescription": account["PaymentConditionSalesDescription"],
        "PaymentMethod": "B",
        "PaymentReference": f"{rng.randint(10**15, 10**16 - 1)}",
        "LastPaymentDate": None,
        "EndDate": None,
        "LineType": line_type,
        "Journal": "70" if line_type == 20 else "60",
        "Created": created,
        "Modified": created,
        "Timestamp": ts.next(),
    }


def generate(
    seed: int, divisions: int, accounts: int, open_items: int, now: datetime, ts: Clock
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The user (``current/Me``) and ``divisions`` divisions; the first one is the big one."""
    rng = random.Random(seed)
    today = now.date()
    user = {
        "UserID": guid(rng),
        "UserName": "marieke@boekhouding.example",
        "FullName": "Marieke van der Meer",
        "FirstName": "Marieke",
        "LastName": "van der Meer",
        "Email": "marieke@boekhouding.example",
        "LanguageCode": "nl-NL",
        "Language": "NL",
        "Legislation": 1,
    }
    codes: list[int] = []
    while len(codes) < divisions:
        c = rng.randint(100_000, 3_999_999)
        if c not in codes:
            codes.append(c)
    out = []
    hid = 2_000_000
    for d_index, code in enumerate(codes):
        n_acc = accounts if d_index == 0 else max(8, accounts // 10)
        n_items = open_items if d_index == 0 else max(12, open_items // 10)
        name = DIVISION_NAMES[d_index % len(DIVISION_NAMES)]
        if d_index >= len(DIVISION_NAMES):
            name = f"{name} ({d_index + 1})"
        div: dict[str, Any] = {
            "Code": code,
            "Hid": 1000 + d_index,
            "Description": name,
            "Customer": guid(rng),
            "CustomerCode": padded_code(10 + d_index),
            "CustomerName": name,
            "Country": "NL",
            "Currency": "EUR",
            "Status": 1,
            "VATNumber": f"NL{rng.randint(0, 999_999_999):09d}B01",
            "ChamberOfCommerceNumber": f"{rng.randint(10_000_000, 99_999_999)}",
            "StartDate": date(today.year - 6, 1, 1),
            "Created": to_ms(now - timedelta(days=2400 + d_index)),
            "Modified": to_ms(now - timedelta(days=30 + d_index)),
            "DivisionMoveDate": None,
            "accounts": {},
            "contacts": {},
            "addresses": {},
            "items": {},
        }
        gl = {
            key: {"ID": guid(rng), "Code": code_, "Description": desc}
            for key, code_, desc in (
                ("cash", "1000", "Kas"),
                ("bank", "1100", "ING Bank"),
                ("debtors", "1300", "Debiteuren"),
                ("partner", "1350", "Te ontvangen van incassopartner"),
                ("creditors", "1600", "Crediteuren"),
                ("revenue", "8000", "Omzet"),
            )
        }
        div["gl_accounts"] = gl
        div["journals"] = {
            jc: {"ID": guid(rng), "Code": jc, "Description": desc, "Type": jt, "GLAccount": gla}
            for jc, desc, jt, gla in (
                ("10", "Kas", 10, gl["cash"]["ID"]),
                ("20", "Bank", 12, gl["bank"]["ID"]),
                ("60", "Inkoopboek", 22, None),
                ("70", "Verkoopboek", 20, None),
                ("90", "Memoriaal", 90, None),
            )
        }
        accs = []
        for i in range(n_acc):
            consumer = rng.random() < 0.45
            a, c, addrs = make_account(rng, i, 1000 + i, now, ts, consumer)
            accs.append(a)
            div["accounts"][a["ID"]] = a
            div["contacts"][c["ID"]] = c
            for ad in addrs:
                div["addresses"][ad["ID"]] = ad
        # A few suppliers: they live in crm/Accounts too and their payables in PaymentTerms.
        suppliers = []
        for i in range(3):
            a, c, addrs = make_account(rng, n_acc + i, 50_000 + i, now, ts, consumer=False)
            a.update(Status="A", IsSales=False, IsSupplier=True)
            suppliers.append(a)
            div["accounts"][a["ID"]] = a
            div["contacts"][c["ID"]] = c
            for ad in addrs:
                div["addresses"][ad["ID"]] = ad
        number = (today.year % 100) * 1_000_000 + 700_000 + d_index * 10_000
        for _ in range(n_items):
            number += 1
            hid += 1
            item = make_item(rng, rng.choice(accs), number, hid, today, now, ts)
            if rng.random() < 0.12:  # partially paid
                item["Paid"] = cents(item["Total"] * Decimal(rng.choice([25, 40, 50, 75])) / 100)
                item["LastPaymentDate"] = min(
                    today, item["DueDate"] + timedelta(days=rng.randint(1, 20))
                )
            div["items"][item["ID"]] = item
        for _ in range(max(3, n_items // 6)):  # settled history: fully paid, not in the open list
            number += 1
            hid += 1
            item = make_item(rng, rng.choice(accs), number, hid, today, now, ts)
            paid_on = min(today, item["DueDate"] + timedelta(days=rng.randint(-5, 40)))
            item.update(Paid=item["Total"], LastPaymentDate=paid_on, EndDate=paid_on)
            div["items"][item["ID"]] = item
        for i in range(max(2, n_items // 50)):  # payables (LineType 30), only in PaymentTerms
            hid += 1
            item = make_item(
                rng, rng.choice(suppliers), 900_000 + i, hid, today, now, ts, line_type=30
            )
            item["Description"] = f"Inkoopfactuur {item['InvoiceNumber']}"
            div["items"][item["ID"]] = item
        div["number"] = number
        out.append(div)
    return user, out
