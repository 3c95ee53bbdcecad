"""Time-barred claims (verjaring): such invoices are never chased automatically.

The law (legal-nl.md is silent on it): a consumer's debt from a purchase is barred after two
years (art. 7:28 BW); any other claim to payment after five years (art. 3:307 BW). The term
starts the day after the claim became due (art. 3:307 lid 1), i.e. the day after the due date.
A written reminder or acknowledgement interrupts it (stuiting, art. 3:317 and 3:318 BW), which
only the creditor can know: so these invoices are listed for the creditor's review with the
reason, not chased and not silently dropped.

The mirror does not say whether a consumer invoice is a sale or a service; the shorter term
is assumed for every consumer invoice, which errs on the side of not chasing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from connector.formatting import short_day

CONSUMER_YEARS = 2
OTHER_YEARS = 5


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


def term_years(debtor_kind: str) -> int:
    return CONSUMER_YEARS if debtor_kind == "consumer" else OTHER_YEARS


def barred_from(due_date: date, debtor_kind: str) -> date:
    """The first day the claim is time-barred: the term runs from the day after the due date
    and ends with the same calendar day ``years`` later."""
    return _add_years(due_date, term_years(debtor_kind)) + timedelta(days=1)


def is_time_barred(due_date: date | None, debtor_kind: str, today: date) -> bool:
    return due_date is not None and today >= barred_from(due_date, debtor_kind)


def oldest_chaseable_due_date(debtor_kind: str, today: date) -> date:
    """The earliest due date that is not time-barred today (for a database filter)."""
    years = term_years(debtor_kind)
    candidate = _add_years(today, -years) - timedelta(days=1)
    while is_time_barred(candidate, debtor_kind, today):
        candidate += timedelta(days=1)
    while not is_time_barred(candidate - timedelta(days=1), debtor_kind, today):
        candidate -= timedelta(days=1)
    return candidate


@dataclass(frozen=True)
class TimeBarred:
    article: str
    years: int
    since: date
    reason: str  # Dutch, for the creditor


def time_barred(due_date: date | None, debtor_kind: str, today: date) -> TimeBarred | None:
    """Why an invoice is (probably) time-barred, or None when it is not."""
    if not is_time_barred(due_date, debtor_kind, today):
        return None
    since = barred_from(due_date, debtor_kind)
    if debtor_kind == "consumer":
        article, what = "art. 7:28 BW", "een vordering op een consument uit koop"
    else:
        article, what = "art. 3:307 BW", "een vordering tot betaling"
    years = term_years(debtor_kind)
    reason = (f"Mogelijk verjaard: {what} verjaart na {years} jaar ({article}), gerekend vanaf "
              f"de dag na de vervaldatum {short_day(due_date)}; verjaard sinds "
              f"{short_day(since)}, tenzij de verjaring is gestuit (bijvoorbeeld door een "
              f"schriftelijke aanmaning of erkenning). Wordt niet automatisch aangemaand.")
    return TimeBarred(article, years, since, reason)
