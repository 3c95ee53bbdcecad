"""The web UI in Dutch (default) and English: choosing, switching, the catalogue and its .mo."""

from __future__ import annotations

import html
import os
import re
import shutil
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import requests
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from connector import create_app, formatting
from connector.collection import cases as collection_cases
from connector.collection import messages, policy, report
from connector.collection.calls import OUTCOME_LABELS
from connector.collection.cases import settings_for
from connector.collection.engine import run_company
from connector.config import PROJECT_ROOT
from connector.models import CallOutcome, Case, Operator
from connector.sync import sync_company
from connector.web import cases as cases_view
from connector.web import filters, i18n
from connector.web.operator_forms import OUTCOME_CHOICES
from tests.helpers import connect_direct, csrf_token, hidden_fields
from tests.test_web import PASSWORD, _operator_session
from tests.test_web_policy import form_fields

PO = PROJECT_ROOT / "connector" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
EN = {"Accept-Language": "en-GB,en;q=0.9,nl;q=0.5"}


def _catalog():
    with PO.open("rb") as f:
        return read_po(f)


def test_pages_are_dutch_by_default_and_for_other_languages(services):
    url = services.settings.public_url
    for headers in ({}, {"Accept-Language": "de-DE,fr;q=0.8"}, {"Accept-Language": "nl"}):
        page = requests.get(f"{url}/", headers=headers).text
        assert '<html lang="nl">' in page
        assert "<h1>Laatste herinnering in uw eigen naam, kosteloos voor uw debiteur</h1>" in page
        assert 'aria-label="Taal"' in page


def test_accept_language_english_gives_english_pages(services):
    url = services.settings.public_url
    home = requests.get(f"{url}/", headers=EN).text
    assert '<html lang="en">' in home
    assert "<h1>A last reminder in your own name, free for your debtor</h1>" in home
    assert "Connect Moneybird" in home
    browser = requests.Session()
    login = browser.get(f"{url}/login", headers={"Accept-Language": "en-US"}).text
    assert '<html lang="en">' in login
    assert "<h1>Sign in for operators</h1>" in login
    wrong = browser.post(f"{url}/login", headers=EN, data={
        "csrf_token": csrf_token(login), "email": "nobody@example.com", "password": "x" * 12})
    assert "Email address or password is incorrect." in wrong.text


def test_operator_console_in_english(services):
    browser = _operator_session(services)
    browser.headers.update(EN)
    url = services.settings.public_url
    console = browser.get(f"{url}/operator/").text
    assert '<html lang="en">' in console
    assert "<h2>Companies</h2>" in console
    for text in ("Call list", "Print queue", "Collection partner", "Sign out"):
        assert text in console
    calls = browser.get(f"{url}/operator/calls").text
    assert "<h1>Call list</h1>" in calls
    partner = browser.get(f"{url}/operator/partner").text
    assert "<h1>Collection partner</h1>" in partner
    assert "Wki registration number" in partner  # a lazy form label
    refused = browser.post(f"{url}/operator/partner", data={"csrf_token": csrf_token(partner)})
    assert refused.status_code == 422
    assert "Not saved: check the marked fields." in refused.text
    assert "Enter the name." in refused.text  # a lazy validator message


def test_switch_remembers_the_choice_and_survives_sign_in(services):
    url = services.settings.public_url
    browser = requests.Session()
    switched = browser.get(f"{url}/lang/en?next=/login", allow_redirects=False)
    assert switched.status_code == 302
    assert urlsplit(switched.headers["Location"]).path == "/login"
    login = browser.get(f"{url}/login").text  # no Accept-Language: the session decides
    assert "<h1>Sign in for operators</h1>" in login
    back = browser.get(f"{url}/lang/nl?next=/login", headers=EN).text
    assert "<h1>Inloggen voor operators</h1>" in back  # the choice beats the browser
    # the switch links point back at the page they are on, query string included
    assert 'href="/lang/en?next=/login"' in back
    with_query = browser.get(f"{url}/login?next=/operator/").text
    link = re.search(r'href="(/lang/en\?next=[^"]+)"', with_query).group(1)
    followed = browser.get(url + html.unescape(link), allow_redirects=False)
    assert followed.headers["Location"].endswith("/login?next=/operator/")
    with services.db.session() as db:
        db.add(Operator(email="op@partner.example", password_hash=generate_password_hash(
            PASSWORD)))
    page = browser.get(f"{url}/login").text
    done = browser.post(f"{url}/login", data={"csrf_token": csrf_token(page),
                                             "email": "op@partner.example",
                                             "password": PASSWORD})
    assert done.url.endswith("/operator/")
    assert '<html lang="en">' in done.text  # sign-in starts a new session, language kept


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/", "/\\evil.example/", "http:/x", "",
    "/\r\nLocation: //evil.example/",
])
def test_switch_only_redirects_to_local_paths(services, target):
    url = services.settings.public_url
    response = requests.get(f"{url}/lang/en", params={"next": target} if target else None,
                            allow_redirects=False)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.netloc in ("", urlsplit(url).netloc)
    assert location.path == "/"


