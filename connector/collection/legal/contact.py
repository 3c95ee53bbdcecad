"""When a debtor may be contacted: 07:00–20:00 Amsterdam time on contact days, and how many
times a day (Bki; legal-nl §4.2, §4.4, §7.3)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from connector.collection.legal.calendar_nl import is_public_holiday
from connector.collection.legal.errors import LegalRuleError
from connector.collection.legal.inputs import AMSTERDAM, aware

__all__ = [
    "CONTACT_FROM",
    "CONTACT_UNTIL",
    "DEFAULT_MAX_CONTACTS_PER_DAY",
    "MAX_CONTACTS_PER_DAY_CAP",
    "contact_allowed",
    "is_contact_day",
    "may_contact",
    "next_contact_moment",
]

CONTACT_FROM = time(7, 0)  # Bki: no contact 20:00–07:00 (legal-nl §4.2, §4.4)
CONTACT_UNTIL = time(20, 0)
MAX_CONTACTS_PER_DAY_CAP = 3  # draft Bki cap, UNCERTAIN (legal-nl §4.2, §4.4)
DEFAULT_MAX_CONTACTS_PER_DAY = 1  # product rule: one contact per debtor per Amsterdam day


def is_contact_day(day: date) -> bool:
    """No contact on Sundays, Atw holidays or designated days (Bki; legal-nl §4.2, §4.4).
    Saturdays are allowed: legal-nl.md does not exclude them."""
    return day.weekday() != 6 and not is_public_holiday(day)


def may_contact(at: datetime) -> bool:
    """Whether a debtor may be contacted at ``at``: 07:00–20:00 Europe/Amsterdam (20:00 itself
    is out) on a contact day (Bki; legal-nl §4.2, §4.4, §7.3)."""
    local = aware(at, "at").astimezone(AMSTERDAM)
    return is_contact_day(local.date()) and CONTACT_FROM <= local.time() < CONTACT_UNTIL


def next_contact_moment(after: datetime) -> datetime:
    """The earliest moment at or after ``after`` that :func:`may_contact` allows, in UTC.

    ``after`` itself is returned (in UTC) when it is allowed; otherwise 07:00 Amsterdam time of
    the next contact day (legal-nl §4.2, §4.4). Works across DST changes: 07:00 always exists.
    """
    local = aware(after, "after").astimezone(AMSTERDAM)
    day = local.date()
    if is_contact_day(day):
        if local.time() < CONTACT_FROM:
            return datetime.combine(day, CONTACT_FROM, tzinfo=AMSTERDAM).astimezone(UTC)
        if local.time() < CONTACT_UNTIL:
            return local.astimezone(UTC)
    day += timedelta(days=1)
    while not is_contact_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, CONTACT_FROM, tzinfo=AMSTERDAM).astimezone(UTC)


def contact_allowed(
    at: datetime,
    previous_contacts: Iterable[datetime],
    *,
    max_per_day: int = DEFAULT_MAX_CONTACTS_PER_DAY,
) -> bool:
    """:func:`may_contact` plus the per-day cap, counted per Europe/Amsterdam calendar day.

    The product allows one contact per debtor per day; legal-nl §4.2/§4.4 name at most 3 per
    day (draft Bki, UNCERTAIN) as the outer bound, so ``max_per_day`` may not exceed 3.
    """
    if not 1 <= max_per_day <= MAX_CONTACTS_PER_DAY_CAP:
        raise LegalRuleError(
            f"max_per_day must be between 1 and {MAX_CONTACTS_PER_DAY_CAP} "
            f"(legal-nl §4.4), got {max_per_day}"
        )
    previous_days = [
        aware(previous, f"previous_contacts[{i}]").astimezone(AMSTERDAM).date()
        for i, previous in enumerate(previous_contacts)
    ]
    if not may_contact(at):
        return False
    today = at.astimezone(AMSTERDAM).date()
    return previous_days.count(today) < max_per_day
