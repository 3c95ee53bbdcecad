"""A Profitletter that missed its posting day is made again, not posted late.

The date in a letter ("betaal uiterlijk …") was computed for posting on the day it was made;
posted later, that date is too early and the letter no longer counts as a valid 14-day letter
(legal-nl §1.2). The old letter is withdrawn from the print queue and a new one, with a fresh
term, is planned for the same invoices. It replaces the step, so the case does not advance
again when it goes out; only the term and the wait restart.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from connector import events, writeback
from connector.collection import legal
from connector.formatting import money, short_day
from connector.models import Delivery, DeliveryCase, new_id

REMAKE_MARK = "remake_of"  # key in Delivery.content of a letter that replaces another


def remake_of(delivery: Delivery) -> str | None:
    return (delivery.content or {}).get(REMAKE_MARK)


def plan_remake(session: Session, old: Delivery, today: date, actor: str) -> Delivery:
    """A new letter for the old one's open cases, due today and approved by ``actor``."""
    new = Delivery(
        id=new_id(), company_id=old.company_id, debtor_id=old.debtor_id, step=old.step,
        step_name=old.step_name, channel="letter", template=old.template, due_on=today,
        needs_approval=old.needs_approval, approved_by=actor,
        content={REMAKE_MARK: old.id})
    session.add(new)
    session.flush()
    for link in old.cases:
        if link.case.state in ("active", "on_hold"):
            session.add(DeliveryCase(delivery_id=new.id, case_id=link.case_id,
                                     amount=link.case.principal))
    events.record(session, "letter.remade",
                  f"Brief '{old.step_name}' niet op tijd gepost: opnieuw gemaakt",
                  company_id=old.company_id, actor=actor, subject_type="delivery",
                  subject_id=old.id)
    return new


def finish_remake(session: Session, delivery: Delivery, today: date) -> None:
    """The new letter went out: a new term from today, no second step; one ledger note."""
    term = legal.term_for_letter(today)
    queued = (delivery.channel_ref or "").startswith("letter:")
    for link in delivery.cases:
        case = link.case
        case.last_step_on = today
        case.letter_posted_on = None if queued else today  # set when marked posted
        case.last_day_to_pay, case.costs_due_from = term.last_day_to_pay, term.costs_due_from
        case.bik_amount = delivery.bik_amount
        writeback.queue_note(
            session, case.invoice,
            f"Pre-incasso {short_day(today)}: {delivery.step_name} opnieuw gemaakt (de vorige "
            f"brief is niet op tijd gepost); openstaand {money(case.principal)}; betalen "
            f"uiterlijk {short_day(term.last_day_to_pay)}.",
            key=writeback.derived_key("remade", delivery.id, case.id), delivery_id=delivery.id)
    events.record(session, "step.sent", f"Stap '{delivery.step_name}' opnieuw gemaakt en "
                  "verstuurd", company_id=delivery.company_id, subject_type="delivery",
                  subject_id=delivery.id)
