"""Dutch legal rules for pre-incasso: BIK costs, the 14-day term, contact windows, wording.

Pure functions, no I/O. Every rule cites the section of ``/work/shared/reference/legal-nl.md``
("legal-nl §x") it encodes; where that document marks a point UNCERTAIN the conservative reading
is taken (a later date, fewer contact moments) and the choice is stated in the docstring.
This is product logic, not legal advice: legal-nl.md asks for sign-off by Dutch counsel.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Literal, cast
from zoneinfo import ZoneInfo

import holidays
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

__all__ = [
    "AMSTERDAM",
    "BIK_MAXIMUM",
    "BIK_MINIMUM",
    "COMMERCIAL_MINIMUM",
    "DEFAULT_VAT_RATE",
    "DESIGNATED_DAYS",
    "FORBIDDEN_CONTENT",
    "FORBIDDEN_CONTENT_EN",
    "TERM_DAYS",
    "BikBand",
    "BikBreakdown",
    "BusinessCosts",
    "ContentRule",
    "HolidayDataError",
    "InvalidAmountError",
    "InvalidChoiceError",
    "LegalRuleError",
    "NaiveDatetimeError",
    "PaymentTerm",
    "atw_holidays",
    "bik_breakdown",
    "bik_costs",
    "bik_costs_for_invoices",
    "business_costs",
    "business_costs_due_from",
    "check_message_text",
    "combined_principal",
    "consumer_letter_requirements",
    "contact_allowed",
    "format_euro",
    "format_long_date",
    "is_contact_day",
    "is_postal_delivery_day",
    "is_public_holiday",
    "is_working_day",
    "may_contact",
    "next_contact_moment",
    "normalize_debtor_kind",
    "requires_fourteen_day_letter",
    "safe_term_wording",
    "term_for_letter",
]

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
CENT = Decimal("0.01")

Delivery = Literal["post", "email"]
DebtorKind = Literal["consumer", "business", "unknown"]


# --------------------------------------------------------------------------- errors


class LegalRuleError(ValueError):
    """Input a legal rule cannot be applied to; the message says what and why."""


class InvalidAmountError(LegalRuleError):
    """A money amount that is not a positive, finite ``Decimal`` where the rule needs one."""


class InvalidChoiceError(LegalRuleError):
    """An unknown option (debtor kind, delivery channel, language)."""


class NaiveDatetimeError(LegalRuleError):
    """A datetime without a time zone: contact windows are defined in Europe/Amsterdam time."""


class HolidayDataError(RuntimeError):
    """The ``holidays`` package returned a calendar that lacks a holiday of the Atw list."""


# --------------------------------------------------------------------------- helpers


def _money(value: object, name: str, *, positive: bool = True) -> Decimal:
    """Money is ``Decimal`` only (never float), finite and, where required, above zero."""
    if isinstance(value, bool) or not isinstance(value, Decimal):
        raise InvalidAmountError(
            f"{name} must be a decimal.Decimal, got {type(value).__name__} ({value!r})"
        )
    if not value.is_finite():
        raise InvalidAmountError(f"{name} must be a finite amount, got {value}")
    if positive and value <= 0:
        raise InvalidAmountError(f"{name} must be more than 0, got {value}")
    return value


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _plain_date(value: object, name: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise LegalRuleError(f"{name} must be a datetime.date (not a datetime), got {value!r}")
    return value


def _aware(value: object, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise LegalRuleError(f"{name} must be a datetime, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetimeError(
            f"{name} must be timezone-aware (e.g. tzinfo=ZoneInfo('Europe/Amsterdam')), "
            f"got naive {value.isoformat()}"
        )
    return value


def format_euro(amount: Decimal) -> str:
    """An amount the Dutch way ("€ 1.234,56", with babel's non-breaking space)."""
    return format_currency(_money(amount, "amount", positive=False), "EUR", locale="nl_NL")


def format_long_date(day: date, lang: str = "nl") -> str:
    """A date written out ("dinsdag 7 april 2026" / "Tuesday 7 April 2026")."""
    locale = {"nl": "nl_NL", "en": "en_GB"}.get(lang)
    if locale is None:
        raise InvalidChoiceError(f"language must be 'nl' or 'en', got {lang!r}")
    return format_date(_plain_date(day, "day"), "EEEE d MMMM y", locale=locale)


# --------------------------------------------------------------------------- 1. BIK costs

#: BIK art. 2 lid 1 staffel (legal-nl §2.1): (width of the band, rate); ``None`` = the rest.
BIK_BANDS: tuple[tuple[Decimal | None, Decimal], ...] = (
    (Decimal("2500"), Decimal("0.15")),
    (Decimal("2500"), Decimal("0.10")),
    (Decimal("5000"), Decimal("0.05")),
    (Decimal("190000"), Decimal("0.01")),
    (None, Decimal("0.005")),
)
BIK_MINIMUM = Decimal("40.00")  # BIK art. 2 lid 2 (legal-nl §2.1)
BIK_MAXIMUM = Decimal("6775.00")  # BIK art. 2 lid 1 (legal-nl §2.1)
DEFAULT_VAT_RATE = Decimal("0.21")  # art. 9 lid 1 Wet OB, via BIK art. 2 lid 3 (legal-nl §2.2)


@dataclass(frozen=True)
class BikBand:
    """One band of the staffel: the part of the principal in it and the exact (unrounded) cost."""

    lower: Decimal
    upper: Decimal | None
    rate: Decimal
    base: Decimal
    amount: Decimal


@dataclass(frozen=True)
class BikBreakdown:
    """How the BIK amount was reached, for letters and the CLI (legal-nl §2).

    ``staffel_amount`` is the exact sum of the bands; ``costs`` is that amount after the
    minimum/maximum, rounded once to cents (ROUND_HALF_UP). ``minimum_applied`` /
    ``maximum_applied`` are true when the result is the statutory bound rather than the staffel.
    ``vat`` is zero unless ``vat_increase``; ``total`` = ``costs`` + ``vat`` is the amount to state.
    """

    principal: Decimal
    bands: tuple[BikBand, ...]
    staffel_amount: Decimal
    minimum_applied: bool
    maximum_applied: bool
    costs: Decimal
    vat_increase: bool
    vat_rate: Decimal
    vat: Decimal
    total: Decimal


def bik_breakdown(
    principal: Decimal,
    *,
    vat_increase: bool = False,
    vat_rate: Decimal = DEFAULT_VAT_RATE,
) -> BikBreakdown:
    """The BIK staffel applied to one (combined) principal (BIK art. 2; legal-nl §2.1–2.3).

    The principal excludes statutory interest (legal-nl §2.1); rounding happens once on the
    total, not per band, so a breakdown never adds a cent through rounding. VAT goes on top
    only when the creditor cannot deduct VAT and declares so (BIK art. 2 lid 3; legal-nl §2.2),
    also on the €40 minimum.
    """
    principal = _money(principal, "principal")
    vat_rate = _money(vat_rate, "vat_rate", positive=False)
    if not Decimal("0") <= vat_rate < Decimal("1"):
        raise InvalidAmountError(f"vat_rate must be a fraction between 0 and 1, got {vat_rate}")
    bands: list[BikBand] = []
    lower = Decimal("0")
    for width, rate in BIK_BANDS:
        upper = None if width is None else lower + width
        if principal <= lower:
            break
        base = principal - lower if upper is None else min(principal, upper) - lower
        bands.append(BikBand(lower, upper, rate, base, base * rate))
        lower = upper if upper is not None else lower
    staffel = sum((band.amount for band in bands), Decimal("0"))
    bounded = min(max(staffel, BIK_MINIMUM), BIK_MAXIMUM)
    costs = _cents(bounded)
    vat = _cents(costs * vat_rate) if vat_increase else Decimal("0.00")
    return BikBreakdown(
        principal=principal,
        bands=tuple(bands),
        staffel_amount=staffel,
        minimum_applied=staffel <= BIK_MINIMUM,
        maximum_applied=staffel >= BIK_MAXIMUM,
        costs=costs,
        vat_increase=vat_increase,
        vat_rate=vat_rate,
        vat=vat,
        total=costs + vat,
    )


def bik_costs(
    principal: Decimal,
    *,
    vat_increase: bool = False,
    vat_rate: Decimal = DEFAULT_VAT_RATE,
) -> Decimal:
    """The maximum BIK costs to announce for this principal, VAT included if it may be added.

    BIK art. 2 (legal-nl §2.1, examples §2.3); VAT only per BIK art. 2 lid 3 (legal-nl §2.2).
    """
    return bik_breakdown(principal, vat_increase=vat_increase, vat_rate=vat_rate).total


def combined_principal(amounts: Iterable[Decimal]) -> Decimal:
    """The principals of all invoices in one letter, added up: the staffel is applied once
    to the sum, not per invoice (legal-nl §2.1 [S36]). Amounts must be open amounts (> 0)
    after partial payments and credit notes (legal-nl §1.2 nr. 1, §1.3)."""
    values = [_money(amount, f"amounts[{i}]") for i, amount in enumerate(amounts)]
    if not values:
        raise InvalidAmountError("amounts must contain at least one open invoice amount")
    return sum(values, Decimal("0"))


def bik_costs_for_invoices(
    amounts: Iterable[Decimal],
    *,
    vat_increase: bool = False,
    vat_rate: Decimal = DEFAULT_VAT_RATE,
) -> Decimal:
    """BIK costs for one letter covering several invoices (legal-nl §2.1: add, then staffel)."""
    return bik_costs(combined_principal(amounts), vat_increase=vat_increase, vat_rate=vat_rate)


# --------------------------------------------------------------------------- calendar

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
    """The "algemeen erkende feestdagen" used everywhere in this module, with Dutch names.

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
    day = _plain_date(day, "day")
    return day in _holiday_dates(day.year)


def is_working_day(day: date) -> bool:
    """Not a Saturday, Sunday or Atw holiday (Algemene termijnenwet art. 1; legal-nl §1.3)."""
    return day.weekday() < 5 and not is_public_holiday(day)


def is_postal_delivery_day(day: date) -> bool:
    """Counts for the HR postal presumption: not a Sunday, Monday or official holiday
    (legal-nl §1.3 [S8][S10]). Saturday counts. "Official holiday" is read as the Atw list,
    the only list legal-nl.md gives."""
    return day.weekday() not in (0, 6) and not is_public_holiday(day)


# --------------------------------------------------------------------------- 2. the 14-day term

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
    posted_on = _plain_date(posted_on, "posted_on")
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
    u is bezorgd" (HR 2016 / NVI). A concrete date is added only as a guarantee ("in elk geval
    op tijd"), never as the deadline itself, and it is ``last_day_to_pay`` — never earlier than
    the computed safe date (legal-nl §7.1 nr. 6); wrong wordings and too-early dates invalidate
    the letter (legal-nl §1.2, §7.3).
    """
    if lang == "nl":
        text = "binnen veertien dagen vanaf de dag nadat deze brief bij u is bezorgd"
        if include_date:
            day = format_long_date(term.last_day_to_pay, "nl")
            text += f" (betaalt u uiterlijk op {day}, dan bent u in elk geval op tijd)"
        return text
    if lang == "en":
        text = "within fourteen days from the day after this letter has been delivered to you"
        if include_date:
            day = format_long_date(term.last_day_to_pay, "en")
            text += f" (if you pay no later than {day}, you are in time in any case)"
        return text
    raise InvalidChoiceError(f"language must be 'nl' or 'en', got {lang!r}")


# --------------------------------------------------------------------------- 3. business variant

COMMERCIAL_MINIMUM = Decimal("40.00")  # art. 6:96 lid 4 BW (legal-nl §1.6)
STATUTORY_PAYMENT_DAYS = 30  # art. 6:119a lid 2 BW (legal-nl §1.6)


def normalize_debtor_kind(debtor_kind: str) -> DebtorKind:
    """'consumer', 'business' or 'unknown'; unknown is treated as a consumer (legal-nl §7.2)."""
    kind = str(debtor_kind).strip().lower()
    if kind not in ("consumer", "business", "unknown"):
        raise InvalidChoiceError(
            f"debtor_kind must be 'consumer', 'business' or 'unknown', got {debtor_kind!r}"
        )
    return cast(DebtorKind, kind)


def requires_fourteen_day_letter(debtor_kind: str) -> bool:
    """Only consumers need the 14-day letter (art. 6:96 lid 6 BW; legal-nl §1.6); when in doubt
    whether the debtor acted privately, treat as consumer (legal-nl §7.2)."""
    return normalize_debtor_kind(debtor_kind) != "business"


@dataclass(frozen=True)
class BusinessCosts:
    """What a business debtor may be told about costs if the claim is handed over (legal-nl §1.6).

    Nothing of this is charged in the pre-incasso phase (legal-nl §7.2). ``statutory_minimum``
    is the €40 of art. 6:96 lid 4 BW (trade agreements), ``bik`` the BIK staffel (default law
    in B2B), ``agreed`` the contractual amount if any. ``amount`` is the agreed amount (never
    below €40) or else the BIK amount. ``moderation_risk``: an agreed amount above the staffel
    may be moderated by the judge to the BIK staffel unless higher actual costs are shown
    (art. 242 Rv, HR 10-07-2015).
    """

    principal: Decimal
    statutory_minimum: Decimal
    bik: BikBreakdown
    agreed: Decimal | None
    amount: Decimal
    moderation_risk: bool


def business_costs(
    principal: Decimal,
    *,
    agreed_costs: Decimal | None = None,
    vat_increase: bool = False,
    vat_rate: Decimal = DEFAULT_VAT_RATE,
) -> BusinessCosts:
    """Costs for a business debtor under a trade agreement (art. 6:96 lid 4 BW; legal-nl §1.6).

    No 14-day letter is needed; at least €40 is due without aanmaning; the BIK staffel applies
    unless other costs were agreed, and agreed costs above the staffel risk moderation.
    """
    breakdown = bik_breakdown(principal, vat_increase=vat_increase, vat_rate=vat_rate)
    if agreed_costs is None:
        amount = max(breakdown.total, COMMERCIAL_MINIMUM)
        risk = False
    else:
        agreed_costs = _cents(_money(agreed_costs, "agreed_costs"))
        amount = max(agreed_costs, COMMERCIAL_MINIMUM)
        risk = agreed_costs > breakdown.total
    return BusinessCosts(
        principal=breakdown.principal,
        statutory_minimum=COMMERCIAL_MINIMUM,
        bik=breakdown,
        agreed=agreed_costs,
        amount=amount,
        moderation_risk=risk,
    )


def business_costs_due_from(
    *, agreed_due_date: date | None = None, invoice_received_on: date | None = None
) -> date:
    """First day the €40 / costs are due from a business debtor, without aanmaning.

    The day after the agreed payment deadline; with no agreed deadline, the statutory one of
    30 days after receipt of the invoice (art. 6:96 lid 4 and 6:119a lid 2 BW; legal-nl §1.6).
    "From 30 days after receipt" is read as: day 30 is the last day, costs from day 31.
    """
    if agreed_due_date is not None:
        return _plain_date(agreed_due_date, "agreed_due_date") + timedelta(days=1)
    if invoice_received_on is not None:
        received = _plain_date(invoice_received_on, "invoice_received_on")
        return received + timedelta(days=STATUTORY_PAYMENT_DAYS + 1)
    raise LegalRuleError("give agreed_due_date or invoice_received_on (art. 6:119a lid 2 BW)")


# --------------------------------------------------------------------------- 4. contact windows

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
    local = _aware(at, "at").astimezone(AMSTERDAM)
    return is_contact_day(local.date()) and CONTACT_FROM <= local.time() < CONTACT_UNTIL


def next_contact_moment(after: datetime) -> datetime:
    """The earliest moment at or after ``after`` that :func:`may_contact` allows, in UTC.

    ``after`` itself is returned (in UTC) when it is allowed; otherwise 07:00 Amsterdam time of
    the next contact day (legal-nl §4.2, §4.4). Works across DST changes: 07:00 always exists.
    """
    local = _aware(after, "after").astimezone(AMSTERDAM)
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
        _aware(previous, f"previous_contacts[{i}]").astimezone(AMSTERDAM).date()
        for i, previous in enumerate(previous_contacts)
    ]
    if not may_contact(at):
        return False
    today = at.astimezone(AMSTERDAM).date()
    return previous_days.count(today) < max_per_day


