"""Details that erode trust, in a real browser (#16): branded 404 and 500 pages with a way
back, the company page on a 390-pixel phone without sideways scrolling, and approving ten
planned steps at once after seeing their count and cost."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from connector.models import Delivery
from connector.web import home
from tests.browser.journeys import (
    connect_moneybird,
    expect_message,
    fill_sender,
    open_company,
    run_engine,
    shot,
)

IBAN = "NL91 ABNA 0417 1643 00"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def moneybird_emulator(make_moneybird_emulator):
    """Enough debtors for ten planned steps."""
    return make_moneybird_emulator(contacts=24, invoices=60)


def test_404_and_a_forced_500_show_the_branded_pages(page: Page, services, monkeypatch):
    page.goto("/bestaat-niet")
    expect(page.get_by_role("heading", name="Deze pagina bestaat niet")).to_be_visible()
    expect(page).to_have_title(re.compile("Pagina niet gevonden"))
    shot(page, "trust-01-404")
    page.get_by_role("link", name="Naar de startpagina").click()
    expect(page).to_have_url(re.compile(r"/$"))

    def broken(*args, **kwargs):
        raise RuntimeError("forced failure for the test")

    monkeypatch.setattr(home, "timeline", broken)
    page.goto("/")
    expect(page.get_by_role("heading", name="Er ging iets mis")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Traceback")
    expect(page.locator("body")).not_to_contain_text("forced failure")
    shot(page, "trust-02-500")
    page.set_viewport_size(PHONE)
    page.goto("/nog-een-fout-adres")
    shot(page, "trust-03-404-phone")


def test_company_page_fits_a_phone_and_ten_steps_are_approved_at_once(
        page: Page, services, moneybird_emulator):
    company_id = connect_moneybird(page)
    run_engine(services, company_id)  # preview: the first steps are planned
    open_company(page, company_id)
    fill_sender(page, "Zoet B.V.", IBAN)
    open_company(page, company_id)

    page.set_viewport_size(PHONE)
    page.reload()
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > 391)
        .map(e => e.tagName + '#' + e.id + '.' + e.className + ':' +
             Math.round(e.getBoundingClientRect().right)).slice(0, 12)""")
    assert width <= PHONE["width"], f"the company page is {width}px wide on a phone: {wide}"
    shot(page, "trust-04-company-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    planned = page.locator("#planned")
    boxes = planned.get_by_role("checkbox")
    assert boxes.count() >= 10, boxes.count()
    for index in range(10):
        boxes.nth(index).check()
    shot(page, "trust-05-ten-chosen")
    page.get_by_role("button", name="Geselecteerde goedkeuren…").click()
    expect(page.get_by_role("heading", name=re.compile(
        r"^10 stappen goedkeuren · kosten €\s[\d.,]+ excl\. btw$"))).to_be_visible()
    expect(page.get_by_role("table").locator("tbody tr")).to_have_count(10)
    shot(page, "trust-06-bulk-summary")
    page.get_by_role("button", name="Ja, 10 stappen goedkeuren").click()
    expect_message(page, re.compile("10 stappen goedgekeurd"))
    shot(page, "trust-07-bulk-approved")
    with services.db.session() as db:
        approved = db.scalars(select(Delivery).where(Delivery.approved_by.is_not(None))).all()
    assert len(approved) == 10
