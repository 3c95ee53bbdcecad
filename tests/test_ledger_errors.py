"""The one reaction table for ledger errors, and the places that had drifted from it.

Before the table, only the sync told the creditor about a dead grant; the outbox let a
RefreshTooEarly or a bug of ours escape with the batch; the stamp step through Moneybird's own
reminder turned a rate limit into a failed step; the keep-alive found dead grants silently.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from connector import ledger_errors, writeback
from connector.channels.smtp_capture import CaptureSmtpServer
from connector.collection.cases import settings_for
from connector.ledger_errors import Wait, backoff, reaction_for, retry_at
from connector.models import Delivery, Grant, Invoice, LedgerWrite, utcnow
from connector.sync import sync_company
from connector.worker import keep_alive
from providers.base import (
    RateLimited,
    ReconnectRequired,
    RefreshTooEarly,
    Rejected,
    Transient,
)
from providers.moneybird.client import MoneybirdLedger
from tests.helpers import connect_direct, go_live
from tests.test_engine import World

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CREDITOR = "boekhouding@zoet.example"


# -- the table ------------------------------------------------------------------------------


def test_each_kind_has_one_row() -> None:
    later = NOW + timedelta(minutes=3)
    cases = [
        (ReconnectRequired("dead"), "reconnect_needed", Wait.RECONNECT, True),
        (ReconnectRequired("scope", missing_scope="sales_invoices"), "reconnect_needed",
         Wait.RECONNECT, True),
        (RateLimited("slow down", retry_at=later), "rate_limited", Wait.PLATFORM, False),
        (Transient("503"), "error", Wait.BACKOFF, False),
        (Transient("lost", ambiguous=True), "error", Wait.BACKOFF, False),
        (RefreshTooEarly("fresh"), "error", Wait.BACKOFF, False),
        (Rejected("422", status=422), "rejected", Wait.NEVER, False),
        (KeyError("bug"), "error", Wait.BACKOFF, False),
    ]
    for exc, outcome, wait, reconnect in cases:
        reaction = reaction_for(exc)
        assert (reaction.outcome, reaction.wait, reaction.reconnect) == (outcome, wait,
                                                                        reconnect), exc
    assert not reaction_for(RateLimited("x", retry_at=later)).counts_as_failure
    assert reaction_for(Rejected("x")).gives_up and not reaction_for(Transient("x")).gives_up


def test_one_backoff_formula_doubling_and_capped() -> None:
    assert [backoff(n, 30).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff(1, 30, scale=ledger_errors.SYNC_BACKOFF_SCALE) == timedelta(minutes=2)
    assert backoff(50, 30) == ledger_errors.MAX_BACKOFF == timedelta(hours=1)
    assert backoff(0, 30) == timedelta(seconds=30)


def test_when_to_try_again() -> None:
    later = NOW + timedelta(minutes=3)
    kw = {"failures": 2, "base_seconds": 30, "now": NOW}
    assert retry_at(RateLimited("x", retry_at=later), **kw) == later
    assert retry_at(Transient("x"), **kw) == NOW + timedelta(seconds=60)
    assert retry_at(RuntimeError("x"), **kw) == NOW + timedelta(seconds=60)
    assert retry_at(ReconnectRequired("x"), **kw) == NOW + ledger_errors.WAIT_FOR_RECONNECT
    assert retry_at(Rejected("x"), **kw) is None


def test_an_unexpected_error_is_described_without_its_message() -> None:
    assert ledger_errors.describe(ValueError("Jan Jansen, Dorpsstraat 1")) == \
        "interne fout (ValueError)"
    assert ledger_errors.describe(Rejected("HTTP 422: invalid")) == "HTTP 422: invalid"


# -- the outbox ------------------------------------------------------------------------------


@pytest.fixture
def mail():
    server = CaptureSmtpServer().start()
    yield server
    server.stop()


def _notices(mail) -> list:
    return [m for m in mail.messages if "opnieuw" in m["Subject"]]


def _outbox_company(make_services, emulator, mail):
    services = make_services(emulator, smtp_url=mail.url)
    company_id = connect_direct(services, emulator)
    with services.db.session() as db:
        settings_for(db, company_id).sender = {"name": "Zoet", "email": CREDITOR}
    go_live(services, company_id)
    sync_company(services, company_id)
    with services.db.session() as db:
        invoices = list(db.scalars(select(Invoice).where(Invoice.company_id == company_id)
                                   .limit(2)))
    return services, company_id, invoices


def test_a_dead_grant_found_by_the_outbox_reaches_the_creditor_once(
        make_services, moneybird_emulator, mail):
    services, _company_id, invoices = _outbox_company(make_services, moneybird_emulator, mail)
    with services.db.session() as db:
        for invoice in invoices:
            writeback.queue_note(db, db.get(Invoice, invoice.id), "Pre-incasso: notitie")
    moneybird_emulator.revoke_tokens()

    assert writeback.process_outbox(services) == 0
    with time_machine.travel(utcnow() + timedelta(minutes=20)):
        assert writeback.process_outbox(services) == 0

    with services.db.session() as db:
        assert db.scalars(select(Grant)).one().status == "reconnect_needed"
        writes = list(db.scalars(select(LedgerWrite)))
    assert {w.state for w in writes} == {"pending"}
    assert len(_notices(mail)) == 1  # once per grant, not once per write


def test_a_bug_in_one_write_backs_off_and_the_batch_goes_on(
        make_services, moneybird_emulator, mail, monkeypatch):
    services, _company_id, invoices = _outbox_company(make_services, moneybird_emulator, mail)
    with services.db.session() as db:
        broken = writeback.queue_note(db, db.get(Invoice, invoices[0].id), "eerste").key
        writeback.queue_note(db, db.get(Invoice, invoices[1].id), "tweede")
    add_note = MoneybirdLedger.add_note

    def sometimes_broken(self, invoice_id, text, key, *, maybe_done=False):
        if key == broken:
            raise RefreshTooEarly("too early") if maybe_done else KeyError("Jan Jansen")
        return add_note(self, invoice_id, text, key, maybe_done=maybe_done)

    monkeypatch.setattr(MoneybirdLedger, "add_note", sometimes_broken)
    started = utcnow()
    assert writeback.process_outbox(services) == 1  # the other write still went out
    with services.db.session() as db:
        write = db.scalars(select(LedgerWrite).where(LedgerWrite.key == broken)).one()
        assert write.state == "pending" and write.last_error == "interne fout (KeyError)"
        first_wait = write.next_attempt_at - started
    assert timedelta(seconds=25) < first_wait < timedelta(minutes=2)
    with time_machine.travel(utcnow() + timedelta(minutes=2)):
        assert writeback.process_outbox(services) == 0  # now RefreshTooEarly: backs off
        with services.db.session() as db:
            write = db.scalars(select(LedgerWrite).where(LedgerWrite.key == broken)).one()
            assert write.state == "pending" and write.attempts == 2
            assert write.next_attempt_at - utcnow() > timedelta(seconds=50)


# -- the engine and the stamp step -----------------------------------------------------------


@pytest.fixture
def engine_world(make_services, make_moneybird_emulator, mail):
    emulator = make_moneybird_emulator(administrations=1, contacts=6, invoices=0)
    world = World(make_services(emulator, smtp_url=mail.url), emulator)
    world.emulator.update_contact(world.adm, world.consumer, email="klant@voorbeeld.example")
    return world


def test_a_dead_grant_found_by_the_engine_reaches_the_creditor(engine_world, mail):
    world = engine_world
    world.invoice(world.consumer, "150.00", date(2026, 3, 1) - timedelta(days=14))
    world.live()
    world.day(date(2026, 3, 1), hour=6)  # opened and planned; 06:00 sends nothing
    world.emulator.revoke_tokens()

    world.day(date(2026, 3, 2), sync=False)  # only the just-in-time re-read finds it
    world.day(date(2026, 3, 3), sync=False)

    with world.services.db.session() as db:
        assert db.scalars(select(Grant)).one().status == "reconnect_needed"
        assert [d.state for d in db.scalars(select(Delivery))] == ["planned"]
    assert len(_notices(mail)) == 1


def test_a_rate_limited_reminder_through_moneybird_is_tried_again(engine_world, monkeypatch):
    world = engine_world
    world.invoice(world.consumer, "150.00", date(2026, 2, 15))
    world.live()
    with world.services.db.session() as db:
        settings_for(db, world.company_id).stamp_via_ledger = True
    send_reminder = MoneybirdLedger.send_reminder
    limited = []

    def budget_spent_once(self, invoice_ids, text):
        if not limited:  # the shared budget is spent right before the write: nothing went out
            limited.append(True)
            raise RateLimited("own rate budget used up", retry_at=utcnow() + timedelta(minutes=1))
        return send_reminder(self, invoice_ids, text)

    monkeypatch.setattr(MoneybirdLedger, "send_reminder", budget_spent_once)

    world.day(date(2026, 3, 2))  # nothing went out: not a failed step
    with world.services.db.session() as db:
        [stamp] = db.scalars(select(Delivery))
        assert stamp.state == "planned", stamp.skip_reason
    world.day(date(2026, 3, 3))
    assert len(world.emulator.reminders) == 1
    with world.services.db.session() as db:
        assert [d.state for d in db.scalars(select(Delivery).where(
            Delivery.channel == "stamp"))] == ["sent"]


# -- the keep-alive --------------------------------------------------------------------------


def test_a_dead_grant_found_by_the_keep_alive_reaches_the_creditor(
        make_services, moneybird_emulator, mail):
    services = make_services(moneybird_emulator, smtp_url=mail.url)
    company_id = connect_direct(services, moneybird_emulator, expires_in=3600)
    with services.db.session() as db:
        settings_for(db, company_id).sender = {"name": "Zoet", "email": CREDITOR}
    moneybird_emulator.revoke_tokens()

    with time_machine.travel(utcnow() + timedelta(days=8)):
        assert keep_alive(services) == 0
        assert keep_alive(services) == 0

    with services.db.session() as db:
        assert db.scalars(select(Grant)).one().status == "reconnect_needed"
    assert len(_notices(mail)) == 1

