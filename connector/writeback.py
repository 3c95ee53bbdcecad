"""The write-back outbox: notes, payments, pauses and resumes for the source ledger.

Every write is first stored with a unique key, then sent by :func:`process_outbox`. Before a
write is sent its row is marked ``sending`` and committed, with a lease: if the process dies
or the answer is lost, the next attempt tells the provider the write may already be there
(``maybe_done``), and the provider looks for the key in the ledger before writing again. So a
note or a payment appears in the ledger exactly once, whatever fails in between.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
from collections.abc import Callable
from contextlib import nullcontext
from datetime import date, timedelta
from decimal import Decimal
from typing import cast

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from connector import events, ledger_errors, notify
from connector.budgets import Lane, budget_lane
from connector.db import insert_unless_present
from connector.formatting import money, short_day
from connector.models import (
    Case,
    CaseState,
    CollectionSettings,
    Company,
    Invoice,
    LedgerWrite,
    LedgerWriteState,
    new_id,
    utcnow,
)
from connector.services import NotConnected, Services
from connector.step_documents import step_document
from providers.base import (
    Capabilities,
    DocumentLedger,
    InvoiceStatus,
    Ledger,
    LedgerDocument,
    PaymentSettings,
)
from providers.http import last_look

log = logging.getLogger(__name__)

SENDING_LEASE = timedelta(minutes=5)
WAIT_FOR_RECONNECT = ledger_errors.WAIT_FOR_RECONNECT
KINDS = ("note", "payment", "pause", "resume")
# The payload field of a note naming the delivery whose PDF goes along (invoice_documents).
DELIVERY = "delivery_id"
# A step note about an invoice that closed a moment ago waits this long for the case to close,
# so it can go into the closing note instead of after it.
WAIT_FOR_CLOSING = timedelta(seconds=3)
CLOSING_GRACE = timedelta(minutes=2)
# The closing note waits for step notes still on their way, at most this long after queuing.
CLOSING_WAIT_MAX = timedelta(minutes=10)
CLOSED_WORDS = {
    InvoiceStatus.PAID.value: "betaald",
    InvoiceStatus.CREDITED.value: "gecrediteerd",
    InvoiceStatus.UNCOLLECTIBLE.value: "afgeboekt als oninbaar",
    InvoiceStatus.DELETED.value: "verwijderd uit de administratie",
}


def new_key() -> str:
    """A key short enough for a ledger's transaction identifier field and readable in a note."""
    return f"PI-{secrets.token_hex(6).upper()}"


def derived_key(*parts: str) -> str:
    """The same key for the same decision, so deciding twice still queues one write."""
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()[:12].upper()
    return f"PI-{digest}"


def form_key(company_id: str, invoice_id: str, kind: str, submission: str) -> str:
    """The key for a write a person asked for in a form: derived from the form's one-time
    submission token (so submitting twice queues one write) inside its own namespace, so no
    token a client sends can reproduce a key of the engine's."""
    return derived_key("form", company_id, invoice_id, kind, submission)


def in_preview(session: Session, company_id: str) -> bool:
    """A company not live (or without settings yet) is in preview: nothing goes to its ledger."""
    settings = session.get(CollectionSettings, company_id)
    return settings is None or not settings.live


