"""Sending paced to the tenant's API budget: how much a send costs, whether it fits now,
and the plan the company page shows.

A send is only worth starting when the budget can also re-check its invoices just before it
goes out and write its notes and pauses back afterwards; otherwise the ledger falls behind
the debtor's inbox and payments are seen late. So the engine sends, per window, what fits in
the sending lane (see :mod:`connector.budgets`) after the writes already waiting in the outbox,
and a go-live backlog is spread over the following windows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connector.budgets import DbRateBudget, Lane
from connector.models import Company, Delivery, DeliveryCase, LedgerWrite, LedgerWriteState, utcnow
from connector.services import Services
from providers.base import RateLimitedProvider
from providers.registry import UnknownProvider


def shared_budgets_of(services: Services, provider_key: str) -> list[Any]:
    """The database-shared budgets a platform's calls go through (none: nothing to pace)."""
    try:
        provider = services.providers.get(provider_key)
    except UnknownProvider:
        return []
    if not isinstance(provider, RateLimitedProvider):
        return []
    return [b for b in provider.rate_budgets() if isinstance(b, DbRateBudget)]


def send_cost(invoices: int, *, first_step: bool, channel: str) -> int:
    """API calls one delivery costs: a re-read per invoice, a note per invoice, the pause of
    the ledger's own reminders on a first step, and the invoice PDF for a stamp."""
    cost = invoices * 2
    if first_step:
        cost += invoices
    if channel == "stamp":
        cost += invoices
    return cost


@dataclass
class Pacer:
    """Says whether the next send fits in this window of one tenant's budget."""

    services: Services
    company_id: str
    tenant_id: str
    budgets: list[Any]
    next_round: datetime | None = None

    @classmethod
    def for_company(cls, services: Services, session: Session, company_id: str) -> Pacer | None:
        company = session.get(Company, company_id)
        connection = company.connection if company is not None else None
        if connection is None:
            return None
        budgets = shared_budgets_of(services, connection.provider)
        if not budgets:
            return None
        return cls(services, company_id, connection.tenant_id, budgets)

    def room(self) -> int:
        """Calls the sending lane may still make now, after the writes waiting in the outbox."""
        room = min(b.room(self.tenant_id, Lane.SEND) for b in self.budgets)
        return room - waiting_writes(self.services, self.company_id)

    def allows(self, cost: int) -> bool:
        per_window = min(b.per_window(Lane.SEND)[0] for b in self.budgets)
        need = min(cost, per_window)
        if self.room() >= need:
            return True
        waiting = min(waiting_writes(self.services, self.company_id), per_window - need)
        self.next_round = next_round(self.budgets, self.tenant_id, need + waiting)
        return False


def waiting_writes(services: Services, company_id: str) -> int:
    with services.db.session() as session:
        return session.scalar(
            select(func.count()).select_from(LedgerWrite).where(
                LedgerWrite.company_id == company_id,
                LedgerWrite.state.in_([LedgerWriteState.PENDING.value,
                                       LedgerWriteState.SENDING.value]),
                LedgerWrite.next_attempt_at <= utcnow() + timedelta(minutes=1),
            )) or 0


def next_round(budgets: list[Any], tenant_id: str, need: int = 1) -> datetime:
    """When the sending lane of this tenant has room for ``need`` calls again."""
    return max(b.next_room_at(tenant_id, Lane.SEND, need) for b in budgets)


@dataclass(frozen=True)
class BacklogPlan:
    """What the company page says about sends waiting for the budget."""

    deliveries: int
    calls: int
    minutes: int  # to send them all at the sending lane's pace; 0: all in this window
    next_round: datetime | None  # set when the sending lane has no room now


def backlog_plan(services: Services, session: Session, company_id: str,
                 due_ids: list[str]) -> BacklogPlan | None:
    """The sends due now, the API calls they cost and how long the budget needs for them."""
    pacer = Pacer.for_company(services, session, company_id)
    if pacer is None or not due_ids:
        return None
    calls = 0
    for start in range(0, len(due_ids), 500):
        rows = session.execute(
            select(Delivery.channel, Delivery.step, func.count(DeliveryCase.case_id))
            .join(DeliveryCase, DeliveryCase.delivery_id == Delivery.id)
            .where(Delivery.id.in_(due_ids[start:start + 500]))
            .group_by(Delivery.id, Delivery.channel, Delivery.step)).all()
        calls += sum(send_cost(n, first_step=step == 0, channel=channel)
                     for channel, step, n in rows)
    seconds = 0.0
    for budget in pacer.budgets:
        per_window, window = budget.per_window(Lane.SEND)
        # The first window is now; each further one adds a window to the plan.
        windows = math.ceil(calls / max(per_window, 1))
        seconds = max(seconds, (windows - 1) * window.total_seconds())
    first = min(calls, 4)  # about one send
    waiting = None if pacer.allows(first) else pacer.next_round
    return BacklogPlan(len(due_ids), calls, math.ceil(seconds / 60), waiting)
