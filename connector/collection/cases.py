"""Opening, updating and closing cases from the local mirror; holds and their ends.

Everything here is a database decision (no API calls): which overdue invoices open a case, which
cases a payment, credit note or write-off closes, which holds have run out. Each decision goes
into the event log and, where the creditor's ledger should tell the story, into the outbox.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import ColumnElement, and_, insert, or_, select
from sqlalchemy.orm import Session, joinedload

from connector import events, writeback
from connector.collection import prescription
from connector.collection.policy import Policy, default_policy, parse_policy, policy_to_json
from connector.db import lock_row
from connector.formatting import money, short_day
from connector.models import (
    Case,
    CaseState,
    CollectionSettings,
    Company,
    Debtor,
    Delivery,
    DeliveryCase,
    DeliveryState,
    Event,
    Hold,
    HoldKind,
    Invoice,
    LedgerWrite,
    LedgerWriteState,
    new_id,
    utcnow,
)
from providers.base import InvoiceStatus

OPEN_CASE_STATES = (CaseState.ACTIVE, CaseState.ON_HOLD)
TIME_BARRED = "time_barred"  # Case.closed_reason (connector.collection.prescription)
CLOSE_REASONS = {
    InvoiceStatus.PAID.value: "betaald",
    InvoiceStatus.CREDITED.value: "gecrediteerd",
    InvoiceStatus.UNCOLLECTIBLE.value: "afgeboekt als oninbaar",
    InvoiceStatus.DELETED.value: "verwijderd uit de administratie",
    "excluded": "debiteur uitgesloten van pre-incasso",
}
HOLD_LABELS = {
    HoldKind.DISPUTE: "betwisting",
    HoldKind.PROMISE: "betaalbelofte",
    HoldKind.PAYMENT_PLAN: "betalingsregeling",
    HoldKind.PAUSE: "pauze",
    HoldKind.EXCLUDED: "debiteur uitgesloten",
    HoldKind.HANDOVER: "overgedragen aan incasso",
    HoldKind.PAID_CHECK: "betaling wordt gecontroleerd",
    HoldKind.PLAN_PROPOSAL: "voorstel betalingsregeling",
    HoldKind.CALL_BACK: "terugbelverzoek",
}


def settings_for(session: Session, company_id: str) -> CollectionSettings:
    """The company's collection settings, created with the Dutch default on first use."""
    settings = session.get(CollectionSettings, company_id)
    if settings is None:
        company = session.get(Company, company_id)
        settings = CollectionSettings(
            company_id=company_id,
            live=False,
            policy=policy_to_json(default_policy()),
            sender={"name": company.name if company else ""},
        )
        session.add(settings)
        session.flush()
    return settings


def policy_for(session: Session, company_id: str) -> Policy:
    return parse_policy(settings_for(session, company_id).policy)


def _note(session: Session, case: Case, text: str, *key_parts: str) -> None:
    writeback.queue_note(session, case.invoice, text, key=writeback.derived_key(*key_parts))


def active_holds(session: Session, case: Case) -> list[Hold]:
    return list(
        session.scalars(
            select(Hold).where(
                Hold.ended_at.is_(None),
                or_(
                    Hold.case_id == case.id,
                    and_(Hold.case_id.is_(None), Hold.debtor_id == case.debtor_id),
                ),
            )
        )
    )


def not_time_barred(today: date) -> ColumnElement[bool]:
    """Invoices whose claim is not time-barred (connector.collection.prescription): those that
    are get no case; the creditor reviews them instead."""
    consumer = prescription.oldest_chaseable_due_date("consumer", today)
    other = prescription.oldest_chaseable_due_date("business", today)
    return or_(and_(Debtor.kind == "consumer", Invoice.due_date >= consumer),
               and_(Debtor.kind != "consumer", Invoice.due_date >= other))


# The Dutch flow (letters, the BIK scale, payment boxes with an EPC code) is in euros: an
# invoice in another currency is mirrored and shown, never chased.
CHASED_CURRENCY = "EUR"


