"""Payments first: the tenant's API budget in lanes, sends paced to it, no stale writes."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from connector import writeback
from connector.budgets import DbRateBudget, Lane, budget_lane, ceiling
from connector.clock import today_nl
from connector.collection.engine import run_company, sendable
from connector.models import Case, Company, Delivery, LedgerWrite, SyncRun, SyncState, utcnow
from connector.pacing import backlog_plan
from connector.sync import request_sync, sync_company
from connector.worker import sync_one
from providers.base import RateLimited
from tests.helpers import connect_direct
from tests.test_engine import World, at
from tests.test_web import _operator_session

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MONEYBIRD_40_A_MINUTE = {"moneybird": {"MONEYBIRD_RATE_LIMIT": 40, "MONEYBIRD_RATE_WINDOW": 60}}


def test_lanes_leave_the_top_of_the_window_to_the_lanes_above(services):
    assert [ceiling(140, lane) for lane in Lane] == [140, 112, 105, 98]
    budget = DbRateBudget(services.db, "lanes", 20, 60)
    with time_machine.travel(START, tick=False):
        with budget_lane(Lane.SEND):
            for _ in range(ceiling(20, Lane.SEND)):
                budget.acquire("adm")
            # Out of room: the sending lane is told when to come back, it does not sleep.
            with pytest.raises(RateLimited) as caught:
                budget.acquire("adm")
        assert caught.value.retry_at == START + timedelta(seconds=60)
        assert budget.room("adm", Lane.SEND) == 0
        with budget_lane(Lane.LEDGER_WRITE):
            budget.acquire("adm")  # a lane above still has room
        with budget_lane(Lane.SCHEDULED_SYNC):
            budget.acquire("adm")
            assert budget.room("adm", Lane.SCHEDULED_SYNC) == 0
        # Whatever the backlog took, the reserve is there for payment checks.
        with budget_lane(Lane.PAYMENT_CHECK):
            for _ in range(20 - 16):
                budget.acquire("adm")
        assert budget.room("adm", Lane.PAYMENT_CHECK) == 0


def test_a_lane_has_room_again_when_enough_old_calls_left_the_window(services):
    budget = DbRateBudget(services.db, "lanes", 20, 60)
    with time_machine.travel(START, tick=False) as clock:
        with budget_lane(Lane.PAYMENT_CHECK):
            for _ in range(10):
                budget.acquire("adm")
        clock.shift(30)
        with budget_lane(Lane.PAYMENT_CHECK):
            for _ in range(10):
                budget.acquire("adm")
        # 20 used, the sending lane stops at 14: it waits for 6 calls to leave, the first 10
        # leave together at START + 60 s.
        assert budget.next_room_at("adm", Lane.SEND) == START + timedelta(seconds=60)
        clock.shift(31)
        assert budget.room("adm", Lane.SEND) == 4


@pytest.fixture
def world(make_services, make_moneybird_emulator) -> World:
    emulator = make_moneybird_emulator(administrations=1, contacts=6, invoices=0)
    return World(make_services(emulator), emulator)


def _first_step_sent_then_paid(world: World, *, outbox_first: bool) -> tuple[str, date]:
    """A case whose first step went out; the invoice is then paid in the ledger."""
    inv = world.invoice(world.consumer, "242.00", date(2026, 2, 15))
    world.live()
    day = date(2026, 3, 2)
    with time_machine.travel(at(day), tick=False):
        sync_company(world.services, world.company_id)
        assert run_company(world.services, world.company_id).sent == 1
        if outbox_first:
            writeback.process_outbox(world.services)  # the pause lands
    assert world.emulator.invoice(world.adm, inv)["paused"] is outbox_first
    with time_machine.travel(at(day, 11), tick=False):
        world.emulator.mark_paid(world.adm, inv)
        sync_company(world.services, world.company_id)
        run_company(world.services, world.company_id)
        writeback.process_outbox(world.services)
    return inv, day


def test_a_pause_still_waiting_when_the_invoice_is_paid_is_dropped(world):
    inv, day = _first_step_sent_then_paid(world, outbox_first=False)
    assert world.emulator.invoice(world.adm, inv)["paused"] is False
    assert not [c for c in world.emulator.calls if c["path"].endswith("/pause.json")]
    notes = world.notes(inv)
    # One note: the closing note, telling what was sent and true on that day.
    assert len(notes) == 1, notes
    assert "beëindigd: factuur betaald" in notes[0]
    assert f"verstuurd op {day:%d-%m-%Y}" in notes[0]
    assert "toen openstaand €\xa0242,00" in notes[0]
    with world.services.db.session() as db:
        states = dict(db.execute(select(LedgerWrite.kind, LedgerWrite.state).where(
            LedgerWrite.kind.in_(["pause", "resume"]))).all())
    assert states == {"pause": "dropped", "resume": "dropped"}


def test_a_pause_that_landed_is_lifted_when_the_invoice_is_paid(world):
    inv, _ = _first_step_sent_then_paid(world, outbox_first=True)
    assert world.emulator.invoice(world.adm, inv)["paused"] is False
    notes = world.notes(inv)
    assert "beëindigd: factuur betaald" in notes[-1]
    assert not any("inmiddels" in n for n in notes)  # the step note went out while open


def test_a_step_note_after_the_closing_note_says_what_was_true_then(world):
    inv = world.invoice(world.consumer, "242.00", date(2026, 2, 15))
    world.live()
    with time_machine.travel(at(date(2026, 3, 2)), tick=False):
        sync_company(world.services, world.company_id)
        run_company(world.services, world.company_id)
        with world.services.db.session() as db:
            step_note = db.scalars(select(LedgerWrite).where(
                LedgerWrite.kind == "note")).one()
            # Another worker took the step note and stopped (its lease runs out tomorrow);
            # the invoice is paid and the case closes meanwhile.
            step_note.state, step_note.attempts = "sending", 1
            step_note.next_attempt_at = at(date(2026, 3, 3))
        world.emulator.mark_paid(world.adm, inv)
        sync_company(world.services, world.company_id)
        run_company(world.services, world.company_id)
        writeback.process_outbox(world.services)
    with time_machine.travel(at(date(2026, 3, 3)), tick=False):
        writeback.process_outbox(world.services)
    notes = world.notes(inv)
    assert len(notes) == 2 and sum("beëindigd: factuur betaald" in n for n in notes) == 1
    [step] = [n for n in notes if "beëindigd" not in n]
    assert "verstuurd op 02-03-2026 per e-mail (toen openstaand €\xa0242,00)" in step
    assert "inmiddels betaald" in step and "; openstaand" not in step


def test_the_engine_sends_what_the_budget_can_check_and_write_back(make_services,
                                                                   make_moneybird_emulator):
    emulator = make_moneybird_emulator(administrations=1, contacts=12, invoices=0)
    world = World(make_services(emulator, ledger=MONEYBIRD_40_A_MINUTE),
                  emulator)
    contacts = [c["id"] for c in emulator.contacts(world.adm)]
    for contact in contacts:
        world.invoice(contact, "100.00", date(2026, 2, 15))
    world.live()
    with time_machine.travel(at(date(2026, 3, 2)), tick=False):
        sync_company(world.services, world.company_id)
        result = run_company(world.services, world.company_id)
        # Lane 4 gets 40 - 8 - 2 * 2 = 28 calls a window; a first stamp costs 4 (re-read, PDF,
        # note, pause); the sync took 3 and the notes and pauses waiting in the outbox count:
        # 6 sends fit, the rest waits for the next window.
        assert 0 < result.sent < len(contacts) and result.waiting == len(contacts) - result.sent
        with world.services.db.session() as db:
            due = list(db.scalars(select(Delivery.id).where(Delivery.state == "planned")))
            plan = backlog_plan(world.services, db, world.company_id, due)
        assert plan.deliveries == result.waiting and plan.calls == 4 * result.waiting
        assert plan.next_round is not None and plan.minutes >= 0
        # The outbox catches up in its own lane; the next window sends the rest.
        writeback.process_outbox(world.services)
    with time_machine.travel(at(date(2026, 3, 2)) + timedelta(minutes=1, seconds=1),
                             tick=False):
        writeback.process_outbox(world.services)
        more = run_company(world.services, world.company_id)
    assert more.sent == min(result.waiting, 7)
    with world.services.db.session() as db:
        assert db.scalar(select(Case.id).where(Case.state != "active")) is None


def test_the_company_page_shows_the_plan_and_the_wait_in_dutch(make_services,
                                                                make_moneybird_emulator):
    emulator = make_moneybird_emulator(administrations=1, contacts=12, invoices=0)
    world = World(make_services(emulator, ledger=MONEYBIRD_40_A_MINUTE),
                  emulator)
    for contact in [c["id"] for c in emulator.contacts(world.adm)]:
        world.invoice(contact, "100.00", date(2026, 2, 15))
    world.live()
    sync_company(world.services, world.company_id)
    for _ in range(12):
        # The emulator's webhooks for the new invoices ask for syncs meanwhile; here nobody
        # runs them, so the request is put aside and the engine goes on until the budget stops it.
        with world.services.db.session() as db:
            db.get(Company, world.company_id).sync_requested_at = None
        result = run_company(world.services, world.company_id)
        if result.postponed and not result.sent:
            pytest.skip("outside the contact window now")
        with world.services.db.session() as db:
            due = sendable(db, world.company_id, today_nl())
            if backlog_plan(world.services, db, world.company_id, due).next_round:
                break
    assert result.waiting
    with world.services.db.session() as db:
        company = db.get(Company, world.company_id)
        company.connection.webhook_id = "wh-1"
        state = db.get(SyncState, world.company_id)
        state.retry_at = utcnow() + timedelta(minutes=4)
        db.add(SyncRun(company_id=world.company_id, trigger="requested", outcome="rate_limited",
                       started_at=utcnow(), finished_at=utcnow(),
                       error="shared rate budget used up"))
    session = _operator_session(world.services)
    page = session.get(f"{world.services.settings.public_url}/companies/{world.company_id}").text
    plan = re.search(r'<p id="send-plan">(.*?)</p>', page, re.S).group(1)
    assert f"{result.waiting} herinneringen" in plan
    assert re.search(r"wacht op de limiet van Moneybird, volgende ronde \d\d:\d\d", plan)
    assert re.search(r"Wacht op de limiet van Moneybird, volgende ronde \d\d:\d\d", page)
    assert re.search(r"maar de synchronisatie wacht op de limiet van Moneybird", page)
    assert "shared rate budget" not in page and "direct door" not in page


def test_a_webhook_sync_finds_room_when_the_backlog_filled_the_window(make_services,
                                                                      moneybird_emulator):
    services = make_services(moneybird_emulator, ledger={"moneybird": {
        "MONEYBIRD_RATE_LIMIT": 20, "MONEYBIRD_RATE_WINDOW": 60}})
    adm = moneybird_emulator.administration_ids()[0]
    company_id = connect_direct(services, moneybird_emulator, adm)
    budget = services.providers.get("moneybird").budget
    with budget_lane(Lane.LEDGER_WRITE):  # the outbox took all its lane allows
        while budget.room(adm, Lane.LEDGER_WRITE):
            budget.acquire(adm)
    with services.db.session() as db:
        db.get(Company, company_id).sync_requested_at = None
    sync_one(services, company_id)  # scheduled: waits for its lane
    with services.db.session() as db:
        assert db.scalars(select(SyncRun.outcome).where(
            SyncRun.company_id == company_id)).all() == ["rate_limited"]
        request_sync(db, company_id)  # a payment's webhook
    sync_one(services, company_id)
    with services.db.session() as db:
        outcomes = db.scalars(select(SyncRun.outcome).where(
            SyncRun.company_id == company_id).order_by(SyncRun.started_at)).all()
    assert outcomes == ["rate_limited", "ok"]
