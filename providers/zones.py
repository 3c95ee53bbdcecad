"""The Dutch time zone, declared once for the providers and the connector alike.

The platforms speak Dutch local time (due dates, change stamps, a creditor's "today");
providers may not import the connector, so the one declaration lives here and
``connector.clock`` hands it on.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

__all__ = ["AMSTERDAM"]