# --------------------------------------------------------------------------- 5. content


@dataclass(frozen=True)
class ContentRule:
    """One thing a pre-incasso message must not say (legal-nl §7.3).

    ``pattern`` is searched per sentence of the normalised (lower-case) text; a sentence that
    matches ``unless`` (e.g. a conditional "als u niet betaalt …") is not a problem.
    ``kinds`` are the debtor kinds the rule applies to; ``agency_exempt`` rules are skipped when
    the sender really has an arrangement with the agency/bailiff it names (legal-nl §4.1, §7.3).
    """

    code: str
    section: str
    message: str
    pattern: re.Pattern[str]
    unless: re.Pattern[str] | None = None
    kinds: frozenset[str] = frozenset({"consumer", "business", "unknown"})
    agency_exempt: bool = False


_CONSUMERISH = frozenset({"consumer", "unknown"})
_CONDITIONAL = re.compile(
    r"\b(als|indien|wanneer|zodra|mocht|pas|uitblijven"
    r"|niet\s+(op\s+tijd|tijdig|binnen|uiterlijk))\b"
    r"|\b(betaalt|betaal)\s+u\s+niet\b|\bblijft\s+(de\s+)?betaling\s+uit\b"
)
_PAY = r"\b(betaa?l\w*|voldoe\w*|voldaan|overmaken|overmaakt|maak\b)"
_SHORT_NUMBER = (
    r"([1-9]|1[0-3]|een|één|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|dertien)"
)


