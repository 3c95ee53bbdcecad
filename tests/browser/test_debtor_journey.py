"""The debtor's journey in a real browser: from a letter's link on /demo/messages to its page;
paying through the ledger's own payment page (the case closes in seconds); "already paid",
a dispute and a payment plan, each with its hold, its ledger note and its place on the
operator's side."""

from __future__ import annotations

import io
import time
from datetime import datetime, timedelta
from datetime import time as dtime
from decimal import Decimal

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from connector import writeback
from connector.channels.smtp_capture import CaptureSmtpServer
from connector.clock import AMSTERDAM, today_nl
from connector.collection.cases import settings_for
from connector.collection.engine import run_company
from connector.collection.legal import is_contact_day
from connector.collection.policy import Policy, Step, policy_to_json
from connector.models import (
    Case,
    DebtorResponse,
    Delivery,
    Hold,
    Invoice,
    SyncRun,
    WebhookReceipt,
    utcnow,
)
from connector.worker import Worker
from tests.browser.journeys import create_operator, run_engine, shot, sign_in_operator
from tests.helpers import connect_direct, wait_until

EMAIL, PASSWORD = "op@partner.example", "a-long-enough-password"
IBAN = "NL91ABNA0417164300"
SCRIPT = '<img src=x onerror="alert(1)"> klopt niet'


@pytest.fixture
def letters(make_services, moneybird_emulator, live_server, tmp_path):
    """A live company whose policy is a Profitletter, then an SMS the next day; the letters
    went out; /demo/messages is on (as in the demo)."""
    mail = CaptureSmtpServer()
    mail.start()
    services = make_services(moneybird_emulator, smtp_url=f"smtp://127.0.0.1:{mail.port}",
                             letter_dir=str(tmp_path / "letters"))
    company_id = connect_direct(services, moneybird_emulator)
    create_operator(live_server.app, EMAIL, PASSWORD)
    live_server.app.extensions["demo_mail"] = mail
    with services.db.session() as db:
        settings = settings_for(db, company_id)
        steps = lambda kind: (Step("Profitletter", "letter", 0, "start",  # noqa: E731
                                   f"profitletter_{kind}"),
                              Step("Sms", "sms", 1, "previous", "sms"))
        settings.policy = policy_to_json(Policy(consumer=steps("consumer"),
                                                business=steps("business")))
        settings.sender = {"name": "Bakkerij Zoet B.V.", "iban": IBAN,
                           "email": "debiteuren@zoet.example", "phone": "030 123 45 67"}
        settings.live = True
    run_engine(services, company_id)
    yield services, company_id, moneybird_emulator, mail
    mail.stop()


