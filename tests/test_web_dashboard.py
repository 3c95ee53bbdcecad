"""The creditor's overview, the go-live confirmation and the partner's dashboard (web)."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from connector.clock import AMSTERDAM, today_nl
from connector.collection.cases import settings_for
from connector.collection.engine import run_company
from connector.collection.legal.calendar_nl import is_working_day
from connector.models import Case, Event, Invoice
from connector.sync import sync_company
from tests.helpers import connect_direct, csrf_token
from tests.test_web import _operator_session

IBAN = "NL91ABNA0417164300"


@pytest.fixture
def moneybird_emulator(make_moneybird_emulator):
    return make_moneybird_emulator(contacts=12, invoices=40)


def _prepared(services, moneybird_emulator) -> str:
    company_id = connect_direct(services, moneybird_emulator)
    sync_company(services, company_id)
    run_company(services, company_id)  # preview: cases open, the first steps are planned
    return company_id


def _set_iban(services, company_id: str) -> None:
    with services.db.session() as db:
        settings = settings_for(db, company_id)
        settings.sender = {**(settings.sender or {}), "iban": IBAN}


def test_overview_is_the_first_tab_with_charts_and_their_tables(services, moneybird_emulator):
    company_id = _prepared(services, moneybird_emulator)
    browser = _operator_session(services)
    base = f"{services.settings.public_url}/companies/{company_id}"
    page = browser.get(f"{base}/dashboard")
    assert page.status_code == 200
    text = page.text
    assert 'aria-current="page">Overzicht' in text and ">Instellingen</a>" in text
    # the age chart is an accessible image, its numbers in a table beside it
    assert re.search(r'<svg class="chart" role="img"[^>]*aria-labelledby="chart-ageing-title', text)
    assert "<title id=\"chart-ageing-title\">Openstaand naar ouderdom</title>" in text
    assert "meer dan 90 dagen te laat" in text and "Lopende dossiers per fase" in text
    with services.db.session() as db:
        running = db.scalar(select(func.count()).select_from(Case).where(
            Case.company_id == company_id, Case.state == "active"))
    assert running > 0
    assert re.search(rf'<th scope="row">wacht op: [^<]+</th><td class="num">{running}</td>', text)
    assert "Nog geen betalingen na een verstuurde stap." in text
    assert "Live gaan…" in text  # preview: going live is offered, through the confirmation
    # the settings tab links back to the overview
    settings_page = browser.get(base).text
    assert f'href="/companies/{company_id}/dashboard">Overzicht' in settings_page
    # the list of companies opens the overview first
    assert f'href="/companies/{company_id}/dashboard"' in browser.get(
        f"{services.settings.public_url}/companies/").text
    # a silly period falls back to the default; never an error
    assert browser.get(f"{base}/dashboard?binnen=abc").status_code == 200


def _next_working_morning() -> datetime:
    """10:00 on the next working day: steps go out only within contact hours, and the test must
    not depend on the hour it runs (it failed after 20:00)."""
    day = today_nl() + timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, time(10), AMSTERDAM)


def test_dashboard_fills_as_steps_go_out_and_a_payment_comes_in(services, moneybird_emulator):
    with time_machine.travel(_next_working_morning(), tick=True):
        _dashboard_fills(services, moneybird_emulator)


def _dashboard_fills(services, moneybird_emulator) -> None:
    company_id = _prepared(services, moneybird_emulator)
    _set_iban(services, company_id)
    browser = _operator_session(services)
    base = f"{services.settings.public_url}/companies/{company_id}"
    confirm = browser.get(f"{base}/go-live").text
    browser.post(f"{base}/go-live", data={"csrf_token": csrf_token(confirm)})
    run_company(services, company_id)  # live: the stamps go out today
    with services.db.session() as db:
        case = db.scalars(select(Case).where(Case.company_id == company_id,
                                             Case.next_step == 1)).first()
        invoice = db.get(Invoice, case.invoice_id)
        amount, external_id = case.principal, invoice.external_id
    moneybird_emulator.mark_paid(moneybird_emulator.administration_ids()[0], external_id,
                                 on=today_nl())
    sync_company(services, company_id)
    text = browser.get(f"{base}/dashboard").text
    assert 'id="chart-recovered-title"' in text
    recovered = re.search(r"Binnengehaald met pre-incasso</span><strong>([^<]+)</strong>", text)
    assert recovered.group(1).replace("\xa0", " ") == _nl_money(amount)


def _nl_money(value) -> str:
    from babel.numbers import format_currency

    return format_currency(value, "EUR", locale="nl_NL").replace("\xa0", " ")


def test_going_live_confirms_a_summary_computed_from_the_plan(services, moneybird_emulator):
    company_id = _prepared(services, moneybird_emulator)
    browser = _operator_session(services)
    base = f"{services.settings.public_url}/companies/{company_id}"
    with services.db.session() as db:
        cases = list(db.scalars(select(Case).where(Case.company_id == company_id,
                                                   Case.state == "active")))
        debtors = {c.debtor_id for c in cases}
        today = today_nl()
        ages = [((today - c.invoice.due_date).days, c.debtor_id) for c in cases]
        dues = sorted(days for days, _debtor in ages)
    page = browser.get(f"{base}/go-live").text
    summary = re.search(r'<p class="summary" id="samenvatting"><strong>([^<]+)</strong>', page)
    line = summary.group(1).replace("\xa0", " ")
    assert line.startswith(f"{len(cases)} dossiers · vandaag {len(debtors)} herinneringen · ")
    assert re.search(r"vanaf \d+ \w+ tot ca\. \d+ × Profitletter à € 14,95 ≈ € [\d.,]+ excl\. btw",
                     line), line
    # no IBAN yet: the confirmation says so and nothing goes live
    refused = browser.post(f"{base}/go-live", data={"csrf_token": csrf_token(page)})
    assert "Vul eerst het IBAN" in refused.text
    with services.db.session() as db:
        assert not settings_for(db, company_id).live
    # a limit typed wrongly is told, with what was typed kept
    bad = browser.get(f"{base}/go-live", params={"max_dagen": "veel"})
    assert bad.status_code == 200 and "heel aantal dagen" in bad.text
    assert 'value="veel"' in bad.text
    # limit the backlog: only invoices overdue less than N days, and one debtor excluded
    limit = dues[len(dues) // 2]
    excluded = sorted(debtors)[0]
    old = sum(1 for days, debtor in ages if days >= limit and debtor != excluded)
    limited = browser.get(f"{base}/go-live", params={"max_dagen": str(limit),
                                                    "uitsluiten": [excluded, "nonsense"]}).text
    assert "blijven buiten pre-incasso" in limited or "blijft buiten pre-incasso" in limited
    _set_iban(services, company_id)
    limited = browser.get(f"{base}/go-live", params={"max_dagen": str(limit),
                                                    "uitsluiten": excluded}).text
    done = browser.post(f"{base}/go-live", data={"csrf_token": csrf_token(limited),
                                                 "max_dagen": str(limit),
                                                 "uitsluiten": excluded})
    assert done.url.endswith(f"/companies/{company_id}/dashboard")
    assert "Pre-incasso staat live." in done.text
    with services.db.session() as db:
        assert settings_for(db, company_id).live
        backlog = db.scalar(select(func.count()).select_from(Case).where(
            Case.company_id == company_id, Case.closed_reason == "backlog"))
        excluded_closed = db.scalar(select(func.count()).select_from(Case).where(
            Case.debtor_id == excluded, Case.closed_reason == "excluded"))
        event = db.scalars(select(Event).where(Event.company_id == company_id,
                                               Event.kind == "collection.mode")).one()
    # nothing had reached the debtors yet (preview): every old case stays out
    assert backlog == old > 0
    assert excluded_closed == sum(1 for _days, debtor in ages if debtor == excluded) >= 1
    assert event.data["live"] is True
    assert event.data["left_out"] == old + excluded_closed
    # a second confirmation (a double click, a stale tab) changes nothing
    again = browser.post(f"{base}/go-live", data={"csrf_token": csrf_token(limited)})
    assert "staat al live" in again.text
    with services.db.session() as db:
        assert db.scalar(select(func.count()).select_from(Event).where(
            Event.company_id == company_id, Event.kind == "collection.mode")) == 1
    assert "Bevestigen en live gaan" not in browser.get(f"{base}/go-live").text


def test_go_live_page_in_english(services, moneybird_emulator):
    company_id = _prepared(services, moneybird_emulator)
    browser = _operator_session(services)
    url = services.settings.public_url
    browser.get(f"{url}/lang/en", params={"next": "/"})
    page = browser.get(f"{url}/companies/{company_id}/go-live").text
    assert "Confirm and go live" in page and " cases · today " in page
    board = browser.get(f"{url}/companies/{company_id}/dashboard").text
    assert "Outstanding by age" in board and "Running cases by stage" in board


def test_partner_dashboard_sums_companies_and_filters_per_company(
        services, moneybird_emulator):
    first = _prepared(services, moneybird_emulator)
    second = connect_direct(services, moneybird_emulator,
                            adm=moneybird_emulator.administration_ids()[1])
    sync_company(services, second)
    browser = _operator_session(services)
    url = f"{services.settings.public_url}/operator/dashboard"
    everything = browser.get(url).text
    assert 'id="chart-ageing-title"' in everything
    assert f"/companies/{first}/dashboard" in everything
    assert f"/companies/{second}/dashboard" in everything
    one = browser.get(url, params={"bedrijf": first}).text
    assert f"/companies/{first}/dashboard" in one and f"/companies/{second}/dashboard" not in one
    assert browser.get(url, params={"bedrijf": "x", "pakket": "y"}).status_code == 200


def test_creditor_sees_only_its_own_dashboard_and_not_the_partners(services, moneybird_emulator):
    from tests.helpers import oauth_connect

    other = connect_direct(services, moneybird_emulator,
                           adm=moneybird_emulator.administration_ids()[1])
    session, result = oauth_connect(services.settings.public_url, moneybird_emulator.server.url,
                                    administrations=[moneybird_emulator.administration_ids()[0]])
    own = re.search(r"/companies/([0-9a-f]{32})", result.url).group(1)
    base = services.settings.public_url
    assert session.get(f"{base}/companies/{own}/dashboard").status_code == 200
    assert session.get(f"{base}/companies/{other}/dashboard").status_code == 404
    assert session.get(f"{base}/operator/dashboard").status_code == 404
