"""Amounts and dates written the way the letters and the problem messages state them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from connector.collection.legal.inputs import money, plain_date
from connector.collection.legal.languages import language
from connector.formatting import DUTCH, long_day
from connector.formatting import money as format_money

__all__ = ["format_euro", "format_long_date"]


def format_euro(amount: Decimal) -> str:
    """An amount the Dutch way ("€ 1.234,56", with babel's non-breaking space)."""
    return format_money(money(amount, "amount", positive=False), "EUR", DUTCH)


def format_long_date(day: date, lang: str = "nl") -> str:
    """A date written out ("dinsdag 7 april 2026" / "Tuesday 7 April 2026")."""
    return long_day(plain_date(day, "day"), language(lang).locale)