def open_new_cases(session: Session, company_id: str, today: date, policy: Policy) -> list[str]:
    """A case per overdue invoice in euros above the minimum, of a debtor that is not excluded,
    whose claim is not time-barred.

    Returns the ids of the new cases.
    """
    threshold = today - timedelta(days=policy.start_after_days)
    excluded = select(Hold.debtor_id).where(
        Hold.company_id == company_id,
        Hold.kind == HoldKind.EXCLUDED.value,
        Hold.ended_at.is_(None),
        Hold.debtor_id.is_not(None),
    )
    candidates = session.execute(
        select(Invoice, Debtor.kind)
        .join(Debtor, Debtor.id == Invoice.debtor_id)
        .outerjoin(Case, Case.invoice_id == Invoice.id)
        .where(
            Invoice.company_id == company_id,
            Invoice.status == InvoiceStatus.OPEN.value,
            Invoice.currency == CHASED_CURRENCY,
            Invoice.due_date <= threshold,
            Invoice.open_amount >= policy.minimum_amount,
            Invoice.debtor_id.not_in(excluded),
            Case.id.is_(None),
            not_time_barred(today),
        )
        .order_by(Invoice.due_date)
    ).all()
    # Written in bulk (one INSERT per table, ids made here): 100,000 cases must open fast.
    now = utcnow()
    cases, opened_events = [], []
    for invoice, kind in candidates:
        case_id = new_id()
        cases.append({
            "id": case_id, "company_id": company_id, "invoice_id": invoice.id,
            "debtor_id": invoice.debtor_id, "variant": kind, "state": CaseState.ACTIVE.value,
            "next_step": 0, "opened_on": today, "principal": invoice.open_amount,
            "opened_at": now,
        })
        label = invoice.number or invoice.external_id
        opened_events.append({
            "company_id": company_id, "at": now, "actor": "system", "kind": "case.opened",
            "subject_type": "case", "subject_id": case_id, "data": {},
            "message": f"Dossier geopend voor factuur {label} ({money(invoice.open_amount)}, "
                       f"{invoice.days_overdue(today)} dagen te laat)",
        })
    if cases:
        session.execute(insert(Case), cases)
        session.execute(insert(Event), opened_events)
    return [c["id"] for c in cases]


def refresh_cases(session: Session, company_id: str, today: date) -> None:
    """Apply what the mirror says: closed invoices, changed amounts, holds that ran out.

    Invoices and open holds are loaded once for the company, not per case.
    """
    cases = session.scalars(
        select(Case)
        .options(joinedload(Case.invoice))
        .where(
            Case.company_id == company_id,
            Case.state.in_([s.value for s in (*OPEN_CASE_STATES, CaseState.READY_FOR_HANDOVER)]),
        )
    ).all()
    by_case: dict[str, list[Hold]] = defaultdict(list)
    by_debtor: dict[str, list[Hold]] = defaultdict(list)
    for hold in session.scalars(select(Hold).where(Hold.company_id == company_id,
                                                   Hold.ended_at.is_(None))):
        if hold.case_id:
            by_case[hold.case_id].append(hold)
        elif hold.debtor_id:
            by_debtor[hold.debtor_id].append(hold)
    for case in cases:
        invoice = case.invoice
        if invoice.status != InvoiceStatus.OPEN.value:
            close_case(session, case, invoice.status, actor="system")
            continue
        if case.last_step_on is None and prescription.is_time_barred(
                invoice.due_date, case.variant, today):
            _leave_time_barred(session, case)
            continue
        if invoice.open_amount != case.principal:
            events.record(
                session,
                "case.amount_changed",
                f"Openstaand bedrag gewijzigd van {money(case.principal)} naar "
                f"{money(invoice.open_amount)} (deelbetaling of correctie)",
                company_id=company_id,
                subject_type="case",
                subject_id=case.id,
            )
            case.principal = invoice.open_amount
            _drop_planned(session, case, "bedrag gewijzigd; opnieuw gepland")
        holds = by_case[case.id] + by_debtor[case.debtor_id]
        for hold in holds:
            if (hold.ended_at is None and hold.until is not None and hold.until < today
                    and hold.kind != HoldKind.EXCLUDED):
                reason = ("betaalbelofte niet nagekomen" if hold.kind == HoldKind.PROMISE
                          else "einddatum verstreken")
                end_hold(session, hold, actor="system", reason=reason)
        if case.state in (CaseState.ACTIVE, CaseState.ON_HOLD):
            on_hold = any(h.ended_at is None for h in holds)
            case.state = (CaseState.ON_HOLD if on_hold else CaseState.ACTIVE).value