_SHORT_TERM = (
    r"binnen\s+" + _SHORT_NUMBER + r"\s+(dagen|dag|werkdagen|uur)|binnen\s+(een|één)\s+week"
)


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


#: The list of legal-nl §7.3, as data. Heuristics: a clean result is no legal sign-off.
FORBIDDEN_CONTENT: tuple[ContentRule, ...] = (
    ContentRule(
        "other-costs",
        "§7.3, §2.1, §4.5",
        "naast de BIK-vergoeding mogen geen andere kosten (administratie-, dossier-, "
        "herinnerings-, aanmaningskosten e.d.) worden gevorderd, en in de pre-incassofase "
        "worden helemaal geen kosten in rekening gebracht",
        _rx(
            r"\b(administratie|dossier|herinnerings?|aanmanings?|kantoor|behandel|pre-?incasso)"
            r"\s*-?\s*kosten\b"
            r"|\b(administratie|dossier|herinnerings?|aanmanings?|kantoor|behandel)-\s+(en|of)\b"
        ),
    ),
    ContentRule(
        "costs-charged-now",
        "§7.3, §1.2",
        "in de pre-incassofase worden geen kosten in rekening gebracht; kosten mogen alleen "
        "worden aangekondigd voor het geval niet binnen de termijn wordt betaald",
        _rx(
            r"kosten\b.{0,60}?\b(nu|direct|reeds|al|hierbij|inmiddels|vanaf\s+vandaag)\b"
            r".{0,40}?\b(verschuldigd|in\s+rekening|berekend|toegevoegd|opgeteld|bijgeteld)"
            r"|\b(wij|we|ik)\s+(brengen|breng|rekenen|reken|berekenen|bereken)\b.{0,60}?kosten\b"
            r"|\b(inclusief|incl\.?|vermeerderd\s+met|verhoogd\s+met)\s+(\S+\s+){0,4}?"
            r"(incasso)?kosten\b"
        ),
        unless=_CONDITIONAL,
    ),
    ContentRule(
        "wrong-term-wording",
        "§7.3, §1.2",
        "de termijn moet lopen vanaf de dag na ontvangst van de brief; formuleringen als "
        "'na heden', 'na dagtekening' of 'na verzending' maken de veertiendagenbrief ongeldig",
        _rx(
            r"\b(na|vanaf)\s+(de\s+dag\s+na\s+)?(heden|vandaag|dagtekening|verzending"
            r"|(de\s+)?verzenddatum|(de\s+)?briefdatum"
            r"|(de\s+)?datum\s+van\s+(deze|dit)\s+(brief|bericht|e-?mail))\b"
        ),
        kinds=_CONSUMERISH,
    ),
    ContentRule(
        "short-term",
        "§7.3, §1.2",
        "een consument moet ten minste veertien dagen krijgen vanaf de dag na bezorging; een "
        "kortere of tegenstrijdige betaaltermijn maakt de brief ongeldig",
        _rx(
            _PAY + r".{0,60}?\b(per\s+omgaande|onmiddellijk|" + _SHORT_TERM + r")\b"
            r"|\b(per\s+omgaande|onmiddellijk|" + _SHORT_TERM + r")\b.{0,40}?" + _PAY
        ),
        kinds=_CONSUMERISH,
    ),
    ContentRule(
        "threat-beslag",
        "§7.3, §4.1, §4.5",
        "dreigen met beslag (op loon, goederen of bankrekening) mag niet: zonder executoriale "
        "titel is die maatregel nu niet mogelijk",
        _rx(r"\b\w*beslag\w*\b"),
    ),
    ContentRule(
        "threat-registration",
        "§7.3, §5",
        "dreigen met een BKR-registratie of een 'zwarte lijst' mag niet: die maatregel is niet "
        "beschikbaar",
        _rx(r"\bbkr\b|\bkredietregistratie\b|\bzwarte\s+lijst\b"),
    ),
    ContentRule(
        "threat-bailiff-visit",
        "§7.3, §4.1",
        "een bezoek of optreden van de deurwaarder aankondigen mag niet: zonder titel kan de "
        "deurwaarder niets doen",
        _rx(
            r"\b(gerechts)?deurwaarder\w*\b.{0,60}?\b(langs|aan\s+de\s+deur|bij\s+u\s+(thuis|aan)"
            r"|op\s+bezoek|huisbezoek)"
            r"|\b(langs|aan\s+de\s+deur|op\s+bezoek|huisbezoek)\b.{0,40}?\b(gerechts)?deurwaarder"
        ),
    ),
    ContentRule(
        "threat-court",
        "§7.3, §4.5",
        "een dagvaarding of rechtszaak als zeker of op handen voorstellen mag niet zolang die "
        "niet is besloten; ook 'zonder verdere aankondiging' zet ontoelaatbaar druk",
        _rx(
            r"\bu\s+(wordt|zal\s+worden)\s+(\w+\s+)?gedagvaard\b"
            r"|\b(wij|we)\s+(zullen|gaan)\s+u\s+(\w+\s+)?dagvaarden\b"
            r"|\bdagvaarding\s+(volgt|is\s+(al\s+)?(opgesteld|uitgebracht|klaargezet))\b"
            r"|\b(rechtszaak|gerechtelijke\s+procedure)\s+(volgt|wordt\s+gestart|is\s+gestart)\b"
            r"|\bzonder\s+(verdere|nadere)\s+(aankondiging|waarschuwing)\b"
        ),
    ),
    ContentRule(
        "official-act",
        "§7.3, §4.1",
        "de brief mag niet lijken op een officiële akte of een stuk van rechter of deurwaarder "
        "(exploot, bevel, vonnis)",
        _rx(
            r"\bexploot\b|\bambtsedig\w*|\bbevel\s+tot\s+betaling\b"
            r"|\b(gerechtelijk|officieel|ambtelijk)e?\s+(bevel|stuk|aanschrijving|document)\b"
            r"|\bnamens\s+de\s+(rechter|rechtbank|kantonrechter|staat|overheid)\b"
            r"|\bvonnis\b|\bexecutoriale?\s+titel\b"
        ),
    ),
    ContentRule(
        "impersonation",
        "§7.3, §4.1, §4.5",
        "de afzender mag zich niet voordoen als incassobureau, deurwaarder of advocaat (of "
        "hun naam gebruiken) zonder een werkelijke afspraak met die partij",
        _rx(
            r"\b(wij|we)\s*,?\s+(zijn\s+)?(als\s+)?(het\s+|een\s+|uw\s+)?(incassobureau"
            r"|incassokantoor|deurwaarderskantoor|gerechtsdeurwaarder|deurwaarder"
            r"|advocatenkantoor|advocaat)\b"
            r"|\bnamens\s+(het\s+|ons\s+)?(incassobureau|incassokantoor|deurwaarderskantoor"
            r"|gerechtsdeurwaarder|deurwaarder|advocatenkantoor|advocaat)\b"
            r"|\bons\s+(incassobureau|incassokantoor|deurwaarderskantoor|advocatenkantoor)\b"
        ),
        agency_exempt=True,
    ),
    ContentRule(
        "already-handed-over",
        "§7.3",
        "de brief mag niet de indruk wekken dat de vordering al uit handen is gegeven; in de "
        "pre-incassofase vraagt de schuldeiser zelf om betaling, zonder kosten",
        _rx(
            r"\b(is|zijn|werd|werden|hebben|heeft)\s+(\w+\s+){0,3}?"
            r"(uit\s+handen\s+gegeven|overgedragen)\b"
        ),
        unless=_CONDITIONAL,
    ),
    ContentRule(
        "third-parties",
        "§7.3, §4.4",
        "de schuld mag niet aan derden (werkgever, familie, buren) worden bekendgemaakt en "
        "contact met hen mag niet worden aangekondigd",
        _rx(r"\b(werkgever|familie|familieleden|buren|collega'?s)\b"),
    ),
    ContentRule(
        "aggressive-language",
        "§7.3, §4.2, §4.3",
        "agressieve, dreigende, intimiderende of beschamende taal is niet toegestaan",
        _rx(
            r"\b(wanbetaler\w*|oplichter\w*|oplichting|fraudeur\w*|fraude|crimineel|criminele"
            r"|schande\w*|schaam\w*|politie|aangifte)\b"
        ),
    ),
)

