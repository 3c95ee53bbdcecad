"""The Dutch calendar the terms are counted on: the Algemene termijnenwet holidays, working
days and the days that count for the postal presumption of delivery (legal-nl §1.3, §4.2).
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays

from connector.collection.legal.errors import HolidayDataError
from connector.collection.legal.inputs import plain_date

__all__ = [
    "DESIGNATED_DAYS",
    "atw_holidays",
    "is_postal_delivery_day",
    "is_public_holiday",
    "is_working_day",
]

#: Days designated equal to a holiday (gelijkgestelde dagen), as listed in legal-nl §4.2 [S66].
#: Extend when the government publishes new ones; they count like the Atw holidays below.
DESIGNATED_DAYS: dict[date, str] = {
    date(2024, 5, 10): "gelijkgestelde dag (vrijdag na Hemelvaartsdag)",
    date(2024, 12, 27): "gelijkgestelde dag (vrijdag na Tweede Kerstdag)",
}

# Names from ``holidays`` (language en_US) that are on the Atw list of legal-nl §1.3.
_ATW_NAMES = {
    "New Year's Day": "Nieuwjaarsdag",
    "Easter Monday": "Tweede Paasdag",
    "King's Day": "Koningsdag",
    "Queen's Day": "Koninginnedag",
    "Ascension Day": "Hemelvaartsdag",
    "Pentecost Monday": "Tweede Pinksterdag",
    "Christmas Day": "Eerste Kerstdag",
    "Second Day of Christmas": "Tweede Kerstdag",
}
_REQUIRED_PER_YEAR = (
    {"Nieuwjaarsdag"},
    {"Tweede Paasdag"},
    {"Koningsdag", "Koninginnedag"},
    {"Hemelvaartsdag"},
    {"Tweede Pinksterdag"},
    {"Eerste Kerstdag"},
    {"Tweede Kerstdag"},
)


@lru_cache(maxsize=64)
def _atw_year(year: int) -> tuple[tuple[date, str], ...]:
    calendar = holidays.country_holidays("NL", years=year, language="en_US")
    found: dict[date, list[str]] = {}
    for day in sorted(calendar):
        for name in calendar.get_list(day):
            if name in _ATW_NAMES:
                found.setdefault(day, []).append(_ATW_NAMES[name])
    # 5 May is on the Atw list every year (legal-nl §1.3); `holidays` has it only in lustrum years.
    found.setdefault(date(year, 5, 5), []).append("Bevrijdingsdag (5 mei)")
    for day, name in DESIGNATED_DAYS.items():
        if day.year == year:
            found.setdefault(day, []).append(name)
    names = {name for day_names in found.values() for name in day_names}
    for required in _REQUIRED_PER_YEAR:
        if not names & required:
            raise HolidayDataError(
                f"holidays {holidays.__version__} has no {'/'.join(sorted(required))} "
                f"for {year}; cannot compute Dutch terms safely"
            )
    return tuple((day, "; ".join(day_names)) for day, day_names in sorted(found.items()))


def atw_holidays(year: int) -> dict[date, str]:
    """The "algemeen erkende feestdagen" used by every term and contact rule, with Dutch names.

    Per legal-nl §1.3 (Algemene termijnenwet): Nieuwjaarsdag, Tweede Paasdag, Koningsdag
    (26 April when 27 April is a Sunday), 5 mei (every year, not only lustrum years),
    Hemelvaartsdag, Tweede Pinksterdag, Eerste and Tweede Kerstdag; plus the days designated
    equal to holidays listed in legal-nl §4.2 (:data:`DESIGNATED_DAYS`). Goede Vrijdag is *not*
    on the list (legal-nl §1.3), so it is a normal day here even though ``holidays`` has it.
    Easter and Whit Sunday are Sundays and are handled as Sundays.
    """
    return dict(_atw_year(year))


@lru_cache(maxsize=64)
def _holiday_dates(year: int) -> frozenset[date]:
    return frozenset(day for day, _ in _atw_year(year))


def is_public_holiday(day: date) -> bool:
    """Whether ``day`` is on the Atw list of :func:`atw_holidays` (legal-nl §1.3, §4.2)."""
    day = plain_date(day, "day")
    return day in _holiday_dates(day.year)


def is_working_day(day: date) -> bool:
    """Not a Saturday, Sunday or Atw holiday (Algemene termijnenwet art. 1; legal-nl §1.3)."""
    return day.weekday() < 5 and not is_public_holiday(day)


def is_postal_delivery_day(day: date) -> bool:
    """Counts for the HR postal presumption: not a Sunday, Monday or official holiday
    (legal-nl §1.3 [S8][S10]). Saturday counts. "Official holiday" is read as the Atw list,
    the only list legal-nl.md gives."""
    return day.weekday() not in (0, 6) and not is_public_holiday(day)
