"""The outbox: each note and payment lands in the ledger exactly once, whatever fails."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import time_machine
from sqlalchemy import select

from connector import writeback
from connector.clock import today_nl
from connector.models import Event, Invoice, LedgerWrite, utcnow
from connector.sync import sync_company
from tests.helpers import connect_direct, go_live


def _setup(services, emulator):
    adm = emulator.administration_ids()[0]
    company_id = connect_direct(services, emulator, adm)
    go_live(services, company_id)  # a preview writes nothing to the ledger
    sync_company(services, company_id)
    with services.db.session() as db:
        invoice = db.scalars(select(Invoice).where(Invoice.company_id == company_id,
                                                   Invoice.open_amount > 10)).first()
    return adm, company_id, invoice


def _queue(services, invoice, kind, **payload):
    with services.db.session() as db:
        inv = db.get(Invoice, invoice.id)
        if kind == "note":
            return writeback.queue_note(db, inv, payload["text"]).key
        return writeback.queue_payment(db, inv, payload["amount"], today_nl()).key


def _notes_with(emulator, adm, invoice, key):
    return [n for n in emulator.notes(adm, invoice.external_id) if key in n["note"]]


def test_note_and_payment_written_once(services, moneybird_emulator):
    adm, _, invoice = _setup(services, moneybird_emulator)
    note_key = _queue(services, invoice, "note", text="Pre-incasso: herinnering verstuurd")
    pay_key = _queue(services, invoice, "payment", amount=Decimal("5.00"))

    assert writeback.process_outbox(services) == 2
    assert writeback.process_outbox(services) == 0

    assert len(_notes_with(moneybird_emulator, adm, invoice, note_key)) == 1
    payments = [p for p in moneybird_emulator.payments(adm, invoice.external_id)
                if p.get("transaction_identifier") == pay_key]
    assert len(payments) == 1 and Decimal(payments[0]["price"]) == Decimal("5.00")


def test_timed_out_first_attempt_does_not_duplicate(services, moneybird_emulator):
    adm, _, invoice = _setup(services, moneybird_emulator)
    # The ledger applies the write but its answer is lost (the connection drops).
    moneybird_emulator.inject_lost_answer("POST", "/notes")
    moneybird_emulator.inject_lost_answer("POST", "/payments")
    note_key = _queue(services, invoice, "note", text="Pre-incasso: brief verstuurd")
    pay_key = _queue(services, invoice, "payment", amount=Decimal("2.50"))

    writeback.process_outbox(services)

    assert len(_notes_with(moneybird_emulator, adm, invoice, note_key)) == 1
    assert len([p for p in moneybird_emulator.payments(adm, invoice.external_id)
                if p.get("transaction_identifier") == pay_key]) == 1
    with services.db.session() as db:
        states = set(db.scalars(select(LedgerWrite.state)))
    assert states == {"done"}


def test_crash_between_sending_and_sent_never_writes_twice(services, moneybird_emulator):
    adm, _company_id, invoice = _setup(services, moneybird_emulator)
    key = _queue(services, invoice, "note", text="Pre-incasso: gebeld")
    # A worker claims the write, sends it, and dies before recording the outcome.
    [write_id] = writeback._claim(services, 10, None)
    with services.db.session() as db:
        company = db.get(Invoice, invoice.id).company_id
        from connector.models import Company

        ledger = services.ledger_for(db.get(Company, company))
    ledger.add_note(invoice.external_id, "Pre-incasso: gebeld", key)

    assert writeback.process_outbox(services) == 0  # still leased to the dead worker
    with time_machine.travel(utcnow() + timedelta(minutes=6)):
        assert writeback.process_outbox(services) == 1

    assert len(_notes_with(moneybird_emulator, adm, invoice, key)) == 1
    with services.db.session() as db:
        assert db.get(LedgerWrite, write_id).state == "done"


def test_server_error_retried_later_and_rejection_recorded(services, moneybird_emulator):
    adm, _company_id, invoice = _setup(services, moneybird_emulator)
    moneybird_emulator.inject_error("POST", "/notes", status=500, times=2)
    key = _queue(services, invoice, "note", text="Pre-incasso: sms verstuurd")

    assert writeback.process_outbox(services) == 0
    with services.db.session() as db:
        write = db.scalars(select(LedgerWrite).where(LedgerWrite.key == key)).one()
        assert write.state == "pending" and write.next_attempt_at > utcnow()
    with time_machine.travel(utcnow() + timedelta(minutes=2)):
        assert writeback.process_outbox(services) == 1
    assert len(_notes_with(moneybird_emulator, adm, invoice, key)) == 1

    moneybird_emulator.inject_error("POST", "/payments", status=422)
    _queue(services, invoice, "payment", amount=Decimal("1.00"))
    writeback.process_outbox(services)
    with services.db.session() as db:
        failed = db.scalars(select(LedgerWrite).where(LedgerWrite.kind == "payment")).one()
        assert failed.state == "failed" and "422" in failed.last_error
        assert db.scalars(select(Event).where(Event.kind == "writeback.payment.failed")).one()


def test_pause_and_resume_moneybirds_own_reminders(services, moneybird_emulator):
    adm, _, invoice = _setup(services, moneybird_emulator)
    with services.db.session() as db:
        writeback.queue(db, db.get(Invoice, invoice.id), "pause")
    writeback.process_outbox(services)
    assert moneybird_emulator.invoice(adm, invoice.external_id)["paused"] is True
    with services.db.session() as db:
        assert db.get(Invoice, invoice.id).ledger_paused is True
        writeback.queue(db, db.get(Invoice, invoice.id), "resume")
    writeback.process_outbox(services)
    assert moneybird_emulator.invoice(adm, invoice.external_id)["paused"] is False


def test_a_pause_that_waited_for_room_while_the_invoice_was_paid_never_leaves(
        services, moneybird_emulator, monkeypatch):
    """Payments first: at a go-live backlog a pause can wait seconds for room in the rate
    budget. If the invoice is paid during that wait, the pause is stopped at its last look,
    right before the call, instead of landing on a paid invoice."""
    adm, _company_id, invoice = _setup(services, moneybird_emulator)
    with services.db.session() as db:
        pause = writeback.queue(db, db.get(Invoice, invoice.id), "pause")
        pause_id = pause.id
    budget = services.providers.get("moneybird").budget
    waited = budget.acquire

    def wait_while_the_payment_is_seen(key):
        with services.db.session() as db:  # what the payment-first sync does meanwhile
            db.get(Invoice, invoice.id).status = "paid"
        waited(key)

    monkeypatch.setattr(budget, "acquire", wait_while_the_payment_is_seen)
    calls_before = len(moneybird_emulator.calls)
    assert writeback.process_outbox(services) == 0
    assert not [c for c in moneybird_emulator.calls[calls_before:] if "pause" in c["path"]]
    assert moneybird_emulator.invoice(adm, invoice.external_id)["paused"] is False
    with services.db.session() as db:
        write = db.get(LedgerWrite, pause_id)
        assert write.state == "dropped" and write.last_error == "factuur betaald"
        assert db.get(Invoice, invoice.id).ledger_paused is False
        assert not db.scalars(select(LedgerWrite).where(LedgerWrite.kind == "resume")).all()


def test_payment_booked_the_way_the_company_chose(services, moneybird_emulator):
    import requests

    from connector.models import Company

    adm, company_id, invoice = _setup(services, moneybird_emulator)
    token = moneybird_emulator.issue_token([adm])[0]
    accounts = requests.get(f"{moneybird_emulator.server.url}/api/v2/{adm}/financial_accounts.json",
                            headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
    cash = accounts[-1]["id"]
    with services.db.session() as db:
        db.get(Company, company_id).payment_settings = {
            "manual_payment_action": "cash_payment", "financial_account_id": cash}
    key = _queue(services, invoice, "payment", amount=Decimal("3.00"))
    writeback.process_outbox(services)
    [payment] = [p for p in moneybird_emulator.payments(adm, invoice.external_id)
                 if p.get("transaction_identifier") == key]
    assert payment["manual_payment_action"] == "cash_payment"
    assert payment["financial_account_id"] == cash


class _RecordingLedger:
    """Records what the outbox asks of a ledger (the capability checks come before any call)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def add_note(self, invoice_id, text, key, *, maybe_done=False):
        self.calls.append(("note", invoice_id, text))
        return "note-1"

    def add_note_with_document(self, invoice_id, text, key, document, *, maybe_done=False):
        self.calls.append(("document", invoice_id, text, document.label, document.content))
        return "document-1"

    def register_payment(self, invoice_id, amount, paid_on, key, settings, *, maybe_done=False):
        self.calls.append(("payment", invoice_id, str(amount)))
        return "payment-1"

    def pause_own_reminders(self, invoice_id):
        self.calls.append(("pause", invoice_id))

    def resume_own_reminders(self, invoice_id):
        self.calls.append(("resume", invoice_id))


