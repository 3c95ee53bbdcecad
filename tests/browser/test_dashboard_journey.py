"""The creditor's overview and the go-live confirmation in a real browser: the start page's cost
line, the summary computed from the plan, the backlog limit, the charts filling as steps go out
and a payment comes in; and the same pages on a 390-pixel phone without sideways scrolling."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from connector.clock import today_nl
from connector.models import Case, Invoice
from tests.browser.journeys import (
    connect_moneybird,
    expect_message,
    fill_sender,
    open_go_live,
    run_engine,
    section,
    shot,
)

IBAN = "NL91 ABNA 0417 1643 00"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def services(make_services, moneybird_emulator, tmp_path):
    return make_services(moneybird_emulator, letter_dir=str(tmp_path / "letters"))


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide on a phone"


def open_overview(page: Page) -> None:
    page.get_by_role("navigation", name=re.compile("^Pre-incasso van")).get_by_role(
        "link", name="Overzicht").click()
    expect(page.get_by_role("heading", name="Openstaand en achterstallig naar ouderdom")
           ).to_be_visible()


def test_cost_line_go_live_confirmation_and_the_dashboard_filling(page, services,
                                                                  moneybird_emulator):
    # The start page says who pays what: free for the debtor, a fee per Profitletter.
    page.goto("/")
    costs = page.get_by_role("list", name="Stappen, dagen en kosten")
    expect(costs).to_contain_text("dag 0")
    expect(costs).to_contain_text(re.compile(r"€\s14,95"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("kosteloos voor uw debiteur")
    shot(page, "dashboard-01-home-cost-line")

    # One invoice is too old to chase: a consumer's, due three years ago.
    adm = moneybird_emulator.administration_ids()[0]
    consumer = next(c for c in moneybird_emulator.contacts(adm) if not c.get("company_name"))
    moneybird_emulator.create_invoice(adm, consumer["id"],
                                      due_date=today_nl() - timedelta(days=3 * 366))

    company_id = connect_moneybird(page)
    run_engine(services, company_id)  # preview: cases open and their first steps are planned
    fill_sender(page, "Bakkerij Zoet B.V.", IBAN, "debiteuren@zoet.example", "030 123 4567")
    expect_message(page, "Afzendergegevens opgeslagen")

    # The overview is the first tab: charts with their tables, nothing recovered yet.
    open_overview(page)
    expect(page.get_by_role("img", name="Openstaand naar ouderdom")).to_be_visible()
    expect(page.get_by_role("img", name="Lopende dossiers per fase")).to_be_visible()
    expect(section(page, "Wat pre-incasso binnenhaalde")).to_contain_text(
        "Nog geen betalingen")
    shot(page, "dashboard-02-overview-preview")

    # The time-barred invoice is not chased; it is listed for review with the reason.
    page.get_by_role("link", name="beoordelen").click()
    expect(page.get_by_role("heading", name="Mogelijk verjaarde facturen")).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("art. 7:28 BW")
    shot(page, "dashboard-02b-time-barred-review")

    # Going live: a confirmation with the summary computed from the plan.
    page.goto(f"/companies/{company_id}")
    open_go_live(page)
    summary = page.locator("#samenvatting")
    expect(summary).to_contain_text(re.compile(r"^\d+ dossiers · vandaag \d+ herinneringen"))
    expect(summary).to_contain_text(
        re.compile(r"vanaf \d+ \w+ tot ca\. \d+ × Profitletter à €\s14,95 ≈ €\s[\d.]+,\d\d excl"))
    full = int(re.match(r"(\d+) dossiers", summary.inner_text()).group(1))
    shot(page, "dashboard-03-go-live-confirmation")

    # Limit the backlog first: only invoices overdue less than 400 days.
    limits = section(page, "Eerst de achterstand beperken (niet verplicht)")
    limits.get_by_label("Alleen facturen die minder dan … dagen vervallen zijn").fill("400")
    limits.get_by_role("button", name="Opnieuw berekenen").click()
    limited = int(re.match(r"(\d+) dossiers", summary.inner_text()).group(1))
    assert 0 < limited <= full
    page.get_by_role("button", name="Bevestigen en live gaan").click()
    expect_message(page, "Pre-incasso staat live")
    expect(section(page, "Pre-incasso")).to_contain_text("live")

    # Steps go out, a debtor pays: the dashboard shows what pre-incasso brought in.
    result = run_engine(services, company_id)
    assert result.sent > 0, result
    with services.db.session() as db:
        case = db.scalars(select(Case).where(Case.company_id == company_id,
                                             Case.next_step >= 1)).first()
        invoice = db.get(Invoice, case.invoice_id)
        external_id = invoice.external_id
    moneybird_emulator.mark_paid(adm, external_id, on=today_nl())
    run_engine(services, company_id)
    page.goto(f"/companies/{company_id}/dashboard")
    expect(page.get_by_role("img", name="Betaald na stap")).to_be_visible()
    recovered = section(page, "Wat pre-incasso binnenhaalde")
    expect(recovered.get_by_role("table")).to_contain_text("Laatste herinnering met incassostempel")
    shot(page, "dashboard-04-overview-after-a-payment")
    page.get_by_role("link", name="maandoverzicht").click()
    expect(page.get_by_text(re.compile("Lopende kosten deze maand"))).to_be_visible()
    expect(page.get_by_role("link", name="Download CSV")).to_be_visible()
    shot(page, "dashboard-04b-statement")
    page.goto(f"/companies/{company_id}/dashboard")

    # The same pages on a phone: readable, no sideways scrolling.
    page.set_viewport_size(PHONE)
    page.reload()
    no_sideways_scroll(page)
    shot(page, "dashboard-05-overview-phone")
    page.goto(f"/companies/{company_id}/go-live")
    no_sideways_scroll(page)
    shot(page, "dashboard-06-go-live-phone")
    page.goto("/")


def test_partner_dashboard_across_companies_with_a_company_filter(page, services, live_server,
                                                                  moneybird_emulator):
    from connector.sync import sync_company
    from tests.browser.journeys import sign_in_operator
    from tests.browser.test_form_errors import EMAIL, PASSWORD, create_operator
    from tests.helpers import connect_direct

    first, second = moneybird_emulator.administration_ids()[:2]
    companies = [connect_direct(services, moneybird_emulator, adm) for adm in (first, second)]
    for company_id in companies:
        run_engine(services, company_id)
    sync_company(services, companies[1])
    create_operator(live_server.app, EMAIL, PASSWORD)
    sign_in_operator(page, EMAIL, PASSWORD)
    page.goto("/operator/")
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("img", name="Openstaand naar ouderdom")).to_be_visible()
    rows = section(page, "Per bedrijf").get_by_role("row")
    expect(rows).to_have_count(3)  # a header and two companies
    shot(page, "dashboard-07-partner-all-companies")
    page.get_by_label("Bedrijf", exact=True).select_option(index=1)
    page.get_by_role("button", name="Filteren").click()
    expect(rows).to_have_count(2)
    page.set_viewport_size(PHONE)
    no_sideways_scroll(page)