_CONDITIONAL_EN = re.compile(
    r"\b(if|when|unless|once|should|only|otherwise|not\s+(in\s+time|within|by))\b"
)
_PAY_EN = r"\b(pay\w*|transfer\w*|settle\w*)\b"
_SHORT_TERM_EN = (
    r"\b(immediately|at\s+once|straight\s+away|within\s+([1-9]|1[0-3]|one|two|three|four|five"
    r"|six|seven|eight|nine|ten|eleven|twelve|thirteen)\s+(days?|working\s+days?|hours?)"
    r"|within\s+(a|one)\s+week)\b"
)

#: legal-nl §7.3 for messages in English: the same rules as :data:`FORBIDDEN_CONTENT`, worded
#: for English text. Heuristics too; Dutch rules are applied to English messages as well.
FORBIDDEN_CONTENT_EN: tuple[ContentRule, ...] = (
    ContentRule(
        "other-costs",
        "§7.3, §2.1, §4.5",
        "naast de BIK-vergoeding mogen geen andere kosten (administration/handling/reminder "
        "fees e.d.) worden gevorderd, en in de pre-incassofase worden helemaal geen kosten in "
        "rekening gebracht",
        _rx(r"\b(administration|administrative|admin|handling|reminder|processing|file|dossier"
            r"|late\s+payment)\s+(fees?|costs?|charges?)\b"),
    ),
    ContentRule(
        "costs-charged-now",
        "§7.3, §1.2",
        "in de pre-incassofase worden geen kosten in rekening gebracht; kosten mogen alleen "
        "worden aangekondigd voor het geval niet binnen de termijn wordt betaald",
        _rx(
            r"\b(costs?|fees?|charges?)\b.{0,60}?\b(now|already|hereby|immediately|from\s+today)"
            r"\b.{0,40}?\b(due|charged|added|payable)\b"
            r"|\b(we|i)\s+(will\s+|have\s+|are\s+)?(charge|charging|charged|add|added|adding)\b"
            r".{0,60}?\b(costs?|fees?|charges?)\b"
            r"|\b(including|incl\.?|plus|increased\s+by)\s+(\S+\s+){0,4}?(collection\s+)?"
            r"(costs|fees)\b"
        ),
        unless=_CONDITIONAL_EN,
    ),
    ContentRule(
        "wrong-term-wording",
        "§7.3, §1.2",
        "de termijn moet lopen vanaf de dag na ontvangst van de brief; formuleringen als "
        "'of the date of this letter', 'from today' of 'after sending' maken de "
        "veertiendagenbrief ongeldig",
        _rx(
            r"\b(of|from|after)\s+(the\s+day\s+after\s+)?(the\s+)?(today|dispatch|sending"
            r"|(the\s+)?letter\s+date|date\s+of\s+(this|the)\s+(letter|message|e-?mail))\b"
        ),
        kinds=_CONSUMERISH,
    ),
    ContentRule(
        "short-term",
        "§7.3, §1.2",
        "een consument moet ten minste veertien dagen krijgen vanaf de dag na bezorging; een "
        "kortere of tegenstrijdige betaaltermijn maakt de brief ongeldig",
        _rx(_PAY_EN + r".{0,60}?" + _SHORT_TERM_EN + r"|" + _SHORT_TERM_EN + r".{0,40}?"
            + _PAY_EN),
        kinds=_CONSUMERISH,
    ),
    ContentRule(
        "threat-beslag",
        "§7.3, §4.1, §4.5",
        "dreigen met beslag (seizure, attachment of wages) mag niet: zonder executoriale titel "
        "is die maatregel nu niet mogelijk",
        _rx(r"\b(seiz\w*|garnish\w*|repossess\w*|distrain\w*|attachment\s+of\s+(your\s+)?"
            r"(wages|earnings|salary|goods|bank\s+account))\b"),
    ),
    ContentRule(
        "threat-registration",
        "§7.3, §5",
        "dreigen met een BKR-registratie of een 'zwarte lijst' mag niet: die maatregel is niet "
        "beschikbaar",
        _rx(r"\bbkr\b|\bcredit\s+(register|registration|record|rating|reference)\b"
            r"|\bblack\s*list\w*\b"),
    ),
    ContentRule(
        "threat-bailiff-visit",
        "§7.3, §4.1",
        "een bezoek of optreden van de deurwaarder aankondigen mag niet: zonder titel kan de "
        "deurwaarder niets doen",
        _rx(
            r"\bbailiffs?\b.{0,60}?\b(visit|call\s+(on|at)|at\s+your\s+(door|home)"
            r"|come\s+(round|by|to))"
            r"|\b(visit|at\s+your\s+(door|home))\b.{0,40}?\bbailiffs?\b"
        ),
    ),
    ContentRule(
        "threat-court",
        "§7.3, §4.5",
        "een dagvaarding of rechtszaak als zeker of op handen voorstellen mag niet zolang die "
        "niet is besloten; ook 'without further notice' zet ontoelaatbaar druk",
        _rx(
            r"\byou\s+(will|shall)\s+be\s+(\w+\s+)?(summoned|sued|taken\s+to\s+court)\b"
            r"|\b(we|i)\s+(will|shall|are\s+going\s+to)\s+(\w+\s+)?(sue|summon)\s+you\b"
            r"|\b(summons|legal\s+proceedings|court\s+case|lawsuit)\s+(will\s+follow"
            r"|(has|have)\s+been\s+(issued|prepared|filed|started))\b"
            r"|\bwithout\s+(any\s+)?(further|prior)\s+(notice|warning)\b"
        ),
    ),
    ContentRule(
        "official-act",
        "§7.3, §4.1",
        "de brief mag niet lijken op een officiële akte of een stuk van rechter of deurwaarder "
        "(writ, court order, judgment)",
        _rx(
            r"\b(writ|court\s+order|enforcement\s+order|judg(e)?ment|official\s+(order|notice"
            r"|document|demand))\b"
            r"|\bon\s+behalf\s+of\s+the\s+(court|judge|state|government)\b"
        ),
    ),
    ContentRule(
        "impersonation",
        "§7.3, §4.1, §4.5",
        "de afzender mag zich niet voordoen als incassobureau, deurwaarder of advocaat (of "
        "hun naam gebruiken) zonder een werkelijke afspraak met die partij",
        _rx(
            r"\bwe\s*,?\s+(are\s+)?(as\s+)?(a|the|your)\s+(debt\s+)?(collection\s+agency"
            r"|debt\s+collectors?|bailiffs?|law\s+firm|lawyers?|solicitors?)\b"
            r"|\bon\s+behalf\s+of\s+(the|a|our)\s+(collection\s+agency|debt\s+collector"
            r"|bailiff|law\s+firm|lawyer|solicitor)\b"
        ),
        agency_exempt=True,
    ),
    ContentRule(
        "already-handed-over",
        "§7.3",
        "de brief mag niet de indruk wekken dat de vordering al uit handen is gegeven; in de "
        "pre-incassofase vraagt de schuldeiser zelf om betaling, zonder kosten",
        _rx(r"\b(has|have|was|were|is|are)\s+(\w+\s+){0,3}?(handed\s+over|transferred"
            r"|passed\s+on|referred)\b"),
        unless=_CONDITIONAL_EN,
    ),
    ContentRule(
        "third-parties",
        "§7.3, §4.4",
        "de schuld mag niet aan derden (werkgever, familie, buren) worden bekendgemaakt en "
        "contact met hen mag niet worden aangekondigd",
        _rx(r"\b(employers?|family|relatives|neighbou?rs|colleagues)\b"),
    ),
    ContentRule(
        "aggressive-language",
        "§7.3, §4.2, §4.3",
        "agressieve, dreigende, intimiderende of beschamende taal is niet toegestaan",
        _rx(r"\b(fraud\w*|scam\w*|crook|criminal|shame\w*|ashamed|police|bad\s+payer"
            r"|deadbeat)\b"),
    ),
)

