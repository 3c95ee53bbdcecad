"""The call list: call steps waiting for an operator, and what each call's outcome does.

A call step is not "sent" by the engine; it waits on the list (state ``calling``) until an
operator records how the call went. Reached outcomes finish the step and put the case on hold
where the debtor said something that must be respected (a promise, a dispute, "I paid");
no answer and voicemail try again on the next contact day, up to :data:`MAX_ATTEMPTS`; a wrong
number skips the step. Every outcome is written back to the ledger as one note per invoice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector import events, writeback
from connector.collection import legal
from connector.collection.cases import place_hold, policy_for
from connector.collection.engine import advance_case, local_today, skip_delivery, step_fee
from connector.formatting import short_day
from connector.models import (
    CallAttempt,
    CallOutcome,
    Case,
    Company,
    Delivery,
    DeliveryState,
    HoldKind,
    UsageLine,
    utcnow,
)
from connector.services import Services

MAX_ATTEMPTS = 3
# How long a debtor who says it has paid gets before the steps go on (the sync and the
# just-in-time check see the payment long before that when it is real).
SAYS_PAID_GRACE = timedelta(days=5)
LONGEST_PROMISE = timedelta(days=60)
OUTCOME_LABELS = {
    CallOutcome.PROMISED: "belooft te betalen",
    CallOutcome.DISPUTE: "betwist de factuur",
    CallOutcome.SAYS_PAID: "zegt betaald te hebben",
    CallOutcome.NO_ANSWER: "geen gehoor",
    CallOutcome.VOICEMAIL: "voicemail ingesproken",
    CallOutcome.WRONG_NUMBER: "verkeerd nummer",
}
REACHED = frozenset({CallOutcome.PROMISED, CallOutcome.DISPUTE, CallOutcome.SAYS_PAID})


class CallError(ValueError):
    """An outcome that cannot be recorded; the message says why (shown to the operator)."""


@dataclass(frozen=True)
class CallResult:
    message: str  # what happened, for the operator
    done: bool  # False: the call stays on the list for another attempt


def due_calls(session: Session, today: date, company_ids: list[str] | None = None
              ) -> list[Delivery]:
    """Calls waiting for an operator, due today or earlier, oldest first."""
    query = select(Delivery).where(Delivery.state == DeliveryState.CALLING.value,
                                   Delivery.due_on <= today)
    if company_ids is not None:
        query = query.where(Delivery.company_id.in_(company_ids))
    return list(session.scalars(query.order_by(Delivery.due_on, Delivery.created_at)))


def attempts(session: Session, delivery_id: str) -> list[CallAttempt]:
    return list(session.scalars(select(CallAttempt).where(CallAttempt.delivery_id == delivery_id)
                                .order_by(CallAttempt.created_at)))


def next_attempt_day(now: datetime) -> date:
    """The next contact day after today (no calls on Sundays or public holidays)."""
    day = local_today(now) + timedelta(days=1)
    while not legal.is_contact_day(day):
        day += timedelta(days=1)
    return day


def record_outcome(
    services: Services,
    delivery_id: str,
    outcome: CallOutcome | str,
    actor: str,
    *,
    promised_on: date | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> CallResult:
    """Record one call and apply its outcome; raises :class:`CallError` on bad input."""
    now = now or utcnow()
    today = local_today(now)
    try:
        outcome = CallOutcome(outcome)
    except ValueError:
        raise CallError("kies een uitkomst van het gesprek") from None
    note = (note or "").strip()[:500] or None
    if outcome == CallOutcome.PROMISED:
        if promised_on is None:
            raise CallError("een betaalbelofte heeft een datum nodig")
        if promised_on < today:
            raise CallError("de beloofde betaaldatum ligt in het verleden")
        if promised_on > today + LONGEST_PROMISE:
            raise CallError("een betaalbelofte mag hoogstens 60 dagen vooruit; "
                            "spreek anders een betalingsregeling af")
    with services.db.session() as session:
        delivery = session.scalars(
            select(Delivery).where(Delivery.id == delivery_id).with_for_update()
        ).one_or_none()
        if delivery is None or delivery.channel != "call":
            raise CallError("dit gesprek staat niet op de bellijst")
        if delivery.state != DeliveryState.CALLING.value:
            raise CallError("dit gesprek is al afgehandeld")
        attempt = CallAttempt(company_id=delivery.company_id, delivery_id=delivery.id,
                              outcome=outcome.value, promised_on=promised_on, note=note,
                              actor=actor)
        session.add(attempt)
        session.flush()
        delivery.sending_at = delivery.sending_at or now
        tried = len(attempts(session, delivery.id))
        events.record(session, f"call.{outcome.value}",
                      f"Gesprek (poging {tried}) voor stap '{delivery.step_name}': "
                      f"{OUTCOME_LABELS[outcome]}",
                      company_id=delivery.company_id, actor=actor,
                      subject_type="delivery", subject_id=delivery.id)
        if outcome in REACHED:
            return _reached(services, session, delivery, outcome, actor, promised_on, note,
                            now)
        if outcome == CallOutcome.WRONG_NUMBER:
            return _not_done(session, delivery, attempt, today,
                             "het telefoonnummer klopt niet; stap overgeslagen")
        if tried < MAX_ATTEMPTS:
            delivery.due_on = next_attempt_day(now)
            for link in delivery.cases:
                _note(session, attempt, link.case,
                      f"Pre-incasso {short_day(today)}: gebeld, {OUTCOME_LABELS[outcome]} "
                      f"(poging {tried} van {MAX_ATTEMPTS}).")
            return CallResult(f"Opnieuw bellen op {short_day(delivery.due_on)}.", done=False)
        return _not_done(session, delivery, attempt, today,
                         f"niet bereikt na {MAX_ATTEMPTS} pogingen; stap afgerond")


def _note(session: Session, attempt: CallAttempt, case: Case, text: str) -> None:
    writeback.queue_note(session, case.invoice, text,
                         key=writeback.derived_key("call", attempt.id, case.id))


def _reached(services: Services, session: Session, delivery: Delivery, outcome: CallOutcome,
             actor: str, promised_on: date | None, note: str | None, now: datetime
             ) -> CallResult:
    today = local_today(now)
    delivery.state, delivery.sent_at = DeliveryState.SENT.value, now
    delivery.channel_ref = f"call:{outcome.value}"
    cases = [link.case for link in delivery.cases]
    for case in cases:
        # The hold below writes the ledger note of this outcome: no second note here.
        advance_case(session, delivery, case, today, note="")
    reason = f"telefonisch: {OUTCOME_LABELS[outcome]}" + (f" — {note}" if note else "")
    for case in cases:
        if outcome == CallOutcome.PROMISED:
            place_hold(session, HoldKind.PROMISE, reason, actor, case=case, until=promised_on)
        elif outcome == CallOutcome.DISPUTE:
            place_hold(session, HoldKind.DISPUTE, reason, actor, case=case)
        else:
            place_hold(session, HoldKind.PAUSE, reason + "; wordt gecontroleerd in de "
                       "administratie", actor, case=case, until=today + SAYS_PAID_GRACE)
    if outcome == CallOutcome.SAYS_PAID:
        company = session.get(Company, delivery.company_id)
        company.sync_requested_at = now  # look in the ledger now, not at the next schedule
    fee = step_fee(policy_for(session, delivery.company_id), delivery)
    if fee:
        session.add(UsageLine(company_id=delivery.company_id, delivery_id=delivery.id,
                              month=today.strftime("%Y-%m"), amount=fee,
                              description=f"{delivery.step_name} — {delivery.debtor.name}"))
    if outcome == CallOutcome.PROMISED and promised_on is not None:
        message = f"Betaalbelofte tot en met {short_day(promised_on)} vastgelegd."
    elif outcome == CallOutcome.DISPUTE:
        message = "Betwisting vastgelegd; het dossier staat stil."
    else:
        message = "Vastgelegd; de administratie wordt nu opnieuw gecontroleerd."
    return CallResult(message, done=True)


def _not_done(session: Session, delivery: Delivery, attempt: CallAttempt, today: date,
              reason: str) -> CallResult:
    """The step cannot be done by phone: it is skipped and the case moves on."""
    for link in delivery.cases:
        _note(session, attempt, link.case,
              f"Pre-incasso {short_day(today)}: telefoongesprek — {reason}.")
    skip_delivery(session, delivery, reason, today, actor=attempt.actor)
    return CallResult(reason[0].upper() + reason[1:] + ".", done=True)
