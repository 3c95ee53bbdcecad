"""Browser: a creditor connects Xero, chooses the organisation and sees the first cases."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from connector.worker import Worker
from tests.browser.journeys import company_id_from_url
from tests.helpers import go_live

pytest_plugins = ["tests.fixtures_xero"]


@pytest.fixture
def xero(make_xero_emulator):
    return make_xero_emulator(contacts=12, invoices=30)


@pytest.fixture
def services(make_services, xero):
    return make_services(ledger={"xero": {"XERO_BASE_URL": xero.public_url}})


def test_connect_xero_choose_the_organisation_and_see_the_first_cases(page, services, xero):
    first, second = (xero.orgs[t]["Name"] for t in xero.tenant_ids())
    page.goto("/")
    page.get_by_role("link", name="Koppel Xero").click()
    expect(page.get_by_role("heading", name=re.compile("wil verbinden met Xero"))).to_be_visible()
    # Xero's consent: the organisation is chosen there (only the first is ticked).
    expect(page.get_by_role("checkbox", name=first)).to_be_checked()
    expect(page.get_by_role("checkbox", name=second)).not_to_be_checked()
    page.get_by_role("button", name="Toestaan").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Welke .* wilt u koppelen\?$"))
           ).to_be_visible()
    expect(page.get_by_text(second)).to_have_count(0)  # only this consent's organisation
    page.get_by_role("button", name="Koppelen").click()
    company_id = company_id_from_url(page)
    go_live(services, company_id)
    worker = Worker(services)
    worker.start()
    try:
        page.goto(f"/companies/{company_id}/cases")
        overdue = [r for r in xero.open_invoices(xero.tenant_ids()[0])
                   if r["DueDate"] < xero.now().date()]
        number = overdue[0]["InvoiceNumber"]
        for _ in range(60):  # the first sync and the engine run in the background
            if page.get_by_text(number).count():
                break
            page.wait_for_timeout(1000)
            page.reload()
        expect(page.get_by_text(number).first).to_be_visible()
    finally:
        worker.stop()