def test_switch_to_an_unknown_language_is_a_404(services):
    response = requests.get(f"{services.settings.public_url}/lang/de?next=/",
                            allow_redirects=False)
    assert response.status_code == 404


def test_every_msgid_has_an_english_translation():
    catalog = _catalog()
    assert catalog.locale.language == "en"
    messages = [m for m in catalog if m.id]
    assert len(messages) > 100
    for message in messages:
        assert not message.fuzzy, message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(s.strip() for s in strings), message.id
    problems = [(m.id, errors) for m, errors in catalog.check()]
    assert not problems  # e.g. a %(name)s that the English lost or renamed


def test_the_catalogue_holds_every_wrapped_string():
    """Fails when a string was wrapped but `make translations` was not run afterwards."""
    with (PROJECT_ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None, "N_": None}
    found = {message for _, _, message, _, _ in extract_from_dir(
        PROJECT_ROOT, method_map, options_map, keywords=keywords)}
    known = {m.id for m in _catalog() if m.id}
    assert found - known == set(), "run `make translations` and translate the new strings"
    assert len(found) > 100


def test_mo_is_built_from_a_clean_checkout_into_the_data_dir_and_rebuilt_when_the_po_changes(
        services, tmp_path, monkeypatch):
    source = tmp_path / "translations"
    shutil.copytree(PO.parent.parent.parent, source,
                    ignore=shutil.ignore_patterns("*.mo"))  # as git checks it out
    monkeypatch.setattr(i18n, "SOURCE_DIR", source)
    data = tmp_path / "data"
    settings = services.settings.replace(data_dir=str(data))
    mo = data / "translations" / "en" / "LC_MESSAGES" / "messages.mo"

    app = create_app(settings=settings, services=services)
    assert mo.exists()
    assert not list(source.rglob("*.mo")), "nothing is written beside the sources"
    assert app.config["BABEL_TRANSLATION_DIRECTORIES"] == str(data / "translations")
    page = app.test_client().get("/", headers=EN).get_data(as_text=True)
    assert "<h1>A last reminder in your own name, free for your debtor</h1>" in page

    po = source / "en" / "LC_MESSAGES" / "messages.po"
    po.write_text(po.read_text(encoding="utf-8").replace(
        '"A last reminder in your own name, free for your debtor"',
        '"One last reminder, at no cost"'), encoding="utf-8")
    later = time.time() + 5
    os.utime(po, (later, later))  # edited after the .mo was built
    page = create_app(settings=settings, services=services).test_client().get("/", headers=EN)
    assert "<h1>One last reminder, at no cost</h1>" in page.get_data(as_text=True)


def test_a_built_package_uses_its_own_compiled_catalogues_and_writes_nothing(tmp_path):
    package = tmp_path / "package"
    shutil.copytree(PO.parent.parent.parent, package, ignore=shutil.ignore_patterns("*.mo"))
    cache = tmp_path / "data" / "translations"
    # A package built without its .mo (it should not happen): compiled into the cache instead.
    assert i18n.translation_directory(package, cache, built=True) == cache
    assert (cache / "en" / "LC_MESSAGES" / "messages.mo").exists()
    assert not list(package.rglob("*.mo"))

    shutil.rmtree(cache)
    i18n.compile_translations(package, package)  # what setup.py does at build time
    before = {p: p.stat().st_mtime_ns for p in package.rglob("*")}
    assert i18n.translation_directory(package, cache, built=True) == package
    assert not cache.exists()
    assert {p: p.stat().st_mtime_ns for p in package.rglob("*")} == before


