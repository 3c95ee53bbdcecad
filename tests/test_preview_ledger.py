"""A company in preview writes nothing to its ledger: no notes, no pauses, no payments.

Counted where it matters, in the emulator's own call log: no write request arrives.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from connector import writeback
from connector.clock import today_nl
from connector.collection.engine import run_company
from connector.models import Case, Invoice, LedgerWrite
from connector.sync import sync_company
from tests.helpers import connect_direct, go_live, unpaid


def _ledger_writes(emulator) -> int:
    """Every request that would change the administration (notes, payments, reminders...)."""
    return sum(1 for c in emulator.calls if c["method"] in ("POST", "PATCH", "PUT", "DELETE")
               and "synchronization" not in c["path"] and "webhooks" not in c["path"])


def _queued(services) -> int:
    with services.db.session() as db:
        return db.scalar(select(func.count()).select_from(LedgerWrite)) or 0


def test_preview_with_300_invoices_marked_paid_writes_nothing(make_services,
                                                               make_moneybird_emulator):
    emulator = make_moneybird_emulator(contacts=80, invoices=1100)
    services = make_services(emulator)
    services.providers.get("moneybird").timeout = (5.0, 30.0)  # big pages on a loaded machine
    adm = emulator.administration_ids()[0]
    company_id = connect_direct(services, emulator, adm)
    assert sync_company(services, company_id).outcome == "ok"
    run_company(services, company_id)  # cases opened and steps planned, in preview
    with services.db.session() as db:
        with_case = set(db.scalars(select(Invoice.external_id).join(Case)
                                   .where(Case.company_id == company_id)))
    targets = [i["id"] for i in unpaid(emulator, adm) if i["id"] in with_case][:300]
    assert len(targets) == 300
    emulator.reset_calls()
    for invoice_id in targets:
        emulator.mark_paid(adm, invoice_id)
    assert sync_company(services, company_id).outcome == "ok"
    run_company(services, company_id)
    writeback.process_outbox(services, limit=1000)
    with services.db.session() as db:
        closed = db.scalar(select(func.count()).select_from(Case).where(
            Case.company_id == company_id, Case.closed_reason == "paid"))
    assert closed == 300  # the cases did close...
    assert _queued(services) == 0  # ...and nothing was queued for the ledger
    assert _ledger_writes(emulator) == 0


def test_the_outbox_holds_writes_of_a_company_back_in_preview(services, moneybird_emulator):
    adm = moneybird_emulator.administration_ids()[0]
    company_id = connect_direct(services, moneybird_emulator, adm)
    sync_company(services, company_id)
    go_live(services, company_id)
    with services.db.session() as db:
        invoice = db.scalars(select(Invoice).where(Invoice.company_id == company_id,
                                                   Invoice.open_amount > 10)).first()
        note = writeback.queue_note(db, invoice, "Pre-incasso: herinnering verstuurd")
        pay = writeback.queue_payment(db, invoice, Decimal("5.00"), today_nl())
        assert note is not None and pay is not None
    go_live(services, company_id, live=False)  # back to preview before the outbox ran
    moneybird_emulator.reset_calls()
    assert writeback.process_outbox(services) == 0
    assert _ledger_writes(moneybird_emulator) == 0
    with services.db.session() as db:
        assert writeback.queue_note(db, db.get(Invoice, invoice.id), "in voorbeeld") is None
        states = set(db.scalars(select(LedgerWrite.state)))
    assert states == {"pending"}  # kept, not lost: they go out when the company is live again
    go_live(services, company_id)
    assert writeback.process_outbox(services) == 2