def test_a_write_goes_only_as_far_as_the_ledger_can_take_it():
    from providers.base import Capabilities

    payment = {"amount": "40.50", "paid_on": "2026-03-02"}
    full = Capabilities(invoice_notes=True, register_payment=True, pause_own_reminders=True)
    ledger = _RecordingLedger()
    assert writeback._perform(ledger, full, "payment", "inv", "k", payment, {}, False) \
        == "payment-1"
    assert ledger.calls == [("payment", "inv", "40.50")]

    # A ledger that cannot book a payment gets a note that says so instead.
    ledger = _RecordingLedger()
    notes_only = Capabilities(invoice_notes=True)
    assert writeback._perform(ledger, notes_only, "payment", "inv", "k", payment, {}, False) \
        == "note-1"
    [(kind, _, text)] = ledger.calls
    assert kind == "note" and "€\xa040,50" in text and "02-03-2026" in text
    assert "niet als betaling geboekt" in text
    # Pauses where the ledger has no reminders of its own, notes where it has no notes: no place.
    assert not writeback.has_place_for(notes_only, "pause")
    assert not writeback.has_place_for(notes_only, "resume")
    assert not writeback.has_place_for(Capabilities(), "note")
    assert not writeback.has_place_for(Capabilities(), "payment")
    assert writeback.has_place_for(notes_only, "payment")
    assert writeback.has_place_for(full, "pause")


