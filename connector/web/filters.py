"""Template filters for Dutch money and dates (Babel does the locale work)."""

from __future__ import annotations

from flask import Flask

from connector.formatting import day, long_day, moment, money

LABELS = {
    # invoice status (ours)
    "open": "openstaand", "paid": "betaald", "credited": "gecrediteerd",
    "uncollectible": "oninbaar", "deleted": "verwijderd", "draft": "concept",
    # sync outcome and trigger
    "ok": "gelukt", "running": "bezig", "skipped": "overgeslagen",
    "reconnect_needed": "opnieuw koppelen nodig", "rate_limited": "uitgesteld (limiet)",
    "error": "mislukt", "rejected": "geweigerd", "interrupted": "onderbroken",
    "schedule": "gepland", "requested": "aangevraagd",
    "manual": "handmatig", "connect": "koppeling",
}


PLATFORMS = {"moneybird": "Moneybird", "exact_online": "Exact Online"}


def platform(key: str | None) -> str:
    return PLATFORMS.get(key or "", key or "–")


def label(value: str | None) -> str:
    """Dutch words for the codes we store; an unknown code is shown as it is."""
    return LABELS.get(value or "", value or "–")


def register(app: Flask) -> None:
    app.add_template_filter(money, "money")
    app.add_template_filter(day, "day")
    app.add_template_filter(moment, "moment")
    app.add_template_filter(label, "label")
    app.add_template_filter(platform, "platform")
    app.add_template_filter(long_day, "long_day")
