"""Finishing: what a step's outcome does to its delivery and cases (sent, failed, skipped,
retried later, on the call list), with the ledger note and the fee it brings.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from connector import events, writeback
from connector.channels.email import valid_address
from connector.collection import legal
from connector.collection.bounces import bounce_of, finish_fallback
from connector.collection.cases import policy_for
from connector.collection.policy import CHANNEL_LABELS, Policy
from connector.collection.remake import finish_remake, remake_of
from connector.formatting import money, short_day
from connector.models import (
    Case,
    Delivery,
    DeliveryState,
    UsageLine,
    utcnow,
)
from connector.services import Services

# A channel that refuses for a passing reason (SMTP server down) is tried this often in all.
MAX_TEMPORARY_FAILURES = 5
NOTE_CHANNELS = {"stamp": "e-mail", "letter": "post en e-mail", "email": "e-mail", "sms": "sms",
                 "whatsapp": "WhatsApp"}


def in_print_queue(delivery: Delivery) -> bool:
    """A letter the letter channel queued for printing (not one only recorded)."""
    return delivery.channel == "letter" and (delivery.channel_ref or "").startswith("letter:")


def is_payment_term_letter(delivery: Delivery) -> bool:
    """The Profitletter sets the payment term (for consumers the 14-day letter); a stamped
    reminder that goes by post because there is no e-mail address does not."""
    return delivery.template.startswith("profitletter")


def finish_delivery(
    services: Services, delivery_id: str, state: DeliveryState, detail: str, today: date
) -> str:
    with services.db.session() as session:
        delivery = session.get(Delivery, delivery_id)
        delivery.state = state.value
        if state != DeliveryState.SENT:
            delivery.skip_reason = detail[:200]
            verdict = "mislukt" if state == DeliveryState.FAILED else "mogelijk verstuurd"
            events.record(
                session,
                f"step.{state.value}",
                f"Stap '{delivery.step_name}' {verdict}: {detail}"[:500],
                company_id=delivery.company_id,
                subject_type="delivery",
                subject_id=delivery.id,
            )
            return "failed"
        delivery.channel_ref, delivery.sent_at = detail[:200], utcnow()
        if original := bounce_of(delivery):
            # The post copy of a bounced e-mail: that step already counted (see bounces.py).
            finish_fallback(session, delivery, original, today)
            events.record(session, "step.sent",
                          f"Stap '{delivery.step_name}' per post verstuurd (e-mail kwam niet aan)",
                          company_id=delivery.company_id, subject_type="delivery",
                          subject_id=delivery.id)
            return "sent"
        if remake_of(delivery):
            finish_remake(session, delivery, today)  # replaces a letter: the step counted
            return "sent"
        policy = policy_for(session, delivery.company_id)
        for link in delivery.cases:
            advance_case(session, delivery, link.case, today)
        fee = step_fee(policy, delivery)
        if fee:
            session.add(
                UsageLine(
                    company_id=delivery.company_id,
                    delivery_id=delivery.id,
                    month=today.strftime("%Y-%m"),
                    amount=fee,
                    description=f"{delivery.step_name} — {delivery.debtor.name}",
                )
            )
        events.record(
            session,
            "step.sent",
            f"Stap '{delivery.step_name}' verstuurd ({CHANNEL_LABELS[delivery.channel]}"
            f", {len(delivery.cases)} factu{'ur' if len(delivery.cases) == 1 else 'ren'}"
            f", {money(delivery.total)})",
            company_id=delivery.company_id,
            subject_type="delivery",
            subject_id=delivery.id,
        )
    return "sent"


def retry_later(services: Services, delivery_id: str, reason: str) -> str:
    """Nothing went out and the cause may pass: planned again for the next run, a few times."""
    with services.db.session() as session:
        delivery = session.get(Delivery, delivery_id)
        tries = int((delivery.content or {}).get("temporary_failures", 0)) + 1
        delivery.content = {**(delivery.content or {}), "temporary_failures": tries}
        if tries >= MAX_TEMPORARY_FAILURES:
            delivery.state, delivery.skip_reason = DeliveryState.FAILED.value, reason[:200]
            verdict = f"mislukt na {tries} pogingen"
        else:
            delivery.state, delivery.sending_at = DeliveryState.PLANNED.value, None
            verdict = f"niet gelukt (poging {tries}), wordt opnieuw geprobeerd"
        events.record(session, "step.retry" if tries < MAX_TEMPORARY_FAILURES else "step.failed",
                      f"Stap '{delivery.step_name}' {verdict}: {reason}"[:500],
                      company_id=delivery.company_id, subject_type="delivery",
                      subject_id=delivery.id)
    return "postponed" if tries < MAX_TEMPORARY_FAILURES else "failed"


def skip_step(services: Services, delivery_id: str, reason: str, today: date) -> str:
    """Nothing left; the step cannot be done for this debtor, so the case moves on."""
    with services.db.session() as session:
        skip_delivery(session, session.get(Delivery, delivery_id), reason, today)
    return "skipped"


def skip_delivery(session: Session, delivery: Delivery, reason: str, today: date, *,
                  actor: str = "system") -> None:
    """The step is left out for every case in the delivery; each case goes on with the next."""
    delivery.state, delivery.skip_reason = DeliveryState.SKIPPED.value, reason[:200]
    for link in delivery.cases:
        link.case.next_step += 1
        link.case.last_step_on = today
    events.record(session, "step.skipped",
                  f"Stap '{delivery.step_name}' overgeslagen: {reason}"[:500],
                  company_id=delivery.company_id, actor=actor, subject_type="delivery",
                  subject_id=delivery.id)


def advance_case(session: Session, delivery: Delivery, case: Case, today: date, *,
                 note: str | None = None) -> None:
    """The delivery's step is done for this case: count it, note it in the ledger.

    ``note`` replaces the standard ledger note (a call outcome says what was agreed); an empty
    string writes none (the outcome's hold writes its own).
    """
    if case.next_step == 0 and not case.invoice.ledger_paused:
        # The first step went out: from now on we chase, so the ledger's own reminders pause
        # (not at planning: in preview nothing reaches the debtor and theirs must go on).
        writeback.queue(session, case.invoice, "pause", key=writeback.derived_key("pause", case.id))
    case.next_step += 1
    case.last_step_on = today
    if is_payment_term_letter(delivery):
        # The letter states the term for posting today. A letter in the print queue counts as
        # posted once an operator marks it so (connector.collection.posting); until then the
        # hand-over waits.
        term = legal.term_for_letter(today)
        if not in_print_queue(delivery):
            case.letter_posted_on = today
        case.last_day_to_pay, case.costs_due_from = term.last_day_to_pay, term.costs_due_from
        case.bik_amount = delivery.bik_amount
    if note is not None:
        if note:
            writeback.queue_note(session, case.invoice, note,
                                 key=writeback.derived_key("step", delivery.id, case.id))
        return
    how = NOTE_CHANNELS.get(delivery.channel, delivery.channel)
    if delivery.channel == "letter" and not valid_address(delivery.debtor.email):
        how = "post"
    verb = "aan het belteam gegeven" if delivery.channel == "call" else f"verstuurd per {how}"
    text = (
        f"Pre-incasso {short_day(today)}: {delivery.step_name} {verb}; "
        f"openstaand {money(case.principal)}"
    )
    if case.last_day_to_pay and is_payment_term_letter(delivery):
        text += f"; betalen uiterlijk {short_day(case.last_day_to_pay)}"
    writeback.queue_step_note(
        session, case.invoice, text + ".", key=writeback.derived_key("step", delivery.id, case.id),
        step=delivery.step_name, how=how if delivery.channel != "call" else "telefoon",
        sent_on=today, amount=case.principal, delivery_id=delivery.id)


def put_on_call_list(session: Session, delivery: Delivery, today: date) -> str:
    """A call step is done by a person: it waits on the call list for an outcome.

    Without a phone number nobody can call: the step is skipped and the case moves on.
    """
    if not (delivery.debtor.phone or "").strip():
        skip_delivery(session, delivery, "geen telefoonnummer bekend", today)
        return "skipped"
    delivery.state = DeliveryState.CALLING.value
    events.record(session, "step.calling", f"Stap '{delivery.step_name}' staat op de bellijst",
                  company_id=delivery.company_id, subject_type="delivery",
                  subject_id=delivery.id)
    return "to_call"


def step_fee(policy: Policy, delivery: Delivery) -> Decimal | None:
    variant = delivery.cases[0].case.variant if delivery.cases else "consumer"
    steps = policy.steps(variant)
    step = steps[delivery.step] if delivery.step < len(steps) else None
    return step.fee if step and step.fee > 0 else None
