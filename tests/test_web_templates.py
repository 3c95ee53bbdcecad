"""The Sjablonen page: list, edit, preview on a real case, PDF, save, refuse, reset, isolation."""

from __future__ import annotations

import html
import io
import re

from pypdf import PdfReader
from sqlalchemy import select

from connector.collection.cases import settings_for
from connector.collection.engine import run_company
from connector.collection.messages import default_source
from connector.models import Case, CompanyTemplate, Event
from connector.sync import sync_company
from tests.helpers import connect_direct, csrf_token, oauth_connect
from tests.test_web import _operator_session

IBAN = "NL91ABNA0417164300"


def _company(services, emulator, *, cases: bool = True) -> str:
    company_id = connect_direct(services, emulator)
    with services.db.session() as db:
        settings_for(db, company_id).sender = {"name": "Bakkerij Zoet B.V.", "iban": IBAN,
                                               "email": "debiteuren@zoet.example"}
    if cases:
        sync_company(services, company_id)
        run_company(services, company_id)
    return company_id


def _templates(services, company_id: str) -> list[tuple[str, str, str]]:
    with services.db.session() as db:
        return [(t.name, t.lang, t.body) for t in db.scalars(
            select(CompanyTemplate).where(CompanyTemplate.company_id == company_id))]


def test_list_page_shows_every_template_and_language(services, moneybird_emulator):
    company_id = _company(services, moneybird_emulator, cases=False)
    browser = _operator_session(services)
    base = f"{services.settings.public_url}/companies/{company_id}"
    assert "/templates/" in browser.get(base).text  # linked from the company page
    page = browser.get(f"{base}/templates/").text
    assert page.count("standaard</span>") == 14 and "aangepast</span>" not in page
    assert "Nederlands" in page and "Engels" in page
    assert browser.get(f"{base}/templates/nope/nl").status_code == 404
    assert browser.get(f"{base}/templates/sms/de").status_code == 404


def test_preview_uses_a_real_case_and_does_not_save(services, moneybird_emulator):
    company_id = _company(services, moneybird_emulator)
    with services.db.session() as db:
        case = db.scalars(select(Case).where(Case.company_id == company_id)
                          .order_by(Case.opened_on.desc())).first()
        number = case.invoice.number or case.invoice.external_id
        debtor = case.debtor.name
    browser = _operator_session(services)
    url = f"{services.settings.public_url}/companies/{company_id}/templates/stamp/nl"
    page = browser.get(url).text
    assert "Laatste herinnering" in page and "Opslaan" in page and "Voorbeeld" in page
    body = default_source("stamp", "nl") + "\nTot ziens bij de bakker!"
    shown = browser.post(url, data={"csrf_token": csrf_token(page), "body": body,
                                    "case_id": case.id, "preview": "Voorbeeld"})
    assert shown.status_code == 200
    text = html.unescape(shown.text)
    assert "Tot ziens bij de bakker!" in text and number in text
    assert "Voorbeeld als PDF" in text and "srcdoc=" in shown.text and "demogegevens" not in text
    assert _templates(services, company_id) == []  # a preview changes nothing

    pdf = browser.post(f"{url}/pdf", data={"csrf_token": csrf_token(page), "body": body,
                                           "case_id": case.id})
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    pdf_text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Tot ziens bij de bakker!" in pdf_text and number in pdf_text
    assert debtor.split()[0] in pdf_text
    assert _templates(services, company_id) == []


def test_without_cases_the_preview_uses_demo_data(services, moneybird_emulator):
    company_id = _company(services, moneybird_emulator, cases=False)
    browser = _operator_session(services)
    base = f"{services.settings.public_url}/companies/{company_id}/templates"
    url = f"{base}/profitletter_consumer/en"
    page = browser.get(url).text
    assert "demogegevens" in page
    shown = browser.post(url, data={"csrf_token": csrf_token(page), "preview": "Voorbeeld",
                                    "body": default_source("profitletter_consumer", "en")})
    text = html.unescape(shown.text)
    assert "fourteen days from the day after this letter has been delivered to you" in text
    assert "Met demogegevens" in text and "dit sjabloon voldoet niet" not in text
    pdf = browser.post(f"{url}/pdf", data={"csrf_token": csrf_token(page),
                                           "body": default_source("profitletter_consumer", "en")})
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert "page 1 of" in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()


