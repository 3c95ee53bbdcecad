"""Seeded Dutch demo data for the SnelStart emulator, in SnelStart's own field names.

Plain data and pure helpers: the same seed and "today" always give the same administration,
relations, sales invoices and journals, so tests and the demo are reproducible.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from providers.zones import AMSTERDAM

CENT = Decimal("0.01")

FIRST = ["Anouk", "Bram", "Daan", "Emma", "Fleur", "Joost", "Lotte", "Milan", "Noor", "Pieter",
         "Sanne", "Thijs", "Vera", "Wouter", "Yara", "Koen"]
LAST = ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder",
        "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker", "Brouwer"]
TRADES = ["Installatiebedrijf", "Schildersbedrijf", "Hoveniers", "Bouwbedrijf", "Drukkerij",
          "Transport", "Adviesgroep", "Kozijnen", "Catering", "Autoservice"]
STREETS = ["Kerkstraat", "Dorpsstraat", "Molenweg", "Stationsplein", "Beukenlaan", "Havenkade",
           "Marktstraat", "Eikenlaan", "Schoolstraat", "Julianalaan"]
CITIES = [("1012 AB", "Amsterdam"), ("3511 CD", "Utrecht"), ("9711 EF", "Groningen"),
          ("5611 GH", "Eindhoven"), ("2511 JK", "Den Haag"), ("6811 LM", "Arnhem"),
          ("8011 NP", "Zwolle"), ("4811 RS", "Breda")]
ADMINISTRATIONS = ["Bakkerij De Zon", "Van Dijk Techniek", "Groene Vingers Hoveniers"]
DEMO_SUBSCRIPTION_KEY = "demo-snelstart-subscription-key"  # the emulator's, never SnelStart's
NETHERLANDS = "00000000-0000-0000-0000-0000000000a1"  # a /landen id, as SnelStart refers to it


def money(value: Decimal) -> float:
    """SnelStart sends amounts as JSON numbers (``number``/``decimal`` in its spec)."""
    return float(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))


def local_stamp(moment: datetime) -> str:
    """``modifiedOn`` as a bare Amsterdam wall-clock time with milliseconds (the emulator's
    choice: whether SnelStart sends an offset is UNCERTAIN, and the client takes both)."""
    local = moment.astimezone(AMSTERDAM)
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}"


def offset_stamp(moment: datetime) -> str:
    local = moment.astimezone(AMSTERDAM)
    return local.isoformat(timespec="milliseconds")


def day_stamp(day: date) -> str:
    return f"{day.isoformat()}T00:00:00"


def new_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def make_relation(rng: random.Random, code: int, now: datetime) -> dict[str, Any]:
    business = rng.random() < 0.55
    first, last = rng.choice(FIRST), rng.choice(LAST)
    name = f"{rng.choice(TRADES)} {last.split()[-1]}" if business else f"{first} {last}"
    street = f"{rng.choice(STREETS)} {rng.randint(1, 180)}"
    postcode, city = rng.choice(CITIES)
    mailbox = name.lower().replace(" ", "")
    address = {"contactpersoon": f"{first} {last}" if business else None, "straat": street,
               "postcode": postcode, "plaats": city, "land": {"id": NETHERLANDS}}
    reminders = rng.choice(["Onderneming", "Onderneming", "Nee"]) if business else rng.choice(
        ["Consument", "Consument", "Nee"])
    own_mail = rng.random() < 0.4
    return {
        "id": new_id(rng), "relatiesoort": ["Klant"], "relatiecode": code, "naam": name[:50],
        "modifiedOn": now, "vestigingsAdres": address,
        "correspondentieAdres": {"contactpersoon": None, "straat": None, "postcode": None,
                                 "plaats": None, "land": None},
        "telefoon": f"0{rng.randint(10, 79)}-{rng.randint(1000000, 9999999)}",
        "mobieleTelefoon": f"06-{rng.randint(10000000, 99999999)}" if rng.random() < 0.7 else None,
        "email": f"info@{mailbox}.nl",
        "btwNummer": f"NL{rng.randint(100000000, 999999999)}B01" if business else None,
        "kvkNummer": str(rng.randint(10000000, 99999999)) if business else None,
        "krediettermijn": 14 if not business else 30, "nonactief": False, "memo": None,
        "aanmaningsoort": reminders, "incassoSoort": "Geen",
        "aanmaningEmailVersturen": {"shouldSend": own_mail,
                                    "email": f"debiteuren@{mailbox}.nl" if own_mail else None,
                                    "ccEmail": None},
        "factuurEmailVersturen": {"shouldSend": True, "email": None, "ccEmail": None},
    }


def make_supplier(rng: random.Random, code: int, now: datetime) -> dict[str, Any]:
    supplier = make_relation(rng, code, now)
    supplier["relatiesoort"] = ["Leverancier"]
    supplier["naam"] = f"Groothandel {rng.choice(LAST).split()[-1]}"
    return supplier


def make_invoice(rng: random.Random, number: int, relation: dict[str, Any], today: date,
                 now: datetime, *, age_days: int | None = None,
                 paid: bool | None = None) -> dict[str, Any]:
    age = age_days if age_days is not None else rng.randint(5, 120)
    issued = today - timedelta(days=age)
    term = int(relation.get("krediettermijn") or 30)
    total = Decimal(rng.randint(4500, 250000)) / 100
    settled = paid if paid is not None else rng.random() < 0.35
    # Last touched when made, or when the payment came in: spread over the past like real data.
    touched = datetime.combine(issued, datetime.min.time(), AMSTERDAM) + timedelta(
        hours=rng.randint(8, 17), minutes=rng.randint(0, 59), seconds=rng.randint(0, 59),
        days=rng.randint(1, max(1, min(40, age - 2))) if settled else 0)
    return {
        "id": new_id(rng), "factuurnummer": f"{today.year}{number:05d}",
        "factuurDatum": issued, "vervalDatum": issued + timedelta(days=term),
        "factuurBedrag": total, "openstaandSaldo": Decimal("0") if settled else total,
        "relatie": relation["id"], "verkoopBoeking": new_id(rng),
        "modifiedOn": min(now, touched.astimezone(UTC)) if age_days is None else now,
    }


def make_journals(rng: random.Random) -> list[dict[str, Any]]:
    return [
        {"id": new_id(rng), "nummer": 1100, "omschrijving": "Bank ING", "soort": "Bank",
         "nonactief": False},
        {"id": new_id(rng), "nummer": 1110, "omschrijving": "Bank Rabobank (oud)",
         "soort": "Bank", "nonactief": True},
        {"id": new_id(rng), "nummer": 1000, "omschrijving": "Kas", "soort": "Kas",
         "nonactief": False},
        {"id": new_id(rng), "nummer": 8000, "omschrijving": "Verkoop", "soort": "Verkoop",
         "nonactief": False},
    ]


def make_administration(rng: random.Random, index: int, today: date, *,
                        relations: int, invoices: int) -> dict[str, Any]:
    now = datetime.now(UTC) - timedelta(days=1)

    def some_day() -> datetime:  # relations were last edited some time in the past year
        return now - timedelta(days=rng.randint(0, 365), seconds=rng.randint(0, 86_399))

    customers = [make_relation(rng, 1000 + n, some_day()) for n in range(relations)]
    suppliers = [make_supplier(rng, 5000 + n, some_day()) for n in range(max(1, relations // 6))]
    rows = [make_invoice(rng, n + 1, rng.choice(customers), today, now)
            for n in range(invoices)]
    name = ADMINISTRATIONS[index % len(ADMINISTRATIONS)]
    return {
        "id": new_id(rng), "name": name, "company": f"{name} B.V.",
        "key": f"demo-koppelsleutel-{index + 1}-" + new_id(rng).replace("-", ""),
        "relations": {r["id"]: r for r in customers + suppliers},
        "invoices": {i["id"]: i for i in rows},
        "journals": make_journals(rng),
        "documents": {},  # id → {id, verkoopBoekingId, fileName, readOnly, content, at}
        "bank_bookings": {},
        "next_number": invoices + 1,
    }