def queue(
    session: Session,
    invoice: Invoice,
    kind: str,
    *,
    key: str | None = None,
    actor: str = "system",
    **payload: str,
) -> LedgerWrite | None:
    """Store one write for the outbox; the same key is never queued twice for one company.

    ``key`` is always the server's (:func:`new_key`, :func:`derived_key`, :func:`form_key`),
    never a value a form or request supplied.

    Returns None, and stores nothing, while the company is in preview: a preview writes
    nothing to a ledger (notes, pauses and payments all count against the platform's budget
    and would be visible to the creditor's bookkeeper).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown ledger write kind {kind!r}")
    if in_preview(session, invoice.company_id):
        log.debug("preview: %s for company %s not queued", kind, invoice.company_id)
        return None
    key = key or new_key()
    existing = session.scalars(select(LedgerWrite).where(
        LedgerWrite.company_id == invoice.company_id, LedgerWrite.key == key)).one_or_none()
    if existing is not None:
        return existing
    # Two requests (a form posted twice at once) may both get here: the second insert waits for
    # the first and does nothing, and this call answers with the write the first one queued.
    session.flush()
    inserted = insert_unless_present(session, LedgerWrite, dict(
        id=new_id(), company_id=invoice.company_id, invoice_id=invoice.id, kind=kind, key=key,
        payload=payload, next_attempt_at=utcnow()),
        unique=("company_id", "key"))
    write = session.scalars(select(LedgerWrite).where(
        LedgerWrite.company_id == invoice.company_id, LedgerWrite.key == key)).one()
    if not inserted:
        return write
    events.record(session, f"writeback.{kind}.queued", _describe(write, invoice),
                  company_id=invoice.company_id, actor=actor, subject_type="invoice",
                  subject_id=invoice.id, key=key)
    return write


def queue_note(session: Session, invoice: Invoice, text: str, **kw: str) -> LedgerWrite | None:
    return queue(session, invoice, "note", text=text, **kw)


def queue_payment(
    session: Session, invoice: Invoice, amount: Decimal, paid_on: date, **kw: str
) -> LedgerWrite | None:
    if amount <= 0:
        raise ValueError("a payment must be a positive amount")
    return queue(session, invoice, "payment", amount=f"{amount:.2f}",
                 paid_on=paid_on.isoformat(), **kw)


def queue_step_note(session: Session, invoice: Invoice, text: str, *, key: str, step: str,
                    how: str, sent_on: date, amount: Decimal,
                    delivery_id: str | None = None) -> LedgerWrite:
    """A note about a step that went out, with the facts of that moment kept apart, so a note
    written after the invoice closed can say what was true then (see :func:`_fresh_check`).
    ``delivery_id`` names the step's delivery: a ledger that keeps documents gets the PDF it
    sent along with the note (:func:`_document`)."""
    extra = {DELIVERY: delivery_id} if delivery_id else {}
    return queue(session, invoice, "note", text=text, key=key, about="step", step=step,
                 how=how, sent_on=sent_on.isoformat(), amount=f"{amount:.2f}", **extra)


def historical_step_note(payload: dict[str, str], status: str, *, lead: str = "") -> str:
    """A step note for an invoice that has closed since: what was sent and true on that day."""
    sent_on = date.fromisoformat(payload["sent_on"]).strftime("%d-%m-%Y")
    text = (f"{lead}{payload['step']} verstuurd op {sent_on} per {payload['how']} "
            f"(toen openstaand {money(Decimal(payload['amount']))})")
    if not lead:
        text = f"Pre-incasso: {text}; de factuur is inmiddels {CLOSED_WORDS.get(status, status)}."
    return text


def _describe(write: LedgerWrite, invoice: Invoice) -> str:
    label = invoice.number or invoice.external_id
    if write.kind == "note":
        return f"Notitie voor factuur {label}"
    if write.kind == "payment":
        return f"Betaling van € {write.payload.get('amount')} voor factuur {label}"
    if write.kind == "pause":
        return f"Herinneringen van het boekhoudpakket gepauzeerd voor factuur {label}"
    return f"Herinneringen van het boekhoudpakket hervat voor factuur {label}"


def process_outbox(services: Services, *, limit: int = 50, company_id: str | None = None,
                   stop: threading.Event | None = None) -> int:
    """Send due writes; returns how many were written. Safe to run from several workers.

    When ``stop`` is set (the worker is stopping) the writes claimed but not yet sent are
    handed back at once, instead of waiting out their sending lease.
    """
    done = 0
    claimed = _claim(services, limit, company_id)
    for index, write_id in enumerate(claimed):
        if stop is not None and stop.is_set():
            _hand_back(services, claimed[index:])
            break
        if _send(services, write_id):
            done += 1
    return done


def _hand_back(services: Services, write_ids: list[str]) -> None:
    with services.db.session() as session:
        session.execute(update(LedgerWrite).where(
            LedgerWrite.id.in_(write_ids), LedgerWrite.state == LedgerWriteState.SENDING.value,
        ).values(state=LedgerWriteState.PENDING.value, next_attempt_at=utcnow(),
                 attempts=LedgerWrite.attempts - 1))


def _claim(services: Services, limit: int, company_id: str | None) -> list[str]:
    """Take due writes by marking them ``sending`` under a lease, committed before any send.

    Writes of a company in preview are not taken (queued while it was live, they wait until it
    is live again): a guard behind :func:`queue`, which queues nothing in preview.
    """
    now = utcnow()
    live = select(CollectionSettings.company_id).where(CollectionSettings.live.is_(True))
    with services.db.session() as session:
        query = (
            select(LedgerWrite)
            .where(
                LedgerWrite.state.in_([LedgerWriteState.PENDING, LedgerWriteState.SENDING]),
                LedgerWrite.next_attempt_at <= now,
                LedgerWrite.company_id.in_(live),
            )
            .order_by(LedgerWrite.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        if company_id is not None:
            query = query.where(LedgerWrite.company_id == company_id)
        claimed = []
        for write in session.scalars(query):
            write.state = LedgerWriteState.SENDING.value
            write.attempts += 1
            write.next_attempt_at = now + SENDING_LEASE
            claimed.append(write.id)
    return claimed


def _send(services: Services, write_id: str) -> bool:
    with services.db.session() as session:
        write = session.get(LedgerWrite, write_id)
        invoice = write.invoice
        company = session.get(Company, write.company_id)
        if in_preview(session, write.company_id):  # back to preview since it was claimed
            write.state = LedgerWriteState.PENDING.value
            write.attempts -= 1
            write.next_attempt_at = utcnow() + WAIT_FOR_RECONNECT
            return False
        try:
            ledger = services.ledger_for(company)
        except NotConnected:
            write.state = LedgerWriteState.PENDING.value
            write.next_attempt_at = utcnow() + WAIT_FOR_RECONNECT
            write.last_error = "wacht op nieuwe koppeling"
            return False
        if _fresh_check(session, write, invoice):
            return False
        # The first attempt may also have landed if it was claimed, sent and then lost.
        maybe_done = write.attempts > 1
        kind, key, payload = write.kind, write.key, dict(write.payload)
        external_id = invoice.external_id
        label = invoice.number or invoice.external_id
        payment_settings: PaymentSettings = dict(company.payment_settings or {})
        capabilities = services.providers.get(company.provider).info.capabilities
        if not has_place_for(capabilities, kind):
            # No call, and no "paused" flag on the invoice for a pause that never happened;
            # the queued event already told the creditor what to do on such a platform.
            write.state, write.done_at = LedgerWriteState.DROPPED.value, utcnow()
            write.last_error = "geen plaats voor in dit boekhoudpakket"
            return False

    try:
        document = _document(services, capabilities, kind, payload, label)
        # Only a pause can turn stale while it waits for room (see _still_wanted).
        look = last_look(_still_wanted(services, write_id)) if kind == "pause" else nullcontext()
        with budget_lane(Lane.LEDGER_WRITE), look:
            ref = _perform(ledger, capabilities, kind, external_id, key, payload,
                           payment_settings, maybe_done, document=document)
    except NoLongerWanted as exc:
        with services.db.session() as session:
            write = session.get(LedgerWrite, write_id)
            _drop(session, write, write.invoice, str(exc))
        return False
    except Exception as exc:  # every failure is sorted by the reaction table, bugs included
        _failed(services, write_id, exc)
        return False

    with services.db.session() as session:
        write = session.get(LedgerWrite, write_id)
        write.state, write.ledger_ref, write.done_at = LedgerWriteState.DONE.value, ref, utcnow()
        write.last_error = None
        invoice = write.invoice
        if kind == "pause":
            invoice.ledger_paused = True
            if invoice.status != InvoiceStatus.OPEN.value:
                # It closed while the pause was on its way: lift it again.
                queue(session, invoice, "resume", key=derived_key("resume-late", key))
        elif kind == "resume":
            invoice.ledger_paused = False
        events.record(session, f"writeback.{kind}.done", _describe(write, invoice) + " geschreven",
                      company_id=write.company_id, subject_type="invoice",
                      subject_id=invoice.id, key=key)
    return True


def _fresh_check(session: Session, write: LedgerWrite, invoice: Invoice) -> bool:
    """No stale word in the ledger: look at the case and invoice a write is about right before
    it goes out. True when the write is not to be sent now (dropped, folded or deferred).

    A pause for a closed invoice is dropped (and lifted again when an earlier attempt may have
    landed); a resume for a closed invoice is sent only when something may have paused it; a
    step note for a closed invoice goes into the closing note while that still waits, or else
    says what was true when the step was sent, never a current open amount.
    """
    if (write.kind == "note" and write.payload.get("about") == "closing"
            and utcnow() - write.created_at < CLOSING_WAIT_MAX
            and _step_notes_waiting(session, invoice, write)):
        # A step note of this invoice is still on its way: it goes into this note (or, if it
        # is being written right now, before it), so the closing note is the last word.
        _defer(write)
        return True
    if invoice.status == InvoiceStatus.OPEN.value:
        if write.kind == "pause" and _case_closed(session, invoice):
            _drop(session, write, invoice, "dossier gesloten")
            return True
        return False
    if write.kind == "pause":
        if write.attempts > 1:  # an earlier attempt may have paused it after all
            queue(session, invoice, "resume", key=derived_key("resume-late", write.key))
        _drop(session, write, invoice, f"factuur {CLOSED_WORDS.get(invoice.status, '')}")
        return True
    if write.kind == "resume":
        if invoice.ledger_paused or _pause_may_have_landed(session, invoice):
            return False
        _drop(session, write, invoice, "niets te hervatten")
        return True
    if write.kind != "note" or write.payload.get("about") != "step":
        return False
    case = _latest_case(session, invoice)
    if (case is not None and case.state != CaseState.CLOSED.value and invoice.closed_at
            and utcnow() - invoice.closed_at < CLOSING_GRACE):
        # The engine closes the case (and queues the closing note) a moment after the sync.
        _defer(write)
        return True
    closing = None
    if case is not None:
        closing = session.scalars(
            select(LedgerWrite).where(LedgerWrite.key == derived_key("closed", case.id),
                                      LedgerWrite.state == LedgerWriteState.PENDING.value)
            .with_for_update(skip_locked=True)).one_or_none()
    if closing is not None:
        _fold(session, write, closing, invoice)
        return True
    write.payload = {**write.payload, "text": historical_step_note(write.payload,
                                                                   invoice.status)}
    return False


def fold_step_notes(session: Session, invoice: Invoice, closing: LedgerWrite) -> None:
    """The invoice closed: step notes not yet written go into the closing note, so the ledger
    gets one note telling what was sent and what was true then, and nothing after it."""
    if invoice.status == InvoiceStatus.OPEN.value:
        return  # still open: what the step notes say is still true
    waiting = session.scalars(
        select(LedgerWrite).where(LedgerWrite.invoice_id == invoice.id,
                                  LedgerWrite.kind == "note",
                                  LedgerWrite.state == LedgerWriteState.PENDING.value,
                                  LedgerWrite.id != closing.id)
        .order_by(LedgerWrite.created_at).with_for_update(skip_locked=True))
    for write in list(waiting):
        if write.payload.get("about") == "step":
            _fold(session, write, closing, invoice)


def _fold(session: Session, write: LedgerWrite, closing: LedgerWrite, invoice: Invoice) -> None:
    earlier = historical_step_note(write.payload, invoice.status, lead="Eerder: ")
    closing.payload = {**closing.payload, "text": f"{closing.payload['text']} {earlier}."}
    _drop(session, write, invoice, "opgenomen in de slotnotitie")


def _defer(write: LedgerWrite) -> None:
    """Back in the queue for a moment, as if this attempt had not been claimed."""
    write.state, write.attempts = LedgerWriteState.PENDING.value, write.attempts - 1
    write.next_attempt_at = utcnow() + WAIT_FOR_CLOSING


def _step_notes_waiting(session: Session, invoice: Invoice, closing: LedgerWrite) -> bool:
    waiting = session.scalars(select(LedgerWrite).where(
        LedgerWrite.invoice_id == invoice.id, LedgerWrite.kind == "note",
        LedgerWrite.id != closing.id,
        LedgerWrite.state.in_([LedgerWriteState.PENDING.value, LedgerWriteState.SENDING.value])))
    return any(w.payload.get("about") == "step" for w in waiting)


class NoLongerWanted(Exception):
    """A write stopped at its last look: what it was for ended while it waited for room."""


def _still_wanted(services: Services, write_id: str) -> Callable[[], None]:
    """The outbox's last look before a pause leaves, after any wait for the rate budget: the
    invoice may have been paid (or its case closed) during that wait, and a pause on a paid
    invoice is a stale word. Other writes were judged by :func:`_fresh_check`: notes say what
    was true when the step went out, payments and resumes are always wanted."""

    def check() -> None:
        with services.db.session() as session:
            invoice = session.get(LedgerWrite, write_id).invoice
            if invoice.status != InvoiceStatus.OPEN.value:
                raise NoLongerWanted(f"factuur {CLOSED_WORDS.get(invoice.status, 'gesloten')}")
            if _case_closed(session, invoice):
                raise NoLongerWanted("dossier gesloten")

    return check


def _latest_case(session: Session, invoice: Invoice) -> Case | None:
    return session.scalars(select(Case).where(Case.invoice_id == invoice.id)
                           .order_by(Case.opened_on.desc()).limit(1)).first()


def _case_closed(session: Session, invoice: Invoice) -> bool:
    case = _latest_case(session, invoice)
    return case is not None and case.state == CaseState.CLOSED.value


def _pause_may_have_landed(session: Session, invoice: Invoice) -> bool:
    return session.scalar(select(LedgerWrite.id).where(
        LedgerWrite.invoice_id == invoice.id, LedgerWrite.kind == "pause",
        LedgerWrite.state.in_([LedgerWriteState.DONE.value, LedgerWriteState.SENDING.value]),
    ).limit(1)) is not None


def _drop(session: Session, write: LedgerWrite, invoice: Invoice, reason: str) -> None:
    write.state, write.done_at, write.last_error = LedgerWriteState.DROPPED.value, utcnow(), reason
    events.record(session, f"writeback.{write.kind}.dropped",
                  f"{_describe(write, invoice)} niet geschreven: {reason}"[:500],
                  company_id=write.company_id, subject_type="invoice", subject_id=invoice.id,
                  key=write.key)


def _document(services: Services, capabilities: Capabilities, kind: str,
              payload: dict[str, str], invoice_label: str) -> LedgerDocument | None:
    """The PDF a step note's delivery sent, for a ledger that keeps documents; else None."""
    if (kind != "note" or not payload.get(DELIVERY) or not capabilities.invoice_notes
            or not capabilities.invoice_documents):
        return None
    return step_document(services, payload[DELIVERY], invoice_label)


