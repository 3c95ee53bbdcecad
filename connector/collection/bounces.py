"""What a bounce does to a case: a hard bounce of a sent reminder e-mail sends it by post.

The e-mail step already counted as done when it was sent (the case's ``next_step`` moved on
then), so the fallback letter is a *repeat* of that step on another channel, not a new step:
when it is sent it never moves ``next_step`` again; it only restarts the wait before the next
step (``last_step_on``), because the debtor learns of the reminder only now, and writes one
ledger note saying the e-mail did not arrive. The fallback delivery's id is derived from the
bounced delivery and ``bounced_at`` is set with a conditional UPDATE, so the same DSN handled
twice, or by two processes at once, still plans one letter.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from connector import events, writeback
from connector.channels.dsn import BounceKind, BounceReport
from connector.channels.smtp_status import read_status
from connector.clock import today_nl
from connector.db import Database
from connector.formatting import money, short_day
from connector.models import (
    Case,
    CaseState,
    Delivery,
    DeliveryCase,
    DeliveryState,
    utcnow,
)

log = logging.getLogger(__name__)

FALLBACK_CHANNELS = frozenset({"stamp", "email"})  # a bounce of these goes by post
FALLBACK_MARK = "bounce_of"  # key in Delivery.content of a fallback letter


def fallback_id(delivery_id: str) -> str:
    """The id of the one fallback letter a bounced delivery can have."""
    return hashlib.sha256(f"bounce|{delivery_id}".encode()).hexdigest()[:32]


def bounce_of(delivery: Delivery) -> str | None:
    """For a fallback letter: the id of the delivery whose e-mail bounced."""
    value = (delivery.content or {}).get(FALLBACK_MARK)
    return str(value) if value else None


def _find(session: Session, report: BounceReport) -> Delivery | None:
    for delivery_id in report.delivery_ids:
        delivery = session.get(Delivery, delivery_id)
        if delivery is not None:
            return delivery
    refs = [r for m in report.message_ids for r in (m, m.strip("<>"))]
    if not refs:
        return None
    return session.scalars(select(Delivery).where(Delivery.channel_ref.in_(refs))).first()


def handle_bounce(db: Database, report: BounceReport) -> str:
    """Apply one bounce; returns what happened: fallback, recorded, duplicate or unknown."""
    with db.session() as session:
        delivery = _find(session, report)
        if delivery is None:
            log.info("bounce (status %s) for no known delivery: ignored", report.status)
            return "unknown"
        name, status = delivery.step_name, read_status(report.status)
        reason = status.dutch

        def record(kind: str, text: str, outcome: str) -> None:
            # The reason in words for the creditor; the raw code in the data, for the operator.
            events.record(session, kind, text, company_id=delivery.company_id,
                          subject_type="delivery", subject_id=delivery.id,
                          status=status.code or "onbekend", reason=status.reason, step=name,
                          outcome=outcome)

        if report.kind == BounceKind.SOFT:
            record("step.bounce_delayed", f"Stap '{name}': e-mail nog niet afgeleverd "
                   f"({reason}); de server van de ontvanger probeert het opnieuw", "delayed")
            return "recorded"
        marked = session.execute(
            update(Delivery)
            .where(Delivery.id == delivery.id, Delivery.bounced_at.is_(None))
            .values(bounced_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        if not marked:
            log.info("bounce for delivery %s already handled", delivery.id)
            return "duplicate"
        if delivery.channel == "letter":
            record("step.bounced", f"Stap '{name}': de e-mailkopie van de brief kwam niet aan "
                   f"({reason}); de brief gaat per post", "letter_copy")
            return "recorded"
        if delivery.channel not in FALLBACK_CHANNELS or delivery.state != DeliveryState.SENT:
            record("step.bounced", f"Stap '{name}': e-mail kwam niet aan ({reason}); "
                   "controleer de stap", "check")
            return "recorded"
        # Only cases still waiting for their next step: once a later step went out, a late
        # copy of this one by post would only confuse the debtor.
        cases = [link.case for link in delivery.cases
                 if link.case.state == CaseState.ACTIVE.value
                 and link.case.next_step <= delivery.step + 1]
        if not cases:
            record("step.bounced", f"Stap '{name}': e-mail kwam niet aan ({reason}); "
                   "geen lopend dossier op deze stap meer, dus geen brief", "no_case")
            return "recorded"
        record("step.bounced", f"Stap '{name}': e-mail kwam niet aan ({reason}); "
               "de herinnering gaat per post", "fallback")
        _plan_fallback(session, delivery, cases, today_nl())
        return "fallback"


def _plan_fallback(session: Session, delivery: Delivery, cases: list[Case], today: date) -> None:
    letter = Delivery(
        id=fallback_id(delivery.id), company_id=delivery.company_id,
        debtor_id=delivery.debtor_id, step=delivery.step, step_name=delivery.step_name,
        channel="letter", template=delivery.template, due_on=today,
        needs_approval=delivery.needs_approval, approved_by=delivery.approved_by,
        content={FALLBACK_MARK: delivery.id},
    )
    session.add(letter)
    session.flush()  # a second fallback for the same delivery fails here, on the primary key
    for case in cases:
        session.add(DeliveryCase(delivery_id=letter.id, case_id=case.id, amount=case.principal))
        events.record(session, "step.planned",
                      f"Stap '{delivery.step_name}' per post gepland op {short_day(today)} "
                      "(e-mail kwam niet aan)",
                      company_id=delivery.company_id, subject_type="case", subject_id=case.id)


def finish_fallback(session: Session, delivery: Delivery, original_id: str, today: date) -> None:
    """A fallback letter went out: the step was already counted, so only the wait restarts."""
    for link in delivery.cases:
        case = link.case
        case.last_step_on = today
        writeback.queue_note(
            session, case.invoice,
            f"Pre-incasso {short_day(today)}: {delivery.step_name}: e-mail kwam niet aan; "
            f"per post verstuurd; openstaand {money(case.principal)}.",
            key=writeback.derived_key("bounce-letter", original_id, case.id))


__all__ = ["bounce_of", "fallback_id", "finish_fallback", "handle_bounce"]
