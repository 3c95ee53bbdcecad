"""The details that erode a creditor's trust (#16): each reproduced, then fixed."""

from __future__ import annotations

import re
from pathlib import Path

import requests
from sqlalchemy import select

from connector.models import Case, Company
from connector.web import home
from tests.helpers import oauth_connect
from tests.test_web import _operator_session


def test_unknown_page_shows_the_branded_404_with_a_way_back(services):
    url = services.settings.public_url
    page = requests.get(f"{url}/bestaat-niet", timeout=10)
    assert page.status_code == 404
    assert "Deze pagina bestaat niet" in page.text
    assert 'href="/"' in page.text and "Naar de startpagina" in page.text
    assert "favicon.svg" in page.text
    english = requests.get(f"{url}/bestaat-niet", headers={"Accept-Language": "en"}, timeout=10)
    assert english.status_code == 404 and "This page does not exist" in english.text


def test_a_crash_shows_the_branded_500_and_no_traceback(services, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom: internal detail")

    monkeypatch.setattr(home, "timeline", broken)
    page = requests.get(f"{services.settings.public_url}/", timeout=10)
    assert page.status_code == 500
    assert "Er ging iets mis" in page.text and "Naar de startpagina" in page.text
    assert "Traceback" not in page.text and "internal detail" not in page.text


def test_favicon_is_served(services):
    icon = requests.get(f"{services.settings.public_url}/favicon.ico", timeout=10)
    assert icon.status_code == 200 and icon.headers["Content-Type"].startswith("image/svg+xml")


def test_creditor_can_add_another_platform_and_same_names_are_told_apart(
        services, moneybird_emulator):
    url = services.settings.public_url
    first, second = moneybird_emulator.administration_ids()[:2]
    s, _ = oauth_connect(url, moneybird_emulator.server.url, administrations=[first, second],
                         choose=[first, second])
    with services.db.session() as db:
        for company in db.scalars(select(Company)):
            company.name = "Bakkerij Jansen B.V."  # two ledgers of the same name
    listing = s.get(f"{url}/companies/", timeout=10).text
    assert 'href="/connect/moneybird"' in listing and 'href="/connect/exact-online"' in listing
    assert "Pakket of administratie toevoegen" in listing
    assert f"Moneybird · administratie {first}" in listing
    assert f"Moneybird · administratie {second}" in listing


RAW = ("— system", "— creditor", "— operator:", "(stamp)", "(letter)", "(email)", "legal-nl",
       "status 20", "profitletter_consumer", "profitletter_business")


def test_pages_show_no_internal_codes(services, moneybird_emulator):
    from tests.test_web_dashboard import _prepared

    company_id = _prepared(services, moneybird_emulator)
    browser = _operator_session(services)
    base = f"{services.settings.public_url}/companies/{company_id}"
    with services.db.session() as db:
        invoice_id = db.scalar(select(Case.invoice_id).where(Case.company_id == company_id))
    for path in ("", "/dashboard", "/cases", "/debtors", "/policy", f"/invoices/{invoice_id}"):
        page = browser.get(f"{base}{path}", timeout=30)
        assert page.status_code == 200, path
        visible = re.sub(r"<[^>]+>", " ", page.text)  # codes in value="…" are fine
        shown = [raw for raw in RAW if raw in visible]
        assert not shown, (path, shown)


def test_pages_address_the_creditor_formally():
    """"u", never "je/jij/jouw": in page templates and the strings of the web modules."""
    root = Path(__file__).resolve().parent.parent
    informal = re.compile(r"\b(je|jij|jou|jouw|Je|Jij|Jouw)\b")
    found = []
    for path in [*(root / "templates" / "web").rglob("*.html"),
                 *(root / "connector" / "web").glob("*.py")]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if informal.search(line) and not line.lstrip().startswith("#"):
                found.append(f"{path.name}:{number}")
    assert not found, found


def test_exact_pages_never_claim_its_reminders_were_paused(make_services, exact_emulator):
    from connector import writeback
    from connector.collection.engine import run_company
    from connector.models import Invoice
    from connector.sync import sync_company
    from tests.test_exact import big_division, connect

    services = make_services(exact=exact_emulator)
    company_id = connect(services, exact_emulator, big_division(exact_emulator))
    sync_company(services, company_id)
    run_company(services, company_id)  # preview: cases open
    with services.db.session() as db:
        case = db.scalars(select(Case).where(Case.company_id == company_id)).first()
        invoice = db.get(Invoice, case.invoice_id)
        writeback.queue(db, invoice, "pause", key=writeback.derived_key("pause", case.id))
        invoice_id = invoice.id
    browser = _operator_session(services)
    base = f"{services.settings.public_url}/companies/{company_id}"
    for page in (browser.get(base, timeout=30).text,
                 browser.get(f"{base}/invoices/{invoice_id}", timeout=30).text):
        assert "gepauzeerd" not in page, re.findall(r".{120}gepauzeerd.{40}", page, re.S)
        assert "Exact Online kan zijn eigen herinneringen niet via de koppeling pauzeren" in page
