"""The operator's console in a real browser: a call outcome on the call list, the print queue
with its merged PDF and "mark as posted"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from connector.channels.smtp_capture import CaptureSmtpServer
from connector.clock import today_nl
from connector.collection.cases import settings_for
from connector.collection.policy import Policy, Step, policy_to_json
from connector.models import Case, Delivery, Hold
from tests.browser.journeys import create_operator, run_engine, shot, sign_in_operator
from tests.helpers import connect_direct

EMAIL, PASSWORD = "op@partner.example", "a-long-enough-password"
IBAN = "NL91ABNA0417164300"


@pytest.fixture
def console(make_services, moneybird_emulator, live_server, tmp_path):
    """A live company on real loopback channels whose policy is the one given step."""
    mail = CaptureSmtpServer()
    mail.start()
    services = make_services(moneybird_emulator, smtp_url=f"smtp://127.0.0.1:{mail.port}",
                             letter_dir=str(tmp_path / "letters"))
    company_id = connect_direct(services, moneybird_emulator)
    create_operator(live_server.app, EMAIL, PASSWORD)

    def with_step(channel: str, template: str) -> str:
        consumer = (Step("Stap", channel, 0, "start", template),)
        business = (Step("Stap", channel, 0, "start", template.replace("consumer", "business")),)
        with services.db.session() as db:
            settings = settings_for(db, company_id)
            settings.policy = policy_to_json(Policy(consumer=consumer, business=business))
            settings.sender = {"name": "Bakkerij Zoet B.V.", "iban": IBAN,
                               "email": "debiteuren@zoet.example"}
            settings.live = True
        run_engine(services, company_id)
        return company_id

    yield services, with_step
    mail.stop()


def test_operator_records_a_promise_on_the_call_list(page, console):
    services, with_step = console
    company_id = with_step("call", "call_script")
    with services.db.session() as db:
        calls = db.scalars(select(Delivery).where(Delivery.state == "calling")).all()
    assert calls, "the engine put calls on the list"

    sign_in_operator(page, EMAIL, PASSWORD)
    page.get_by_role("link", name="Console").click()
    expect(page.get_by_role("heading", name="Console")).to_be_visible()
    shot(page, "operator-03-console")
    page.get_by_role("link", name="Bellijst").click()
    expect(page.get_by_role("heading", name="Bellijst")).to_be_visible()
    shot(page, "operator-04-call-list")

    card = page.locator("section.call").first
    card.locator("summary", has_text="Belscript").click()
    expect(card.locator("pre.script")).to_be_visible()
    # A promise without a date is refused with a message, in place.
    card.get_by_label("Uitkomst").select_option(label="Belooft te betalen")
    card.get_by_role("button", name="Uitkomst vastleggen").click()
    expect(page.get_by_text("Een betaalbelofte heeft een datum nodig.").first).to_be_visible()

    promised = today_nl() + timedelta(days=7)
    card = page.locator("section.call").first
    card.get_by_label("Uitkomst").select_option(label="Belooft te betalen")
    card.get_by_label("Belooft te betalen op").fill(promised.isoformat())
    card.get_by_label("Notitie").fill("Betaalt na het salaris")
    card.get_by_role("button", name="Uitkomst vastleggen").click()
    expect(page.get_by_role("status").filter(has_text="Betaalbelofte tot en met")).to_be_visible()
    shot(page, "operator-05-call-recorded")
    with services.db.session() as db:
        hold = db.scalars(select(Hold)).one()
        assert (hold.kind, hold.until) == ("promise", promised)
        assert db.get(Case, hold.case_id).company_id == company_id


def test_operator_prints_the_queue_and_marks_it_posted(page, console):
    services, with_step = console
    with_step("letter", "profitletter_consumer")
    with services.db.session() as db:
        letters = db.scalars(select(Delivery).where(Delivery.channel == "letter",
                                                    Delivery.state == "sent")).all()
    assert letters, "the engine queued letters"

    sign_in_operator(page, EMAIL, PASSWORD)
    page.goto("/operator/print")
    expect(page.get_by_role("heading", name="Printwachtrij")).to_be_visible()
    rows = page.get_by_role("table").get_by_role("row")
    expect(rows).to_have_count(len(letters) + 1)
    shot(page, "operator-06-print-queue")

    pdf = page.request.get("/operator/print/letters.pdf",
                           params={"letter": letters[0].id})
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")

    page.get_by_label("Gepost op").fill(today_nl().isoformat())
    page.get_by_role("button", name="Gekozen brieven als gepost vastleggen").click()
    expect(page.get_by_role("status").filter(has_text="als gepost vastgelegd")).to_be_visible()
    expect(page.get_by_text("De printwachtrij is leeg")).to_be_visible()
    shot(page, "operator-07-posted")
    with services.db.session() as db:
        posted = [db.get(Delivery, d.id).posted_on for d in letters]
        cases = db.scalars(select(Case)).all()
    assert posted == [today_nl()] * len(letters)
    assert all(c.letter_posted_on == today_nl() for c in cases if c.next_step > 0)