def _leave_time_barred(session: Session, case: Case) -> None:
    """A case whose claim became time-barred before anything went out: closed without a note
    (nothing reached the debtor or the ledger); the invoice is listed for review instead."""
    case.state, case.closed_reason, case.closed_at = (
        CaseState.CLOSED.value, TIME_BARRED, utcnow())
    _drop_planned(session, case, "mogelijk verjaard")
    label = case.invoice.number or case.invoice.external_id
    events.record(session, "case.closed",
                  f"Dossier voor factuur {label} gesloten: mogelijk verjaard; niet automatisch "
                  "aangemaand", company_id=case.company_id, subject_type="case",
                  subject_id=case.id)


def close_case(session: Session, case: Case, status: str, actor: str) -> None:
    reason = CLOSE_REASONS.get(status, status)
    case.state, case.closed_reason, case.closed_at = CaseState.CLOSED.value, status, utcnow()
    _drop_planned(session, case, f"factuur {reason}")
    for hold in active_holds(session, case):
        if hold.case_id == case.id:
            hold.ended_at, hold.ended_reason = utcnow(), "dossier gesloten"
    label = case.invoice.number or case.invoice.external_id
    events.record(
        session,
        "case.closed",
        f"Dossier voor factuur {label} gesloten: {reason}",
        company_id=case.company_id,
        actor=actor,
        subject_type="case",
        subject_id=case.id,
    )
    if status == "excluded":
        _note(session, case, f"Pre-incasso beëindigd: {reason}.", "closed", case.id)
    else:
        closing = writeback.queue_note(session, case.invoice,
                                       f"Pre-incasso beëindigd: factuur {reason}.",
                                       key=writeback.derived_key("closed", case.id),
                                       about="closing")
        if closing is not None:  # None in preview: nothing goes to the ledger
            writeback.fold_step_notes(session, case.invoice, closing)
    if case.invoice.status == InvoiceStatus.OPEN.value:
        # Ended without hand-over while still unpaid: the ledger's own reminders take over again.
        writeback.queue(session, case.invoice, "resume",
                        key=writeback.derived_key("resume", case.id))
    elif case.invoice.ledger_paused or _pause_queued(session, case):
        # Paid (or closed otherwise) while our pause is on it or on its way: no pause stays on a
        # closed invoice. The outbox drops a pause still waiting and this resume with it.
        writeback.queue(session, case.invoice, "resume",
                        key=writeback.derived_key("resume", case.id))


def _pause_queued(session: Session, case: Case) -> bool:
    return session.scalar(select(LedgerWrite.id).where(
        LedgerWrite.invoice_id == case.invoice_id, LedgerWrite.kind == "pause",
        LedgerWrite.state != LedgerWriteState.DROPPED.value).limit(1)) is not None


def _drop_planned(session: Session, case: Case, reason: str) -> None:
    """Take the case out of deliveries not yet made (planned, or waiting on the call list);
    a delivery left without cases is skipped."""
    links = session.scalars(
        select(DeliveryCase)
        .join(Delivery)
        .where(
            DeliveryCase.case_id == case.id,
            # a call still waiting on the call list goes too: nobody should call about it now
            Delivery.state.in_([DeliveryState.PLANNED.value, DeliveryState.CALLING.value]),
        )
    )
    for link in list(links):
        delivery = link.delivery
        delivery.cases.remove(link)
        session.flush()
        if not delivery.cases:
            delivery.state, delivery.skip_reason = DeliveryState.SKIPPED.value, reason
            events.record(
                session,
                "step.skipped",
                f"Stap '{delivery.step_name}' vervalt: {reason}",
                company_id=case.company_id,
                subject_type="delivery",
                subject_id=delivery.id,
            )


