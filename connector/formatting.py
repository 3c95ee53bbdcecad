"""Money and dates the Dutch way (Babel), for pages, messages and ledger notes alike."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def money(value: Decimal | None, currency: str = "EUR") -> str:
    if value is None:
        return "–"
    return format_currency(value, currency, locale="nl_NL")


def day(value: date | None) -> str:
    return format_date(value, "d MMM yyyy", locale="nl_NL") if value else "–"


def long_day(value: date | None) -> str:
    return format_date(value, "EEEE d MMMM yyyy", locale="nl_NL") if value else "–"


def short_day(value: date) -> str:
    return value.strftime("%d-%m-%Y")


def moment(value: datetime | None) -> str:
    if value is None:
        return "–"
    return format_datetime(value.astimezone(AMSTERDAM), "d MMM yyyy HH:mm", locale="nl_NL")
