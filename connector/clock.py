"""Dates as the creditor sees them: "today" is today in the Netherlands, not in UTC."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def today_nl() -> date:
    return datetime.now(AMSTERDAM).date()
