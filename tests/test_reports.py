"""Dashboard figures: pure functions against scenarios with a known outcome, then the same
scenario written to the event log and the mirror, read back by ``connector.reports.loading``."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from connector import events
from connector.db import Database
from connector.models import (
    Case,
    Company,
    Connection,
    Debtor,
    Delivery,
    DeliveryCase,
    Invoice,
    UsageLine,
)
from connector.reports import figures, loading

TODAY = date(2026, 11, 27)
LETTER = figures.SentStep(1, "Profitletter", "letter", date(2026, 11, 10))
STAMP = figures.SentStep(0, "Laatste herinnering met incassostempel", "stamp", date(2026, 11, 3))
# Ten cases of unequal amounts; the 2nd, 4th, 6th and 9th are paid after the letter.
AMOUNTS = [Decimal(v) for v in ("100.00", "250.50", "75.25", "1200.00", "60.00", "333.33",
                                "45.00", "99.99", "410.10", "18.80")]
PAID_AFTER_LETTER = {1: 3, 3: 10, 5: 20, 8: 1}  # case index: days after the letter


def _scenario() -> list[figures.CaseHistory]:
    histories = []
    for index, amount in enumerate(AMOUNTS):
        days = PAID_AFTER_LETTER.get(index)
        paid = LETTER.sent_on + timedelta(days=days) if days is not None else None
        histories.append(figures.CaseHistory(f"c{index}", amount, (STAMP, LETTER), paid))
    return histories


def test_ten_cases_four_paid_after_the_letter_recovered_exactly():
    result = figures.recovery(_scenario(), within_days=14)
    paid = AMOUNTS[1] + AMOUNTS[3] + AMOUNTS[5] + AMOUNTS[8]
    assert paid == Decimal("2193.93")
    assert (result.chased_cases, result.paid_cases) == (10, 4)
    assert result.chased_amount == sum(AMOUNTS) == Decimal("2592.97")
    assert result.paid_amount == paid
    assert result.paid_percent == Decimal("84.6")  # 2193.93 / 2592.97 = 84.61 %
    [letter] = result.by_step
    assert (letter.name, letter.channel, letter.cases, letter.amount) == (
        "Profitletter", "letter", 4, paid)
    # within 14 days of the letter: the 2nd (3 days), 4th (10) and 9th (1); the 6th took 20
    assert letter.within_cases == 3
    assert letter.within_amount == AMOUNTS[1] + AMOUNTS[3] + AMOUNTS[8]


def test_payment_before_any_step_is_not_pre_incasso_and_is_attributed_to_the_last_step():
    early = figures.CaseHistory("early", Decimal("500"), (LETTER,), date(2026, 11, 5))
    after_stamp = figures.CaseHistory("stamp", Decimal("40"), (STAMP, LETTER), date(2026, 11, 4))
    never = figures.CaseHistory("none", Decimal("70"), ())
    result = figures.recovery([early, after_stamp, never])
    assert (result.chased_cases, result.paid_cases, result.paid_amount) == (1, 1, Decimal("40"))
    assert [(s.channel, s.cases) for s in result.by_step] == [("stamp", 1)]
    assert figures.recovery([never]).paid_percent is None


def test_ageing_puts_each_open_amount_in_one_bucket():
    items = [figures.OpenItem(Decimal("10"), TODAY + timedelta(days=3)),  # not due
             figures.OpenItem(Decimal("20"), TODAY),  # due today: not overdue
             figures.OpenItem(Decimal("30.50"), TODAY - timedelta(days=30)),
             figures.OpenItem(Decimal("40"), TODAY - timedelta(days=31)),
             figures.OpenItem(Decimal("50"), TODAY - timedelta(days=90)),
             figures.OpenItem(Decimal("60"), TODAY - timedelta(days=91)),
             figures.OpenItem(Decimal("0"), TODAY - timedelta(days=200))]  # nothing owed
    result = figures.ageing(items, TODAY)
    assert [(b.key, b.count, b.amount) for b in result.buckets] == [
        ("not_due", 2, Decimal("30")), ("1-30", 1, Decimal("30.50")),
        ("31-60", 1, Decimal("40")), ("61-90", 1, Decimal("50")), ("90+", 1, Decimal("60"))]
    assert result.outstanding == Decimal("210.50")
    assert (result.overdue, result.overdue_count) == (Decimal("180.50"), 4)


def test_stages_group_running_cases_by_what_they_wait_for():
    cases = [figures.RunningCase("active", "Profitletter", 1, Decimal("10")),
             figures.RunningCase("active", "Profitletter", 1, Decimal("5")),
             figures.RunningCase("active", "Stempel", 0, Decimal("1")),
             figures.RunningCase("on_hold", "Profitletter", 1, Decimal("7")),
             figures.RunningCase("ready_for_handover", None, 4, Decimal("9")),
             figures.RunningCase("closed", None, 5, Decimal("99"))]
    result = figures.stages(cases)
    assert [(s.key, s.name, s.count, s.amount) for s in result] == [
        ("step", "Stempel", 1, Decimal("1")), ("step", "Profitletter", 2, Decimal("15")),
        ("on_hold", "", 1, Decimal("7")), ("ready_for_handover", "", 1, Decimal("9"))]


def test_payment_time_before_and_after_going_live_is_weighted_by_amount():
    live = date(2026, 10, 1)
    invoices = [
        figures.PaidInvoice(date(2026, 8, 1), None, date(2026, 9, 30), Decimal("100")),  # 60 d
        figures.PaidInvoice(date(2026, 8, 1), None, date(2026, 8, 31), Decimal("300")),  # 30 d
        figures.PaidInvoice(None, date(2026, 10, 1), date(2026, 10, 21), Decimal("50")),  # 20 d
        figures.PaidInvoice(date(2026, 10, 1), None, date(2026, 10, 11), Decimal("50")),  # 10 d
    ]
    result = figures.payment_times(invoices, live)
    assert result.before == figures.PaymentTime(2, Decimal("37.5"))  # (6000+9000)/400
    assert result.after == figures.PaymentTime(2, Decimal("15.0"))
    never_live = figures.payment_times(invoices, None)
    assert never_live.after == figures.PaymentTime(0, None) and never_live.before.count == 4


def test_costs_sum_the_month():
    assert figures.costs("2026-11", [Decimal("14.95")] * 3) == figures.Costs(
        "2026-11", 3, Decimal("44.85"))


# -- the same scenario through the event log and the mirror -----------------------------------


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)


def _send(session, company_id: str, cases: list[Case], step: figures.SentStep) -> None:
    """What the engine leaves behind for a sent step: a delivery, its links, a step.sent event."""
    for case in cases:
        delivery = Delivery(company_id=company_id, debtor_id=case.debtor_id, step=step.step,
                            step_name=step.name, channel=step.channel, template=step.channel,
                            due_on=step.sent_on, state="sent", sent_at=_at(step.sent_on))
        delivery.cases.append(DeliveryCase(case_id=case.id, amount=case.principal))
        session.add(delivery)
        session.flush()
        event = events.record(session, "step.sent", f"Stap '{step.name}' verstuurd",
                              company_id=company_id, subject_type="delivery",
                              subject_id=delivery.id)
        event.at = _at(step.sent_on)


def test_dashboard_reads_the_scenario_from_the_event_log_and_the_mirror(db):
    with db.session() as session:
        company = Company(name="Zoet B.V.", provider="moneybird")
        session.add(company)
        session.flush()
        session.add(Connection(company_id=company.id, provider="moneybird", tenant_id="t1",
                               tenant_name="Zoet", connected_at=_at(date(2026, 10, 20))))
        cases = []
        for index, amount in enumerate(AMOUNTS):
            debtor = Debtor(company_id=company.id, external_id=f"d{index}", kind="consumer",
                            name=f"Debiteur {index}")
            session.add(debtor)
            session.flush()
            invoice = Invoice(company_id=company.id, external_id=f"i{index}", debtor_id=debtor.id,
                              number=f"2026-{index}", status="open", ledger_state="late",
                              invoice_date=date(2026, 9, 1), due_date=date(2026, 10, 1),
                              total=amount, open_amount=amount)
            session.add(invoice)
            session.flush()
            case = Case(company_id=company.id, invoice_id=invoice.id, debtor_id=debtor.id,
                        variant="consumer", opened_on=date(2026, 11, 3), principal=amount,
                        next_step=2, state="active")
            session.add(case)
            session.flush()
            cases.append(case)
        _send(session, company.id, cases, STAMP)
        _send(session, company.id, cases, LETTER)
        for index, days in PAID_AFTER_LETTER.items():
            paid_on = LETTER.sent_on + timedelta(days=days)
            invoice = cases[index].invoice
            invoice.status, invoice.paid_on, invoice.open_amount = "paid", paid_on, Decimal(0)
            cases[index].state = "closed"
            event = events.record(session, "invoice.paid", "Factuur betaald",
                                  company_id=company.id, subject_type="invoice",
                                  subject_id=invoice.id)
            event.at = _at(paid_on + timedelta(days=1))  # the sync saw it a day later
        live = events.record(session, "collection.mode", "Pre-incasso staat live: ...",
                             company_id=company.id)
        live.at = _at(date(2026, 11, 3))
        session.add(UsageLine(company_id=company.id, delivery_id=session.query(Delivery).filter(
            Delivery.channel == "letter").first().id, month="2026-11",
            description="Profitletter", amount=Decimal("14.95")))
        company_id = company.id
    with db.session() as session:
        result = loading.dashboard(session, [company_id], TODAY)
    paid = AMOUNTS[1] + AMOUNTS[3] + AMOUNTS[5] + AMOUNTS[8]
    assert result.recovery.paid_amount == paid and result.recovery.paid_cases == 4
    assert result.recovery.paid_percent == Decimal("84.6")
    assert [(s.name, s.cases, s.within_cases) for s in result.recovery.by_step] == [
        ("Profitletter", 4, 3)]
    assert result.ageing.overdue == sum(AMOUNTS) - paid and result.ageing.overdue_count == 6
    assert result.costs == figures.Costs("2026-11", 1, Decimal("14.95"))
    assert result.connected_since == date(2026, 10, 20)
    assert result.payment_times.live_since == date(2026, 11, 3)
    assert result.payment_times.after.count == 4 and result.payment_times.before.count == 0
    # the six running cases wait for step 3 of the default policy (the SMS)
    assert [(s.key, s.name, s.count) for s in result.stages] == [("step", "Sms-herinnering", 6)]


def test_bar_chart_is_an_accessible_image_with_its_numbers_in_words_and_escapes_text():
    from connector.reports.charts import Bar, bar_chart

    long_name = "Een heel lange stapnaam die niet op de grafiek past <script>"
    svg = str(bar_chart("Betaald <na> stap", [Bar(long_name, Decimal("30"), "€ 30,00 · 3"),
                                              Bar("Sms", Decimal("0"), "€ 0,00 · 0")],
                        chart_id="c1"))
    assert svg.startswith('<svg class="chart" role="img"')
    assert 'aria-labelledby="c1-title c1-desc"' in svg
    assert '<title id="c1-title">Betaald &lt;na&gt; stap</title>' in svg
    assert "<script>" not in svg and "&lt;script&gt;: € 30,00 · 3; Sms: € 0,00 · 0</desc>" in svg
    assert ">Een heel lange stapnaam die niet op de graf…</text>" in svg
    widths = [int(w) for w in re.findall(r'<rect x="0" y="\d+" width="(\d+)"', svg)]
    assert widths == [310, 2]  # the largest bar fills the room; zero still shows a sliver