def test_save_refuse_and_reset_with_events(services, moneybird_emulator):
    company_id = _company(services, moneybird_emulator, cases=False)
    browser = _operator_session(services)
    base = f"{services.settings.public_url}/companies/{company_id}/templates"
    page = browser.get(f"{base}/sms/nl").text
    token = csrf_token(page)

    long_sms = "Bakkerij Zoet heeft u een bericht gestuurd. " * 5
    refused = browser.post(f"{base}/sms/nl", data={"csrf_token": token, "body": long_sms,
                                                   "save": "Opslaan"})
    assert "Niet opgeslagen" in refused.text and "te lang" in refused.text
    assert _templates(services, company_id) == []

    own = "{{ creditor }} stuurde u post. Bel ons even: {{ creditor_contact or creditor }}."
    saved = browser.post(f"{base}/sms/nl", data={"csrf_token": token, "body": own,
                                                 "save": "Opslaan"})
    assert "Sjabloon opgeslagen" in saved.text and "aangepast" in saved.text
    assert _templates(services, company_id) == [("sms", "nl", own)]
    listing = browser.get(f"{base}/").text
    assert listing.count("aangepast</span>") == 1

    reset = browser.post(f"{base}/sms/nl/reset", data={"csrf_token": token})
    assert "standaardtekst" in reset.text
    assert _templates(services, company_id) == []
    with services.db.session() as db:
        kinds = [(e.kind, e.actor) for e in db.scalars(
            select(Event).where(Event.company_id == company_id,
                                Event.kind.like("template.%")).order_by(Event.at))]
        messages = [e.message for e in db.scalars(
            select(Event).where(Event.kind.like("template.%")))]
    assert kinds == [("template.saved", "operator:op@partner.example"),
                     ("template.reset", "operator:op@partner.example")]
    assert all("Sms" in m and "Bel ons" not in m for m in messages)  # no text in the log


def test_every_form_needs_a_csrf_token(services, moneybird_emulator):
    company_id = _company(services, moneybird_emulator, cases=False)
    browser = _operator_session(services)
    base = f"{services.settings.public_url}/companies/{company_id}/templates"
    body = "{{ creditor }} stuurde u post."
    for path, data in [("/sms/nl", {"body": body, "save": "Opslaan"}),
                       ("/sms/nl/reset", {}),
                       ("/stamp/nl/pdf", {"body": default_source("stamp", "nl")})]:
        answer = browser.post(base + path, data=data)
        assert answer.status_code == 400, path
    assert _templates(services, company_id) == []


def test_another_creditor_gets_404_and_changes_nothing(services, moneybird_emulator):
    first, second = moneybird_emulator.administration_ids()[:2]
    other = connect_direct(services, moneybird_emulator, second)
    with services.db.session() as db:
        db.add(CompanyTemplate(company_id=other, name="sms", lang="nl",
                               body="{{ creditor }} stuurde u post.", updated_by="creditor"))
    app = services.settings.public_url
    browser, page = oauth_connect(app, moneybird_emulator.server.url, administrations=[first])
    token = csrf_token(page.text)
    base = f"{app}/companies/{other}/templates"
    assert browser.get(f"{base}/").status_code == 404
    assert browser.get(f"{base}/sms/nl").status_code == 404
    for path, data in [("/sms/nl", {"body": "{{ creditor }} hallo.", "save": "Opslaan"}),
                       ("/sms/nl", {"body": "{{ creditor }} hallo.", "preview": "Voorbeeld"}),
                       ("/sms/nl/reset", {}),
                       ("/stamp/nl/pdf", {"body": default_source("stamp", "nl")})]:
        answer = browser.post(base + path, data={"csrf_token": token, **data})
        assert answer.status_code == 404, path
    assert _templates(services, other) == [("sms", "nl", "{{ creditor }} stuurde u post.")]
    # Its own company's templates it may see.
    own = re.search(r"/companies/(\w+)", page.url)
    assert own is not None and own.group(1) != other
    assert browser.get(f"{app}/companies/{own.group(1)}/templates/").status_code == 200


def test_preview_never_shows_another_companys_case(services, moneybird_emulator):
    first, second = moneybird_emulator.administration_ids()[:2]
    with_cases = connect_direct(services, moneybird_emulator, first)
    sync_company(services, with_cases)
    run_company(services, with_cases)
    empty = connect_direct(services, moneybird_emulator, second)
    with services.db.session() as db:
        case = db.scalars(select(Case).where(Case.company_id == with_cases)).first()
        debtor, foreign = case.debtor.name, case.id
    browser = _operator_session(services)
    url = f"{services.settings.public_url}/companies/{empty}/templates/stamp/nl"
    page = browser.get(url).text
    shown = browser.post(url, data={"csrf_token": csrf_token(page), "case_id": foreign,
                                    "body": default_source("stamp", "nl"),
                                    "preview": "Voorbeeld"})
    assert shown.status_code == 200
    assert "Met demogegevens" in shown.text and debtor not in html.unescape(shown.text)
