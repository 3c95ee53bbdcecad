"""Limiting the backlog when going live: old invoices and some debtors stay out of pre-incasso.

A case left out this way never reached the debtor (nothing was sent yet), so it is closed
without a note or a pause in the ledger: the creditor's own reminders simply go on. A case of
an excluded debtor goes through the usual exclusion (a debtor hold), which the creditor can end.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector import events
from connector.collection.cases import _drop_planned, place_hold
from connector.models import Case, CaseState, Debtor, HoldKind, utcnow
from connector.reports.golive import BacklogLimits, PlannedCase, left_out

BACKLOG_REASON = "backlog"


def apply_limits(session: Session, company_id: str, cases: list[PlannedCase],
                 limits: BacklogLimits, actor: str, today: date) -> int:
    """Leave out what the limits exclude; returns how many cases were left out."""
    count = 0
    for debtor_id in sorted(limits.excluded_debtors):
        debtor = session.get(Debtor, debtor_id)
        if debtor is None or debtor.company_id != company_id:
            continue
        running = session.scalar(select(Case.id).where(
            Case.debtor_id == debtor_id,
            Case.state.in_([CaseState.ACTIVE.value, CaseState.ON_HOLD.value])).limit(1))
        if running is not None:
            place_hold(session, HoldKind.EXCLUDED, "Uitgesloten bij live gaan", actor,
                       debtor=debtor)
    for planned in cases:
        if not left_out(planned, limits, today):
            continue
        count += 1
        if planned.debtor_id in limits.excluded_debtors:
            continue  # closed by the exclusion above
        case = session.get(Case, planned.case_id)
        if case.state != CaseState.ACTIVE.value or case.last_step_on is not None:
            continue  # something already reached the debtor: it runs on
        case.state, case.closed_reason, case.closed_at = (
            CaseState.CLOSED.value, BACKLOG_REASON, utcnow())
        _drop_planned(session, case, "buiten de achterstand bij live gaan")
        label = case.invoice.number or case.invoice.external_id
        events.record(session, "case.closed",
                      f"Dossier voor factuur {label} niet meegenomen bij live gaan: langer dan "
                      f"{limits.max_days_overdue} dagen vervallen",
                      company_id=company_id, actor=actor, subject_type="case",
                      subject_id=case.id)
    return count