_SPACES = re.compile(r"[\s\u00a0\u202f\u2007]+")
_DASHES = re.compile(r"[\u2010\u2011\u2012\u2013\u2014]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def _normalise(text: str) -> str:
    return _SPACES.sub(" ", _DASHES.sub("-", text)).strip().casefold()


def _sentences(text: str) -> list[str]:
    lines = text.replace("\r", "").split("\n")
    parts: list[str] = []
    for line in lines:
        parts.extend(_SENTENCE_END.split(_SPACES.sub(" ", _DASHES.sub("-", line)).casefold()))
    return [part.strip() for part in parts if part.strip()]


def _rules_for(lang: str) -> tuple[ContentRule, ...]:
    if lang == "nl":
        return FORBIDDEN_CONTENT
    if lang == "en":
        return FORBIDDEN_CONTENT + FORBIDDEN_CONTENT_EN
    raise InvalidChoiceError(f"language must be 'nl' or 'en', got {lang!r}")


def check_message_text(
    text: str, *, debtor_kind: str, agency_arrangement: bool = False, lang: str = "nl"
) -> list[str]:
    """Problems (in Dutch) with what a pre-incasso message says, per legal-nl §7.3.

    The rules are :data:`FORBIDDEN_CONTENT`; term rules apply to consumers (and unknown
    debtors, legal-nl §7.2) only, because a business gets no 14-day term (legal-nl §1.6).
    ``agency_arrangement`` = the sender really acts with the agency/bailiff it names
    (legal-nl §4.1), which allows naming it. Not covered by text checks: payment account,
    cost amount (see :func:`consumer_letter_requirements`), B1 language level, send time.
    ``lang="en"`` adds :data:`FORBIDDEN_CONTENT_EN` to the Dutch rules (a text in English may
    still carry Dutch phrases); the problems stay in Dutch, the language of the product.
    """
    kind = normalize_debtor_kind(debtor_kind)
    rules = _rules_for(lang)
    if not isinstance(text, str):
        raise LegalRuleError(f"text must be a str, got {type(text).__name__}")
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    for sentence in _sentences(text):
        for rule in rules:
            if kind not in rule.kinds or (rule.agency_exempt and agency_arrangement):
                continue
            if rule.unless is not None and rule.unless.search(sentence):
                continue
            for match in rule.pattern.finditer(sentence):
                fragment = match.group(0).strip()
                if (rule.code, fragment) in seen:
                    continue
                seen.add((rule.code, fragment))
                problems.append(f'"{fragment}": {rule.message} (legal-nl.md {rule.section}).')
    return problems


# ---- consumer 14-day letter checklist (legal-nl §7.1, §1.2)

_NUMBER_WORDS = {
    "veertien": 14, "vijftien": 15, "zestien": 16, "zeventien": 17, "achttien": 18,
    "negentien": 19, "twintig": 20, "eenentwintig": 21, "achtentwintig": 28, "dertig": 30,
}
_APPROVED_TERM = re.compile(
    r"\bbinnen\s+(?P<n1>\d+|[a-z]+)\s+dagen\s+vanaf\s+de\s+dag\s+nadat\s+deze\s+brief\s+bij\s+u\s+"
    r"is\s+bezorgd"
    r"|\bbinnen\s+(?P<n2>\d+|[a-z]+)\s+dagen\s+nadat\s+deze\s+brief\s+bij\s+u\s+is\s+bezorgd"
)
_MONTHS = {
    "januari": 1, "februari": 2, "maart": 3, "april": 4, "mei": 5, "juni": 6, "juli": 7,
    "augustus": 8, "september": 9, "oktober": 10, "november": 11, "december": 12,
}
_MONTHS.update({
    "jan": 1, "feb": 2, "mrt": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "okt": 10, "nov": 11, "dec": 12,
})
_DATE = (
    r"(?:(?:maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag)\s+)?"
    r"(?P<d>\d{1,2})\s+(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True))
    + r")\.?\s+(?P<y>\d{4})"
    r"|(?P<d2>\d{1,2})[-/.](?P<m2>\d{1,2})[-/.](?P<y2>\d{4})"
    r"|(?P<y3>\d{4})-(?P<m3>\d{2})-(?P<d3>\d{2})"
)
_DEADLINE = re.compile(
    r"\b(?P<kw>uiterlijk(?:\s+op)?|tot\s+en\s+met|t/m|vóór|voor|tot)\s+(?:" + _DATE + r")"
)
_PAST = re.compile(r"\b(had|hadden|was|waren|vervaldatum|vervallen|verlopen|verstreken)\b")


def _number(word: str | None) -> int:
    if word is None:
        return 0
    return _digits(word) if word.isdigit() else _NUMBER_WORDS.get(word, 0)


def _digits(word: str) -> int:
    """A number of days as written; a very long one is just "a lot" (int() of thousands of
    digits raises, and "²".isdigit() is True but is no number)."""
    if not word.isdecimal():
        return 0
    return int(word) if len(word) < 7 else 10**6


def _deadline_dates(sentence: str) -> list[tuple[date, str]]:
    """Dates stated as the payment deadline, as the last day on which paying is on time."""
    found: list[tuple[date, str]] = []
    for match in _DEADLINE.finditer(sentence):
        try:
            if match.group("d"):
                day = date(int(match.group("y")), _MONTHS[match.group("month")],
                           int(match.group("d")))
            elif match.group("d2"):
                day = date(int(match.group("y2")), int(match.group("m2")), int(match.group("d2")))
            else:
                day = date(int(match.group("y3")), int(match.group("m3")), int(match.group("d3")))
        except ValueError:
            continue
        if match.group("kw") in ("vóór", "voor", "tot"):  # exclusive: the day before counts
            day -= timedelta(days=1)
        found.append((day, match.group(0)))
    return found


def _amount_pattern(amount: Decimal) -> re.Pattern[str]:
    number = format_decimal(amount, format="#,##0.00", locale="nl_NL")
    alternatives = [re.escape(number)]
    if amount == amount.to_integral_value():
        alternatives.append(re.escape(number[:-3]) + r",-")
    body = "(?:" + "|".join(alternatives) + ")"
    return re.compile(r"(?<![\d.,])(?:€\s?" + body + r"|" + body + r"\s?(?:euro|eur)\b)(?![\d])")


def consumer_letter_requirements(
    text: str,
    *,
    bik_amount: Decimal,
    last_day: date,
    vat_increase: bool = False,
    lang: str = "nl",
    costs_due_from: date | None = None,
) -> list[str]:
    """What a consumer 14-day letter lacks (legal-nl §7.1, §1.2), in Dutch; empty = complete.

    ``bik_amount`` is the amount to be charged as stated (VAT included when ``vat_increase``),
    which must appear exactly, written the Dutch way ("€ 1.234,56", babel's non-breaking
    spaces accepted). ``last_day`` is :attr:`PaymentTerm.last_day_to_pay`: a deadline date in
    the letter earlier than it makes the letter invalid (legal-nl §1.2, §7.1 nr. 6). Use
    together with :func:`check_message_text`.

    ``lang="en"`` checks a letter in English against the same checklist (English wording of the
    term, "collection costs", the Decree named in English or Dutch; amounts written the Dutch
    or the English way). With ``costs_due_from`` the date from which the costs are due must be
    stated too (as dd-mm-yyyy or written out). Problems are always in Dutch.
    """
    if not isinstance(text, str):
        raise LegalRuleError(f"text must be a str, got {type(text).__name__}")
    bik_amount = _money(bik_amount, "bik_amount")
    if bik_amount != bik_amount.quantize(CENT):
        raise InvalidAmountError(f"bik_amount must be in whole cents, got {bik_amount}")
    last_day = _plain_date(last_day, "last_day")
    if lang not in ("nl", "en"):
        raise InvalidChoiceError(f"language must be 'nl' or 'en', got {lang!r}")
    problems = (_requirements_en if lang == "en" else _requirements_nl)(
        text, bik_amount, last_day, vat_increase)
    if costs_due_from is not None and not _mentions_date(text, costs_due_from):
        problems.append(
            f"De datum vanaf wanneer de incassokosten verschuldigd zijn ({costs_due_from:%d-%m-%Y})"
            " ontbreekt (legal-nl.md §1.3, §7.1 nr. 7)."
        )
    return problems


def _mentions_date(text: str, day: date) -> bool:
    normal = _normalise(text)
    written = {day.strftime("%d-%m-%Y"), f"{day.day}-{day.month}-{day.year}", day.isoformat()}
    written |= {format_date(day, "d MMMM y", locale=loc).casefold()
                for loc in ("nl_NL", "en_GB")}
    return any(w in normal for w in written)


def _requirements_nl(
    text: str, bik_amount: Decimal, last_day: date, vat_increase: bool
) -> list[str]:
    normal = _normalise(text)
    problems: list[str] = []

    if not _amount_pattern(bik_amount).search(normal):
        problems.append(
            f"Het exacte bedrag aan incassokosten ({format_euro(bik_amount)}) ontbreekt "
            "(legal-nl.md §1.2 nr. 3, §7.1 nr. 8)."
        )
    if "incassokosten" not in normal:
        problems.append(
            "Er staat niet dat er (buitengerechtelijke) incassokosten verschuldigd worden als "
            "niet op tijd wordt betaald (legal-nl.md §1.2 nr. 3, §7.1 nr. 7-8)."
        )
    if "besluit vergoeding voor buitengerechtelijke incassokosten" not in normal:
        problems.append(
            "Vermeld dat de kosten zijn berekend volgens het Besluit vergoeding voor "
            "buitengerechtelijke incassokosten (legal-nl.md §7.1 nr. 8, §1.2 nr. 4)."
        )
    approved = [
        match for match in _APPROVED_TERM.finditer(normal)
        if _number(match.group("n1")) >= 14 or _number(match.group("n2")) >= 15
    ]
    if not approved:
        problems.append(
            'De termijn ontbreekt in de goedgekeurde bewoording, bijvoorbeeld "binnen veertien '
            'dagen vanaf de dag nadat deze brief bij u is bezorgd" (legal-nl.md §1.2 nr. 2, '
            "§7.1 nr. 6)."
        )
    for sentence in _sentences(text):
        if _PAST.search(sentence) or not re.search(_PAY, sentence):
            continue
        for day, fragment in _deadline_dates(sentence):
            if day < last_day:
                problems.append(
                    f'De datum in "{fragment}" is te vroeg: betalen moet mogen tot en met '
                    f"{format_long_date(last_day)} (legal-nl.md §1.2, §1.3, §7.1 nr. 6)."
                )
    if not re.search(r"\b(incassobureau|incassobedrijf|deurwaarder\w*|uit\s+handen|"
                     r"over\s+voor\s+incasso|overdragen|overgedragen)\b", normal):
        problems.append(
            "Er staat niet wat er gebeurt als niet wordt betaald (overdracht aan een "
            "incassobureau of deurwaarder) (legal-nl.md §1.2 nr. 3, §7.1 nr. 7)."
        )
    if "factuur" not in normal and "facturen" not in normal:
        problems.append(
            "De factuur of facturen (nummer, datum, vervaldatum) worden niet genoemd "
            "(legal-nl.md §7.1 nr. 4-5)."
        )
    mentions_vat = re.search(r"\bbtw\b|\bomzetbelasting\b", normal) is not None
    if vat_increase:
        declared = re.search(
            r"\b(niet|geen)\b.{0,60}?\b(aftrekken|aftrekbaar|verrekenen|terugvragen|"
            r"terugvorderen|btw-plichtig)", normal
        )
        if not (mentions_vat and declared):
            problems.append(
                "De kosten zijn verhoogd met btw, maar de verklaring ontbreekt dat de schuldeiser "
                "de btw niet kan aftrekken (BIK art. 2 lid 3; legal-nl.md §2.2, §7.1 nr. 9)."
            )
    elif mentions_vat and re.search(r"incassokosten[^.]{0,80}\bbtw\b|\bbtw\b[^.]{0,80}"
                                    r"incassokosten", normal):
        problems.append(
            "Btw op de incassokosten mag alleen met de verklaring dat de schuldeiser de btw niet "
            "kan aftrekken (legal-nl.md §2.2, §7.3); zet vat_increase als dat zo is."
        )
    return problems


_APPROVED_TERM_EN = re.compile(
    r"\bwithin\s+(?P<n1>\d+|[a-z]+)\s+days\s+from\s+the\s+day\s+after\s+(this|the)\s+letter\s+"
    r"(has\s+been|was|is)\s+delivered\s+to\s+you"
    r"|\bwithin\s+(?P<n2>\d+|[a-z]+)\s+days\s+(after|of)\s+(this|the)\s+letter\s+"
    r"(has\s+been|was|is)\s+delivered\s+to\s+you"
)
_NUMBER_WORDS_EN = {
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "twenty-one": 21, "twenty-eight": 28, "thirty": 30,
}
_MONTHS_EN = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
}
_DEADLINE_EN = re.compile(
    r"\b(?P<kw>no\s+later\s+than|at\s+the\s+latest\s+on|by|until|before|on\s+or\s+before)\s+"
    r"(?:(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday),?\s+)?"
    r"(?:(?P<d>\d{1,2})\s+(?P<month>" + "|".join(_MONTHS_EN) + r")\s+(?P<y>\d{4})"
    r"|(?P<d2>\d{1,2})[-/.](?P<m2>\d{1,2})[-/.](?P<y2>\d{4}))"
)
_PAST_EN = re.compile(r"\b(was|were|had|expired|fell\s+due|overdue)\b")


