"""Dates as the creditor sees them: "today" is today in the Netherlands, not in UTC.

The one declaration of the Dutch time zone in ``connector/``: every module that needs the
Dutch calendar day or clock takes :data:`AMSTERDAM` from here.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def today_nl() -> date:
    return datetime.now(AMSTERDAM).date()


__all__ = ["AMSTERDAM", "today_nl"]
