"""Dates as the creditor sees them: "today" is today in the Netherlands, not in UTC.

Every module of ``connector/`` that needs the Dutch calendar day or clock takes
:data:`AMSTERDAM` from here; it is declared once, in ``providers.zones``, for both sides.
"""

from __future__ import annotations

from datetime import date, datetime

from providers.zones import AMSTERDAM


def today_nl() -> date:
    return datetime.now(AMSTERDAM).date()


__all__ = ["AMSTERDAM", "today_nl"]
