"""Planning: give every active case a planned delivery for its next step, and the
bookkeeping around it (hand-over due, sends lost in a crash). No API calls, no messages.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from connector import events, writeback
from connector.clock import AMSTERDAM
from connector.collection.policy import Policy, Step
from connector.formatting import money, short_day
from connector.models import (
    Case,
    CaseState,
    Delivery,
    DeliveryCase,
    DeliveryState,
    Event,
    new_id,
)

SENDING_LEASE = timedelta(minutes=10)


def local_today(now: datetime) -> date:
    return now.astimezone(AMSTERDAM).date()


def _step_due(case: Case, step: Step) -> date:
    base = (
        case.opened_on if step.after == "start" or case.last_step_on is None else case.last_step_on
    )
    return base + timedelta(days=step.delay_days)


def plan(session: Session, company_id: str, today: date, policy: Policy) -> int:
    """Give every active case a planned delivery for its next step (grouped per debtor/day).

    Written in bulk (one INSERT per table, ids made here), so 100,000 cases plan in seconds.
    """
    waiting = session.execute(
        select(Case.id, Case.debtor_id, Case.variant, Case.next_step, Case.opened_on,
               Case.last_step_on, Case.principal)
        .where(Case.company_id == company_id, Case.state == CaseState.ACTIVE.value)
    ).all()
    linked = set(
        session.scalars(
            select(DeliveryCase.case_id)
            .join(Delivery)
            .where(
                Delivery.company_id == company_id,
                Delivery.state.in_(
                    [
                        DeliveryState.PLANNED.value,
                        DeliveryState.SENDING.value,
                        DeliveryState.AMBIGUOUS.value,
                        DeliveryState.CALLING.value,
                        # a failed step waits for an operator (retry or skip), not for a
                        # replan that would fail again every run
                        DeliveryState.FAILED.value,
                    ]
                ),
            )
        )
    )
    open_deliveries = {
        (row.debtor_id, row.channel, row.template, row.due_on): row.id
        for row in session.execute(
            select(Delivery.id, Delivery.debtor_id, Delivery.channel, Delivery.template,
                   Delivery.due_on)
            .where(Delivery.company_id == company_id,
                   Delivery.state == DeliveryState.PLANNED.value)
        )
    }
    deliveries, links, planned = [], [], []
    for case in waiting:
        steps = policy.steps(case.variant)
        if case.id in linked or case.next_step >= len(steps):
            continue
        step = steps[case.next_step]
        if step.channel == "handover":
            continue  # not a message; see handover_due
        due = max(_step_due(case, step), today)
        key = (case.debtor_id, step.channel, step.template, due)
        delivery_id = open_deliveries.get(key)
        if delivery_id is None:
            delivery_id = open_deliveries[key] = new_id()
            deliveries.append({
                "id": delivery_id, "company_id": company_id, "debtor_id": case.debtor_id,
                "step": case.next_step, "step_name": step.name, "channel": step.channel,
                "template": step.template, "due_on": due, "needs_approval": step.needs_approval,
            })
        links.append({"delivery_id": delivery_id, "case_id": case.id, "amount": case.principal})
        planned.append({
            "company_id": company_id, "actor": "system", "kind": "step.planned",
            "message": f"Stap '{step.name}' gepland op {short_day(due)}",
            "subject_type": "case", "subject_id": case.id,
        })
    for model, rows in ((Delivery, deliveries), (DeliveryCase, links), (Event, planned)):
        if rows:
            session.execute(insert(model), rows)
    return len(deliveries)


def handover_due(session: Session, company_id: str, today: date, policy: Policy) -> None:
    """A case whose next step is the hand-over is ready once the legal term has passed."""
    for case in session.scalars(
        select(Case).where(Case.company_id == company_id, Case.state == CaseState.ACTIVE.value)
    ):
        steps = policy.steps(case.variant)
        if case.next_step >= len(steps) or steps[case.next_step].channel != "handover":
            continue
        if case.last_day_to_pay is not None and case.letter_posted_on is None:
            continue  # the letter is still in the print queue: its term has not started
        due = _step_due(case, steps[case.next_step])
        if case.costs_due_from is not None:
            due = max(due, case.costs_due_from)  # never before the 14-day term has run out
        if today < due:
            continue
        case.state = CaseState.READY_FOR_HANDOVER.value
        case.next_step += 1
        case.last_step_on = today
        label = case.invoice.number or case.invoice.external_id
        events.record(
            session,
            "case.ready_for_handover",
            f"Factuur {label} is klaar voor overdracht aan incasso",
            company_id=company_id,
            subject_type="case",
            subject_id=case.id,
        )
        writeback.queue_note(
            session,
            case.invoice,
            f"Pre-incasso {short_day(today)}: klaar voor overdracht aan incasso; "
            f"openstaand {money(case.principal)}.",
            key=writeback.derived_key("handover-ready", case.id),
        )


def mark_lost_sends_ambiguous(session: Session, company_id: str, now: datetime) -> None:
    """A send that started and never finished may have gone out: never resend it blindly."""
    for delivery in session.scalars(
        select(Delivery).where(
            Delivery.company_id == company_id,
            Delivery.state == DeliveryState.SENDING.value,
            Delivery.sending_at < now - SENDING_LEASE,
        )
    ):
        delivery.state = DeliveryState.AMBIGUOUS.value
        events.record(
            session,
            "step.ambiguous",
            f"Stap '{delivery.step_name}' is mogelijk verstuurd (onderbroken); "
            "niet opnieuw verstuurd — controleer en bevestig",
            company_id=company_id,
            subject_type="delivery",
            subject_id=delivery.id,
        )
