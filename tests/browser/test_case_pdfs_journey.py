"""The case as a timeline in a real browser (#16): the creditor opens the sent letter and the
stamped invoice PDF from the case, and watches sending progress after going live."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import time_machine
from playwright.sync_api import Page, expect

from connector.channels.smtp_capture import CaptureSmtpServer
from connector.collection.engine import run_company
from tests.browser.journeys import (
    connect_moneybird,
    expect_message,
    open_from_timeline,
    open_go_live,
    open_invoice,
    shot,
)
from tests.test_engine import World, at

MONDAY = date(2026, 3, 2)
DEBTOR = "klant@voorbeeld.example"


@pytest.fixture
def mail():
    server = CaptureSmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def world(make_services, make_moneybird_emulator, mail, tmp_path) -> World:
    emulator = make_moneybird_emulator(administrations=1, contacts=6, invoices=0)
    services = make_services(emulator, smtp_url=mail.url, letter_dir=str(tmp_path / "letters"))
    world = World(services, emulator)
    world.emulator.update_contact(world.adm, world.consumer, email=DEBTOR, phone="06 12345678")
    return world


def csp_watch(page: Page) -> list[str]:
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text)
            if "Content Security Policy" in msg.text else None)
    return violations


def test_creditor_opens_the_sent_letter_and_the_stamped_pdf_from_the_case(page: Page, world,
                                                                         mail):
    invoice = world.invoice(world.consumer, "242.00", date(2026, 2, 15))
    world.live()
    for offset in range(0, 8):  # the stamp on 2 March, the Profitletter on Monday 9 March
        world.day(MONDAY + timedelta(days=offset))
    case = world.case(invoice)

    company_id = connect_moneybird(page)  # the creditor signs in through Moneybird
    assert company_id == world.company_id
    open_invoice(page, company_id, case.invoice_id)
    steps = page.locator("#case-steps")
    expect(steps).to_contain_text("Laatste herinnering met incassostempel")
    expect(steps).to_contain_text("Profitletter")
    shot(page, "case-pdfs-01-timeline")

    letter, content = open_from_timeline(page, re.compile(r"^bekijken \(Profitletter"))
    assert letter.status == 200, letter.status
    assert letter.headers["content-type"] == "application/pdf"
    assert content.startswith(b"%PDF")

    open_invoice(page, company_id, case.invoice_id)
    stamped, content = open_from_timeline(page, re.compile(r"\.pdf$"))
    assert stamped.status == 200, stamped.status
    assert stamped.headers["content-type"] == "application/pdf"
    attachment = next(mail.messages[0].iter_attachments())
    assert content == attachment.get_content()  # exactly what the debtor got
    shot(page, "case-pdfs-02-stamped-pdf")


def test_sending_progress_moves_on_its_own_after_going_live(page: Page, world):
    for contact in (world.consumer, world.business):
        world.invoice(contact, "150.00", date(2026, 2, 15))
    world.live(False)
    world.day(MONDAY, hour=9)  # preview: the first steps are planned
    violations = csp_watch(page)
    with time_machine.travel(at(MONDAY, 10), tick=True):
        company_id = connect_moneybird(page)
        open_go_live(page)
        page.get_by_role("button", name="Bevestigen en live gaan").click()
        expect_message(page, "Pre-incasso staat live")
        progress = page.locator("#send-progress")
        expect(progress).to_contain_text("0 van 2 herinneringen verstuurd")
        expect(progress).to_be_in_viewport()  # back on the settings tab, without scrolling
        shot(page, "case-pdfs-03-progress-waiting")
        run_company(world.services, company_id)  # the worker sends; the page is not reloaded
        expect(progress).to_contain_text("2 van 2 herinneringen verstuurd · klaar",
                                         timeout=60_000)
        shot(page, "case-pdfs-04-progress-done")
    assert violations == []
