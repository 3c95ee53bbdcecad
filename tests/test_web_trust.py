"""The details that erode a creditor's trust (#16): each reproduced, then fixed."""

from __future__ import annotations

import re
from pathlib import Path

import requests
from sqlalchemy import select

from connector.collection.cases import settings_for
from connector.models import Case, Company, Delivery, utcnow
from connector.web import home
from tests.helpers import csrf_token, oauth_connect
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
        assert "Exact Online: open" in page or "Exact Online kan" in page
        assert "gepauzeerd" not in page, re.findall(r".{120}gepauzeerd.{40}", page, re.S)
        assert "status 20" not in page  # Exact's receivable code in words
        assert "Exact Online kan zijn eigen herinneringen niet via de koppeling pauzeren" in page


IBAN = "NL91ABNA0417164300"


def _planned_company(services, moneybird_emulator) -> str:
    from tests.test_web_dashboard import _prepared

    return _prepared(services, moneybird_emulator)


def _waiting(services, company_id: str) -> list[Delivery]:
    with services.db.session() as db:
        return list(db.scalars(select(Delivery).where(
            Delivery.company_id == company_id, Delivery.state == "planned",
            Delivery.approved_by.is_(None)).order_by(Delivery.due_on, Delivery.created_at)))


def test_approval_is_refused_without_iban_or_connection_and_says_why(
        services, moneybird_emulator):
    company_id = _planned_company(services, moneybird_emulator)
    browser = _operator_session(services)
    base = f"{services.settings.public_url}/companies/{company_id}"
    token = csrf_token(browser.get(base).text)
    delivery = _waiting(services, company_id)[0]
    refused = browser.post(f"{base}/deliveries/{delivery.id}/approve", data={"csrf_token": token})
    assert "Het IBAN van de schuldeiser ontbreekt" in refused.text
    console = browser.post(f"{services.settings.public_url}/operator/approvals/{delivery.id}",
                           data={"csrf_token": token})
    assert "Het IBAN van de schuldeiser ontbreekt" in console.text
    with services.db.session() as db:
        assert db.get(Delivery, delivery.id).approved_by is None
        settings_for(db, company_id).sender = {"name": "Zoet B.V.", "iban": IBAN}
        db.get(Company, company_id).connection.disconnected_at = utcnow()
    refused = browser.post(f"{base}/deliveries/{delivery.id}/approve", data={"csrf_token": token})
    assert "De koppeling met het boekhoudpakket is verbroken" in refused.text
    with services.db.session() as db:
        assert db.get(Delivery, delivery.id).approved_by is None


def test_bulk_approval_shows_count_and_cost_before_and_approves_only_the_chosen(
        services, moneybird_emulator):
    company_id = _planned_company(services, moneybird_emulator)
    with services.db.session() as db:
        settings_for(db, company_id).sender = {"name": "Zoet B.V.", "iban": IBAN}
    browser = _operator_session(services)
    base = f"{services.settings.public_url}/companies/{company_id}"
    page = browser.get(base).text
    waiting = _waiting(services, company_id)
    assert len(waiting) >= 3
    assert f"Alle {len(waiting)} wachtende stappen goedkeuren" in page
    chosen = [d.id for d in waiting[:2]]
    summary = browser.post(f"{base}/deliveries/approve", data={
        "csrf_token": csrf_token(page), "scope": "selected", "delivery": chosen})
    assert "2 stappen goedkeuren · kosten €\xa00,00 excl. btw" in summary.text  # e-mails: free
    assert {d.id for d in _waiting(services, company_id)} >= set(chosen)  # nothing yet
    done = browser.post(f"{base}/deliveries/approve", data={
        "csrf_token": csrf_token(summary.text), "confirm": "1",
        "delivery": re.findall(r'name="delivery" value="(\w+)"', summary.text)})
    assert "2 stappen goedgekeurd" in done.text
    left = {d.id for d in _waiting(services, company_id)}
    assert left == {d.id for d in waiting[2:]}
    # all: the count and the partner's fees shown before, then approved
    page = browser.get(base).text
    everything = browser.post(f"{base}/deliveries/approve", data={
        "csrf_token": csrf_token(page), "scope": "all"})
    assert f"{len(left)} stappen goedkeuren" in everything.text
    ids = re.findall(r'name="delivery" value="(\w+)"', everything.text)
    assert set(ids) == left
    browser.post(f"{base}/deliveries/approve", data={
        "csrf_token": csrf_token(everything.text), "confirm": "1", "delivery": ids})
    assert _waiting(services, company_id) == []


