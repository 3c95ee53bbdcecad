"""Template filters for Dutch money and dates (Babel does the locale work)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency
from flask import Flask

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def money(value: Decimal | None, currency: str = "EUR") -> str:
    if value is None:
        return "–"
    return format_currency(value, currency, locale="nl_NL")


def day(value: date | None) -> str:
    return format_date(value, "d MMM yyyy", locale="nl_NL") if value else "–"


def moment(value: datetime | None) -> str:
    if value is None:
        return "–"
    return format_datetime(value.astimezone(AMSTERDAM), "d MMM yyyy HH:mm", locale="nl_NL")


LABELS = {
    # invoice status (ours)
    "open": "openstaand", "paid": "betaald", "credited": "gecrediteerd",
    "uncollectible": "oninbaar", "deleted": "verwijderd", "draft": "concept",
    # sync outcome and trigger
    "ok": "gelukt", "running": "bezig", "skipped": "overgeslagen",
    "reconnect_needed": "opnieuw koppelen nodig", "rate_limited": "uitgesteld (limiet)",
    "error": "mislukt", "schedule": "gepland", "requested": "aangevraagd",
    "manual": "handmatig", "connect": "koppeling",
}


def label(value: str | None) -> str:
    """Dutch words for the codes we store; an unknown code is shown as it is."""
    return LABELS.get(value or "", value or "–")


def register(app: Flask) -> None:
    app.add_template_filter(money, "money")
    app.add_template_filter(day, "day")
    app.add_template_filter(moment, "moment")
    app.add_template_filter(label, "label")