def place_hold(
    session: Session,
    kind: HoldKind,
    reason: str,
    actor: str,
    *,
    case: Case | None = None,
    debtor: Debtor | None = None,
    until: date | None = None,
) -> Hold:
    """Stop a case (or every case of a debtor) from moving, with reason, who and until when."""
    if (case is None) == (debtor is None):
        raise ValueError("een hold geldt voor een dossier of voor een debiteur")
    if not reason.strip():
        raise ValueError("geef een reden voor de hold")
    if kind == HoldKind.PROMISE and until is None:
        raise ValueError("een betaalbelofte heeft een datum nodig")
    company_id = case.company_id if case else debtor.company_id
    # The same hold asked twice at once (a form posted twice): the second waits for the first
    # and answers with its hold instead of placing another.
    lock_row(session, Case if case else Debtor, case.id if case else debtor.id)
    target = Hold.case_id == case.id if case else and_(Hold.debtor_id == debtor.id,
                                                          Hold.case_id.is_(None))
    same = session.scalars(select(Hold).where(
        target, Hold.kind == kind.value, Hold.reason == reason.strip()[:300],
        Hold.until == until if until else Hold.until.is_(None),
        Hold.ended_at.is_(None))).first()
    if same is not None:
        return same
    hold = Hold(
        company_id=company_id,
        case_id=case.id if case else None,
        debtor_id=debtor.id if debtor else None,
        kind=kind.value,
        reason=reason.strip()[:300],
        actor=actor,
        until=until,
    )
    session.add(hold)
    session.flush()
    affected = (
        [case]
        if case
        else list(
            session.scalars(
                select(Case).where(
                    Case.debtor_id == debtor.id,
                    Case.state.in_([CaseState.ACTIVE.value, CaseState.ON_HOLD.value]),
                )
            )
        )
    )
    label = HOLD_LABELS[kind]
    until_text = f" tot en met {short_day(until)}" if until else ""
    for affected_case in affected:
        _drop_planned(session, affected_case, label)
        if kind == HoldKind.EXCLUDED:
            close_case(session, affected_case, "excluded", actor)
            continue
        if kind == HoldKind.HANDOVER:
            affected_case.state = CaseState.HANDED_OVER.value
        else:
            affected_case.state = CaseState.ON_HOLD.value
        _note(
            session,
            affected_case,
            f"Pre-incasso {short_day(utcnow().date())}: {label}"
            f"{until_text}. {reason.strip()[:200]}",
            "hold",
            hold.id,
            affected_case.id,
        )
    events.record(
        session,
        f"hold.{kind.value}",
        f"{label.capitalize()}{until_text}: {reason}",
        company_id=company_id,
        actor=actor,
        subject_type="case" if case else "debtor",
        subject_id=case.id if case else debtor.id,
    )
    return hold


def end_hold(session: Session, hold: Hold, actor: str, reason: str) -> None:
    hold.ended_at, hold.ended_reason = utcnow(), reason[:200]
    cases = (
        [session.get(Case, hold.case_id)]
        if hold.case_id
        else list(
            session.scalars(
                select(Case).where(
                    Case.debtor_id == hold.debtor_id, Case.state == CaseState.ON_HOLD.value
                )
            )
        )
    )
    for case in cases:
        if case.state == CaseState.ON_HOLD and not active_holds(session, case):
            case.state = CaseState.ACTIVE.value
            _note(session, case, f"Pre-incasso hervat: {reason}.", "resume", hold.id, case.id)
    events.record(
        session,
        f"hold.{hold.kind}.ended",
        f"{HOLD_LABELS[HoldKind(hold.kind)].capitalize()} beëindigd: {reason}",
        company_id=hold.company_id,
        actor=actor,
        subject_type="hold",
        subject_id=hold.id,
    )
