"""Pure dashboard figures: age buckets, what pre-incasso recovered, stages, payment times.

No database here: :mod:`connector.reports.loading` turns the event log and the mirror into the
records below, so each figure can be checked against a scenario with a known outcome. Money is
Decimal throughout; percentages are Decimal rounded to one decimal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal("0")
ONE_DECIMAL = Decimal("0.1")
# Upper bounds (days overdue, inclusive) of the age buckets; the last bucket is open-ended.
AGE_LIMITS: tuple[tuple[str, int | None], ...] = (
    ("not_due", 0), ("1-30", 30), ("31-60", 60), ("61-90", 90), ("90+", None))
DEFAULT_WITHIN_DAYS = 14


def percent(part: Decimal, whole: Decimal) -> Decimal | None:
    """``part`` as a percentage of ``whole`` (one decimal), None when there is no whole."""
    if not whole:
        return None
    return (part * 100 / whole).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


# -- outstanding and overdue by age -----------------------------------------------------------


@dataclass(frozen=True)
class OpenItem:
    """One open invoice: what is still owed and when it was due."""

    amount: Decimal
    due_date: date | None


@dataclass
class AgeBucket:
    key: str
    count: int = 0
    amount: Decimal = ZERO


@dataclass(frozen=True)
class Ageing:
    buckets: tuple[AgeBucket, ...]

    @property
    def outstanding(self) -> Decimal:
        return sum((b.amount for b in self.buckets), ZERO)

    @property
    def overdue(self) -> Decimal:
        return sum((b.amount for b in self.buckets if b.key != "not_due"), ZERO)

    @property
    def overdue_count(self) -> int:
        return sum(b.count for b in self.buckets if b.key != "not_due")


def ageing(items: Iterable[OpenItem], today: date) -> Ageing:
    """Open amounts per age bucket (days past the due date; not yet due counts as 0)."""
    buckets = [AgeBucket(key) for key, _limit in AGE_LIMITS]
    for item in items:
        if item.amount <= 0:
            continue
        days = max((today - item.due_date).days, 0) if item.due_date else 0
        for bucket, (_key, limit) in zip(buckets, AGE_LIMITS, strict=True):
            if limit is None or days <= limit:
                bucket.count += 1
                bucket.amount += item.amount
                break
    return Ageing(tuple(buckets))


# -- what pre-incasso recovered ---------------------------------------------------------------


@dataclass(frozen=True)
class SentStep:
    """A step that went out for a case (from a ``step.sent`` event)."""

    step: int
    name: str
    channel: str
    sent_on: date


@dataclass(frozen=True)
class CaseHistory:
    """One case: the amount chased, the steps sent, and the day it was paid (if it was)."""

    case_id: str
    amount: Decimal
    steps: tuple[SentStep, ...] = ()
    paid_on: date | None = None


@dataclass
class StepRecovery:
    """Cases paid after this step (the last one before the payment)."""

    step: int
    name: str
    channel: str
    cases: int = 0
    amount: Decimal = ZERO
    within_cases: int = 0  # paid within ``Recovery.within_days`` after the step
    within_amount: Decimal = ZERO


@dataclass(frozen=True)
class Recovery:
    within_days: int
    chased_cases: int
    chased_amount: Decimal
    paid_cases: int
    paid_amount: Decimal
    by_step: tuple[StepRecovery, ...] = field(default_factory=tuple)

    @property
    def paid_percent(self) -> Decimal | None:
        return percent(self.paid_amount, self.chased_amount)


def recovery(histories: Iterable[CaseHistory],
             within_days: int = DEFAULT_WITHIN_DAYS) -> Recovery:
    """What pre-incasso brought in: cases paid after at least one step went out.

    A case counts as chased once a step went out; it counts as recovered when it was paid on
    or after that step, and is attributed to the last step sent before the payment. A case
    paid before any step reached the debtor is not pre-incasso's doing and is left out.
    """
    chased_cases, chased_amount, paid_cases, paid_amount = 0, ZERO, 0, ZERO
    groups: dict[tuple[str, str], StepRecovery] = {}
    for history in histories:
        cutoff = history.paid_on
        before = [s for s in history.steps if cutoff is None or s.sent_on <= cutoff]
        if not before:
            continue
        chased_cases += 1
        chased_amount += history.amount
        if history.paid_on is None:
            continue
        last = max(before, key=lambda s: (s.sent_on, s.step))
        paid_cases += 1
        paid_amount += history.amount
        group = groups.setdefault((last.name, last.channel),
                                  StepRecovery(last.step, last.name, last.channel))
        group.step = min(group.step, last.step)
        group.cases += 1
        group.amount += history.amount
        if (history.paid_on - last.sent_on).days <= within_days:
            group.within_cases += 1
            group.within_amount += history.amount
    ordered = tuple(sorted(groups.values(), key=lambda g: (g.step, g.name)))
    return Recovery(within_days, chased_cases, chased_amount, paid_cases, paid_amount, ordered)


# -- running cases by stage -------------------------------------------------------------------


@dataclass(frozen=True)
class RunningCase:
    state: str  # CaseState value
    next_step_name: str | None  # the step it waits for (active cases)
    next_step: int
    amount: Decimal


@dataclass
class Stage:
    key: str  # "step", "on_hold", "ready_for_handover"
    name: str  # the step's name for "step", else empty
    order: int
    count: int = 0
    amount: Decimal = ZERO


def stages(cases: Iterable[RunningCase]) -> list[Stage]:
    """Open cases grouped by what they wait for: the next step, a hold, or the hand-over."""
    found: dict[tuple[str, str], Stage] = {}
    for case in cases:
        if case.state == "active":
            key, name, order = "step", case.next_step_name or "", case.next_step
        elif case.state in ("on_hold", "ready_for_handover"):
            key, name, order = case.state, "", 1000 if case.state == "on_hold" else 1001
        else:
            continue
        stage = found.setdefault((key, name), Stage(key, name, order))
        stage.order = min(stage.order, order)
        stage.count += 1
        stage.amount += case.amount
    return sorted(found.values(), key=lambda s: (s.order, s.name))


# -- payment time before and after going live ------------------------------------------------


@dataclass(frozen=True)
class PaidInvoice:
    invoice_date: date | None
    due_date: date | None
    paid_on: date
    amount: Decimal


@dataclass(frozen=True)
class PaymentTime:
    """Average days from invoice date to payment, weighted by amount (a DSO per period)."""

    count: int
    days: Decimal | None


@dataclass(frozen=True)
class PaymentTimes:
    live_since: date | None
    before: PaymentTime
    after: PaymentTime


def payment_time(invoices: list[PaidInvoice]) -> PaymentTime:
    """The amount-weighted average of days from invoice date (else due date) to payment."""
    weighted, weight = ZERO, ZERO
    for invoice in invoices:
        start = invoice.invoice_date or invoice.due_date
        if start is None:
            continue
        weight += invoice.amount
        weighted += invoice.amount * max((invoice.paid_on - start).days, 0)
    days = (weighted / weight).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP) if weight else None
    return PaymentTime(len(invoices), days)


def split_by_live(invoices: Iterable[PaidInvoice],
                  live_since: date | None) -> tuple[list[PaidInvoice], list[PaidInvoice]]:
    """Paid invoices paid before going live, and those paid on or after that day."""
    before: list[PaidInvoice] = []
    after: list[PaidInvoice] = []
    for invoice in invoices:
        if invoice.amount <= 0:
            continue
        (after if live_since and invoice.paid_on >= live_since else before).append(invoice)
    return before, after


def payment_times(invoices: Iterable[PaidInvoice], live_since: date | None) -> PaymentTimes:
    """Days sales outstanding of paid invoices, paid before vs. on or after going live."""
    before, after = split_by_live(invoices, live_since)
    return PaymentTimes(live_since, payment_time(before), payment_time(after))


# -- costs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Costs:
    month: str
    count: int
    amount: Decimal


def costs(month: str, amounts: Iterable[Decimal]) -> Costs:
    values = list(amounts)
    return Costs(month, len(values), sum(values, ZERO))
