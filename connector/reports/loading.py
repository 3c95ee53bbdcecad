"""Reads the dashboard's records from the event log and the mirror, for one or many companies.

What went out comes from ``step.sent`` events (the append-only log, with the delivery they name);
what was paid from ``invoice.paid`` events and the mirror's payment date; open amounts from the
mirror. The figures themselves are computed in :mod:`connector.reports.figures`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.clock import AMSTERDAM
from connector.collection import prescription
from connector.collection.cases import policy_for
from connector.collection.policy import PolicyError
from connector.models import (
    Case,
    Connection,
    Debtor,
    Delivery,
    DeliveryCase,
    Event,
    Invoice,
    UsageLine,
)
from connector.reports import figures, golive
from providers.base import InvoiceStatus

LIVE_MESSAGE = "Pre-incasso staat live"


def local_day(moment: datetime) -> date:
    return moment.astimezone(AMSTERDAM).date()


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard shows, for one company or summed over several."""

    today: date
    ageing: figures.Ageing
    recovery: figures.Recovery
    stages: list[figures.Stage]
    costs: figures.Costs
    payment_times: figures.PaymentTimes
    connected_since: date | None


def open_items(db: Session, company_ids: Sequence[str]) -> list[figures.OpenItem]:
    rows = db.execute(select(Invoice.open_amount, Invoice.due_date).where(
        Invoice.company_id.in_(company_ids), Invoice.status == InvoiceStatus.OPEN.value))
    return [figures.OpenItem(amount, due) for amount, due in rows]


def case_histories(db: Session, company_ids: Sequence[str]) -> list[figures.CaseHistory]:
    """Per case that had a step sent: the steps (from the log) and its payment day."""
    sent = db.execute(
        select(Event.at, DeliveryCase.case_id, DeliveryCase.amount, Case.principal,
               Delivery.step, Delivery.step_name, Delivery.channel)
        .join(Delivery, Delivery.id == Event.subject_id)
        .join(DeliveryCase, DeliveryCase.delivery_id == Delivery.id)
        .join(Case, Case.id == DeliveryCase.case_id)
        .where(Event.company_id.in_(company_ids), Event.kind == "step.sent",
               Event.subject_type == "delivery")
        .order_by(Event.at)
    ).all()
    steps: dict[str, list[figures.SentStep]] = defaultdict(list)
    first_amount: dict[str, Decimal] = {}
    for at, case_id, amount, principal, step, name, channel in sent:
        steps[case_id].append(figures.SentStep(step, name, channel, local_day(at)))
        # the amount the first step asked for; later partial payments do not shrink it
        first_amount.setdefault(case_id, amount if amount is not None else principal)
    if not steps:
        return []
    paid: dict[str, date] = {}
    for at, paid_on, case_id in db.execute(
        select(Event.at, Invoice.paid_on, Case.id)
        .join(Invoice, Invoice.id == Event.subject_id)
        .join(Case, Case.invoice_id == Invoice.id)
        .where(Event.company_id.in_(company_ids), Event.kind == "invoice.paid",
               Event.subject_type == "invoice", Invoice.status == InvoiceStatus.PAID.value)
        .order_by(Event.at)
    ):
        paid[case_id] = paid_on or local_day(at)
    return [
        figures.CaseHistory(case_id, first_amount[case_id], tuple(case_steps), paid.get(case_id))
        for case_id, case_steps in steps.items()
    ]


def running_cases(db: Session, company_ids: Sequence[str]) -> list[figures.RunningCase]:
    rows = db.execute(select(Case.company_id, Case.state, Case.variant, Case.next_step,
                             Case.principal).where(
        Case.company_id.in_(company_ids),
        Case.state.in_(["active", "on_hold", "ready_for_handover"])))
    policies: dict[str, object] = {}
    result = []
    for company_id, state, variant, next_step, principal in rows:
        if company_id not in policies:
            try:
                policies[company_id] = policy_for(db, company_id)
            except PolicyError:
                policies[company_id] = None
        policy = policies[company_id]
        steps = policy.steps(variant) if policy is not None else ()
        name = steps[next_step].name if next_step < len(steps) else None
        result.append(figures.RunningCase(state, name, next_step, principal))
    return result