def test_page_money_and_dates_follow_the_ui_but_messages_stay_dutch(services):
    app = create_app(services=services)
    amount, day, moment = Decimal("1234.5"), date(2026, 3, 2), datetime(2026, 3, 2, 9, 5,
                                                                         tzinfo=UTC)
    with app.test_request_context("/"):
        assert filters.money(amount) == formatting.money(amount)
        assert filters.day(day) == formatting.day(day)
        assert filters.long_day(day) == formatting.long_day(day)
        assert filters.moment(moment) == formatting.moment(moment)
    with app.test_request_context("/", headers=EN):
        assert filters.money(amount) == "€1,234.50"
        assert filters.day(day) == "2 Mar 2026"
        assert filters.long_day(day) == "Monday 2 March 2026"
        assert filters.moment(moment) == "2 Mar 2026 10:05"
        assert filters.label("paid") == "paid"
        assert filters.label("reconnect_needed") == "reconnect needed"
        assert filters.label("something_new") == "something_new"
        assert filters.tenant_word("administratie", plural=True) == "administrations"
        # debtor-facing text keeps Dutch formatting whatever the UI language
        assert formatting.money(amount) == "€\xa01.234,50"
        assert formatting.day(day) == "2 mrt 2026"


def test_call_outcome_choices_say_in_dutch_what_the_audit_notes_say():
    assert set(OUTCOME_CHOICES) == set(CallOutcome)
    for outcome, text in OUTCOME_CHOICES.items():
        assert str(text) == OUTCOME_LABELS[outcome].capitalize()  # no app: the msgid


def test_connect_flow_in_english(services, moneybird_emulator):
    url, emulator = services.settings.public_url, moneybird_emulator.server.url
    browser = requests.Session()
    browser.headers.update(EN)
    consent = browser.get(f"{url}/connect/moneybird", timeout=10)
    data = {**hidden_fields(consent.text), "decision": "approve"}
    data["administration_ids"] = re.findall(r'name="administration_ids" value="(\d+)"',
                                            consent.text)[:1]
    chooser = browser.post(f"{emulator}/oauth/authorize", data=data, timeout=30)
    assert chooser.url == f"{url}/connect/choose"
    assert "<title>Choose administration · Pre-collection connector</title>" in chooser.text
    assert "<h1>Which administrations do you want to connect?</h1>" in chooser.text
    tenants = re.findall(r'name="tenants" value="(\d+)"\s+checked', chooser.text)
    done = browser.post(f"{url}/connect/choose", timeout=60, data={
        "csrf_token": csrf_token(chooser.text), "tenants": tenants})
    assert "1 administration connected. The first sync is running." in done.text


# -- the creditor pages (second pass) ------------------------------------------------------


@pytest.fixture
def creditor_en(services, moneybird_emulator):
    """A synced company with cases planned in preview, seen by an operator in English."""
    company_id = connect_direct(services, moneybird_emulator)
    sync_company(services, company_id)
    run_company(services, company_id)
    browser = _operator_session(services)
    browser.headers.update(EN)
    return company_id, browser, f"{services.settings.public_url}/companies/{company_id}"


def _in_english(page: str, *texts: str) -> None:
    assert '<html lang="en">' in page
    for text in texts:
        assert text in page, text


def test_company_and_case_pages_in_english(services, creditor_en):
    company_id, browser, base = creditor_en
    company = browser.get(base).text
    _in_english(company, '<h2 id="koppeling">Connection</h2>', "Last sync", "Sync now",
                "Disconnect? The webhook and tokens are removed; the log is kept.",
                '<h2 id="preincasso">Pre-collection</h2>', "Go live", "monthly statement",
                "<h3>Planned</h3>", "<th>Step</th>", '<h2 id="afzender">Sender</h2>',
                "Creditor name", "Phone number for questions",  # lazy form labels
                "Logo on the letters", "Overdue invoices", "Days overdue",
                "Written back to Moneybird", "Booking payments",
                "How Moneybird books a payment", "default (a payment to be matched)",
                '<h2 id="logboek">Log</h2>')
    assert "Achterstallige facturen" not in company and "Nu synchroniseren" not in company
    with services.db.session() as db:
        case = db.scalars(select(Case).where(Case.company_id == company_id,
                                             Case.state == "active")).first()
        invoice_id, number = case.invoice_id, case.invoice.number
    invoice = browser.get(f"{base}/invoices/{invoice_id}").text
    _in_english(invoice, f"<h1>Invoice {number}</h1>", "Pre-collection case", "Due date",
                "days overdue", "<h3>Steps</h3>", "Invoices in this message", "scheduled",
                "Then, according to the policy:", "days after the previous step",
                "phone call",  # a channel label, translated when shown
                "Skip step", "Hand over to debt collection", "Promise to pay (until a date)",
                "Add a note in the software", "Record a payment", "Payment date")
    assert "Daarna volgens het beleid" not in invoice


