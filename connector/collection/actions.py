"""What the creditor or operator decides by hand: a new policy, a skipped step, a hand-over,
a debtor excluded or included again.

Each decision goes into the event log with who made it and, where the creditor's ledger should
tell the story, into the outbox as a note. Database only: no API calls here.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import case as sql_case
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from connector import events, writeback
from connector.collection.cases import (
    end_hold,
    place_hold,
    policy_for,
    settings_for,
)
from connector.collection.engine import plan
from connector.collection.policy import VARIANTS, Policy, Step, policy_to_json
from connector.db import lock_row
from connector.formatting import short_day
from connector.models import (
    Case,
    CaseState,
    Debtor,
    Delivery,
    DeliveryCase,
    DeliveryState,
    Hold,
    HoldKind,
    LedgerWrite,
    utcnow,
)
from providers.base import InvoiceStatus

HANDOVER_FROM = (CaseState.ACTIVE, CaseState.ON_HOLD, CaseState.READY_FOR_HANDOVER)


class ActionRefused(ValueError):
    """A decision that cannot be carried out now; the message says why, in Dutch."""


def _same_step(old: Step | None, new: Step | None) -> bool:
    """A planned delivery may stay only if its step is still exactly the same step."""
    if old is None or new is None:
        return False
    return (old.name, old.channel, old.template, old.delay_days, old.after,
            old.needs_approval) == (new.name, new.channel, new.template, new.delay_days,
                                    new.after, new.needs_approval)


def _occurrences(steps: tuple[Step, ...]) -> list[tuple[str, str, int]]:
    """Each step as (channel, text, n-th time this pair occurs): names may be edited freely."""
    seen: dict[tuple[str, str], int] = {}
    out = []
    for step in steps:
        pair = (step.channel, step.template)
        seen[pair] = seen.get(pair, 0) + 1
        out.append((*pair, seen[pair]))
    return out


def progress_map(old: tuple[Step, ...], new: tuple[Step, ...]) -> dict[int, int]:
    """Old ``next_step`` → new ``next_step``: go on after the last step already done.

    Positions shift when steps are added, removed or moved; a case that has had the letter must
    not get it again because a step was inserted before it, nor skip one because a step before
    it was removed. The last done step that the new policy still has (same channel and text,
    same occurrence) decides; if it has none of them, the case starts the new policy.
    """
    old_ids, new_ids = _occurrences(old), _occurrences(new)
    mapping = {0: 0}
    for done_count in range(1, len(old) + 1):
        target = 0
        for done in range(done_count - 1, -1, -1):
            if old_ids[done] in new_ids:
                target = new_ids.index(old_ids[done]) + 1
                break
        mapping[done_count] = target
    return mapping


def save_policy(session: Session, company_id: str, policy: Policy, actor: str,
                today: date, *, message: str = "Pre-incassobeleid gewijzigd") -> int:
    """Store the policy and re-plan: planned steps that changed or were removed never go out.

    Running cases keep their progress (see :func:`progress_map`). A planned delivery whose step
    is unchanged keeps its date and approval; every other planned delivery is skipped and its
    cases are planned again under the new policy. Returns how many were dropped.
    """
    settings = settings_for(session, company_id)
    old = policy_for(session, company_id)
    settings.policy, settings.updated_by = policy_to_json(policy), actor
    session.flush()
    maps = {v: progress_map(old.steps(v), policy.steps(v)) for v in VARIANTS}
    for variant, mapping in maps.items():
        moved = {before: after for before, after in mapping.items() if before != after}
        if moved:
            session.execute(
                update(Case)
                .where(Case.company_id == company_id, Case.variant == variant,
                       Case.state.in_([CaseState.ACTIVE.value, CaseState.ON_HOLD.value]))
                .values(next_step=sql_case(moved, value=Case.next_step, else_=Case.next_step))
                .execution_options(synchronize_session=False))
    session.expire_all()
    dropped = 0
    planned = session.scalars(select(Delivery).where(
        Delivery.company_id == company_id, Delivery.state == DeliveryState.PLANNED.value))
    for delivery in list(planned):
        variant = delivery.cases[0].case.variant if delivery.cases else "consumer"
        old_steps, new_steps = old.steps(variant), policy.steps(variant)
        position = maps[variant].get(delivery.step, delivery.step)
        before = old_steps[delivery.step] if delivery.step < len(old_steps) else None
        after = new_steps[position] if position < len(new_steps) else None
        if _same_step(before, after):
            delivery.step = position
            continue
        delivery.state = DeliveryState.SKIPPED.value
        delivery.skip_reason = "beleid gewijzigd; opnieuw gepland"
        for link in list(delivery.cases):
            delivery.cases.remove(link)
        dropped += 1
        events.record(session, "step.skipped",
                      f"Stap '{delivery.step_name}' vervalt: beleid gewijzigd",
                      company_id=company_id, actor=actor, subject_type="delivery",
                      subject_id=delivery.id)
    session.flush()
    events.record(session, "collection.policy", message, company_id=company_id, actor=actor,
                  policy=policy_to_json(policy))
    plan(session, company_id, today, policy)
    return dropped


def skip_step(session: Session, case: Case, delivery: Delivery, reason: str, actor: str,
              today: date) -> None:
    """Skip the case's planned step by hand; the case moves on to the next step.

    When the delivery also covers other invoices of the debtor, only this case leaves it and
    the others still get the message.
    """
    reason = reason.strip()
    if not reason:
        raise ActionRefused("Geef een reden om de stap over te slaan.")
    if delivery.state != DeliveryState.PLANNED.value:
        raise ActionRefused("Deze stap is niet meer gepland.")
    link = next((x for x in delivery.cases if x.case_id == case.id), None)
    if link is None or case.state not in (CaseState.ACTIVE.value, CaseState.ON_HOLD.value):
        raise ActionRefused("Deze stap hoort niet (meer) bij dit dossier.")
    if len(delivery.cases) == 1:
        delivery.state, delivery.skip_reason = DeliveryState.SKIPPED.value, reason[:200]
    else:
        delivery.cases.remove(link)
    case.next_step += 1
    case.last_step_on = today
    session.flush()
    events.record(session, "step.skipped",
                  f"Stap '{delivery.step_name}' overgeslagen: {reason}"[:500],
                  company_id=case.company_id, actor=actor, subject_type="case",
                  subject_id=case.id, delivery=delivery.id)
    writeback.queue_note(
        session, case.invoice,
        f"Pre-incasso {short_day(today)}: stap '{delivery.step_name}' overgeslagen. "
        f"{reason[:200]}",
        key=writeback.derived_key("skip", delivery.id, case.id), actor=actor)
    plan(session, case.company_id, today, policy_for(session, case.company_id))


def hand_over(session: Session, case: Case, reason: str, actor: str) -> Hold:
    """End the case as handed over to collection.

    The ledger's own reminders are paused, never resumed: the claim now belongs to the
    collection agency, and a friendly reminder from the creditor's package would contradict it.
    """
    reason = reason.strip()
    if not reason:
        raise ActionRefused("Geef een reden of kenmerk voor de overdracht.")
    if case.state not in [s.value for s in HANDOVER_FROM]:
        raise ActionRefused("Dit dossier loopt niet meer en kan niet worden overgedragen.")
    for hold in session.scalars(select(Hold).where(Hold.case_id == case.id,
                                                   Hold.ended_at.is_(None))):
        hold.ended_at, hold.ended_reason = utcnow(), "overgedragen aan incasso"
    hold = place_hold(session, HoldKind.HANDOVER, reason, actor, case=case)
    invoice = case.invoice
    pause_key = writeback.derived_key("pause", case.id)
    paused = session.scalars(select(LedgerWrite).where(
        LedgerWrite.company_id == invoice.company_id, LedgerWrite.key == pause_key)).first()
    if not invoice.ledger_paused and paused is None:
        writeback.queue(session, invoice, "pause", key=pause_key, actor=actor)
    return hold


def exclude_debtor(session: Session, debtor: Debtor, reason: str, actor: str) -> Hold:
    """Never chase this debtor: open cases close and new invoices open no case."""
    lock_row(session, Debtor, debtor.id)  # the same exclusion asked twice at once: one hold
    if current_exclusion(session, debtor) is not None:
        raise ActionRefused("Deze debiteur is al uitgesloten.")
    if not reason.strip():
        raise ActionRefused("Geef een reden om de debiteur uit te sluiten.")
    return place_hold(session, HoldKind.EXCLUDED, reason, actor, debtor=debtor)


def include_debtor(session: Session, debtor: Debtor, reason: str, actor: str) -> int:
    """Lift the exclusion and reopen the cases it closed whose invoice is still unpaid.

    Without reopening, an exclusion made by mistake would keep those invoices out of
    pre-incasso for good (a closed case is never opened again). A reopened case that had
    already chased pauses the ledger's own reminders again. Returns how many reopened.
    """
    lock_row(session, Debtor, debtor.id)
    hold = current_exclusion(session, debtor)
    if hold is None:
        raise ActionRefused("Deze debiteur is niet uitgesloten.")
    if not reason.strip():
        raise ActionRefused("Geef een reden om de debiteur weer mee te nemen.")
    end_hold(session, hold, actor, reason.strip())
    reopened = 0
    for case in session.scalars(select(Case).where(
            Case.debtor_id == debtor.id, Case.state == CaseState.CLOSED.value,
            Case.closed_reason == "excluded")):
        invoice = case.invoice
        if invoice.status != InvoiceStatus.OPEN.value:
            continue
        case.state, case.closed_reason, case.closed_at = CaseState.ACTIVE.value, None, None
        reopened += 1
        label = invoice.number or invoice.external_id
        events.record(session, "case.reopened",
                      f"Dossier voor factuur {label} heropend: debiteur weer meegenomen",
                      company_id=case.company_id, actor=actor, subject_type="case",
                      subject_id=case.id)
        writeback.queue_note(session, invoice,
                             f"Pre-incasso hervat: debiteur weer meegenomen. {reason.strip()}",
                             key=writeback.derived_key("reopened", hold.id, case.id),
                             actor=actor)
        if case.next_step > 0:
            writeback.queue(session, invoice, "pause", actor=actor,
                            key=writeback.derived_key("pause-again", hold.id, case.id))
    return reopened


def current_exclusion(session: Session, debtor: Debtor) -> Hold | None:
    return session.scalars(select(Hold).where(
        Hold.debtor_id == debtor.id, Hold.case_id.is_(None),
        Hold.kind == HoldKind.EXCLUDED.value, Hold.ended_at.is_(None))).first()


def planned_delivery(session: Session, case: Case) -> Delivery | None:
    """The case's next planned delivery, if any."""
    return session.scalars(select(Delivery).join(DeliveryCase).where(
        DeliveryCase.case_id == case.id, Delivery.state == DeliveryState.PLANNED.value)
        .order_by(Delivery.due_on)).first()
