"""Deterministic, seeded Dutch demo data for the Moneybird emulator.

Everything here is plain data plus a few pure helpers (money/time formatting, invoice totals,
state derivation) shared with ``emulator.py``. The same seed and the same "today" always give
the same administrations, contacts and invoices, so tests and demos are reproducible.
"""

from __future__ import annotations

import hashlib
import random
import string
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from providers.zones import AMSTERDAM

CENT = Decimal("0.01")
ZERO = Decimal("0")

# --------------------------------------------------------------------------- helpers


def money(value: Decimal) -> str:
    """Render money the way Moneybird does ("1210.0", "99.95", "-12.5"): never a JSON number."""
    q = Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    if q == 0:
        return "0.0"
    text = format(q.normalize(), "f")
    if "." not in text:
        text += ".0"
    return text


def iso_ts(value: datetime | None) -> str | None:
    """ISO-8601 UTC with milliseconds and ``Z`` (``2026-08-21T13:50:45.650Z``)."""
    if value is None:
        return None
    v = value.astimezone(UTC)
    return v.strftime("%Y-%m-%dT%H:%M:%S.") + f"{v.microsecond // 1000:03d}Z"


def iso_date(value: date | None) -> str | None:
    """``YYYY-MM-DD`` or None."""
    return value.isoformat() if value is not None else None


