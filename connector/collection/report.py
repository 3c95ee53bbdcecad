"""Read-only views of cases for the CLI and the pages: one line per case, next step in words."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from connector.collection.cases import policy_for
from connector.formatting import money, short_day
from connector.models import Case, Company, Delivery, DeliveryCase, DeliveryState

STATE_LABELS = {
    "active": "loopt",
    "on_hold": "on hold",
    "ready_for_handover": "klaar voor overdracht",
    "handed_over": "overgedragen",
    "closed": "gesloten",
}


def find_company(session: Session, needle: str) -> Company:
    matches = list(session.scalars(select(Company).where(or_(
        Company.id == needle, func.lower(Company.name).contains(needle.lower())))))
    if len(matches) != 1:
        raise LookupError(f"{len(matches)} bedrijven passen bij '{needle}'; geef het id")
    return matches[0]


def next_step(session: Session, case: Case) -> tuple[str, date | None] | None:
    """The name of the case's next step and the day it is planned for (None: not planned
    yet), or None when no step follows."""
    planned = session.scalars(
        select(Delivery).join(DeliveryCase).where(
            DeliveryCase.case_id == case.id, Delivery.state == DeliveryState.PLANNED.value)
    ).first()
    if planned is not None:
        return planned.step_name, planned.due_on
    steps = policy_for(session, case.company_id).steps(case.variant)
    if case.state == "closed" or case.next_step >= len(steps):
        return None
    return steps[case.next_step].name, None


def next_step_text(session: Session, case: Case) -> str:
    step = next_step(session, case)
    if step is None:
        return "–"
    name, day = step
    return f"{name} op {short_day(day)}" if day else name


def case_rows(session: Session, company_id: str, state: str | None = None) -> list[list[str]]:
    query = select(Case).where(Case.company_id == company_id).order_by(Case.opened_on)
    if state:
        query = query.where(Case.state == state)
    rows = []
    for case in session.scalars(query):
        invoice = case.invoice
        rows.append([
            invoice.number or invoice.external_id,
            case.debtor.name[:30],
            money(case.principal),
            STATE_LABELS.get(case.state, case.state),
            f"volgende: {next_step_text(session, case)}",
        ])
    return rows