def test_repeated_warnings_are_summarised_in_the_log():
    import logging

    from connector.logs import RepeatSummary

    now = [0.0]
    summary = RepeatSummary(window=60, clock=lambda: now[0])

    def warn(message: str) -> logging.LogRecord:
        return logging.LogRecord("connector.x", logging.WARNING, __file__, 1, message, (), None)

    shown = []
    for second in range(120):  # one warning a second for two minutes
        now[0] = float(second)
        record = warn("mail server unreachable")
        if summary.filter(record):
            shown.append(record.getMessage())
    assert shown == ["mail server unreachable",
                     "mail server unreachable (en nog 59× in de 60 s ervoor)"]
    info = logging.LogRecord("connector.x", logging.INFO, __file__, 1, "tick", (), None)
    assert summary.filter(info) and summary.filter(info)  # info lines are never held back


def test_template_preview_warns_when_the_iban_is_missing(services, moneybird_emulator):
    from tests.helpers import connect_direct

    company_id = connect_direct(services, moneybird_emulator)
    browser = _operator_session(services)
    url = f"{services.settings.public_url}/companies/{company_id}/templates/email/nl"
    page = browser.get(url).text
    assert "Uw IBAN ontbreekt" in page
    with services.db.session() as db:
        settings_for(db, company_id).sender = {"name": "Zoet B.V.", "iban": IBAN}
    assert "Uw IBAN ontbreekt" not in browser.get(url).text


def test_a_failing_template_form_keeps_the_page_and_shows_the_error_at_the_field(
        services, moneybird_emulator):
    from tests.helpers import connect_direct

    company_id = connect_direct(services, moneybird_emulator)
    browser = _operator_session(services)
    url = f"{services.settings.public_url}/companies/{company_id}/templates/email/nl"
    page = browser.get(url).text
    empty = browser.post(url, data={"csrf_token": csrf_token(page), "body": "  ",
                                    "save": "Opslaan"})
    assert empty.status_code == 400
    assert 'id="body-error">Het sjabloon is leeg.' in empty.text
    assert 'aria-describedby="body-error"' in empty.text
    # an expired form: the branded page says what to do, never a bare "Bad Request"
    expired = browser.post(url, data={"csrf_token": "expired", "body": "Mijn lange tekst",
                                      "save": "Opslaan"})
    assert expired.status_code == 400 and "Het formulier was verlopen" in expired.text


def test_after_disconnecting_running_cases_are_visibly_stopped_without_actions(
        services, moneybird_emulator):
    company_id = _planned_company(services, moneybird_emulator)
    browser = _operator_session(services)
    base = f"{services.settings.public_url}/companies/{company_id}"
    page = browser.get(base).text
    assert "collection.approve" not in page and "/approve" in page  # actions while connected
    browser.post(f"{base}/disconnect", data={"csrf_token": csrf_token(page)})
    page = browser.get(base).text
    assert 'id="preincasso-stopped"' in page and "lopende dossiers gaan niet verder" in page
    assert "/approve" not in page and "Live gaan" not in page
    assert "staat stil" in page
    with services.db.session() as db:
        case = db.scalars(select(Case).where(Case.company_id == company_id,
                                             Case.state == "active")).first()
    invoice_page = browser.get(f"{base}/invoices/{case.invoice_id}").text
    assert 'id="case-stopped"' in invoice_page
    assert "/holds" not in invoice_page and "/approve" not in invoice_page
    assert "/handover" not in invoice_page and "/skip" not in invoice_page