def to_ms(value: datetime) -> datetime:
    """Truncate to milliseconds so stored times compare exactly like the rendered ones."""
    return value.replace(microsecond=(value.microsecond // 1000) * 1000)


def today_in_amsterdam(now: datetime) -> date:
    """Moneybird decides lateness on the administration's local date, not UTC."""
    return now.astimezone(AMSTERDAM).date()


def local_datetime(day: date, hour: int, minute: int, second: int = 0) -> datetime:
    """A wall-clock time in Amsterdam on ``day``, as aware UTC."""
    return datetime.combine(day, time(hour, minute, second), AMSTERDAM).astimezone(UTC)


class IdFactory:
    """Hands out 18-digit numeric id strings, deterministic per seed (Moneybird ids are bigints)."""

    def __init__(self, seed: int) -> None:
        self._base = 458_026_300_000_000_000 + (seed % 997) * 1_000_000_000_000
        self._n = 0

    def next(self) -> str:
        """The next id (thread safety is the caller's lock)."""
        self._n += 1
        return str(self._base + self._n * 7919)


def invoice_totals(inv: dict[str, Any]) -> dict[str, Any]:
    """Compute excl/incl/tax/paid/unpaid totals from the lines and payments (all Decimal)."""
    excl = ZERO
    incl = ZERO
    per_rate: dict[str, list[Decimal]] = {}
    for d in inv["details"]:
        line = (d["price"] * d["amount_decimal"]).quantize(CENT, rounding=ROUND_HALF_UP)
        rate = d["tax_rate"]
        if inv["prices_are_incl_tax"]:
            tax = (line * rate / (Decimal(100) + rate)).quantize(CENT, rounding=ROUND_HALF_UP)
            l_excl, l_incl = line - tax, line
        else:
            tax = (line * rate / Decimal(100)).quantize(CENT, rounding=ROUND_HALF_UP)
            l_excl, l_incl = line, line + tax
        d["_total_excl"] = l_excl
        excl += l_excl
        incl += l_incl
        bucket = per_rate.setdefault(d["tax_rate_id"], [ZERO, ZERO])
        bucket[0] += l_excl
        bucket[1] += tax
    paid = sum((p["price"] for p in inv["payments"]), ZERO)
    return {
        "excl": excl,
        "incl": incl,
        "paid": paid,
        "unpaid": incl - paid,
        "tax_totals": per_rate,
    }


def derive_state(inv: dict[str, Any], today: date) -> str:
    """State as Moneybird shows it: draft/uncollectible are sticky, else paid/open/late/reminded."""
    if inv["is_draft"]:
        return "draft"
    if inv["uncollectible"]:
        return "uncollectible"
    t = invoice_totals(inv)
    if t["incl"] != 0 and (t["unpaid"] == 0 or (t["unpaid"] < 0) == (t["incl"] > 0)):
        return "paid"
    if inv.get("pending_payment"):
        return "pending_payment"
    if today <= inv["due_date"]:
        return "open"
    if (inv.get("reminder_count") or 0) > 0:
        return "reminded"
    return "late"


def iban(rng: random.Random) -> str:
    """A syntactically valid Dutch IBAN (mod-97 check digits)."""
    bank = rng.choice(["ABNA", "INGB", "RABO", "TRIO", "SNSB", "KNAB", "BUNQ", "ASNB"])
    account = "".join(rng.choice(string.digits) for _ in range(10))
    digits = "".join(str(int(c, 36)) for c in bank + account + "NL00")
    check = 98 - int(digits) % 97
    return f"NL{check:02d}{bank}{account}"


# --------------------------------------------------------------------------- vocabulary

FIRST_NAMES = [
    "Jan",
    "Piet",
    "Kees",
    "Anna",
    "Sanne",
    "Lotte",
    "Daan",
    "Sem",
    "Lucas",
    "Emma",
    "Julia",
    "Tess",
    "Bram",
    "Ruben",
    "Fleur",
    "Noa",
    "Sophie",
    "Thijs",
    "Jeroen",
    "Marieke",
    "Willem",
    "Henk",
    "Ingrid",
    "Femke",
    "Joost",
    "Maaike",
    "Bas",
    "Eva",
    "Lieke",
    "Martijn",
    "Iris",
    "Koen",
    "Mila",
    "Stijn",
    "Yara",
    "Sven",
    "Roos",
    "Gerrit",
    "Wilma",
    "Hanneke",
]
LAST_NAMES = [
    "de Vries",
    "Jansen",
    "de Jong",
    "van den Berg",
    "Bakker",
    "van Dijk",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Leeuwen",
    "Dekker",
    "Brouwer",
    "de Wit",
    "Dijkstra",
    "Smits",
    "de Graaf",
    "van der Meer",
    "Kok",
    "Jacobs",
    "van der Linden",
    "Vermeulen",
    "van den Broek",
    "de Bruijn",
    "Willems",
    "Schouten",
    "van Beek",
    "Hoekstra",
    "Koster",
    "Prins",
    "Huisman",
    "Kuipers",
    "Postma",
    "Verhoeven",
]
BUSINESS_KINDS = [
    "Bakkerij",
    "Installatiebedrijf",
    "Schildersbedrijf",
    "Hoveniersbedrijf",
    "Autobedrijf",
    "Fietsenmakerij",
    "Adviesbureau",
    "Loodgietersbedrijf",
    "Kapsalon",
    "Restaurant",
    "Bouwbedrijf",
    "Transportbedrijf",
    "Drukkerij",
    "Slagerij",
    "Bloemenhandel",
    "Timmerbedrijf",
    "Dakdekkersbedrijf",
    "Kinderopvang",
    "Fysiotherapie",
    "Tandartspraktijk",
]
BUSINESS_SUFFIXES = ["B.V.", "B.V.", "B.V.", "V.O.F.", "", "Holding B.V."]
STREETS = [
    "Dorpsstraat",
    "Kerkstraat",
    "Hoofdstraat",
    "Molenweg",
    "Stationsweg",
    "Schoolstraat",
    "Julianastraat",
    "Beatrixlaan",
    "Wilhelminastraat",
    "Nieuwstraat",
    "Markt",
    "Havenstraat",
    "Parallelweg",
    "Industrieweg",
    "Kastanjelaan",
    "Eikenlaan",
    "Prinsengracht",
    "Oudegracht",
    "Zuiderdiep",
    "Langestraat",
]
CITIES = [
    ("Amsterdam", 10, "20"),
    ("Rotterdam", 30, "10"),
    ("Den Haag", 25, "70"),
    ("Utrecht", 35, "30"),
    ("Eindhoven", 56, "40"),
    ("Groningen", 97, "50"),
    ("Tilburg", 50, "13"),
    ("Almere", 13, "36"),
    ("Breda", 48, "76"),
    ("Nijmegen", 65, "24"),
    ("Haarlem", 20, "23"),
    ("Arnhem", 68, "26"),
    ("Zwolle", 80, "38"),
    ("Leiden", 23, "71"),
    ("Maastricht", 62, "43"),
    ("Amersfoort", 38, "33"),
    ("Apeldoorn", 73, "55"),
    ("Leeuwarden", 89, "58"),
    ("Deventer", 74, "57"),
    ("Delft", 26, "15"),
]
MAIL_PROVIDERS = [
    "ziggo.example",
    "kpnmail.example",
    "hetnet.example",
    "mail.example",
    "planet.example",
]
DEPARTMENTS = ["Financiële administratie", "Inkoop", "Directie", "Crediteurenadministratie", None]
# (description, VAT rate) — 9% for food, 0% for exempt education/care, 21% otherwise.
LINES = [
    ("Onderhoud cv-ketel", Decimal("21")),
    ("Levering brood en banket", Decimal("9")),
    ("Advieswerkzaamheden", Decimal("21")),
    ("Schilderwerk buitenkozijnen", Decimal("21")),
    ("Hovenierswerkzaamheden", Decimal("21")),
    ("Consultancy (uren)", Decimal("21")),
    ("Reparatie en onderdelen", Decimal("21")),
    ("Cateringverzorging", Decimal("9")),
    ("Cursus bedrijfshulpverlening", Decimal("0")),
    ("Webdesign en hosting", Decimal("21")),
    ("Installatie zonnepanelen", Decimal("21")),
    ("Vervoerskosten", Decimal("21")),
    ("Drukwerk folders", Decimal("21")),
    ("Bloemstukken", Decimal("9")),
    ("Fysiotherapie behandeling", Decimal("0")),
    ("Timmerwerk keuken", Decimal("21")),
]
ADMINISTRATION_NAMES = [
    "Incasso Demo B.V.",
    "Van Dijk Installatietechniek B.V.",
    "Hoveniersbedrijf De Groot",
    "Fietsenwinkel Jansen V.O.F.",
    "Bakkerij Smit",
    "Drukkerij Mulder B.V.",
]


def _slug(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def _capital_particle(last: str) -> str:
    """'de Vries' -> 'De Vries' as used inside company names."""
    return last[0].upper() + last[1:]


# --------------------------------------------------------------------------- generation


def make_contact(
    rng: random.Random, ids: IdFactory, adm_id: str, number: int, created: datetime
) -> dict[str, Any]:
    """One contact (consumer ~55%, business ~45%), internal shape (datetimes not rendered)."""
    first = rng.choice(FIRST_NAMES)
    last = rng.choice(LAST_NAMES)
    city, zip_prefix, area = rng.choice(CITIES)
    letters = "ABCDEFGHJKLMNPRSTVWXZ"
    zipcode = f"{zip_prefix}{rng.randint(0, 99):02d} {rng.choice(letters)}{rng.choice(letters)}"
    address1 = (
        f"{rng.choice(STREETS)} {rng.randint(1, 220)}{rng.choice(['', '', '', 'a', 'bis', '-2'])}"
    )
    is_business = rng.random() < 0.45
    contact_id = ids.next()
    people: list[dict[str, Any]] = []
    if is_business:
        kind = rng.choice(BUSINESS_KINDS)
        suffix = rng.choice(BUSINESS_SUFFIXES)
        company = f"{kind} {_capital_particle(last)} {suffix}".strip()
        domain = f"{_slug(kind + last)}.example"
        email = f"info@{domain}"
        invoices_email = rng.choice([f"facturen@{domain}", f"administratie@{domain}", email])
        phone = f"+31 {area} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
        for _ in range(rng.randint(1, 2)):
            pf, pl = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            people.append(
                {
                    "id": ids.next(),
                    "contact_id": contact_id,
                    "administration_id": adm_id,
                    "firstname": pf,
                    "lastname": pl,
                    "phone": f"+316{rng.randint(10000000, 99999999)}",
                    "email": f"{_slug(pf)}.{_slug(pl)}@{domain}",
                    "department": rng.choice(DEPARTMENTS),
                    "created_at": created,
                    "updated_at": created,
                    "version": int(created.timestamp()),
                }
            )
        firstname, lastname = (first, last) if rng.random() < 0.5 else (None, None)
        coc = f"{rng.randint(10000000, 99999999)}"
        tax_number = f"NL{rng.randint(100000000, 999999999)}B{rng.randint(1, 3):02d}"
        attention = rng.choice(["Crediteurenadministratie", "T.a.v. de directie", None])
    else:
        company = None
        firstname, lastname = first, last
        email = f"{_slug(first)}.{_slug(last)}@{rng.choice(MAIL_PROVIDERS)}"
        invoices_email = email
        phone = f"+316{rng.randint(10000000, 99999999)}"
        coc = None
        tax_number = None
        attention = None
    sepa = rng.random() < 0.15
    bank = iban(rng)
    return {
        "id": contact_id,
        "administration_id": adm_id,
        "company_name": company,
        "firstname": firstname,
        "lastname": lastname,
        "address1": address1,
        "address2": None,
        "zipcode": zipcode,
        "city": city,
        "country": "NL",
        "phone": phone,
        "delivery_method": "Email",
        "customer_id": str(1000 + number),
        "tax_number": tax_number,
        "chamber_of_commerce": coc,
        "bank_account": bank,
        "is_trusted": False,
        "max_transfer_amount": None,
        "attention": attention,
        "email": email,
        "email_ubl": is_business,
        "send_invoices_to_attention": attention,
        "send_invoices_to_email": invoices_email,
        "send_estimates_to_attention": attention,
        "send_estimates_to_email": invoices_email,
        "direct_debit": sepa,
        "sepa_active": sepa,
        "sepa_iban": bank if sepa else None,
        "sepa_iban_account_name": (company or f"{first} {last}") if sepa else None,
        "sepa_bic": None,
        "sepa_mandate_id": f"MB-{number:05d}" if sepa else None,
        "sepa_mandate_date": (created.date() if sepa else None),
        "sepa_sequence_type": "RCUR",
        "credit_card_number": None,
        "credit_card_reference": None,
        "credit_card_type": None,
        "tax_number_validated_at": None,
        "tax_number_valid": None,
        "invoice_workflow_id": None,
        "estimate_workflow_id": None,
        "si_identifier": None,
        "si_identifier_type": None,
        "moneybird_payments_mandate": False,
        "created_at": created,
        "updated_at": created,
        "version": int(created.timestamp()),
        "notes": [],
        "custom_fields": [],
        "contact_people": people,
        "archived": False,
        "_hash": hashlib.sha256(f"contact-{contact_id}".encode()).hexdigest(),
    }


def make_lines(
    rng: random.Random, ids: IdFactory, adm: dict[str, Any], created: datetime, target_incl: Decimal
) -> list[dict[str, Any]]:
    """1-3 invoice lines whose total incl. VAT lands near ``target_incl``."""
    n = rng.choice([1, 1, 1, 2, 2, 3])
    desc, rate = rng.choice(LINES)
    lines = []
    remaining = target_incl
    for i in range(n):
        if i > 0:
            desc, _ = rng.choice([x for x in LINES if x[1] == rate])
        share = remaining if i == n - 1 else (remaining * Decimal(rng.uniform(0.3, 0.7)))
        remaining -= share
        price = (share / (1 + rate / 100)).quantize(CENT, rounding=ROUND_HALF_UP)
        if price < Decimal("1"):
            price = Decimal("1.00")
        lines.append(
            {
                "id": ids.next(),
                "tax_rate_id": adm["tax_rates"][str(rate)],
                "ledger_account_id": adm["revenue_ledger_account_id"],
                "description": desc,
                "amount_decimal": Decimal("1"),
                "price": price,
                "tax_rate": rate,
                "period": None,
                "row_order": i + 1,
                "created_at": created,
                "updated_at": created,
            }
        )
    return lines


def _target_amount(rng: random.Random) -> Decimal:
    """Amounts between EUR 15 and EUR 15,000 incl. VAT, skewed to the low hundreds."""
    value = 15 * (1000 ** rng.random() ** 1.4)
    return Decimal(str(round(min(value, 15000.0), 2)))


def new_invoice(
    rng: random.Random,
    ids: IdFactory,
    adm: dict[str, Any],
    contact_id: str,
    invoice_date: date | None,
    due_date: date,
    created: datetime,
    lines: list[dict[str, Any]],
    prices_are_incl_tax: bool = False,
    reference: str | None = None,
) -> dict[str, Any]:
    """An invoice record in the internal shape (Decimal/date/datetime; rendered by the emulator)."""
    inv_id = ids.next()
    code = "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(8))
    return {
        "id": inv_id,
        "administration_id": adm["id"],
        "contact_id": contact_id,
        "contact_person_id": None,
        "invoice_id": None,
        "recurring_sales_invoice_id": None,
        "subscription_id": None,
        "workflow_id": adm["workflow_id"],
        "document_style_id": adm["document_style_id"],
        "identity_id": adm["identity_id"],
        "draft_id": None,
        "state": "draft",
        "invoice_date": invoice_date,
        "due_date": due_date,
        "payment_conditions": (
            "We verzoeken u vriendelijk het bovenstaande bedrag van {document.total_price} voor "
            "{document.due_date} te voldoen op onze bankrekening onder vermelding van de "
            "omschrijving {document.payment_reference}."
        ),
        "payment_reference": f"RF{rng.randint(10, 99)}0000000000000{code}",
        "short_payment_reference": f"RF{rng.randint(10, 99)}{code}",
        "reference": reference,
        "language": "nl",
        "currency": "EUR",
        "discount": Decimal("0"),
        "original_sales_invoice_id": None,
        "paused": False,
        "paid_at": None,
        "sent_at": invoice_date,
        "created_at": created,
        "updated_at": created,
        "public_view_code": f"{rng.randint(100000, 999999)}",
        "public_view_code_expires_at": created + timedelta(days=92),
        "version": int(created.timestamp()),
        "details": lines,
        "payments": [],
        "prices_are_incl_tax": prices_are_incl_tax,
        "marked_dubious_on": None,
        "marked_uncollectible_on": None,
        "reminder_count": 0,
        "next_reminder": None,
        "original_estimate_id": None,
        "custom_fields": [],
        "notes": [],
        "events": [],
        "is_draft": invoice_date is None,
        "uncollectible": False,
        "pending_payment": False,
        "_hash": hashlib.sha256(f"invoice-{inv_id}".encode()).hexdigest(),
    }


def new_payment(
    ids: IdFactory,
    adm: dict[str, Any],
    inv: dict[str, Any],
    price: Decimal,
    on: date,
    created: datetime,
    *,
    user_id: str | None = None,
    financial_account_id: str | None = None,
    credit_invoice_id: str | None = None,
    manual_payment_action: str | None = None,
    transaction_identifier: str | None = None,
    ledger_account_id: str | None = None,
    financial_mutation_id: str | None = None,
    price_base: Decimal | None = None,
) -> dict[str, Any]:
    """A payment record (internal shape)."""
    return {
        "id": ids.next(),
        "administration_id": adm["id"],
        "invoice_type": "SalesInvoice",
        "invoice_id": inv["id"],
        "financial_account_id": financial_account_id,
        "user_id": user_id or adm["user_id"],
        "payment_transaction_id": None,
        "transaction_identifier": transaction_identifier,
        "price": price,
        "price_base": price if price_base is None else price_base,
        "payment_date": on,
        "credit_invoice_id": credit_invoice_id,
        "financial_mutation_id": financial_mutation_id,
        "ledger_account_id": ledger_account_id
        or (None if financial_account_id else adm["suspense_ledger_account_id"]),
        "linked_payment_id": None,
        "manual_payment_action": manual_payment_action,
        "created_at": created,
        "updated_at": created,
    }


def new_event(
    adm: dict[str, Any],
    action: str,
    at: datetime,
    user_id: str | None = None,
    link_id: str | None = None,
    link_type: str | None = None,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An audit-trail entry for ``events[]``."""
    return {
        "administration_id": adm["id"],
        "user_id": user_id or adm["user_id"],
        "action": action,
        "link_entity_id": link_id,
        "link_entity_type": link_type,
        "data": data or {},
        "created_at": at,
        "updated_at": at,
    }


def number_invoices(invoices: list[dict[str, Any]], counters: dict[int, int]) -> None:
    """Assign "2026-0117"-style numbers per year in invoice-date order (drafts get none)."""
    for inv in sorted(
        (i for i in invoices if not i["is_draft"] and i["invoice_id"] is None),
        key=lambda i: (i["invoice_date"], i["created_at"], i["id"]),
    ):
        year = inv["invoice_date"].year
        counters[year] = counters.get(year, 0) + 1
        inv["invoice_id"] = f"{year}-{counters[year]:04d}"


def make_administration(
    seed: int, index: int, ids: IdFactory, n_contacts: int, n_invoices: int, now: datetime
) -> dict[str, Any]:
    """One administration with contacts and invoices in realistic shares, relative to ``now``."""
    rng = random.Random(f"moneybird-{seed}-{index}")
    today = today_in_amsterdam(now)
    adm_id = ids.next()
    created = local_datetime(today - timedelta(days=1500 + index), 9, 0)
    adm: dict[str, Any] = {
        "id": adm_id,
        "name": ADMINISTRATION_NAMES[index % len(ADMINISTRATION_NAMES)]
        + ("" if index < len(ADMINISTRATION_NAMES) else f" {index + 1}"),
        "language": "nl",
        "currency": "EUR",
        "country": "NL",
        "time_zone": "Europe/Amsterdam",
        "access": "user",
        "suspended": False,
        "period_locked_until": None,
        "period_start_date": date(today.year, 1, 1),
        "created_at": created,
        "workflow_id": ids.next(),
        "document_style_id": ids.next(),
        "identity_id": ids.next(),
        "user_id": ids.next(),
        "api_user_id": ids.next(),
        "revenue_ledger_account_id": ids.next(),
        "suspense_ledger_account_id": ids.next(),
        "tax_rates": {"21": ids.next(), "9": ids.next(), "0": ids.next()},
        "number_counters": {},
    }
    bank_iban = iban(rng)
    adm["financial_accounts"] = [
        {
            "id": ids.next(),
            "administration_id": adm_id,
            "type": "BankAccount",
            "name": f"Zakelijke rekening {bank_iban}",
            "identifier": bank_iban,
            "currency": "EUR",
            "provider": None,
            "moneybird_account": False,
            "active": True,
            "created_at": created,
            "updated_at": created,
        },
        {
            "id": ids.next(),
            "administration_id": adm_id,
            "type": "CashAccount",
            "name": "Kas",
            "identifier": "Kas",
            "currency": "EUR",
            "provider": None,
            "moneybird_account": False,
            "active": True,
            "created_at": created,
            "updated_at": created,
        },
    ]
    contacts = []
    for n in range(n_contacts):
        c_created = local_datetime(
            today - timedelta(days=rng.randint(1100, 1450)), rng.randint(8, 17), rng.randint(0, 59)
        )
        contacts.append(make_contact(rng, ids, adm_id, n + 1, c_created))

    invoices: list[dict[str, Any]] = []
    bank_account_id = adm["financial_accounts"][0]["id"]

    latest = now - timedelta(minutes=5)

    def created_on(day: date) -> datetime:
        """Office hours on ``day``, but never in the future (records of today)."""
        at = local_datetime(day, rng.randint(8, 17), rng.randint(0, 59), rng.randint(0, 59))
        return min(at, latest - timedelta(minutes=rng.randint(0, 120)))

    def add_payment(inv: dict[str, Any], price: Decimal, on: date, **kw: Any) -> dict[str, Any]:
        p = new_payment(ids, adm, inv, price, on, created_on(on), **kw)
        inv["payments"].append(p)
        inv["events"].append(
            new_event(
                adm, "payment_registered", p["created_at"], link_id=p["id"], link_type="Payment"
            )
        )
        inv["updated_at"] = max(inv["updated_at"], p["created_at"])
        return p

    while len(invoices) < n_invoices:
        r = rng.random()
        contact = rng.choice(contacts)
        term = rng.choice([14, 14, 14, 30, 30, 8, 21, 60])
        amount = _target_amount(rng)
        if r < 0.35 or (0.93 <= r < 0.96 and len(invoices) + 2 > n_invoices):
            kind = "paid"
            age = rng.randint(3, 1095)
        elif r < 0.65:
            kind = "late"
            age = term + 1 + min(int(rng.expovariate(1 / 160)), 1000)
        elif r < 0.75:
            kind = "reminded"
            age = term + 8 + min(int(rng.expovariate(1 / 120)), 1000)
        elif r < 0.90:
            kind = "open"
            age = rng.randint(0, term - 1)
        elif r < 0.93:
            kind = "uncollectible"
            age = rng.randint(200, 1095)
        elif r < 0.96:
            kind = "credited"
            age = rng.randint(40, 1095)
        elif r < 0.98:
            kind = "draft"
            age = rng.randint(0, 30)
        elif r < 0.99:
            kind = "pending_payment"
            age = rng.randint(0, term - 1)
        else:
            kind = "paid"
            age = rng.randint(3, 1095)
        inv_date = today - timedelta(days=min(age, 1095))
        created = created_on(inv_date)
        lines = make_lines(rng, ids, adm, created, amount)
        inv = new_invoice(
            rng,
            ids,
            adm,
            contact["id"],
            None if kind == "draft" else inv_date,
            inv_date + timedelta(days=term),
            created,
            lines,
            reference=rng.choice(
                [None, None, f"Order {rng.randint(1000, 9999)}", f"PO-{rng.randint(10000, 99999)}"]
            ),
        )
        if kind != "draft":
            inv["events"].append(
                new_event(
                    adm,
                    "sales_invoice_send_email",
                    created,
                    data={"email_address": contact["send_invoices_to_email"]},
                )
            )
        total = invoice_totals(inv)["incl"]
        if kind == "paid":
            on = min(today, inv_date + timedelta(days=rng.randint(0, term + 40)))
            if rng.random() < 0.15 and total > 100:
                first = (total * Decimal(rng.uniform(0.2, 0.6))).quantize(CENT)
                mid = min(today, inv_date + timedelta(days=rng.randint(0, max(term, 1))))
                add_payment(inv, first, min(mid, on), financial_account_id=bank_account_id)
                add_payment(inv, total - first, on, financial_account_id=bank_account_id)
            else:
                add_payment(inv, total, on, financial_account_id=bank_account_id)
        elif kind in ("late", "reminded", "open", "pending_payment"):
            if kind == "reminded":
                inv["reminder_count"] = rng.randint(1, 3)
                inv["next_reminder"] = today + timedelta(days=rng.randint(1, 14))
            elif kind != "pending_payment":
                inv["next_reminder"] = (
                    inv["due_date"] + timedelta(days=7)
                    if kind == "open"
                    else today + timedelta(days=rng.randint(1, 7))
                )
            if kind == "pending_payment":
                inv["pending_payment"] = True
            elif rng.random() < 0.22 and total > 40:
                part = (total * Decimal(rng.uniform(0.1, 0.6))).quantize(CENT)
                on = min(today, inv_date + timedelta(days=rng.randint(0, max(age, 1))))
                add_payment(inv, part, on, financial_account_id=bank_account_id)
        elif kind == "uncollectible":
            inv["uncollectible"] = True
            inv["marked_uncollectible_on"] = min(
                today, inv["due_date"] + timedelta(days=rng.randint(60, 180))
            )
            inv["updated_at"] = max(inv["updated_at"], created_on(inv["marked_uncollectible_on"]))
            inv["events"].append(
                new_event(adm, "sales_invoice_marked_as_uncollectible", inv["updated_at"])
            )
        invoices.append(inv)
        if kind == "credited":
            c_date = min(today, inv_date + timedelta(days=rng.randint(1, 30)))
            c_created = created_on(c_date)
            c_lines = [
                dict(
                    d, id=ids.next(), price=-d["price"], created_at=c_created, updated_at=c_created
                )
                for d in inv["details"]
            ]
            credit = new_invoice(
                rng,
                ids,
                adm,
                contact["id"],
                c_date,
                c_date,
                c_created,
                c_lines,
                reference=f"Creditnota bij {inv['id']}",
            )
            credit["original_sales_invoice_id"] = inv["id"]
            credit["events"].append(
                new_event(adm, "credit_invoice_created_from_original", c_created)
            )
            p1 = add_payment(inv, total, c_date, credit_invoice_id=credit["id"])
            p2 = add_payment(credit, -total, c_date, credit_invoice_id=credit["id"])
            p1["linked_payment_id"], p2["linked_payment_id"] = p2["id"], p1["id"]
            invoices.append(credit)
    number_invoices(invoices, adm["number_counters"])
    for inv in invoices:
        inv["events"].insert(0, new_event(adm, "sales_invoice_created", inv["created_at"]))
        inv["state"] = derive_state(inv, today)
        if inv["state"] == "paid":
            inv["paid_at"] = max(p["payment_date"] for p in inv["payments"])
        inv["updated_at"] = to_ms(inv["updated_at"])
        inv["version"] = int(inv["updated_at"].timestamp())
    invoices.sort(key=lambda i: i["id"])
    adm["contacts"] = contacts
    adm["invoices"] = invoices
    return adm


def generate(
    seed: int, administrations: int, contacts: int, invoices: int, now: datetime
) -> tuple[IdFactory, list[dict[str, Any]]]:
    """All seeded administrations; the first gets the full size, the others a quarter (>= 5/20)."""
    ids = IdFactory(seed)
    result = []
    for index in range(administrations):
        n_c = contacts if index == 0 else max(5, contacts // 4)
        n_i = invoices if index == 0 else max(20, invoices // 4)
        result.append(make_administration(seed, index, ids, n_c, n_i, now))
    return ids, result