def live_since(db: Session, company_id: str) -> date | None:
    """The first day pre-incasso went live (from the event log), None if it never did."""
    for at, message, data in db.execute(
        select(Event.at, Event.message, Event.data).where(
            Event.company_id == company_id, Event.kind == "collection.mode").order_by(Event.at)
    ):
        if (data or {}).get("live") is True or message.startswith(LIVE_MESSAGE):
            return local_day(at)
    return None


def paid_invoices(db: Session, company_id: str) -> list[figures.PaidInvoice]:
    rows = db.execute(select(Invoice.invoice_date, Invoice.due_date, Invoice.paid_on,
                             Invoice.total).where(
        Invoice.company_id == company_id, Invoice.status == InvoiceStatus.PAID.value,
        Invoice.paid_on.is_not(None)))
    return [figures.PaidInvoice(*row) for row in rows]


def month_costs(db: Session, company_ids: Sequence[str], month: str) -> figures.Costs:
    amounts = db.scalars(select(UsageLine.amount).where(
        UsageLine.company_id.in_(company_ids), UsageLine.month == month))
    return figures.costs(month, amounts)


def connected_since(db: Session, company_ids: Sequence[str]) -> date | None:
    first = db.scalar(select(Connection.connected_at).where(
        Connection.company_id.in_(company_ids)).order_by(Connection.connected_at).limit(1))
    return local_day(first) if first else None


def dashboard(db: Session, company_ids: Sequence[str], today: date,
              within_days: int = figures.DEFAULT_WITHIN_DAYS) -> Dashboard:
    """The dashboard's figures for these companies (one on a company's page, all on the
    console)."""
    ids = list(company_ids)
    before: list[figures.PaidInvoice] = []
    after: list[figures.PaidInvoice] = []
    since = None
    for company_id in ids:
        company_since = live_since(db, company_id)
        early, late = figures.split_by_live(paid_invoices(db, company_id), company_since)
        before += early
        after += late
        since = company_since if len(ids) == 1 else None
    times = figures.PaymentTimes(since, figures.payment_time(before), figures.payment_time(after))
    return Dashboard(
        today=today,
        ageing=figures.ageing(open_items(db, ids), today),
        recovery=figures.recovery(case_histories(db, ids), within_days),
        stages=figures.stages(running_cases(db, ids)),
        costs=month_costs(db, ids, today.strftime("%Y-%m")),
        payment_times=times,
        connected_since=connected_since(db, ids),
    )


def planned_cases(db: Session, company_id: str) -> list[golive.PlannedCase]:
    """The running cases the engine would plan steps for (active ones), with their invoice's
    due date, for the go-live summary."""
    rows = db.execute(
        select(Case.id, Case.debtor_id, Case.variant, Case.next_step, Case.opened_on,
               Case.last_step_on, Invoice.due_date, Case.principal)
        .join(Invoice, Invoice.id == Case.invoice_id)
        .where(Case.company_id == company_id, Case.state == "active"))
    return [golive.PlannedCase(*row) for row in rows]


@dataclass(frozen=True)
class BarredInvoice:
    invoice: Invoice
    debtor_name: str
    debtor_kind: str
    barred: prescription.TimeBarred


def time_barred_invoices(db: Session, company_id: str, today: date) -> list[BarredInvoice]:
    """Open invoices whose claim is (probably) time-barred: listed for review, never chased."""
    latest = max(prescription.oldest_chaseable_due_date(kind, today)
                 for kind in ("consumer", "business"))
    rows = db.execute(
        select(Invoice, Debtor.name, Debtor.kind)
        .join(Debtor, Debtor.id == Invoice.debtor_id)
        .where(Invoice.company_id == company_id, Invoice.status == InvoiceStatus.OPEN.value,
               Invoice.open_amount > 0, Invoice.due_date < latest)
        .order_by(Invoice.due_date))
    found = []
    for invoice, name, kind in rows:
        barred = prescription.time_barred(invoice.due_date, kind, today)
        if barred is not None:
            found.append(BarredInvoice(invoice, name, kind, barred))
    return found