def test_a_refused_sender_form_keeps_what_was_typed_with_errors_at_the_fields(
        services, moneybird_emulator):
    from tests.helpers import connect_direct

    company_id = connect_direct(services, moneybird_emulator)
    browser = _operator_session(services)
    base = f"{services.settings.public_url}/companies/{company_id}"
    page = browser.get(base).text
    refused = browser.post(f"{base}/sender", data={
        "csrf_token": csrf_token(page), "name": "Zoet Bakkerij B.V.",
        "iban": "NL91ABNA0417164301", "email": "boekhouding@zoet.example",
        "phone": "030 123 4567"})
    assert refused.status_code == 400
    text = refused.text
    assert 'value="Zoet Bakkerij B.V."' in text and 'value="boekhouding@zoet.example"' in text
    assert re.search(r'id="iban-error">[^<]*IBAN klopt niet', text)
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*autofocus[^>]*id="iban"|'
                     r'<input[^>]*id="iban"[^>]*autofocus', text), "the error is scrolled into view"
    with services.db.session() as db:
        assert not (settings_for(db, company_id).sender or {}).get("iban")


def test_several_debtors_are_excluded_or_paused_at_once(services, moneybird_emulator):
    from datetime import timedelta

    from connector.clock import today_nl
    from connector.models import Debtor, Hold

    company_id = _planned_company(services, moneybird_emulator)
    browser = _operator_session(services)
    base = f"{services.settings.public_url}/companies/{company_id}"
    page = browser.get(f"{base}/debtors").text
    ids = re.findall(r'name="debtor" value="(\w+)" form="bulk-debtors"', page)
    assert len(ids) >= 4
    excluded = browser.post(f"{base}/debtors/bulk", data={
        "csrf_token": csrf_token(page), "bulk_action": "exclude", "reason": "Vaste klanten",
        "debtor": ids[:2]})
    assert "2 debiteuren uitgesloten" in excluded.text
    no_date = browser.post(f"{base}/debtors/bulk", data={
        "csrf_token": csrf_token(page), "bulk_action": "pause", "reason": "Even wachten",
        "debtor": ids[2:4], "until": "gisteren"})
    assert "geldige einddatum" in no_date.text
    until = (today_nl() + timedelta(days=14)).isoformat()
    paused = browser.post(f"{base}/debtors/bulk", data={
        "csrf_token": csrf_token(page), "bulk_action": "pause", "reason": "Even wachten",
        "debtor": [*ids[2:4], "not-ours"], "until": until})
    assert "2 debiteuren gepauzeerd" in paused.text
    with services.db.session() as db:
        holds = {(h.debtor_id, h.kind) for h in db.scalars(select(Hold).where(
            Hold.company_id == company_id, Hold.ended_at.is_(None)))}
        assert {(i, "excluded") for i in ids[:2]} <= holds
        assert {(i, "pause") for i in ids[2:4]} <= holds
        assert db.get(Debtor, ids[4]) is None or (ids[4], "pause") not in holds


def test_operator_sends_all_failed_steps_again_but_not_the_possibly_sent(
        services, moneybird_emulator):
    company_id = _planned_company(services, moneybird_emulator)
    waiting = _waiting(services, company_id)
    failed, ambiguous = [d.id for d in waiting[:3]], waiting[3].id
    with services.db.session() as db:
        for delivery_id in failed:
            db.get(Delivery, delivery_id).state = "failed"
        db.get(Delivery, ambiguous).state = "ambiguous"
    browser = _operator_session(services)
    url = services.settings.public_url
    page = browser.get(f"{url}/operator/problems").text
    assert "Alle 3 mislukte stappen opnieuw versturen" in page
    ids = re.findall(r'name="delivery" value="(\w+)"', page)
    assert sorted(ids) == sorted(failed)
    kept = browser.post(f"{url}/operator/problems/again-failed",
                        data={"csrf_token": csrf_token(page), "delivery": ids})
    assert "3 stappen blijven staan" in kept.text  # no IBAN yet: they would fail again
    with services.db.session() as db:
        settings_for(db, company_id).sender = {"name": "Zoet B.V.", "iban": IBAN}
    done = browser.post(f"{url}/operator/problems/again-failed",
                        data={"csrf_token": csrf_token(page), "delivery": [*ids, ambiguous]})
    assert "3 mislukte stappen gaan bij de volgende ronde opnieuw mee" in done.text
    with services.db.session() as db:
        assert {db.get(Delivery, i).state for i in failed} == {"planned"}
        assert db.get(Delivery, ambiguous).state == "ambiguous"
