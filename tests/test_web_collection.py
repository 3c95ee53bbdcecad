"""The pre-incasso parts of the company page: mode, sender, approvals, holds, statement."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from connector.clock import today_nl
from connector.collection.cases import settings_for
from connector.collection.engine import run_company
from connector.models import Case, Delivery, Hold
from connector.sync import sync_company
from tests.helpers import connect_direct, csrf_token, oauth_connect
from tests.test_web import _operator_session


def _page(browser, services, company_id):
    return browser.get(f"{services.settings.public_url}/companies/{company_id}")


def test_going_live_needs_a_valid_iban_first(services, moneybird_emulator):
    company_id = connect_direct(services, moneybird_emulator)
    browser = _operator_session(services)
    url = f"{services.settings.public_url}/companies/{company_id}"
    page = _page(browser, services, company_id).text
    assert "voorbeeld" in page  # a new company starts in preview
    refused = browser.post(f"{url}/collection/mode", data={"csrf_token": csrf_token(page),
                                                           "live": "1"})
    assert "Vul eerst het IBAN" in refused.text
    bad = browser.post(f"{url}/sender", data={"csrf_token": csrf_token(page), "name": "Zoet B.V.",
                                              "iban": "NL91ABNA0417164301"})
    assert "IBAN klopt niet" in bad.text
    bad_phone = browser.post(f"{url}/sender", data={
        "csrf_token": csrf_token(page), "name": "Zoet B.V.", "iban": "NL91ABNA0417164300",
        "phone": "06 123"})
    assert "telefoonnummer klopt niet" in bad_phone.text
    with services.db.session() as db:
        assert not settings_for(db, company_id).sender.get("iban")
    good = browser.post(f"{url}/sender", data={"csrf_token": csrf_token(page),
                                               "name": "Zoet B.V.",
                                               "iban": "nl91 abna 0417 1643 00",
                                               "phone": "0301234567"})
    assert "opgeslagen" in good.text
    confirm = browser.post(f"{url}/collection/mode", data={"csrf_token": csrf_token(page),
                                                           "live": "1"})
    assert "Live gaan: wat er gaat gebeuren" in confirm.text  # never live without confirming
    with services.db.session() as db:
        assert not settings_for(db, company_id).live
    live = browser.post(f"{url}/go-live", data={"csrf_token": csrf_token(confirm.text),
                                                "terug": "instellingen"})
    assert "staat live" in live.text
    with services.db.session() as db:
        settings = settings_for(db, company_id)
        assert settings.live and settings.sender["iban"] == "NL91ABNA0417164300"
        assert settings.sender["phone"] == "030 123 4567"  # written the Dutch way


def test_preview_shows_planned_steps_and_approval_and_holds_work(services, moneybird_emulator):
    company_id = connect_direct(services, moneybird_emulator)
    sync_company(services, company_id)
    run_company(services, company_id)
    browser = _operator_session(services)
    page = _page(browser, services, company_id).text
    assert 'id="planned"' in page and "Goedkeuren" in page
    with services.db.session() as db:
        delivery = db.scalars(select(Delivery).where(Delivery.state == "planned")).first()
        case = db.scalars(select(Case)).first()
    base = f"{services.settings.public_url}/companies/{company_id}"
    with services.db.session() as db:  # a step is approved only when it can go out (#16)
        settings_for(db, company_id).sender = {"name": "Zoet B.V.", "iban": "NL91ABNA0417164300"}
    approved = browser.post(f"{base}/deliveries/{delivery.id}/approve",
                            data={"csrf_token": csrf_token(page)})
    assert "Goedgekeurd" in approved.text
    with services.db.session() as db:
        assert db.get(Delivery, delivery.id).approved_by == "operator:op@partner.example"

    invoice_page = browser.get(f"{base}/invoices/{case.invoice_id}").text
    assert "Pre-incassodossier" in invoice_page
    token = csrf_token(invoice_page)
    no_date = browser.post(f"{base}/cases/{case.id}/holds",
                           data={"csrf_token": token, "kind": "promise", "reason": "Belt terug"})
    assert "heeft een datum nodig" in no_date.text
    past = browser.post(f"{base}/cases/{case.id}/holds",
                        data={"csrf_token": token, "kind": "promise", "reason": "Belt terug",
                              "until": (today_nl() - timedelta(days=1)).isoformat()})
    assert "in het verleden" in past.text
    with services.db.session() as db:
        assert db.scalars(select(Hold)).all() == []
    ok = browser.post(f"{base}/cases/{case.id}/holds",
                      data={"csrf_token": token, "kind": "promise", "reason": "Belt terug",
                            "until": (today_nl() + timedelta(days=5)).isoformat()})
    assert "Betaalbelofte vastgelegd" in ok.text
    with services.db.session() as db:
        hold = db.scalars(select(Hold)).one()
        assert db.get(Case, case.id).state == "on_hold"
    ended = browser.post(f"{base}/holds/{hold.id}/end", data={"csrf_token": token})
    assert "loopt weer" in ended.text
    with services.db.session() as db:
        assert db.get(Case, case.id).state == "active"


def test_statement_page_and_csv(services, moneybird_emulator):
    company_id = connect_direct(services, moneybird_emulator)
    browser = _operator_session(services)
    base = f"{services.settings.public_url}/companies/{company_id}"
    month = today_nl().strftime("%Y-%m")
    assert "Geen kosten" in browser.get(f"{base}/statement/{month}").text
    csv = browser.get(f"{base}/statement/{month}?format=csv")
    assert csv.headers["Content-Type"].startswith("text/csv")
    assert csv.text.splitlines()[0] == "datum;omschrijving;bedrag excl. btw"
    assert browser.get(f"{base}/statement/2026-13").status_code == 404


def test_other_creditors_cannot_touch_pre_incasso(services, moneybird_emulator):
    first, second = moneybird_emulator.administration_ids()[:2]
    other = connect_direct(services, moneybird_emulator, second)
    sync_company(services, other)
    run_company(services, other)
    with services.db.session() as db:
        delivery = db.scalars(select(Delivery).where(Delivery.company_id == other)).first()
        case = db.scalars(select(Case).where(Case.company_id == other)).first()
    app = services.settings.public_url
    browser, page = oauth_connect(app, moneybird_emulator.server.url, administrations=[first])
    token = csrf_token(page.text)
    for path, data in [
        (f"/companies/{other}/collection/mode", {"live": "1"}),
        (f"/companies/{other}/deliveries/{delivery.id}/approve", {}),
        (f"/companies/{other}/cases/{case.id}/holds", {"kind": "pause", "reason": "x"}),
        (f"/companies/{other}/sender", {"name": "x", "iban": "NL91ABNA0417164300"}),
    ]:
        assert browser.post(app + path, data={"csrf_token": token, **data}).status_code == 404
    assert browser.get(f"{app}/companies/{other}/statement/2026-11").status_code == 404
    with services.db.session() as db:
        assert db.get(Delivery, delivery.id).approved_by is None
        assert not settings_for(db, other).live
        assert db.scalars(select(Hold)).all() == []
