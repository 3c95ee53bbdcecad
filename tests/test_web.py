"""The web app: sign-in, tenant isolation, webhooks, and forms that refuse bad input."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import requests
import time_machine
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from connector.models import (
    Company,
    Connection,
    Invoice,
    LedgerWrite,
    Operator,
    RateCall,
    WebhookReceipt,
    utcnow,
)
from connector.sync import sync_company
from connector.web import login_limits
from providers.moneybird.webhooks import sign
from tests.helpers import connect_direct, csrf_token, oauth_connect

PASSWORD = "correct horse battery"


def _operator_session(services) -> requests.Session:
    with services.db.session() as db:
        db.add(Operator(email="op@partner.example", password_hash=generate_password_hash(PASSWORD)))
    s = requests.Session()
    url = services.settings.public_url
    page = s.get(f"{url}/login")
    done = s.post(f"{url}/login", data={"csrf_token": csrf_token(page.text),
                                        "email": "OP@partner.example", "password": PASSWORD})
    assert done.url.endswith("/operator/"), done.url  # operators land on the console
    return s


def test_operator_login_refuses_wrong_password(services):
    url = services.settings.public_url
    s = requests.Session()
    page = s.get(f"{url}/login")
    wrong = s.post(f"{url}/login", data={"csrf_token": csrf_token(page.text),
                                         "email": "nobody@partner.example", "password": "x" * 12})
    assert "klopt niet" in wrong.text
    assert s.get(f"{url}/companies/", allow_redirects=False).status_code == 302


def test_operator_login_attempts_are_limited_per_email(services):
    with services.db.session() as db:
        db.add(Operator(email="op@partner.example", password_hash=generate_password_hash(PASSWORD)))
    url = services.settings.public_url
    s = requests.Session()
    token = csrf_token(s.get(f"{url}/login").text)

    def attempt(password: str, email: str = "op@partner.example") -> requests.Response:
        return s.post(f"{url}/login", data={"csrf_token": token, "email": email,
                                            "password": password})

    for _ in range(login_limits.MAX_PER_EMAIL):
        assert "klopt niet" in attempt("wrong password!").text
    locked = attempt(PASSWORD)  # even the right password waits now
    assert locked.status_code == 429 and "Te veel mislukte pogingen" in locked.text
    assert "over 15 minuten" in locked.text
    assert s.get(f"{url}/companies/", allow_redirects=False).status_code == 302
    # Another address from the same client is not locked by these five.
    assert "klopt niet" in attempt("wrong password!", "other@partner.example").text
    later = utcnow() + login_limits.WINDOW + timedelta(seconds=1)
    with time_machine.travel(later, tick=False):
        assert attempt(PASSWORD).url.endswith("/operator/")
    with services.db.session() as db:  # the failures of a signed-in address are forgiven
        keys = [r.key for r in db.scalars(select(RateCall))]
    assert sum(k.startswith("login:email:") for k in keys) == 1  # only "other@" is left
    assert not any("partner.example" in k for k in keys)  # addresses are not stored


def test_forms_without_csrf_token_are_refused(services):
    url = services.settings.public_url
    assert requests.post(f"{url}/login", data={"email": "a@b.example", "password": "x"}
                         ).status_code == 400


def test_creditor_reaches_only_its_own_company(services, moneybird_emulator):
    emulator = moneybird_emulator
    app_url = services.settings.public_url
    first, second = emulator.administration_ids()[:2]
    other_company = connect_direct(services, emulator, second)
    browser, page = oauth_connect(app_url, emulator.server.url, administrations=[first])
    own_company = page.url.rsplit("/", 1)[1]
    assert own_company != other_company

    assert browser.get(f"{app_url}/companies/{own_company}").status_code == 200
    assert browser.get(f"{app_url}/companies/{other_company}").status_code == 404
    token = csrf_token(page.text)
    for action in ("disconnect", "sync", "payment-settings"):
        response = browser.post(f"{app_url}/companies/{other_company}/{action}",
                                data={"csrf_token": token, "manual_payment_action": ""})
        assert response.status_code == 404
    listing = browser.get(f"{app_url}/companies/").text
    assert other_company not in listing
    with services.db.session() as db:
        other = db.scalars(select(Connection).where(Connection.company_id == other_company)).one()
        assert other.disconnected_at is None
        # untouched since connect
        assert db.get(Company, other_company).sync_requested_at is not None


def test_creditor_signs_in_again_through_moneybird(services, moneybird_emulator):
    emulator = moneybird_emulator
    app_url = services.settings.public_url
    adm = emulator.administration_ids()[0]
    _, page = oauth_connect(app_url, emulator.server.url, administrations=[adm])
    company_id = page.url.rsplit("/", 1)[1]

    # A new browser with no session: the OAuth consent proves control of the administration.
    fresh, chooser = oauth_connect(app_url, emulator.server.url, administrations=[adm], choose=[])
    assert chooser.status_code == 200  # nothing new chosen: the form says so
    assert fresh.get(f"{app_url}/companies/{company_id}").status_code == 200


def test_oauth_state_must_match(services):
    url = services.settings.public_url
    response = requests.get(f"{url}/oauth/moneybird/callback?code=abc&state=forged")
    assert response.status_code == 400 and "Probeer het opnieuw" in response.text


def test_denied_consent_explained(services, moneybird_emulator):
    s = requests.Session()
    url = services.settings.public_url
    consent = s.get(f"{url}/connect/moneybird")
    from tests.helpers import hidden_fields

    data = hidden_fields(consent.text) | {"decision": "deny"}
    result = s.post(f"{moneybird_emulator.server.url}/oauth/authorize", data=data)
    assert result.status_code == 400 and "geen toestemming" in result.text


@pytest.fixture
def hooked(services, moneybird_emulator):
    company_id = connect_direct(services, moneybird_emulator)
    with services.db.session() as db:
        connection = db.scalars(select(Connection)).one()
        db.get(Company, company_id).sync_requested_at = None
        secret = services.box.decrypt(connection.webhook_secret_enc)
        return (f"{services.settings.public_url}/webhooks/moneybird/{connection.id}",
                secret, connection.tenant_id, company_id)


def _post(url: str, payload: dict, secret: str, key: str = "k-1", at: int | None = None):
    raw = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": key,
               "Moneybird-Signature": sign(raw, secret, at or int(time.time()))}
    return requests.post(url, data=raw, headers=headers, timeout=10)


def _requested(services, company_id: str) -> bool:
    with services.db.session() as db:
        return db.get(Company, company_id).sync_requested_at is not None


def test_webhook_valid_event_requests_a_sync_once(services, hooked):
    url, secret, tenant, company_id = hooked
    event = {"administration_id": tenant, "action": "sales_invoice_state_changed_to_paid",
             "entity_type": "SalesInvoice", "entity_id": "1", "state": "paid", "entity": {}}
    assert _post(url, event, secret).status_code == 200
    assert _requested(services, company_id)
    with services.db.session() as db:  # the key and the signed delivery (#18 finding 10)
        receipts = len(list(db.scalars(select(WebhookReceipt))))
    assert receipts == 2
    duplicate = _post(url, event, secret)
    assert duplicate.status_code == 200 and duplicate.text == "duplicate"
    with services.db.session() as db:
        assert len(list(db.scalars(select(WebhookReceipt)))) == receipts


@pytest.mark.parametrize("problem", ["bad-signature", "stale", "other-tenant", "unsigned"])
def test_webhook_not_genuine_gets_401_and_nothing_happens(services, hooked, problem):
    url, secret, tenant, company_id = hooked
    event = {"administration_id": "999" if problem == "other-tenant" else tenant,
             "action": "sales_invoice_state_changed_to_paid", "entity_id": "1"}
    if problem == "unsigned":
        response = requests.post(url, json=event, timeout=10)
    else:
        response = _post(url, event, "wrong" if problem == "bad-signature" else secret,
                         at=int(time.time()) - 600 if problem == "stale" else None)
    assert response.status_code == 401
    assert not _requested(services, company_id)


def test_payment_form_refuses_bad_input_and_queues_nothing(services, moneybird_emulator):
    company_id = connect_direct(services, moneybird_emulator)
    sync_company(services, company_id)
    browser = _operator_session(services)
    with services.db.session() as db:
        invoice = db.scalars(select(Invoice).where(Invoice.open_amount > 5)).first()
    url = f"{services.settings.public_url}/companies/{company_id}/invoices/{invoice.id}"
    page = browser.get(url).text
    cases = {
        "abc": "Vul een bedrag in",
        "-5": "groter zijn dan nul",
        str(invoice.open_amount + 1): "hoger dan het openstaande bedrag",
    }
    for amount, message in cases.items():
        result = browser.post(url, data={"payment-csrf_token": csrf_token(page),
                                         "payment-amount": amount, "payment-paid_on": "2026-01-05"})
        assert message in result.text, amount
    future = browser.post(url, data={"payment-csrf_token": csrf_token(page),
                                     "payment-amount": "1.00", "payment-paid_on": "2999-01-01"})
    assert "toekomst" in future.text
    garbled = browser.post(url, data={"payment-csrf_token": csrf_token(page),
                                      "payment-amount": "1.00", "payment-paid_on": "31-31-2026"})
    assert "geldige datum" in garbled.text
    blank = browser.post(url, data={"note-csrf_token": csrf_token(page), "note-text": "  "})
    assert "Schrijf een notitie" in blank.text
    with services.db.session() as db:
        assert list(db.scalars(select(LedgerWrite))) == []


def test_payment_settings_validated(services, moneybird_emulator):
    company_id = connect_direct(services, moneybird_emulator)
    browser = _operator_session(services)
    url = f"{services.settings.public_url}/companies/{company_id}"
    page = browser.get(url).text
    refused = browser.post(f"{url}/payment-settings", data={
        "csrf_token": csrf_token(page), "manual_payment_action": "cash_payment"})
    assert "Nodig voor deze manier van boeken" in refused.text
    # The account is chosen from those the ledger lists (#16), no longer any typed id.
    adm = moneybird_emulator.administration_ids()[0]
    account = moneybird_emulator._adms[adm]["financial_accounts"][1]["id"]
    accepted = browser.post(f"{url}/payment-settings", data={
        "csrf_token": csrf_token(page), "manual_payment_action": "cash_payment",
        "financial_account_id": account})
    assert "Opgeslagen" in accepted.text
    with services.db.session() as db:
        assert db.get(Company, company_id).payment_settings["financial_account_id"] == account