def _perform(
    ledger: Ledger,
    capabilities: Capabilities,
    kind: str,
    invoice_id: str,
    key: str,
    payload: dict[str, str],
    payment_settings: PaymentSettings,
    maybe_done: bool,
    *,
    document: LedgerDocument | None = None,
) -> str | None:
    """One write, as far as the ledger can take it (:func:`has_place_for` said it has a place):
    a payment a ledger cannot book becomes a note saying so; a note goes with the step's
    ``document`` only to a ledger that keeps documents."""
    if kind == "payment" and not capabilities.register_payment:
        kind, payload = "note", {"text": unbooked_payment_note(payload)}
    if kind == "note":
        if document is not None and capabilities.invoice_documents:
            return cast(DocumentLedger, ledger).add_note_with_document(
                invoice_id, payload["text"], key, document, maybe_done=maybe_done)
        return ledger.add_note(invoice_id, payload["text"], key, maybe_done=maybe_done)
    if kind == "payment":
        return ledger.register_payment(
            invoice_id, Decimal(payload["amount"]), date.fromisoformat(payload["paid_on"]), key,
            payment_settings, maybe_done=maybe_done,
        )
    if kind == "pause":
        ledger.pause_own_reminders(invoice_id)
    else:
        ledger.resume_own_reminders(invoice_id)
    return None