def open_letter_page(page) -> None:
    """Operator → /demo/messages → the first letter's page (a fresh context: the debtor)."""
    sign_in_operator(page, EMAIL, PASSWORD)
    page.goto("/demo/messages")
    expect(page.get_by_role("heading", name="Debiteurpagina per bericht")).to_be_visible()
    shot(page, "debtor-01-demo-messages")
    link = page.get_by_role("link", name="Debiteurpagina van 'Profitletter'").first
    url = link.get_attribute("href")
    page.context.clear_cookies()  # from here on: the debtor, not signed in
    page.goto(url)
    expect(page.get_by_role("heading", name="Uw betaling aan Bakkerij Zoet B.V.")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "nl"


def answer_form(page, title: str):
    """Open the answer with this title; its form (fields and button) is the locator."""
    details = page.locator("details").filter(has=page.locator("summary", has_text=title))
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    return details


def _case_for_number(services, number: str) -> Case:
    with services.db.session() as db:
        return db.scalars(select(Case).join(Invoice, Invoice.id == Case.invoice_id)
                          .where(Invoice.number == number)).one()


def _delivery_of_page(services, page) -> Delivery:
    token = page.url.split("/b/", 1)[1].split("?", 1)[0].split("#", 1)[0]
    from connector.debtor_page.links import find

    with services.db.session() as db:
        link = find(db, token)
        delivery = link.delivery
        _loaded = [dc.case.invoice.external_id for dc in delivery.cases]
        return delivery


def test_debtor_pays_on_the_ledgers_payment_page_and_the_case_closes(page, letters):
    services, _company_id, _emulator, _mail = letters
    open_letter_page(page)
    shot(page, "debtor-02-page")
    page.set_viewport_size({"width": 390, "height": 844})  # mobile first: nothing scrolls sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "debtor-02-page-mobile")
    page.set_viewport_size({"width": 1280, "height": 900})
    # the transfer box's EPC QR code, as the browser shows it, decodes to what the box says
    box = page.locator(".box").first
    shown = {f: box.locator(f"[data-field={f}]").inner_text() for f in
             ("amount", "name", "iban", "reference")}
    image = Image.open(io.BytesIO(box.locator("img.qr").screenshot()))
    [code] = zxingcpp.read_barcodes(image)
    lines = code.text.split("\n")
    assert lines[:4] == ["BCD", "002", "1", "SCT"]
    assert lines[5] == shown["name"] == "Bakkerij Zoet B.V."
    assert lines[6] == shown["iban"].replace(" ", "") == IBAN
    amount = Decimal(shown["amount"].replace("€", "").replace(".", "").replace(",", ".").strip())
    assert Decimal(lines[7].removeprefix("EUR")) == amount
    assert lines[9] == shown["reference"].replace(" ", "")
    pay = page.get_by_role("link", name="Betaal factuur").first
    number = pay.inner_text().split("factuur ", 1)[1].split(" ", 1)[0]
    case = _case_for_number(services, number)
    assert case.state == "active"
    worker = Worker(services)  # what runs beside the web app: syncs on the webhook
    worker.start()
    try:
        pay.click()
        expect(page.get_by_role("heading", name=f"Factuur {number}")).to_be_visible()
        paid_at, started = utcnow(), time.monotonic()
        page.get_by_role("button", name="Nu betalen").click()
        expect(page.get_by_text("Deze factuur is betaald.")).to_be_visible()
        # The ledger's webhook asks for a sync; the worker's next poll (every second) runs it
        # in the payment lane, and the engine right after it closes the case. The generous
        # wait is only there so a slow run fails below with its timings, not a bare timeout.
        wait_until(lambda: _case_for_number(services, number).state == "closed", timeout=60)
        closed_after = time.monotonic() - started
    finally:
        worker.stop()
    shot(page, "debtor-03-paid-at-the-ledger")
    case = _case_for_number(services, number)
    assert case.closed_reason == "paid"
    with services.db.session() as db:
        hooks = db.scalars(select(WebhookReceipt.received_at)
                           .where(WebhookReceipt.received_at >= paid_at)).all()
        runs = db.scalars(select(SyncRun).where(SyncRun.started_at >= paid_at)
                          .order_by(SyncRun.started_at)).all()
    phases = (f"webhook {(min(hooks) - paid_at).total_seconds():.2f} s, " if hooks else "") + \
        ", ".join(f"{r.trigger} sync {(r.started_at - paid_at).total_seconds():.2f}"
                  f"–{((r.finished_at or r.started_at) - paid_at).total_seconds():.2f} s"
                  for r in runs) + \
        f", closed {(case.closed_at - paid_at).total_seconds():.2f} s"
    print(f"case closed {closed_after:.2f} s after the payment ({phases})")
    # Seen through the webhook, not a scheduled sync minutes later …
    assert hooks and runs and runs[0].trigger == "requested", phases
    # … and in seconds.
    assert closed_after <= 10, phases


def test_already_paid_stops_the_next_step_and_notes_the_ledger_once(page, letters):
    services, company_id, emulator, _mail = letters
    open_letter_page(page)
    delivery = _delivery_of_page(services, page)
    form = answer_form(page, "Ik heb al betaald")
    form.get_by_label("Datum van betaling").fill(today_nl().isoformat())
    form.get_by_label("Kenmerk of omschrijving van uw betaling (niet verplicht)").fill("bank 42")
    form.get_by_role("button", name="Versturen").click()
    expect(page.get_by_role("status")).to_contain_text("We kijken of uw betaling binnen is")
    shot(page, "debtor-04-already-paid")
    writeback.process_outbox(services)
    writeback.process_outbox(services)  # a second run adds nothing
    adm = emulator.administration_ids()[0]
    case_ids = [dc.case_id for dc in delivery.cases]
    for dc in delivery.cases:
        notes = [n["note"] for n in emulator.notes(adm, dc.case.invoice.external_id)
                 if "betaald te hebben" in (n["note"] or "")]
        assert len(notes) == 1, notes
    # the SMS due tomorrow does not go out for these cases
    tomorrow = today_nl() + timedelta(days=1)
    while not is_contact_day(tomorrow):
        tomorrow += timedelta(days=1)
    run_company(services, company_id, now=datetime.combine(tomorrow, dtime(11), AMSTERDAM))
    with services.db.session() as db:
        holds = db.scalars(select(Hold).where(Hold.case_id.in_(case_ids))).all()
        assert {h.kind for h in holds} == {"paid_check"}
        sms = db.scalars(select(Delivery).where(Delivery.channel == "sms")).all()
        assert not any(dc.case_id in case_ids for d in sms for dc in d.cases)
        assert all(db.get(Case, c).state == "on_hold" for c in case_ids)


def test_dispute_with_a_reason_is_shown_escaped(page, letters):
    services, _company_id, _emulator, mail = letters
    open_letter_page(page)
    delivery = _delivery_of_page(services, page)
    form = answer_form(page, "Ik ben het niet eens met de factuur")
    form.get_by_role("button", name="Versturen").click()  # empty: refused in place
    form = answer_form(page, "Ik ben het niet eens met de factuur")
    expect(form.locator(".error")).to_have_text("Vul dit in.")
    expect(form.get_by_label("Waarom niet?")).to_have_attribute("aria-invalid", "true")
    form.get_by_label("Waarom niet?").fill(SCRIPT)
    form.get_by_role("button", name="Versturen").click()
    expect(page.get_by_role("status")).to_contain_text("bekijkt uw bezwaar")
    expect(page.locator("blockquote.given-reason")).to_have_text(SCRIPT)  # shown as text
    shot(page, "debtor-05-dispute")
    with services.db.session() as db:
        case_ids = [dc.case_id for dc in delivery.cases]
        holds = db.scalars(select(Hold).where(Hold.case_id.in_(case_ids))).all()
        assert {h.kind for h in holds} == {"dispute"}
    alerts = [m for m in mail.messages if m["To"] == "debiteuren@zoet.example"]
    assert len(alerts) == 1 and SCRIPT in alerts[0].get_content()


def test_plan_accepted_by_the_operator_then_a_missed_term_resumes_the_case(page, letters):
    services, company_id, _emulator, _mail = letters
    open_letter_page(page)
    delivery = _delivery_of_page(services, page)
    first = today_nl() + timedelta(days=3)
    form = answer_form(page, "Ik wil een betalingsregeling")
    form.get_by_label("Aantal termijnen").fill("3")
    form.get_by_label("Datum van de eerste termijn").fill(first.isoformat())
    form.get_by_role("button", name="Versturen").click()
    expect(page.get_by_role("status")).to_contain_text("bekijkt uw voorstel")
    shot(page, "debtor-06-plan-proposed")

    sign_in_operator(page, EMAIL, PASSWORD)
    page.goto("/operator/")
    expect(page.get_by_role("heading", name="Antwoorden van debiteuren")).to_be_visible()
    page.get_by_role("table").first.get_by_role("link").first.click()
    page.get_by_role("button", name="Regeling accepteren").click()
    expect(page.get_by_role("status").filter(has_text="Betalingsregeling geaccepteerd")
           ).to_be_visible()
    shot(page, "debtor-07-plan-accepted")
    case_ids = [dc.case_id for dc in delivery.cases]
    with services.db.session() as db:
        active = db.scalars(select(Hold).where(Hold.case_id.in_(case_ids),
                                               Hold.ended_at.is_(None))).all()
        assert {h.kind for h in active} == {"payment_plan"}
        [response] = db.scalars(select(DebtorResponse)).all()
        assert response.state == "accepted"
    # nothing is paid: once the first term's grace days have passed, the case goes on
    policy_grace = 5
    later = first + timedelta(days=policy_grace + 1)
    run_company(services, company_id, now=datetime.combine(later, dtime(11), AMSTERDAM))
    with services.db.session() as db:
        assert db.scalars(select(Hold).where(Hold.case_id.in_(case_ids),
                                             Hold.ended_at.is_(None))).all() == []
        assert {db.get(Case, c).state for c in case_ids} == {"active"}
        assert db.scalars(select(DebtorResponse)).one().state == "missed"