def _number_en(word: str | None) -> int:
    if word is None:
        return 0
    return _digits(word) if word.isdigit() else _NUMBER_WORDS_EN.get(word, 0)


def _english_amount(amount: Decimal) -> re.Pattern[str]:
    number = format_decimal(amount, format="#,##0.00", locale="en_GB")
    return re.compile(r"(?<![\d.,])(?:€\s?|eur\s?)" + re.escape(number) + r"(?![\d])")


def _requirements_en(
    text: str, bik_amount: Decimal, last_day: date, vat_increase: bool
) -> list[str]:
    """The checklist of :func:`_requirements_nl` for a consumer letter written in English."""
    normal = _normalise(text)
    problems: list[str] = []
    if not (_amount_pattern(bik_amount).search(normal)
            or _english_amount(bik_amount).search(normal)):
        problems.append(
            f"Het exacte bedrag aan incassokosten ({format_euro(bik_amount)}) ontbreekt "
            "(legal-nl.md §1.2 nr. 3, §7.1 nr. 8)."
        )
    if "collection costs" not in normal:
        problems.append(
            "Er staat niet dat er (buitengerechtelijke) incassokosten ('collection costs') "
            "verschuldigd worden als niet op tijd wordt betaald (legal-nl.md §1.2 nr. 3, "
            "§7.1 nr. 7-8)."
        )
    if ("besluit vergoeding voor buitengerechtelijke incassokosten" not in normal
            and "decree on extrajudicial collection costs" not in normal):
        problems.append(
            "Vermeld dat de kosten zijn berekend volgens het Besluit vergoeding voor "
            "buitengerechtelijke incassokosten ('Decree on extrajudicial collection costs') "
            "(legal-nl.md §7.1 nr. 8, §1.2 nr. 4)."
        )
    approved = [
        match for match in _APPROVED_TERM_EN.finditer(normal)
        if _number_en(match.group("n1")) >= 14 or _number_en(match.group("n2")) >= 15
    ]
    if not approved:
        problems.append(
            'De termijn ontbreekt in de goedgekeurde bewoording, in het Engels "within '
            'fourteen days from the day after this letter has been delivered to you" '
            "(legal-nl.md §1.2 nr. 2, §7.1 nr. 6)."
        )
    for sentence in _sentences(text):
        if _PAST_EN.search(sentence) or not re.search(_PAY_EN, sentence):
            continue
        for match in _DEADLINE_EN.finditer(sentence):
            try:
                if match.group("d"):
                    day = date(int(match.group("y")), _MONTHS_EN[match.group("month")],
                               int(match.group("d")))
                else:
                    day = date(int(match.group("y2")), int(match.group("m2")),
                               int(match.group("d2")))
            except ValueError:
                continue
            if match.group("kw") == "before":
                day -= timedelta(days=1)
            if day < last_day:
                problems.append(
                    f'De datum in "{match.group(0)}" is te vroeg: betalen moet mogen tot en met '
                    f"{format_long_date(last_day)} (legal-nl.md §1.2, §1.3, §7.1 nr. 6)."
                )
    if not re.search(r"\b(collection\s+agency|debt\s+collect\w*|bailiff\w*|hand\w*\s+(\S+\s+)"
                     r"{0,3}?over|transfer\w*\s+(\S+\s+){0,3}?to)\b", normal):
        problems.append(
            "Er staat niet wat er gebeurt als niet wordt betaald (overdracht aan een "
            "incassobureau of deurwaarder) (legal-nl.md §1.2 nr. 3, §7.1 nr. 7)."
        )
    if "invoice" not in normal:
        problems.append(
            "De factuur of facturen (nummer, datum, vervaldatum) worden niet genoemd "
            "(legal-nl.md §7.1 nr. 4-5)."
        )
    mentions_vat = re.search(r"\bvat\b|\bbtw\b", normal) is not None
    if vat_increase:
        declared = re.search(
            r"\b(not|cannot|can't|unable)\b.{0,60}?\b(deduct\w*|reclaim\w*|recover\w*)", normal
        )
        if not (mentions_vat and declared):
            problems.append(
                "De kosten zijn verhoogd met btw, maar de verklaring ontbreekt dat de schuldeiser "
                "de btw niet kan aftrekken (BIK art. 2 lid 3; legal-nl.md §2.2, §7.1 nr. 9)."
            )
    elif mentions_vat and re.search(r"collection\s+costs[^.]{0,80}\bvat\b|\bvat\b[^.]{0,80}"
                                    r"collection\s+costs", normal):
        problems.append(
            "Btw op de incassokosten mag alleen met de verklaring dat de schuldeiser de btw niet "
            "kan aftrekken (legal-nl.md §2.2, §7.3); zet vat_increase als dat zo is."
        )
    return problems