def test_a_step_pdf_goes_only_to_a_ledger_that_keeps_documents():
    from providers.base import Capabilities, LedgerDocument

    letter = LedgerDocument(b"%PDF-1.7 the letter", "Profitletter")
    note = {"text": "Pre-incasso: Profitletter verstuurd per post en e-mail.", "about": "step",
            "delivery_id": "d" * 32}
    # A ledger without the capability gets the note, never the document, even if it could.
    ledger = _RecordingLedger()
    assert writeback._perform(ledger, Capabilities(invoice_notes=True), "note", "inv", "k",
                              note, {}, False, document=letter) == "note-1"
    assert ledger.calls == [("note", "inv", note["text"])]
    # A ledger that keeps documents gets the PDF with the note; without a PDF the note alone.
    keeps = Capabilities(invoice_notes=True, invoice_documents=True)
    ledger = _RecordingLedger()
    assert writeback._perform(ledger, keeps, "note", "inv", "k", note, {}, False,
                              document=letter) == "document-1"
    assert writeback._perform(ledger, keeps, "note", "inv", "k", note, {}, False) == "note-1"
    assert ledger.calls == [("document", "inv", note["text"], "Profitletter",
                             b"%PDF-1.7 the letter"), ("note", "inv", note["text"])]
    # Without a place for notes nothing is written, document or not.
    assert not writeback.has_place_for(Capabilities(invoice_documents=True), "note")


def test_the_outbox_looks_up_no_pdf_for_a_ledger_without_documents(services, moneybird_emulator,
                                                                  monkeypatch):
    """A step note names its delivery; for a ledger without ``invoice_documents`` the outbox
    does not even look for the PDF, and the note goes as it always did."""
    from datetime import date

    adm, _, invoice = _setup(services, moneybird_emulator)

    def never(*args, **kwargs):
        raise AssertionError("no PDF is looked up for this ledger")

    monkeypatch.setattr(writeback, "step_document", never)
    with services.db.session() as db:
        key = writeback.queue_step_note(
            db, db.get(Invoice, invoice.id), "Pre-incasso: Profitletter verstuurd.",
            key=writeback.new_key(), step="Profitletter", how="post", sent_on=date(2026, 3, 2),
            amount=Decimal("10.00"), delivery_id="d" * 32).key
    assert writeback.process_outbox(services) == 1
    [note] = _notes_with(moneybird_emulator, adm, invoice, key)
    assert "Profitletter verstuurd" in note["note"]
