"""Money and dates the Dutch way (Babel), for pages, messages, letters and ledger notes alike.

The one set of formatters: the web filters pass the page's locale, letters their language,
ledger notes and the engine's texts take the Dutch default. Times are shown on the Dutch clock
(:data:`connector.clock.AMSTERDAM`).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency

from connector.clock import AMSTERDAM

#: The Babel locale of everything that is not rendered for a chosen language.
DUTCH = "nl_NL"
#: The Babel locale of a message or letter language ("nl", "en").
LANGUAGE_LOCALES = {"nl": DUTCH, "en": "en_GB"}


def money(value: Decimal | None, currency: str = "EUR", locale: str = DUTCH) -> str:
    """"€ 1.234,56" (or "€1,234.56" in English); "–" for no amount."""
    if value is None:
        return "–"
    return format_currency(value, currency, locale=locale)


def day(value: date | None, locale: str = DUTCH) -> str:
    """"7 apr 2026": a date in a table or a line of a page."""
    return format_date(value, "d MMM yyyy", locale=locale) if value else "–"


def long_day(value: date | None, locale: str = DUTCH) -> str:
    """"dinsdag 7 april 2026": a date that must not be misread (terms, deadlines)."""
    return format_date(value, "EEEE d MMMM yyyy", locale=locale) if value else "–"


def day_month(value: date, locale: str = DUTCH) -> str:
    """"7 april": a day in the coming weeks, where the year goes without saying."""
    return format_date(value, "d MMMM", locale=locale)


def short_day(value: date) -> str:
    """"07-04-2026": the numeric form of ledger notes and message texts."""
    return format_date(value, "dd-MM-yyyy", locale=DUTCH)


def written_date(value: date, lang: str = "nl") -> str:
    """"7 april 2026" / "7 April 2026": the date line of a letter, in the letter's language."""
    return format_date(value, "d MMMM y", locale=LANGUAGE_LOCALES.get(lang, DUTCH))


def moment(value: datetime | None, locale: str = DUTCH) -> str:
    """"7 apr 2026 14:05" on the Dutch clock."""
    if value is None:
        return "–"
    return format_datetime(value.astimezone(AMSTERDAM), "d MMM yyyy HH:mm", locale=locale)


def hour_minute(value: datetime | None, locale: str = DUTCH) -> str:
    """A time of day on the Dutch clock, for "volgende ronde 13:15"."""
    if value is None:
        return "–"
    return format_datetime(value.astimezone(AMSTERDAM), "HH:mm", locale=locale)


__all__ = [
    "DUTCH",
    "LANGUAGE_LOCALES",
    "day",
    "day_month",
    "hour_minute",
    "long_day",
    "moment",
    "money",
    "short_day",
    "written_date",
]
