"""Pre-incasso scenarios with a frozen clock against the Moneybird emulator."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import select

from connector import writeback
from connector.clock import AMSTERDAM
from connector.collection import legal
from connector.collection.calls import attempts, due_calls, record_outcome
from connector.collection.cases import place_hold, settings_for
from connector.collection.engine import approve, run_company
from connector.models import Case, Debtor, Delivery, Event, HoldKind, Invoice
from connector.sync import sync_company
from tests.helpers import connect_direct

IBAN = "NL91ABNA0417164300"


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), AMSTERDAM)


class World:
    """One creditor on Moneybird with a handful of contacts and no invoices yet."""

    def __init__(self, services, emulator) -> None:
        self.services, self.emulator = services, emulator
        self.adm = emulator.administration_ids()[0]
        self.company_id = connect_direct(services, emulator, self.adm)
        with services.db.session() as db:
            settings = settings_for(db, self.company_id)
            settings.sender = {"name": "Bakkerij Zoet B.V.", "iban": IBAN,
                               "email": "debiteuren@zoet.example", "phone": "030 123 4567"}
        contacts = emulator.contacts(self.adm)
        self.consumer = next(c["id"] for c in contacts if not c["company_name"])
        self.business = next(c["id"] for c in contacts if c["company_name"])

    def live(self, on: bool = True) -> None:
        with self.services.db.session() as db:
            settings_for(db, self.company_id).live = on

    def invoice(self, contact: str, amount: str, due: date) -> str:
        with time_machine.travel(at(due - timedelta(days=14)), tick=False):
            return self.emulator.create_invoice(
                self.adm, contact, Decimal(amount), due, invoice_date=due - timedelta(days=14)
            )["id"]

    def day(self, when: date, hour: int = 10, sync: bool = True, call: str | None = None):
        """One engine day; with ``call``, an operator then makes the due calls with that
        outcome."""
        # Webhooks the emulator still owes land inside the day, as they would in time: one
        # delivered after it (on a loaded machine) would carry today's real date and make every
        # later run of this frozen March wait for a payment check no worker will run.
        with time_machine.travel(at(when, hour), tick=False):
            self.emulator.wait_for_deliveries(30)
            if sync:
                sync_company(self.services, self.company_id)
            result = run_company(self.services, self.company_id)
            if call:
                self.make_calls(when, call)
            writeback.process_outbox(self.services)
            self.emulator.wait_for_deliveries(30)
            return result

    def make_calls(self, when: date, outcome: str) -> list[str]:
        with self.services.db.session() as db:
            due = [d.id for d in due_calls(db, when)]
        for delivery_id in due:
            record_outcome(self.services, delivery_id, outcome, "operator:bel@partner.example")
        return due

    def case(self, external_id: str) -> Case:
        with self.services.db.session() as db:
            case = db.scalars(select(Case).join(Invoice).where(
                Invoice.external_id == external_id)).one()
            _ = case.invoice
            return case

    def sent(self) -> list[Delivery]:
        with self.services.db.session() as db:
            rows = list(db.scalars(select(Delivery).where(Delivery.state == "sent")
                                   .order_by(Delivery.sent_at)))
            for d in rows:
                _ = [link.case_id for link in d.cases]
            return rows

    def notes(self, external_id: str) -> list[str]:
        return [n["note"] for n in self.emulator.notes(self.adm, external_id)]


@pytest.fixture
def world(make_services, make_moneybird_emulator) -> World:
    emulator = make_moneybird_emulator(administrations=1, contacts=6, invoices=0)
    return World(make_services(emulator), emulator)


def test_consumer_invoice_runs_the_whole_default_policy(world):
    # Due Sunday 15 Feb 2026; 14 days overdue on Sunday 1 March: the case opens on Monday 2 March.
    inv = world.invoice(world.consumer, "242.00", date(2026, 2, 15))
    world.live()
    start = date(2026, 3, 2)
    for offset in range(0, 30):
        # The operator calls whenever a call is due; nobody answers.
        world.day(start + timedelta(days=offset), call="no_answer")

    steps = [(d.channel, d.sent_at.astimezone(AMSTERDAM).date()) for d in world.sent()]
    # stamp at once; the letter 7 days later (Monday 9 March); sms 5 days later (Saturday
    # 14 March); the call 4 days later (Wednesday 18 March), tried three times.
    assert steps == [("stamp", date(2026, 3, 2)), ("letter", date(2026, 3, 9)),
                     ("sms", date(2026, 3, 14))]
    with world.services.db.session() as db:
        call = db.scalars(select(Delivery).where(Delivery.channel == "call")).one()
        tried = [a.created_at.astimezone(AMSTERDAM).date() for a in attempts(db, call.id)]
    assert tried == [date(2026, 3, 18), date(2026, 3, 19), date(2026, 3, 20)]
    assert call.state == "skipped" and "niet bereikt" in call.skip_reason
    case = world.case(inv)
    # Posted Monday 9 March → presumed delivered Wednesday 11 March (Monday does not count as a
    # delivery day; Tuesday is day 1) → 14 days → last day Wednesday 25 March; costs from 26.
    assert case.letter_posted_on == date(2026, 3, 9)
    assert (case.last_day_to_pay, case.costs_due_from) == (date(2026, 3, 25), date(2026, 3, 26))
    assert case.state == "ready_for_handover"
    with world.services.db.session() as db:
        ready = db.scalars(select(Event).where(Event.kind == "case.ready_for_handover")).one()
    assert ready.at.astimezone(AMSTERDAM).date() == date(2026, 3, 26)
    # The letter announced the exact BIK amount and charged nothing.
    letter = world.sent()[1]
    assert letter.bik_amount == legal.bik_costs(Decimal("242.00")) == Decimal("40.00")
    assert "€ 40,00" in letter.content["body"].replace("\xa0", " ")
    assert "geen kosten" in letter.content["body"]
    # Every sent step is exactly one note in the ledger, plus the hand-over note.
    notes = world.notes(inv)
    for step_name in ("incassostempel", "profitletter", "sms-herinnering", "telefoongesprek"):
        assert sum(step_name in n.lower() for n in notes) == 1, (step_name, notes)
    assert sum("klaar voor overdracht" in n for n in notes) == 1
    assert world.emulator.invoice(world.adm, inv)["paused"] is True


def test_payment_between_steps_stops_the_next_and_closes_the_case(world):
    inv = world.invoice(world.consumer, "99.00", date(2026, 2, 15))
    world.live()
    world.day(date(2026, 3, 2))  # stamp
    world.emulator.mark_paid(world.adm, inv)
    for offset in range(1, 12):
        world.day(date(2026, 3, 2) + timedelta(days=offset))
    assert [d.channel for d in world.sent()] == ["stamp"]
    case = world.case(inv)
    assert case.state == "closed" and case.closed_reason == "paid"
    assert any("beëindigd: factuur betaald" in n for n in world.notes(inv))


def test_just_in_time_check_catches_a_payment_the_sync_has_not_seen(world):
    inv = world.invoice(world.consumer, "99.00", date(2026, 2, 15))
    world.live()
    world.day(date(2026, 3, 2))
    world.day(date(2026, 3, 9), hour=6)  # plans the letter; 06:00 is outside the window
    world.emulator.mark_paid(world.adm, inv)
    world.day(date(2026, 3, 9), hour=10, sync=False)  # no sync: only the re-read can tell
    assert [d.channel for d in world.sent()] == ["stamp"]
    assert world.case(inv).state == "closed"
    with world.services.db.session() as db:
        skipped = db.scalars(select(Delivery).where(Delivery.state == "skipped")).one()
        assert "paid" in skipped.skip_reason


def test_dispute_stops_and_a_lapsed_promise_resumes(world):
    disputed = world.invoice(world.consumer, "150.00", date(2026, 2, 15))
    promised = world.invoice(world.business, "800.00", date(2026, 2, 15))
    world.live()
    world.day(date(2026, 3, 2))  # both stamped
    with time_machine.travel(at(date(2026, 3, 2), 11), tick=False), \
            world.services.db.session() as db:
        dispute_case = db.get(Case, world.case(disputed).id)
        promise_case = db.get(Case, world.case(promised).id)
        place_hold(db, HoldKind.DISPUTE, "Levering onvolledig volgens klant", "operator:x",
                   case=dispute_case)
        place_hold(db, HoldKind.PROMISE, "Betaalt vóór 12 maart", "operator:x",
                   case=promise_case, until=date(2026, 3, 12))
    for offset in range(1, 12):
        world.day(date(2026, 3, 2) + timedelta(days=offset))
    by_case = {}
    for d in world.sent():
        for link_case in d.cases:
            by_case.setdefault(link_case.case_id, []).append(
                (d.channel, d.sent_at.astimezone(AMSTERDAM).date()))
    assert by_case[world.case(disputed).id] == [("stamp", date(2026, 3, 2))]
    # The promise ran to Thursday 12 March; unpaid on Friday 13 March, the case resumed and the
    # letter (overdue since 9 March) went out at once.
    assert by_case[world.case(promised).id] == [("stamp", date(2026, 3, 2)),
                                                ("letter", date(2026, 3, 13))]
    assert world.case(disputed).state == "on_hold"
    with world.services.db.session() as db:
        assert db.scalars(select(Event).where(Event.kind == "hold.promise.ended")).one()
    assert any("betwisting" in n for n in world.notes(disputed)), world.notes(disputed)


def test_two_invoices_of_one_debtor_give_one_letter_with_combined_bik(world):
    first = world.invoice(world.consumer, "1800.00", date(2026, 2, 15))
    second = world.invoice(world.consumer, "1500.00", date(2026, 2, 15))
    world.live()
    world.day(date(2026, 3, 2))
    world.day(date(2026, 3, 9))
    letters = [d for d in world.sent() if d.channel == "letter"]
    assert len(letters) == 1 and len(letters[0].cases) == 2
    combined = legal.bik_costs(Decimal("3300.00"))
    assert letters[0].bik_amount == combined != legal.bik_costs(Decimal("1800.00")) + \
        legal.bik_costs(Decimal("1500.00"))
    body = letters[0].content["body"]
    assert all(world.case(x).invoice.number in body for x in (first, second))
    stamps = [d for d in world.sent() if d.channel == "stamp"]
    assert len(stamps) == 1  # one stamped reminder listing both, not two


def test_preview_plans_but_sends_nothing_until_approved(world):
    world.invoice(world.consumer, "120.00", date(2026, 2, 15))
    result = world.day(date(2026, 3, 2))
    assert result.opened == 1 and result.planned == 1 and result.sent == 0
    assert world.services.channels["stamp"].sent == []
    inv = world.emulator.invoices(world.adm)[0]["id"]
    assert world.emulator.invoice(world.adm, inv)["paused"] is False  # theirs go on in preview
    with world.services.db.session() as db:
        planned = db.scalars(select(Delivery).where(Delivery.state == "planned")).one()
        approve(db, planned, "operator:x")
    assert world.services.channels["stamp"].sent == []  # approval alone sends nothing yet
    world.day(date(2026, 3, 2), hour=11)
    assert len(world.services.channels["stamp"].sent) == 1
    world.day(date(2026, 3, 9))  # the next step is not approved: still nothing
    assert len(world.services.channels["stamp"].sent) == 1
    assert world.services.channels["letter"].sent == []


def test_crash_between_sending_and_sent_never_sends_twice(world, monkeypatch):
    world.invoice(world.consumer, "120.00", date(2026, 2, 15))
    world.live()
    channel = world.services.channels["stamp"]

    def crash(message):
        channel.sent.append(message)  # it went out ...
        raise KeyboardInterrupt  # ... and the process died before recording it

    monkeypatch.setattr(channel, "send", crash)
    with pytest.raises(KeyboardInterrupt):
        world.day(date(2026, 3, 2))
    monkeypatch.undo()
    for hour in (11, 12, 15):
        world.day(date(2026, 3, 2), hour=hour)
    world.day(date(2026, 3, 3))
    assert len(channel.sent) == 1
    with world.services.db.session() as db:
        delivery = db.scalars(select(Delivery).where(Delivery.channel == "stamp")).one()
        assert delivery.state == "ambiguous"


def test_minimum_amount_threshold_and_excluded_debtors(world):
    small = world.invoice(world.consumer, "24.99", date(2026, 2, 15))
    excluded = world.invoice(world.business, "500.00", date(2026, 2, 15))
    with time_machine.travel(at(date(2026, 3, 1)), tick=False):
        sync_company(world.services, world.company_id)
    with world.services.db.session() as db:
        debtor = db.scalars(select(Debtor).where(Debtor.external_id == world.business)).one()
        place_hold(db, HoldKind.EXCLUDED, "Vaste klant; zelf bellen", "creditor", debtor=debtor)
    world.day(date(2026, 3, 2))
    with world.services.db.session() as db:
        assert db.scalars(select(Case)).all() == []
    assert small and excluded


def test_excluding_a_debtor_ends_its_cases_and_resumes_ledger_reminders(world):
    inv = world.invoice(world.business, "400.00", date(2026, 2, 15))
    world.live()
    world.day(date(2026, 3, 2))
    assert world.emulator.invoice(world.adm, inv)["paused"] is True
    with time_machine.travel(at(date(2026, 3, 3)), tick=False), \
            world.services.db.session() as db:
        debtor = db.scalars(select(Debtor).where(Debtor.external_id == world.business)).one()
        place_hold(db, HoldKind.EXCLUDED, "Klant regelt het zelf", "creditor", debtor=debtor)
    world.day(date(2026, 3, 3))
    case = world.case(inv)
    assert case.state == "closed" and case.closed_reason == "excluded"
    assert world.emulator.invoice(world.adm, inv)["paused"] is False
    world.day(date(2026, 3, 9))
    assert [d.channel for d in world.sent()] == ["stamp"]


def test_fees_statement_and_cases_listing(world):
    from click.testing import CliRunner

    from connector.cli import main
    from connector.collection.fees import statement

    world.invoice(world.consumer, "300.00", date(2026, 2, 15))
    world.live()
    world.day(date(2026, 3, 2))
    world.day(date(2026, 3, 9))
    with world.services.db.session() as db:
        march = statement(db, world.company_id, "2026-03")
        assert [line.amount for line in march.lines] == [Decimal("14.95")]  # the letter only
        assert statement(db, world.company_id, "2026-04").lines == []
    runner = CliRunner(env={"DATABASE_URL": world.services.settings.database_url})
    listing = runner.invoke(main, ["cases", world.company_id])
    assert listing.exit_code == 0, listing.output
    assert "1 dossiers" in listing.output and "loopt" in listing.output
    assert "Sms-herinnering" in listing.output
    unknown = runner.invoke(main, ["cases", "no-such-company"])
    assert unknown.exit_code != 0 and "0 bedrijven" in unknown.output
