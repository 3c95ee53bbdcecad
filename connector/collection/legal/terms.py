"""The consumer's 14-day term of a letter: presumed delivery, day 14, the Algemene termijnenwet
extension, and the court-approved wording of the term (art. 6:96 lid 6 BW; legal-nl §1.2–1.4).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from connector.collection.legal.calendar_nl import is_postal_delivery_day, is_working_day
from connector.collection.legal.errors import InvalidChoiceError
from connector.collection.legal.formatting import format_long_date
from connector.collection.legal.inputs import plain_date
from connector.collection.legal.languages import language

__all__ = [
    "TERM_DAYS",
    "Delivery",
    "PaymentTerm",
    "safe_term_wording",
    "term_for_letter",
]

Delivery = Literal["post", "email"]

TERM_DAYS = 14  # art. 6:96 lid 6 BW: "veertien dagen, aanvangende de dag na aanmaning"


@dataclass(frozen=True)
class PaymentTerm:
    """The term of a consumer 14-day letter (art. 6:96 lid 6 BW; legal-nl §1.2–1.4).

    ``first_day`` is day 1 (the day after delivery), ``fourteenth_day`` the unextended day 14,
    ``last_day_to_pay`` day 14 after the Algemene termijnenwet extension, ``costs_due_from``
    the day after. ``receipt_must_be_proven`` is true for e-mail: no presumption of receipt
    applies there and the creditor must prove the receipt date (legal-nl §1.4).
    """

    posted_on: date
    delivery: Delivery
    presumed_delivery: date
    first_day: date
    fourteenth_day: date
    last_day_to_pay: date
    costs_due_from: date
    extended_by_atw: bool
    receipt_must_be_proven: bool


def _presumed_postal_delivery(posted_on: date) -> date:
    counted, day = 0, posted_on
    while counted < 2:
        day += timedelta(days=1)
        if is_postal_delivery_day(day):
            counted += 1
    return day


def term_for_letter(posted_on: date, *, delivery: Delivery = "post") -> PaymentTerm:
    """When the consumer's 14-day term ends for a letter sent on ``posted_on``.

    Post: presumed delivered on the 2nd day after posting, Sundays, Mondays and Atw holidays
    not counting as intermediate or delivery day (HR presumption, legal-nl §1.3): Mon→Wed,
    Thu→Sat, Fri→Tue. E-mail: the day of sending — legal-nl §1.4 gives no presumption for
    e-mail, so the date is only as good as the delivery evidence (``receipt_must_be_proven``).
    The term starts the day after delivery (art. 6:96 lid 6 BW); a last day on a Saturday,
    Sunday or Atw holiday moves to the next working day (Algemene termijnenwet art. 1; legal-nl
    §1.3 says encode it although its application is UNCERTAIN: the later date is the safe one).
    Holidays counted: see :func:`atw_holidays` (Goede Vrijdag does not count, 5 mei does).
    """
    posted_on = plain_date(posted_on, "posted_on")
    if delivery == "post":
        delivered = _presumed_postal_delivery(posted_on)
    elif delivery == "email":
        delivered = posted_on
    else:
        raise InvalidChoiceError(f"delivery must be 'post' or 'email', got {delivery!r}")
    fourteenth = delivered + timedelta(days=TERM_DAYS)
    last = fourteenth
    while not is_working_day(last):
        last += timedelta(days=1)
    return PaymentTerm(
        posted_on=posted_on,
        delivery=delivery,
        presumed_delivery=delivered,
        first_day=delivered + timedelta(days=1),
        fourteenth_day=fourteenth,
        last_day_to_pay=last,
        costs_due_from=last + timedelta(days=1),
        extended_by_atw=last != fourteenth,
        receipt_must_be_proven=delivery == "email",
    )


def safe_term_wording(term: PaymentTerm, lang: str = "nl", *, include_date: bool = True) -> str:
    """The term as a phrase to follow "betalen"/"pay" (legal-nl §1.2 nr. 2, §7.1 nr. 6).

    Uses the court-approved wording "binnen veertien dagen vanaf de dag nadat deze brief bij
    u is bezorgd" (HR 2016 / NVI), per language from :data:`.languages.LANGUAGES`. A concrete
    date is added only as a guarantee ("in elk geval op tijd"), never as the deadline itself,
    and it is ``last_day_to_pay`` — never earlier than the computed safe date (legal-nl §7.1
    nr. 6); wrong wordings and too-early dates invalidate the letter (legal-nl §1.2, §7.3).
    """
    wording = language(lang)
    text = wording.term_phrase
    if include_date:
        day = format_long_date(term.last_day_to_pay, wording.code)
        text += wording.term_guarantee.format(day=day)
    return text
