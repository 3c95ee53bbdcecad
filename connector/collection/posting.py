"""The print queue seen by operators: which letters wait, and marking a batch as posted.

The letter's PDF and its queue entry live in the letter store (the database, see
connector.filestore, so any machine can print them); the posting date is
also written to the database, because that date starts the legal term: 14 days from the
presumed delivery (legal-nl §1.2). A case whose letter waits in the queue is not handed over.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector import events
from connector.channels.print_queue import (
    PrintQueueError,
    QueuedLetter,
    mark_posted,
    merge_letters,
)
from connector.collection import legal
from connector.collection.engine import is_payment_term_letter, local_today
from connector.collection.remake import plan_remake, remake_of
from connector.formatting import short_day
from connector.models import Company, Delivery, DeliveryState, utcnow
from connector.services import Services
from connector.step_documents import letter_store

__all__ = ["PrintQueueError", "WaitingLetter", "letter_store", "mark_batch_posted",
           "print_file", "remake_letter", "waiting_letters"]


@dataclass(frozen=True)
class WaitingLetter:
    entry: QueuedLetter
    company: str
    debtor: str
    step_name: str

    def is_late(self, today: date) -> bool:
        """Past its post-by day: the date in the letter would be too early; make a new one."""
        return today > self.entry.post_by


def waiting_letters(services: Services, session: Session) -> list[WaitingLetter]:
    """Letters queued and not yet posted, oldest first, with the names an operator needs."""
    entries = [e for e in letter_store(services).entries()
               if e.posted_on is None and e.withdrawn_on is None]
    if not entries:
        return []
    rows = {
        d.id: (d, company_name)
        for d, company_name in session.execute(
            select(Delivery, Company.name)
            .join(Company, Company.id == Delivery.company_id)
            .where(Delivery.id.in_([e.delivery_id for e in entries]))
        )
    }
    waiting = []
    for entry in entries:
        delivery, company_name = rows.get(entry.delivery_id, (None, "?"))
        waiting.append(WaitingLetter(
            entry=entry,
            company=company_name,
            debtor=delivery.debtor.name if delivery else "?",
            step_name=delivery.step_name if delivery else "?",
        ))
    return waiting


def print_file(services: Services, delivery_ids: list[str]) -> bytes:
    """One merged PDF of the given waiting letters, in the order given."""
    store = letter_store(services)
    known = {e.delivery_id for e in store.entries()
             if e.posted_on is None and e.withdrawn_on is None}
    if not delivery_ids or any(i not in known for i in delivery_ids):
        raise PrintQueueError("kies brieven uit de printwachtrij")
    return merge_letters(store, delivery_ids)


def mark_batch_posted(services: Services, delivery_ids: list[str], posted_on: date,
                      actor: str, now: datetime | None = None) -> int:
    """Record that these letters went into the post on ``posted_on``; returns how many.

    Refused as a whole (:class:`PrintQueueError`) for a date in the future or after a
    letter's post-by day. The case's term is computed from the posting day, and never ends
    earlier than the date the letter itself states.
    """
    today = local_today(now or utcnow())
    if posted_on > today:
        raise PrintQueueError("de postdatum ligt in de toekomst")
    ids = list(dict.fromkeys(delivery_ids))
    if not ids:
        raise PrintQueueError("kies de brieven die gepost zijn")
    store = letter_store(services)
    try:
        mark_posted(store, ids, posted_on)
    except PrintQueueError as exc:
        raise PrintQueueError(_dutch(str(exc))) from None
    marked = 0
    with services.db.session() as session:
        for delivery in session.scalars(select(Delivery).where(Delivery.id.in_(ids))):
            entry = store.get(delivery.id)
            if entry is None or entry.posted_on is None or delivery.posted_on is not None:
                continue
            _record_posting(session, delivery, entry.posted_on, actor)
            marked += 1
    return marked


def remake_letter(services: Services, delivery_id: str, actor: str,
                  now: datetime | None = None) -> None:
    """Withdraw a letter that missed its posting day and plan a new one for today.

    Only for a letter past its post-by day (one still in time should simply be posted).
    """
    today = local_today(now or utcnow())
    store = letter_store(services)
    entry = store.get(delivery_id)
    if entry is None or entry.posted_on is not None or entry.withdrawn_on is not None:
        raise PrintQueueError("deze brief staat niet (meer) in de printwachtrij")
    if today <= entry.post_by:
        raise PrintQueueError("deze brief kan vandaag nog op de post: post hem in plaats van "
                              "hem opnieuw te maken")
    with services.db.session() as session:
        old = session.scalars(select(Delivery).where(Delivery.id == delivery_id)
                              .with_for_update()).one_or_none()
        if old is None or old.state != DeliveryState.SENT.value:
            raise PrintQueueError("deze brief hoort niet bij een verstuurde stap")
        if remake_planned(session, old.id):
            raise PrintQueueError("deze brief wordt al opnieuw gemaakt")
        plan_remake(session, old, today, actor)
    # After the commit: if this fails, the old letter stays in the queue but can no longer be
    # marked posted (its post-by day has passed), and the new one is planned either way.
    store.update([replace(entry, withdrawn_on=today)])


def remake_planned(session: Session, delivery_id: str) -> bool:
    return any(remake_of(d) == delivery_id for d in session.scalars(
        select(Delivery).where(Delivery.company_id == select(Delivery.company_id)
                               .where(Delivery.id == delivery_id).scalar_subquery(),
                               Delivery.channel == "letter",
                               Delivery.state != DeliveryState.SKIPPED.value)))


def _record_posting(session: Session, delivery: Delivery, posted_on: date, actor: str) -> None:
    delivery.posted_on = posted_on
    if delivery.state == DeliveryState.SENT.value and is_payment_term_letter(delivery):
        term = legal.term_for_letter(posted_on)
        for link in delivery.cases:
            case = link.case
            case.letter_posted_on = posted_on
            case.last_day_to_pay = max(d for d in (term.last_day_to_pay, case.last_day_to_pay)
                                       if d is not None)
            case.costs_due_from = max(d for d in (term.costs_due_from, case.costs_due_from)
                                      if d is not None)
    events.record(session, "letter.posted",
                  f"Brief '{delivery.step_name}' gepost op {short_day(posted_on)}",
                  company_id=delivery.company_id, actor=actor, subject_type="delivery",
                  subject_id=delivery.id)


def _dutch(message: str) -> str:
    if "post-by" in message:
        return ("een of meer brieven zijn na hun uiterste postdatum; de termijn in die brief "
                "klopt dan niet meer — laat ze opnieuw maken")
    if "before they were made" in message:
        return ("de postdatum ligt vóór de dag waarop de brief is gemaakt; kies de dag waarop "
                "u hem echt heeft gepost")
    if "unknown" in message:
        return "een of meer brieven staan niet (meer) in de printwachtrij"
    return message
