"""The creditor's journey in a real browser, against the Moneybird emulator on loopback:
connect, choose the administration, fill in the sender, go live, watch a case progress,
record a promise to pay."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from connector.clock import today_nl
from connector.models import Case, Delivery, DeliveryCase
from tests.browser.journeys import (
    choose_administrations,
    company_id_from_url,
    connect_moneybird,
    consent,
    expect_message,
    fill_sender,
    go_live,
    open_company,
    open_invoice,
    open_policy,
    policy_step,
    preview_template,
    promise_to_pay,
    run_engine,
    save_policy,
    section,
    shot,
    start_connect,
)

IBAN = "NL91 ABNA 0417 1643 00"


@pytest.fixture
def services(make_services, moneybird_emulator, tmp_path):
    return make_services(moneybird_emulator, letter_dir=str(tmp_path / "letters"))


def test_connect_go_live_watch_a_case_and_record_a_promise(page, services, moneybird_emulator):
    # Connect: the start page → Moneybird's consent → choose one administration.
    page.goto("/")
    shot(page, "creditor-01-home")
    start_connect(page)
    shot(page, "creditor-02-moneybird-consent")
    consent(page)
    names = [box.locator("xpath=..").inner_text().strip()
             for box in page.get_by_role("checkbox").all()]
    assert len(names) > 1, "the emulator offers several administrations"
    shot(page, "creditor-03-choose-administration")
    choose_administrations(page, [names[0]])
    company_id = company_id_from_url(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text(names[0])  # + platform and code
    expect_message(page, "gekoppeld")
    expect(section(page, "Koppeling")).to_contain_text("actief")
    expect(section(page, "Pre-incasso")).to_contain_text("voorbeeld")
    shot(page, "creditor-04-company-settings")

    # The sender identity, then live.
    fill_sender(page, "Bakkerij Zoet B.V.", IBAN, "debiteuren@zoet.example", "030 123 4567")
    expect_message(page, "Afzendergegevens opgeslagen")
    sender = section(page, "Afzender")
    expect(sender.get_by_label("IBAN", exact=True)).to_have_value("NL91ABNA0417164300")
    go_live(page)
    expect_message(page, "Pre-incasso staat live")
    expect(section(page, "Pre-incasso")).to_contain_text("live")

    # What the worker does: sync, an engine cycle, the write-back. Then the page shows it.
    result = run_engine(services, company_id)
    assert result.opened > 0 and result.sent > 0, result
    page.reload()
    preincasso = section(page, "Pre-incasso")
    expect(preincasso.get_by_role("heading", name="Laatst verstuurd")).to_be_visible()
    expect(preincasso).to_contain_text(re.compile(r"[1-9]\d* lopend"))
    shot(page, "creditor-05-cases-progress")

    # One case that got a step: its invoice page shows the step, then a promise to pay.
    with services.db.session() as db:
        case = db.scalars(select(Case).join(DeliveryCase).join(Delivery).where(
            Case.company_id == company_id, Delivery.state == "sent")).first()
        invoice_id = case.invoice_id
    open_invoice(page, company_id, invoice_id)
    dossier = section(page, "Pre-incassodossier")
    expect(dossier).to_contain_text("loopt")
    expect(dossier.get_by_role("table")).to_contain_text("verstuurd")
    shot(page, "creditor-06-invoice-case")
    until = today_nl() + timedelta(days=7)
    promise_to_pay(page, until, "Belt: betaalt volgende week")
    expect_message(page, "Betaalbelofte vastgelegd")
    dossier = section(page, "Pre-incassodossier")
    expect(dossier).to_contain_text("on hold")
    expect(dossier.get_by_role("listitem").filter(has_text="Belt: betaalt volgende week")
           ).to_contain_text("tot en met")
    shot(page, "creditor-07-promise-to-pay")
    with services.db.session() as db:
        assert db.get(Case, case.id).state == "on_hold"


def test_edit_the_policy_and_preview_the_letter_before_going_live(page, services):
    company_id = connect_moneybird(page)
    fill_sender(page, "Bakkerij Zoet B.V.", IBAN, "debiteuren@zoet.example", "030 123 4567")
    expect_message(page, "Afzendergegevens opgeslagen")
    # Preview mode: the engine plans, nothing goes out.
    run_engine(services, company_id)

    open_policy(page, company_id)
    shot(page, "creditor-08-policy")
    letter = policy_step(page, "Particulieren", 2)
    expect(letter.get_by_label("Naam")).to_have_value("Profitletter")
    # A bad value is refused next to its field, and nothing is stored.
    letter.get_by_label("Wachttijd (dagen)").fill("zeven")
    save_policy(page)
    expect(policy_step(page, "Particulieren", 2).locator(".field-error")).to_be_visible()
    shot(page, "creditor-09-policy-error")
    letter = policy_step(page, "Particulieren", 2)
    letter.get_by_label("Wachttijd (dagen)").fill("10")
    letter.get_by_label("Eerst goedkeuren").check()
    save_policy(page)
    expect_message(page, "Beleid opgeslagen")
    with services.db.session() as db:
        from connector.collection.cases import policy_for

        step = policy_for(db, company_id).steps("consumer")[1]
    assert (step.delay_days, step.needs_approval) == (10, True)

    # The Profitletter's text, previewed for one of the company's real cases.
    preview = preview_template(page, company_id, "profitletter_consumer")
    expect(preview.locator("#preview-text")).to_contain_text("Bakkerij Zoet B.V.")
    expect(preview.locator("#preview-text")).to_contain_text("NL91ABNA0417164300")
    expect(preview).not_to_contain_text("demogegevens")
    shot(page, "creditor-10-letter-preview")
    pdf = page.request.post(
        f"/companies/{company_id}/templates/profitletter_consumer/nl/pdf",
        form={"csrf_token": page.locator("input[name=csrf_token]").first.input_value(),
              "body": page.get_by_role("textbox", name="Tekst").input_value()})
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf", pdf.status

    open_company(page, company_id)
    go_live(page)
    expect_message(page, "Pre-incasso staat live")