def test_cases_debtors_policy_and_templates_in_english(services, creditor_en):
    _, browser, base = creditor_en
    cases = browser.get(f"{base}/cases").text
    _in_english(cases, "<title>Cases · ", "<h1>Cases</h1>", "Search by debtor or invoice number",
                '<option value="active">running</option>', "Next step", ">running</span>",
                ">Policy</a>", ">Debtors</a>", "consumer")
    assert " op " not in re.sub(r"<[^>]+>", " ", cases.split('id="cases"')[1])  # "X on <day>"
    debtors = browser.get(f"{base}/debtors").text
    _in_english(debtors, "<h1>Debtors</h1>", "Excluded debtors only", "All debtors",
                "Exclude…", "Reason for excluding", ">included</span>")
    policy = browser.get(f"{base}/policy").text
    _in_english(policy, "<h1>Pre-collection policy</h1>", "Preview or live", "When a case opens",
                "Open a case after (days overdue)", "Steps for consumers",
                "Steps for business debtors", "Channel", ">phone call</option>",
                ">after the previous step</option>", "Approve first", "Fee (€, excl. VAT)",
                "Add step", "Restore default policy")
    templates = browser.get(f"{base}/templates/").text
    _in_english(templates, "<h1>Templates</h1>", "Texts of the reminders",
                "Profitletter consumer (14-day letter)", "<th>Dutch</th>", "<th>English</th>",
                ">edit</a>", ">default</span>")
    edit = browser.get(f"{base}/templates/stamp/en").text
    _in_english(edit, "Last reminder with collection stamp (English)", "Templates of ",
                "Available data", "Only these names exist:", 'value="Preview"', 'value="Save"')


def test_form_errors_come_back_in_english(services, creditor_en):
    company_id, browser, base = creditor_en
    page = browser.get(base).text
    bad = browser.post(f"{base}/sender", data={"csrf_token": csrf_token(page), "name": "Zoet",
                                              "iban": "NL00ABNA0000000000"})
    _in_english(bad.text, "This IBAN is not valid (check the digits).",  # next to the field
                "Not saved: check the marked fields under Sender.")
    with services.db.session() as db:
        stored = settings_for(db, company_id).policy
    editor = browser.get(f"{base}/policy").text
    for changes, message in (
            ({"consumer__1__delay_days": "seven"},
             "Enter a whole number of days (0 or more), for example 7."),
            ({"consumer__1__fee": "a lot"}, "Enter a fee in euros, for example 14.95."),
            ({"business__0__after": "later"},
             "Choose &#39;after the previous step&#39; or &#39;after the case opened&#39;.")):
        refused = browser.post(f"{base}/policy", data={
            "csrf_token": csrf_token(editor), "action": "save", **form_fields(stored, **changes)})
        assert refused.status_code == 200
        _in_english(refused.text, "Not saved: check the marked fields.", message)
    # the same mistake in Dutch for a Dutch browser, and nothing was stored either way
    browser.headers.pop("Accept-Language")
    dutch = browser.post(f"{base}/sender", data={"csrf_token": csrf_token(page), "name": "Zoet",
                                                "iban": "NL00ABNA0000000000"})
    assert "Dit IBAN klopt niet (controleer de cijfers)." in dutch.text  # at the field
    with services.db.session() as db:
        assert settings_for(db, company_id).policy == stored
        assert not (settings_for(db, company_id).sender or {}).get("iban")


def test_web_labels_say_in_dutch_what_the_engine_says():
    """The pages translate the engine's codes; without a request they are the engine's Dutch."""
    assert {k: str(v) for k, v in filters.CHANNEL_LABELS.items()} == policy.CHANNEL_LABELS
    assert {k: str(v) for k, v in filters.CASE_STATES.items()} == report.STATE_LABELS
    assert {k: str(v) for k, v in filters.HOLD_LABELS.items()} == {
        kind.value: text for kind, text in collection_cases.HOLD_LABELS.items()}
    assert {k: str(v) for k, v in filters.TEMPLATE_LABELS.items()} == messages.TEMPLATE_LABELS
    assert {k: str(v) for k, v in filters.LANG_LABELS.items()} == messages.LANG_LABELS


def test_every_refusal_of_the_engine_has_english():
    source = (PROJECT_ROOT / "connector" / "collection" / "actions.py").read_text("utf-8")
    refusals = set(re.findall(r'ActionRefused\("([^"]+)"\)', source))
    assert refusals and refusals == set(cases_view.REFUSALS)
    assert all(str(text) == key for key, text in cases_view.REFUSALS.items())
