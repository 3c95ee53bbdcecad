"""What going live will send and cost, computed from the real plan before anything goes out.

The summary reads like "311 dossiers · vandaag 156 herinneringen · vanaf 4 december tot ca.
150 Profitletters × € 14,95 ≈ € 2.240 excl. btw". It projects each running case through the
policy the way the engine plans (a step is due its delay after the previous one, never before
today; one message per debtor, channel and day), ignoring contact windows and holidays, and
assuming nobody pays: the costs are an upper bound, hence "tot ca.".

The creditor can first limit the backlog: only invoices overdue less than N days, and without
some debtors. :func:`backlog_limits_apply` says which cases those limits leave out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from connector.collection.policy import Policy

ZERO = Decimal("0")


@dataclass(frozen=True)
class PlannedCase:
    """A running case as the engine sees it when planning its next step."""

    case_id: str
    debtor_id: str
    variant: str
    next_step: int
    opened_on: date
    last_step_on: date | None
    due_date: date | None  # the invoice's
    amount: Decimal


@dataclass(frozen=True)
class BacklogLimits:
    """Only invoices overdue less than ``max_days_overdue`` days (None: all), and never these
    debtors."""

    max_days_overdue: int | None = None
    excluded_debtors: frozenset[str] = frozenset()


@dataclass
class StepForecast:
    """One step of the policy over all cases: how many messages, from when, at what fee."""

    step: int
    name: str
    channel: str
    fee: Decimal
    messages: int = 0
    cases: int = 0
    first_day: date | None = None

    @property
    def cost(self) -> Decimal:
        return self.fee * self.messages


@dataclass(frozen=True)
class GoLiveSummary:
    today: date
    cases: int
    amount: Decimal
    left_out: int  # by the backlog limits
    today_messages: int
    steps: tuple[StepForecast, ...] = field(default_factory=tuple)

    @property
    def paid_steps(self) -> tuple[StepForecast, ...]:
        return tuple(step for step in self.steps if step.fee > 0 and step.messages)

    @property
    def max_cost(self) -> Decimal:
        return sum((step.cost for step in self.steps), ZERO)


def left_out(case: PlannedCase, limits: BacklogLimits, today: date) -> bool:
    """Whether the backlog limits keep this case out of pre-incasso."""
    if case.debtor_id in limits.excluded_debtors:
        return True
    if limits.max_days_overdue is not None and case.due_date is not None:
        return (today - case.due_date).days >= limits.max_days_overdue
    return False


def _schedule(case: PlannedCase, policy: Policy, today: date) -> list[tuple[int, date]]:
    """(step index, projected day) for the case's remaining message steps."""
    steps = policy.steps(case.variant)
    last, days = case.last_step_on, []
    for index in range(case.next_step, len(steps)):
        step = steps[index]
        if step.channel == "handover":
            break
        base = case.opened_on if step.after == "start" or last is None else last
        due = max(base + timedelta(days=step.delay_days), today, last or today)
        days.append((index, due))
        last = due
    return days


def summarise(cases: Iterable[PlannedCase], policy: Policy, today: date,
              limits: BacklogLimits = BacklogLimits()) -> GoLiveSummary:
    kept, dropped = [], 0
    for case in cases:
        if left_out(case, limits, today):
            dropped += 1
        else:
            kept.append(case)
    forecasts: dict[tuple[str, int], StepForecast] = {}
    messages: dict[tuple[str, int], set[tuple[str, date]]] = {}
    today_messages: set[tuple[str, str, str, date]] = set()
    schedules: dict[tuple, list[tuple[int, date]]] = {}  # many cases share one schedule
    for case in kept:
        steps = policy.steps(case.variant)
        key = (case.variant, case.next_step, case.opened_on, case.last_step_on)
        if key not in schedules:
            schedules[key] = _schedule(case, policy, today)
        for index, day in schedules[key]:
            step = steps[index]
            key = (step.name, index)
            forecast = forecasts.setdefault(
                key, StepForecast(index, step.name, step.channel, step.fee))
            forecast.cases += 1
            forecast.first_day = min(forecast.first_day or day, day)
            # one message per debtor, channel, text and day: several invoices, one letter
            messages.setdefault(key, set()).add((case.debtor_id, day))
            if day == today:
                today_messages.add((case.debtor_id, step.channel, step.template, day))
    for key, forecast in forecasts.items():
        forecast.messages = len(messages[key])
    ordered = tuple(sorted(forecasts.values(), key=lambda f: (f.step, f.name)))
    return GoLiveSummary(today, len(kept), sum((c.amount for c in kept), ZERO), dropped,
                         len(today_messages), ordered)
