"""The operator's journey in a real browser: sign in with a password, the companies overview.

The call list and the print queue slot in here as they land (see ``journeys.py``)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.journeys import create_operator, shot, sign_in_operator
from tests.helpers import connect_direct

EMAIL, PASSWORD = "op@partner.example", "a-long-enough-password"


def test_operator_signs_in_and_sees_every_company(page, services, moneybird_emulator,
                                                 live_server):
    first, second = moneybird_emulator.administration_ids()[:2]
    connect_direct(services, moneybird_emulator, first)
    connect_direct(services, moneybird_emulator, second)
    create_operator(live_server.app, EMAIL, PASSWORD)

    page.goto("/login")
    shot(page, "operator-01-login")
    sign_in_operator(page, EMAIL.upper(), PASSWORD)  # the e-mail address is case-insensitive
    page.get_by_role("banner").get_by_role("link", name="Bedrijven").click()  # from the console
    companies = page.get_by_role("table")
    expect(companies.get_by_role("row")).to_have_count(3)  # a header and two companies
    expect(companies).to_contain_text("Moneybird")
    shot(page, "operator-02-companies")

    companies.get_by_role("link").first.click()  # the overview first, the settings a tab
    expect(page.get_by_role("heading", name="Openstaand en achterstallig naar ouderdom")
           ).to_be_visible()
    page.get_by_role("link", name="Instellingen").click()
    expect(page.get_by_role("heading", name="Koppeling")).to_be_visible()
    page.get_by_role("button", name="Uitloggen").click()
    expect(page.get_by_role("link", name="Inloggen operator")).to_be_visible()