def has_place_for(capabilities: Capabilities, kind: str) -> bool:
    """Whether the ledger can take a write of this kind at all: notes need a place for notes,
    pauses and resumes reminders of the ledger's own, a payment a booking or else a note."""
    if kind == "note":
        return capabilities.invoice_notes
    if kind == "payment":
        return capabilities.register_payment or capabilities.invoice_notes
    return capabilities.pause_own_reminders


def unbooked_payment_note(payload: dict[str, str]) -> str:
    """The words for a payment the ledger cannot book through the connection."""
    amount, paid_on = Decimal(payload["amount"]), date.fromisoformat(payload["paid_on"])
    return (f"Betaling van {money(amount)} ontvangen op {short_day(paid_on)}; niet als betaling "
            "geboekt: deze boekhouding neemt via de koppeling geen betalingen aan")


def _failed(services: Services, write_id: str, exc: Exception) -> None:
    """React to a failed write as the table says (:mod:`connector.ledger_errors`): give up on a
    rejected one, wait for the platform or the creditor's reconnect, or back off."""
    now = utcnow()
    reaction = ledger_errors.reaction_for(exc)
    with services.db.session() as session:
        write = session.get(LedgerWrite, write_id)
        write.last_error = ledger_errors.describe(exc)
        if reaction.gives_up:
            write.state = LedgerWriteState.FAILED.value
            events.record(session, f"writeback.{write.kind}.failed",
                          f"Schrijven naar het boekhoudpakket geweigerd: {exc}",
                          company_id=write.company_id, subject_type="invoice",
                          subject_id=write.invoice_id, key=write.key)
            return
        write.state = LedgerWriteState.PENDING.value
        write.next_attempt_at = ledger_errors.retry_at(
            exc, failures=write.attempts, base_seconds=services.settings.retry_base_seconds,
            now=now)
        if reaction.reconnect:
            notify.report_dead_grant(services, session,
                                            session.get(Company, write.company_id), exc)
    if reaction is ledger_errors.UNEXPECTED:
        log.error("ledger write %s failed in our own code (%s)", write_id, type(exc).__name__,
                  exc_info=exc)
    else:
        log.warning("ledger write %s not done yet: %s", write_id, ledger_errors.describe(exc))
